package shm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/shmlab/shmlab/internal/jsonlex"
)

// Value is one JSON value in compact wire form: the exact text that travels
// in a message's "value" member. Numbers keep every digit (an integer beyond
// 2^53 round-trips exactly) and binary data travels as {"$binary":"<base64>"}.
// A nil Value is absent, which is not the same as the JSON value null.
type Value []byte

// Null, True and False are the JSON literals.
var (
	Null  = Value("null")
	True  = Value("true")
	False = Value("false")
)

// ParseValue validates JSON text and returns it in compact form.
func ParseValue(text []byte) (Value, error) {
	hasWS, err := checkJSON(text)
	if err != nil {
		return nil, err
	}
	return compact(text, hasWS), nil
}

// checkJSON validates that text is one JSON value, white space around it
// allowed, and reports whether it has white space to compact away.
func checkJSON(text []byte) (hasWS bool, err error) {
	if len(text) > 0 && text[0] == '"' { // a string alone, the commonest value, needs no lexer state
		if end, _, c := jsonlex.String(text, 0); c == jsonlex.OK && end == len(text) {
			return false, nil
		}
	}
	s := newScanner(text, 0)
	s.WS()
	if c := s.Value(); c != jsonlex.OK {
		return false, s.problem(c)
	}
	s.WS()
	if s.I != len(text) {
		return false, s.fail("trailing data after the value")
	}
	return s.Spaced, nil
}

func compact(text []byte, hasWS bool) Value {
	if !hasWS {
		return Value(text)
	}
	return Value(jsonlex.Compact(make([]byte, 0, len(text)), text))
}

// Int returns the integer n as a Value.
func Int(n int64) Value { return strconv.AppendInt(nil, n, 10) }

// String returns s as a JSON string Value. Invalid UTF-8 becomes U+FFFD.
// Only '"', '\\' and control characters are escaped (as JSON.stringify
// does), so the text compares equal to what Node writes for the same string.
func String(s string) Value { return AppendString(nil, []byte(s)) }

// Binary returns b as a Value in the documented binary encoding,
// {"$binary":"<standard base64>"}.
func Binary(b []byte) Value {
	v := make([]byte, 0, len(`{"$binary":""}`)+base64.StdEncoding.EncodedLen(len(b)))
	v = append(v, `{"$binary":"`...)
	v = base64.StdEncoding.AppendEncode(v, b)
	return append(v, `"}`...)
}

// Marshal encodes x with encoding/json, without its HTML escaping (so '<',
// '>' and '&' stay as they are, as Node writes them), and returns it as a
// Value.
func Marshal(x any) (Value, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, fmt.Errorf("shm: marshal value: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Unmarshal decodes v into x with encoding/json. Use a json.Number or a
// *big.Int in x to keep integers beyond 2^53 exact.
func (v Value) Unmarshal(x any) error {
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	return d.Decode(x)
}

// Int returns v as an int64, if it is an integer in range written without a
// fraction or exponent.
func (v Value) Int() (int64, error) {
	n, ok := parseInt(v)
	if !ok {
		return 0, fmt.Errorf("shm: value %.40s is not an int64", v)
	}
	return n, nil
}

// Binary decodes a value in the binary encoding.
func (v Value) Binary() ([]byte, error) {
	var wrapper struct {
		B *string `json:"$binary"`
	}
	if err := json.Unmarshal(v, &wrapper); err != nil || wrapper.B == nil {
		return nil, fmt.Errorf("shm: value %.40s is not {\"$binary\":...}", v)
	}
	return base64.StdEncoding.DecodeString(*wrapper.B)
}

// Equal reports whether two values have the same compact text, which is how
// cas compares them.
func (v Value) Equal(w Value) bool { return bytes.Equal(v, w) }

// String returns the JSON text.
func (v Value) String() string { return string(v) }

// MarshalJSON returns v itself: a Value is JSON text. A nil Value, which
// is absent rather than null, marshals as null.
func (v Value) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	return v, nil
}

// UnmarshalJSON sets v to the JSON text data, in compact form.
func (v *Value) UnmarshalJSON(data []byte) error {
	p, err := ParseValue(data)
	if err != nil {
		return err
	}
	*v = p
	return nil
}
