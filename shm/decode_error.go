package shm

// errorMember decodes a reply's {"code","message","definite"} object.
func (d *frameDecoder) errorMember() error {
	if d.sawErr {
		return d.s.fail("duplicate member \"error\"")
	}
	d.sawErr = true
	if d.s.peek() != '{' {
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
	s := &d.s
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.fail("want a member name")
		}
		name, _, err := s.str()
		if err == nil {
			err = s.colon()
		}
		if err == nil {
			err = d.errorField(string(name), e)
		}
		if err != nil {
			return err
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
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
		return d.s.value(0)
	}
	if d.s.peek() != '"' {
		return d.s.value(0)
	}
	content, esc, err := d.s.str()
	if err == nil && esc {
		content, err = unquote(nil, content)
	}
	*dst = string(content)
	return err
}
