package shm

// errorMember decodes a reply's {"code","message","definite"} object.
func (d *frameDecoder) errorMember() error {
	if d.sawErr {
		return d.s.fail("duplicate member \"error\"")
	}
	d.sawErr = true
	if d.s.Peek() != '{' {
		text, err := d.span()
		d.wrongType("error must be an object, got %.40s", text)
		return err
	}
	e := &Error{}
	if err := d.errorFields(e); err != nil {
		return err
	}
	d.replyErr = e // used only if the frame turns out to be a reply
	return nil
}

func (d *frameDecoder) errorFields(e *Error) error {
	return d.s.members(func(name []byte, _ bool) error { return d.errorField(string(name), e) })
}

func (d *frameDecoder) errorField(name string, e *Error) error {
	var dst *string
	switch name {
	case "code":
		dst = &e.Code
	case "message":
		dst = &e.Message
	case "definite":
		text, err := d.span()
		e.Definite = string(text) == "true"
		return err
	default:
		return d.s.value()
	}
	if d.s.Peek() != '"' {
		return d.s.value()
	}
	content, esc, err := d.s.str()
	if err == nil && esc {
		content, err = unquote(nil, content)
	}
	*dst = string(content)
	return err
}
