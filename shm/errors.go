package shm

import (
	"errors"
	"fmt"
)

// Error codes carried in the "code" member of a reply's error object.
const (
	CodeBadRequest    = "bad_request"    // the frame is not a valid request
	CodeUnknownMethod = "unknown_method" // the method is not one the store knows
	CodeWrongType     = "wrong_type"     // a member has the wrong JSON type
	CodeNotInteger    = "not_integer"    // add on a value that is not an integer
	CodeOverflow      = "overflow"       // add would leave the int64 range
	CodeTooLarge      = "too_large"      // a request, reply or entry exceeds a size limit
	CodeSeqReused     = "seq_reused"     // a request id was reused for another request
	CodeExpired       = "expired"        // a retry too old for the dedup window
	CodeTimeout       = "timeout"        // no reply before the deadline
	CodeCanceled      = "canceled"       // the caller gave up
	CodeConnLost      = "conn_lost"      // the connection ended with the request in flight
	CodeClosed        = "closed"         // the client is closed; nothing was sent
	CodeOverloaded    = "overloaded"     // too much is queued for a peer that does not read; nothing was sent
	CodeBadReply      = "bad_reply"      // the master's answer does not fit the request: it was damaged, and the request may have been applied in another form
)

// Error is a failed operation. Definite errors mean the operation was surely
// not applied; indefinite ones mean it may or may not have been.
type Error struct {
	Code     string // one of the Code constants (or a peer's own code)
	Message  string // human-readable detail
	Definite bool   // true: surely not applied
	cause    error
}

// Sentinels for errors.Is. They match any *Error with the same Code.
var (
	ErrBadRequest    = &Error{Code: CodeBadRequest, Definite: true}
	ErrUnknownMethod = &Error{Code: CodeUnknownMethod, Definite: true}
	ErrWrongType     = &Error{Code: CodeWrongType, Definite: true}
	ErrNotInteger    = &Error{Code: CodeNotInteger, Definite: true}
	ErrOverflow      = &Error{Code: CodeOverflow, Definite: true}
	ErrTooLarge      = &Error{Code: CodeTooLarge, Definite: true}
	ErrSeqReused     = &Error{Code: CodeSeqReused, Definite: true}
	ErrExpired       = &Error{Code: CodeExpired}
	ErrTimeout       = &Error{Code: CodeTimeout}
	ErrCanceled      = &Error{Code: CodeCanceled}
	ErrConnLost      = &Error{Code: CodeConnLost}
	ErrClosed        = &Error{Code: CodeClosed, Definite: true}
	ErrOverloaded    = &Error{Code: CodeOverloaded, Definite: true}
	ErrBadReply      = &Error{Code: CodeBadReply}
)

func (e *Error) Error() string {
	if e == nil {
		return "shm: <nil error>"
	}
	kind := "indefinite"
	if e.Definite {
		kind = "definite"
	}
	if e.Message == "" {
		return fmt.Sprintf("shm: %s (%s)", e.Code, kind)
	}
	return fmt.Sprintf("shm: %s: %s (%s)", e.Code, e.Message, kind)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && t.Code == e.Code
}

// Unwrap returns the cause, such as context.DeadlineExceeded for a timeout.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.cause
}

// IsDefinite reports whether err says the operation was surely not applied.
// A nil error is not definite; any error that is not an *Error is treated as
// indefinite.
func IsDefinite(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Definite
}

// errorf makes an *Error with code and definiteness copied from sentinel.
func errorf(sentinel *Error, format string, args ...any) *Error {
	return &Error{Code: sentinel.Code, Definite: sentinel.Definite, Message: fmt.Sprintf(format, args...)}
}

// wrapErr makes an *Error like sentinel that wraps cause.
func wrapErr(sentinel *Error, cause error) *Error {
	return &Error{Code: sentinel.Code, Definite: sentinel.Definite, Message: cause.Error(), cause: cause}
}
