package shm

import "unicode/utf8"

// validate checks that a decoded request has what its method needs. A
// local request (the master's own) needs no uuid.
func validate(req *Message, local bool) *Error {
	if req.Err != nil {
		return req.Err
	}
	if req.Method == MethodNone || int(req.Method) >= len(methodNames) {
		return errorf(ErrUnknownMethod, "unknown method %d", req.Method)
	}
	if req.Has&HasSeq == 0 && !local {
		return errorf(ErrBadRequest, "missing uuid")
	}
	if req.Method.needsKey() {
		if req.Has&HasKey == 0 {
			return errorf(ErrBadRequest, "%s needs a key", req.Method)
		}
		if !utf8.Valid(req.Key) {
			return errorf(ErrBadRequest, "key is not valid UTF-8")
		}
	}
	return validateArgs(req)
}

func validateArgs(req *Message) *Error {
	switch req.Method {
	case MethodSet, MethodCAS:
		if req.Has&HasValue == 0 {
			return errorf(ErrBadRequest, "%s needs a value", req.Method)
		}
		if req.Has&HasTTL != 0 && (req.TTL <= 0 || req.TTL > maxTTL) {
			return errorf(ErrBadRequest, "ttl must be from 1 to %d milliseconds, got %d", int64(maxTTL), req.TTL)
		}
	}
	return nil
}

// maxTTL is the longest TTL accepted, in milliseconds (about 292 years
// would overflow nanoseconds; a century is plenty).
const maxTTL = 100 * 365 * 24 * 3600 * 1000
