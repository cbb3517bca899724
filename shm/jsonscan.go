package shm

import (
	"fmt"

	"github.com/shmlab/shmlab/internal/jsonlex"
)

// maxDepth bounds the nesting of arrays and objects in a value.
const maxDepth = 256

// scanner validates JSON text in place with the shared lexer
// (internal/jsonlex), in the wire's terms: a duplicate member in any
// object is refused, nesting is bounded by maxDepth, and a problem is an
// ErrBadRequest naming its offset. It never allocates on the valid path.
type scanner struct {
	jsonlex.Lexer
}

// newScanner returns a scanner of b from offset i.
func newScanner(b []byte, i int) scanner {
	return scanner{jsonlex.Lexer{B: b, I: i, MaxDepth: maxDepth, Unique: true}}
}

func (s *scanner) fail(format string, args ...any) error {
	return errorf(ErrBadRequest, "offset %d: %s", s.I, fmt.Sprintf(format, args...))
}

// problem words what the lexer found wrong at s.I.
func (s *scanner) problem(c jsonlex.Code) error {
	switch c {
	case jsonlex.End:
		return s.fail("unexpected end of JSON")
	case jsonlex.NotValue:
		return s.fail("invalid character %q looking for a value", s.Peek())
	case jsonlex.BadLiteral:
		want := "null"
		switch s.Peek() {
		case 't':
			want = "true"
		case 'f':
			want = "false"
		}
		return s.fail("invalid literal, want %s", want)
	case jsonlex.BadNumber:
		return s.fail("invalid number")
	case jsonlex.NoFraction:
		return s.fail("want digits after the decimal point")
	case jsonlex.NoExponent:
		return s.fail("want digits in the exponent")
	case jsonlex.Unterminated:
		return s.fail("unterminated string")
	case jsonlex.Control:
		return s.fail("control character in string")
	case jsonlex.BadUTF8:
		return s.fail("invalid UTF-8 in string")
	case jsonlex.BadEscape:
		return s.fail("invalid escape %q", s.B[s.I:s.I+2])
	case jsonlex.BadUEscape:
		return s.fail("invalid \\u escape")
	case jsonlex.TooDeep:
		return s.fail("nesting deeper than %d", maxDepth)
	case jsonlex.Duplicate:
		end, esc, _ := jsonlex.String(s.B, s.Dup)
		return s.fail("duplicate member %q", jsonlex.MemberName(s.B[s.Dup+1:end-1], esc))
	case jsonlex.NoName:
		return s.fail("want a member name")
	case jsonlex.NoColon:
		return s.fail("want ':' after a member name")
	case jsonlex.NoComma:
		return s.fail("want ',' or %q", s.Closer)
	}
	return s.fail("%v", c)
}

// value skips one JSON value, validating it.
func (s *scanner) value() error {
	if c := s.Value(); c != jsonlex.OK {
		return s.problem(c)
	}
	return nil
}

// str skips a string starting at the opening quote and returns the span of
// its contents and whether it holds escapes. It checks that the string has
// no control characters, valid escapes and valid UTF-8.
func (s *scanner) str() (content []byte, escaped bool, err error) {
	end, escaped, c := jsonlex.String(s.B, s.I)
	if c != jsonlex.OK {
		s.I = end
		return nil, false, s.problem(c)
	}
	content, s.I = s.B[s.I+1:end-1], end
	return content, escaped, nil
}

// members walks the object whose '{' is at s.I, calling f with each
// member's name (and whether it has escapes) once the scanner is at the
// member's value; f must consume the value. (Names are the caller's to
// check: the members of a message are known by name, and a value's
// object was checked whole when it was decoded.)
func (s *scanner) members(f func(name []byte, escaped bool) error) error {
	s.I++
	s.WS()
	if s.Peek() == '}' {
		s.I++
		return nil
	}
	for {
		if s.Peek() != '"' {
			return s.problem(jsonlex.NoName)
		}
		end, esc, c := jsonlex.String(s.B, s.I) // not s.str(): a call fewer per member
		if c != jsonlex.OK {
			s.I = end
			return s.problem(c)
		}
		name := s.B[s.I+1 : end-1]
		s.I = end
		if c := s.Colon(); c != jsonlex.OK {
			return s.problem(c)
		}
		if err := f(name, esc); err != nil {
			return err
		}
		if done, c := s.Next('}'); c != jsonlex.OK {
			return s.problem(c)
		} else if done {
			return nil
		}
	}
}

// unquote decodes the contents of a validated string with escapes, appending
// to dst. It rejects lone UTF-16 surrogates, which have no UTF-8 form.
func unquote(dst, s []byte) ([]byte, error) {
	out, at, c := jsonlex.Unquote(dst, s)
	if c != jsonlex.OK {
		return out, errorf(ErrBadRequest, "lone UTF-16 surrogate %s in a string that must be UTF-8", s[at:at+6])
	}
	return out, nil
}
