package shm

// The two forms of set that the article's library sends besides a plain
// one: remove(key) is a set with no "value" member, and set({k: v, ...})
// is a set with no "key" member whose value is an object.

// unset removes key, answering "OK" whether or not it was there, as the
// article's remove does (a delete answers which).
func (s *Store) unset(now int64, req *Message, rep *Message) {
	if e := s.lookup(now, req.Key); e != nil {
		s.remove(e)
	}
	*rep = valueReply(req, replyOK)
}

// member is one entry of a set of several keys.
type member struct {
	key []byte
	val Value
}

// setMany stores one entry per member of the request's object value,
// all or none: every entry is checked first, so a refusal (a key with a
// lone surrogate, an entry too large) is definite. It answers "OK".
func (s *Store) setMany(now int64, req *Message, rep *Message) {
	ms, err := objectMembers(req.Value)
	if err == nil {
		err = s.fitsAll(now, ms)
	}
	if err != nil {
		*rep = errorReply(req, err)
		return
	}
	exp := expiry(now, req)
	for _, m := range ms {
		s.put(now, m.key, m.val, exp)
	}
	s.work += uint64(len(ms))
	*rep = valueReply(req, replyOK)
}

// objectMembers splits the compact JSON object v into its members, names
// decoded. v was validated when it was decoded, so the only error is a
// name that has no UTF-8 form (a lone UTF-16 surrogate), refused as a
// key is.
func objectMembers(v Value) ([]member, *Error) {
	var ms []member
	sc := newScanner(v, 0)
	err := sc.members(func(name []byte, esc bool) error {
		if esc {
			dec, err := unquote(nil, name)
			if err != nil {
				return errorf(ErrBadRequest, "member \"%.40s\" of a set without a key: %s", name, err.(*Error).Message)
			}
			name = dec
		}
		start := sc.I
		err := sc.value()
		ms = append(ms, member{key: name, val: v[start:sc.I:sc.I]})
		return err
	})
	if err != nil {
		if e, ok := err.(*Error); ok {
			return nil, e
		}
		return nil, errorf(ErrBadRequest, "set without a key: %v", err)
	}
	return ms, nil
}

// fitsAll checks that every entry fits, one by one and, in a store
// bounded by DefaultMaxBytes, all together.
func (s *Store) fitsAll(now int64, ms []member) *Error {
	for _, m := range ms {
		if err := s.fits(now, s.entries[string(m.key)], m.key, m.val); err != nil {
			return err
		}
	}
	if s.opts.MaxBytes > 0 {
		return nil
	}
	grow := int64(0)
	for _, m := range ms {
		grow += entrySize(m.key, m.val)
		if e := s.entries[string(m.key)]; e != nil {
			grow -= entrySize([]byte(e.key), e.val)
		}
	}
	if s.bytes+grow > DefaultMaxBytes {
		return errorf(ErrTooLarge, "%d entries of %d bytes in all would take the store past its default bound of %d bytes (it holds %d)",
			len(ms), grow, int64(DefaultMaxBytes), s.bytes)
	}
	return nil
}
