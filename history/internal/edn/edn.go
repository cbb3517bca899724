// Package edn reads EDN (extensible data notation), the text Clojure
// tools such as Jepsen write their histories in: enough of it to read
// any history whole (maps, vectors, lists, sets, strings, numbers,
// keywords, symbols, characters, tagged values, comments and discards),
// with the line and column of every value for messages.
package edn

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a value is.
type Kind int

// The kinds of values.
const (
	Nil Kind = iota
	Bool
	Int     // an integer: Text without a trailing N
	Float   // any other number: Text as written
	String  // Text is the string, unescaped
	Keyword // Text is the name without its colon
	Symbol
	Char // Text is the character
	Vector
	List
	Set
	Map // Items holds key, value, key, value, ...
)

var kindNames = []string{"nil", "a boolean", "an integer", "a number", "a string", "a keyword", "a symbol", "a character",
	"a vector", "a list", "a set", "a map"}

func (k Kind) String() string { return kindNames[k] }

// Value is one EDN value.
type Value struct {
	Kind  Kind
	Text  string
	Bool  bool
	Items []Value
	// Tag is the tag of a tagged value (#inst "…": "inst"), the value
	// being the one tagged.
	Tag string
	// Src is the value's text as written (sharing the text read); Line
	// and Col where it begins (1-based, Col in bytes).
	Src       []byte
	Line, Col int
}

// Get returns the value of map v at keyword key, and whether it has one.
func (v *Value) Get(key string) (*Value, bool) {
	if v.Kind != Map {
		return nil, false
	}
	for i := 0; i+1 < len(v.Items); i += 2 {
		if k := &v.Items[i]; k.Kind == Keyword && k.Text == key {
			return &v.Items[i+1], true
		}
	}
	return nil, false
}

// Int returns integer v.
func (v *Value) Int() (int64, bool) {
	if v.Kind != Int {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Text, 10, 64)
	return n, err == nil
}

// SyntaxError is text that is not EDN, at a line and column.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Reader reads values one after another from a text.
type Reader struct {
	b         []byte
	i         int
	line, col int // of b[i]
}

// NewReader reads from b; line is the number of b's first line.
func NewReader(b []byte, line int) *Reader { return &Reader{b: b, line: line, col: 1} }

// maxDepth bounds the nesting of values.
const maxDepth = 1000

// ErrEnd is Next's answer at the end of the text.
var ErrEnd = errors.New("end of the text")

// Next returns the next value, or ErrEnd when only white space and
// comments are left.
func (r *Reader) Next() (Value, error) {
	if err := r.space(0); err != nil {
		return Value{}, err
	}
	if r.i >= len(r.b) {
		return Value{}, ErrEnd
	}
	return r.value(0)
}

// Rest reports whether anything but white space and comments is left.
func (r *Reader) Rest() bool {
	return r.space(0) != nil || r.i < len(r.b)
}

func (r *Reader) fail(line, col int, format string, args ...any) error {
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// advance moves past n bytes, counting lines.
func (r *Reader) advance(n int) {
	for range n {
		if r.b[r.i] == '\n' {
			r.line, r.col = r.line+1, 1
		} else {
			r.col++
		}
		r.i++
	}
}

// space moves past white space (commas are white space), comments and
// discarded values (#_), at nesting depth.
func (r *Reader) space(depth int) error {
	pending := 0 // discards waiting for their value
	for r.i < len(r.b) {
		switch c := r.b[r.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f':
			r.advance(1)
		case c == ';':
			for r.i < len(r.b) && r.b[r.i] != '\n' {
				r.advance(1)
			}
		case c == '#' && r.i+1 < len(r.b) && r.b[r.i+1] == '_':
			r.advance(2)
			pending++
		case pending > 0:
			if _, err := r.value(depth + 1); err != nil {
				return err
			}
			pending--
		default:
			return nil
		}
	}
	if pending > 0 {
		return r.fail(r.line, r.col, "the text ends after #_")
	}
	return nil
}

// delimiter reports whether c ends a token.
func delimiter(c byte) bool {
	return strings.IndexByte(" \t\n\r\f,;()[]{}\"", c) >= 0
}

// token returns the bytes up to the next delimiter.
func (r *Reader) token() string {
	j := r.i
	for j < len(r.b) && !delimiter(r.b[j]) {
		j++
	}
	return string(r.b[r.i:j])
}

func (r *Reader) value(depth int) (Value, error) {
	line, col, start := r.line, r.col, r.i
	if depth > maxDepth {
		return Value{}, r.fail(line, col, "values nested deeper than %d", maxDepth)
	}
	v, err := r.bare(depth)
	if err != nil {
		return Value{}, err
	}
	v.Src, v.Line, v.Col = r.b[start:r.i:r.i], line, col
	return v, nil
}

// bare reads the value at the reader, without its place.
func (r *Reader) bare(depth int) (Value, error) {
	line, col := r.line, r.col
	switch c := r.b[r.i]; {
	case c == '(':
		return r.seq(List, ')', depth)
	case c == '[':
		return r.seq(Vector, ']', depth)
	case c == '{':
		return r.seq(Map, '}', depth)
	case c == '"':
		return r.str()
	case c == '\\':
		return r.char()
	case c == '#':
		return r.dispatch(depth)
	case c == ')' || c == ']' || c == '}':
		return Value{}, r.fail(line, col, "%q closes nothing", c)
	}
	tok := r.token()
	if !utf8.ValidString(tok) {
		return Value{}, r.fail(line, col, "not UTF-8")
	}
	v, ok := atom(tok)
	if !ok {
		return Value{}, r.fail(line, col, "%q is not an EDN value", tok)
	}
	r.advance(len(tok))
	return v, nil
}

// atom reads a token: nil, a boolean, a number, a keyword or a symbol.
func atom(tok string) (Value, bool) {
	switch tok {
	case "nil":
		return Value{Kind: Nil}, true
	case "true", "false":
		return Value{Kind: Bool, Bool: tok == "true"}, true
	}
	c := tok[0]
	if c >= '0' && c <= '9' || (c == '-' || c == '+') && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9' {
		return number(tok)
	}
	if c == ':' {
		name := tok[1:]
		if name == "" || strings.HasPrefix(name, ":") && len(name) == 1 {
			return Value{}, false
		}
		return Value{Kind: Keyword, Text: name}, true
	}
	return Value{Kind: Symbol, Text: tok}, true
}

// number reads an integer (with an optional N) or another number (a
// float, with an optional M, or a ratio).
func number(tok string) (Value, bool) {
	t := strings.TrimPrefix(tok, "+")
	if s := strings.TrimSuffix(t, "N"); isInt(s) {
		return Value{Kind: Int, Text: s}, true
	}
	s := strings.TrimSuffix(t, "M")
	if a, b, ok := strings.Cut(s, "/"); ok && isInt(a) && isInt(b) {
		return Value{Kind: Float, Text: s}, true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if !strings.ContainsAny(s, "xXpP_") && !strings.Contains(strings.ToLower(s), "inf") && !strings.Contains(strings.ToLower(s), "nan") {
			return Value{Kind: Float, Text: s}, true
		}
	}
	return Value{}, false
}

func isInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// seq reads a list, vector, map or set up to close.
func (r *Reader) seq(kind Kind, closeC byte, depth int) (Value, error) {
	line, col := r.line, r.col
	r.advance(1)
	v := Value{Kind: kind}
	for {
		if err := r.space(depth); err != nil {
			return Value{}, err
		}
		if r.i >= len(r.b) {
			return Value{}, r.fail(line, col, "%s begun here is not closed", kind)
		}
		if r.b[r.i] == closeC {
			r.advance(1)
			break
		}
		item, err := r.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		v.Items = append(v.Items, item)
	}
	if kind == Map && len(v.Items)%2 != 0 {
		return Value{}, r.fail(line, col, "a map with a key but no value")
	}
	return v, nil
}

// str reads a string.
func (r *Reader) str() (Value, error) {
	line, col := r.line, r.col
	var b strings.Builder
	j := r.i + 1
	for j < len(r.b) {
		c := r.b[j]
		switch {
		case c == '"':
			s := b.String()
			if !utf8.ValidString(s) {
				return Value{}, r.fail(line, col, "the string is not UTF-8")
			}
			r.advance(j + 1 - r.i)
			return Value{Kind: String, Text: s}, nil
		case c == '\\':
			if j+1 >= len(r.b) {
				return Value{}, r.fail(line, col, "the string begun here is not closed")
			}
			j++
			switch e := r.b[j]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'u':
				n, err := strconv.ParseUint(string(r.b[j+1:min(j+5, len(r.b))]), 16, 32)
				if err != nil || j+5 > len(r.b) {
					return Value{}, r.fail(line, col, "a bad \\u escape in a string")
				}
				b.WriteRune(rune(n))
				j += 4
			default:
				return Value{}, r.fail(line, col, "a bad escape \\%c in a string", e)
			}
		default:
			b.WriteByte(c)
		}
		j++
	}
	return Value{}, r.fail(line, col, "the string begun here is not closed")
}

// names of the characters written by name.
var charNames = map[string]string{"newline": "\n", "space": " ", "tab": "\t", "return": "\r", "backspace": "\b", "formfeed": "\f"}

// char reads a character: \a, \newline, \u00e9.
func (r *Reader) char() (Value, error) {
	line, col := r.line, r.col
	j := r.i + 1
	if j >= len(r.b) {
		return Value{}, r.fail(line, col, "a \\ with no character")
	}
	_, size := utf8.DecodeRune(r.b[j:])
	k := j + size
	for k < len(r.b) && !delimiter(r.b[k]) {
		k++
	}
	tok := string(r.b[j:k])
	text, ok := charNames[tok]
	switch {
	case ok:
	case utf8.RuneCountInString(tok) == 1 && utf8.ValidString(tok):
		text = tok
	case len(tok) == 5 && tok[0] == 'u':
		n, err := strconv.ParseUint(tok[1:], 16, 32)
		if err != nil {
			return Value{}, r.fail(line, col, "a bad character \\%s", tok)
		}
		text = string(rune(n))
	default:
		return Value{}, r.fail(line, col, "a bad character \\%s", tok)
	}
	r.advance(k - r.i)
	return Value{Kind: Char, Text: text}, nil
}

// dispatch reads what follows a #: a set, or a tagged value.
func (r *Reader) dispatch(depth int) (Value, error) {
	line, col := r.line, r.col
	if r.i+1 < len(r.b) && r.b[r.i+1] == '{' {
		r.advance(1)
		return r.seq(Set, '}', depth)
	}
	r.advance(1)
	tag := r.token()
	if tag == "" || !utf8.ValidString(tag) || !(tag[0] >= 'a' && tag[0] <= 'z' || tag[0] >= 'A' && tag[0] <= 'Z') {
		return Value{}, r.fail(line, col, "a # that begins no set nor tagged value")
	}
	r.advance(len(tag))
	if err := r.space(depth); err != nil {
		return Value{}, err
	}
	if r.i >= len(r.b) {
		return Value{}, r.fail(line, col, "the tag #%s tags nothing", tag)
	}
	v, err := r.value(depth + 1)
	if err != nil {
		return Value{}, err
	}
	v.Tag = tag
	return v, nil
}
