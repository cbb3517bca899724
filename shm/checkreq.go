package shm

import "unicode/utf8"

// checkRequest checks a request before the client sends it, by the rules
// the master applies, so that both codecs behave alike and nothing the
// caller passes can change the frame around it: a Value that is not one
// JSON value would otherwise be spliced into a JSON line as it is. Values
// with white space are replaced by their compact form.
//
// Over the compact codec (checkValues false) values are length-prefixed and
// cannot change the frame, so their check is left to the master, which
// answers a bad one with the same definite bad_request: scanning a large
// value twice would cost a tenth of the round trip.
func checkRequest(req *Message, maxFrame int, checkValues bool) *Error {
	if req.Method == MethodNone || int(req.Method) >= len(methodNames) {
		return errorf(ErrUnknownMethod, "unknown method %d", req.Method)
	}
	if req.Has&HasKey != 0 && !utf8.Valid(req.Key) {
		return errorf(ErrBadRequest, "key %q is not valid UTF-8", req.Key)
	}
	for _, f := range [...]struct {
		bit  uint16
		v    *Value
		name string
	}{{HasValue, &req.Value, "value"}, {HasOld, &req.Old, "old"}} {
		if req.Has&f.bit == 0 || !checkValues {
			continue
		}
		v, err := ParseValue(*f.v)
		if err != nil {
			return errorf(ErrBadRequest, "%s is not one JSON value: %s", f.name, err.(*Error).Message)
		}
		*f.v = v
	}
	if size := len(req.Key) + len(req.Value) + len(req.Old) + frameOverhead; size > maxFrame {
		return errorf(ErrTooLarge, "request of about %d bytes exceeds the frame limit of %d", size, maxFrame)
	}
	return nil
}
