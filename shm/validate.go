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
	if req.Has&(HasSeq|HasUUID) == 0 && !local {
		return errorf(ErrBadRequest, "missing uuid")
	}
	if req.Method.needsKey() {
		if req.Has&HasKey == 0 && req.Method != MethodSet { // a set may set several keys, see validateSet
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
	case MethodSet:
		if err := validateSet(req); err != nil {
			return err
		}
	case MethodCAS:
		if req.Has&HasValue == 0 {
			return errorf(ErrBadRequest, "%s needs a value", req.Method)
		}
	}
	if req.Has&HasTTL != 0 && (req.Method == MethodSet || req.Method == MethodCAS) && (req.TTL <= 0 || req.TTL > maxTTL) {
		return errorf(ErrBadRequest, "ttl must be from 1 to %d milliseconds, got %d", int64(maxTTL), req.TTL)
	}
	return nil
}

// validateSet checks the three forms of set, the article's: with a key
// and a value, it stores the value; with a key and no "value" member, it
// removes the key (the article's remove); with no "key" member, its value
// must be an object, and it stores one entry per member.
func validateSet(req *Message) *Error {
	switch {
	case req.Has&(HasKey|HasValue) == 0:
		return errorf(ErrBadRequest, "set needs a key, or an object value to set one key per member")
	case req.Has&HasKey == 0 && (len(req.Value) == 0 || req.Value[0] != '{'):
		return errorf(ErrBadRequest, "set without a key needs an object value (one key per member), got %.40s", req.Value)
	case req.Has&HasValue == 0 && req.Has&HasTTL != 0:
		return errorf(ErrBadRequest, "set without a value removes the key and takes no ttl")
	}
	return nil
}

// MaxUUIDBytes is the longest "uuid" that is not an integer (a string,
// say) the master echoes: its JSON text, quotes and escapes included.
const MaxUUIDBytes = 256

// maxTTL is the longest TTL accepted, in milliseconds (about 292 years
// would overflow nanoseconds; a century is plenty).
const maxTTL = 100 * 365 * 24 * 3600 * 1000
