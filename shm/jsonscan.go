package shm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arrays and objects in a value.
const maxDepth = 256

// scanner validates JSON text in place. It never allocates on the valid path.
type scanner struct {
	b     []byte
	i     int
	sawWS bool // whitespace was skipped inside a value (it is not compact)
}

func (s *scanner) fail(format string, args ...any) error {
	return errorf(ErrBadRequest, "offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
			s.sawWS = true
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// value skips one JSON value, validating it.
func (s *scanner) value(depth int) error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case s.i >= len(s.b):
		return s.fail("unexpected end of JSON")
	default:
		return s.fail("invalid character %q looking for a value", c)
	}
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail("invalid literal, want %s", lit)
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) object(depth int) error {
	if depth > maxDepth {
		return s.fail("nesting deeper than %d", maxDepth)
	}
	var seen memberSet
	return s.members(func(name []byte, esc bool) error {
		if seen.add(name, esc) {
			return s.fail("duplicate member %q", memberName(name, esc))
		}
		return s.value(depth)
	})
}

// memberSet holds the names of one object's members, to refuse a
// duplicate: JSON leaves its meaning open (JavaScript keeps the last,
// others the first), so a value holding one would read back differently
// by reader. Names are compared as the strings they denote, escapes
// decoded (`"a"` and `"\u0061"` are the same member). A few names are
// compared one by one without allocating; past that a map takes over, so
// an object of n members costs O(n) whatever n.
type memberSet struct {
	small [8][]byte
	n     int
	big   map[string]struct{}
}

// add records name (its raw contents, with escapes if esc) and reports
// whether the object already had it.
func (m *memberSet) add(name []byte, esc bool) (dup bool) {
	if esc {
		name = memberName(name, true)
	}
	if m.big != nil {
		if _, ok := m.big[string(name)]; ok {
			return true
		}
		m.big[string(name)] = struct{}{}
		return false
	}
	for _, prev := range m.small[:m.n] {
		if bytes.Equal(prev, name) {
			return true
		}
	}
	if m.n < len(m.small) {
		m.small[m.n] = name
		m.n++
		return false
	}
	m.big = make(map[string]struct{}, 2*len(m.small))
	for _, prev := range m.small {
		m.big[string(prev)] = struct{}{}
	}
	m.big[string(name)] = struct{}{}
	return false
}

// memberName returns the string a member name denotes, from its raw
// contents: escapes decoded, and a lone UTF-16 surrogate (which JSON
// allows in a name) kept as its three-byte generalised UTF-8 form, so
// that every spelling of one name gives the same bytes.
func memberName(raw []byte, esc bool) []byte {
	if !esc {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			out = append(out, raw[i])
			i++
			continue
		}
		r, n, err := unescape(raw[i:])
		if err != nil { // a lone surrogate
			r, n = hex4(raw[i+2:i+6]), 6
			out = append(out, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
			i += n
			continue
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

func (s *scanner) array(depth int) error {
	if depth > maxDepth {
		return s.fail("nesting deeper than %d", maxDepth)
	}
	return s.elements(']', func() error { return s.value(depth) })
}

// members walks the object whose '{' is at s.i, calling f with each
// member's name (and whether it has escapes) once the scanner is at the
// member's value; f must consume the value.
func (s *scanner) members(f func(name []byte, escaped bool) error) error {
	return s.elements('}', func() error {
		if s.peek() != '"' {
			return s.fail("want a member name")
		}
		name, esc, err := s.str()
		if err == nil {
			err = s.colon()
		}
		if err == nil {
			err = f(name, esc)
		}
		return err
	})
}

// elements walks the array or object whose opening bracket is at s.i,
// calling each for every element, up to closer.
func (s *scanner) elements(closer byte, each func() error) error {
	s.i++
	s.ws()
	if s.peek() == closer {
		s.i++
		return nil
	}
	for {
		if err := each(); err != nil {
			return err
		}
		if done, err := s.next(closer); done || err != nil {
			return err
		}
	}
}

func (s *scanner) colon() error {
	s.ws()
	if s.peek() != ':' {
		return s.fail("want ':' after a member name")
	}
	s.i++
	s.ws()
	return nil
}

// next consumes the separator after an element: ',' (not done) or closer (done).
func (s *scanner) next(closer byte) (done bool, err error) {
	s.ws()
	switch s.peek() {
	case ',':
		s.i++
		s.ws()
		return false, nil
	case closer:
		s.i++
		return true, nil
	}
	return false, s.fail("want ',' or %q", closer)
}

func (s *scanner) number() error {
	start := s.i
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.fail("invalid number")
	}
	if s.peek() == '.' {
		s.i++
		if s.digits() == 0 {
			return s.fail("want digits after the decimal point")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			return s.fail("want digits in the exponent")
		}
	}
	if s.i == start {
		return s.fail("invalid number")
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// str skips a string starting at the opening quote and returns the span of
// its contents and whether it holds escapes. It checks that the string has
// no control characters, valid escapes and valid UTF-8.
func (s *scanner) str() (content []byte, escaped bool, err error) {
	start := s.i + 1
	// Fast path: a short plain ASCII string, byte by byte.
	for i := start; i < len(s.b) && i-start < 24; i++ {
		c := s.b[i]
		if c == '"' {
			s.i = i + 1
			return s.b[start:i], false, nil
		}
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			break
		}
	}
	return s.longStr(start)
}

// longStr is str for long strings and strings with escapes or non-ASCII:
// it finds the quote and backslashes with the vectorised IndexByte, then
// checks the runs between them eight bytes at a time.
func (s *scanner) longStr(start int) (content []byte, escaped bool, err error) {
	i := start
	for {
		q := bytes.IndexByte(s.b[i:], '"')
		if q < 0 {
			s.i = len(s.b)
			return nil, false, s.fail("unterminated string")
		}
		seg := s.b[i : i+q]
		bs := bytes.IndexByte(seg, '\\')
		if bs >= 0 {
			seg = seg[:bs]
		}
		if err := s.run(seg, i); err != nil {
			return nil, false, err
		}
		if bs < 0 {
			s.i = i + q + 1
			return s.b[start : i+q], escaped, nil
		}
		n, err := s.escape(i + bs)
		if err != nil {
			return nil, false, err
		}
		i += bs + n
		escaped = true
	}
}

// run checks a run of unescaped string bytes that starts at offset at.
func (s *scanner) run(seg []byte, at int) error {
	if printableASCII(seg) {
		return nil
	}
	for j := 0; j < len(seg); {
		c := seg[j]
		switch {
		case c < 0x20:
			s.i = at + j
			return s.fail("control character in string")
		case c < utf8.RuneSelf:
			j++
			continue
		}
		r, n := utf8.DecodeRune(seg[j:])
		if r == utf8.RuneError && n <= 1 {
			s.i = at + j
			return s.fail("invalid UTF-8 in string")
		}
		j += n
	}
	return nil
}

// printableASCII reports whether every byte of b is in 0x20..0x7f,
// thirty-two bytes at a time: (w - 0x20 in each byte) | w has a high bit
// set exactly where a byte is below 0x20 or above 0x7f.
func printableASCII(b []byte) bool {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	const low = ones * 0x20
	var acc uint64
	for len(b) >= 32 {
		w0 := binary.LittleEndian.Uint64(b)
		w1 := binary.LittleEndian.Uint64(b[8:])
		w2 := binary.LittleEndian.Uint64(b[16:])
		w3 := binary.LittleEndian.Uint64(b[24:])
		acc |= (w0 - low) | w0 | (w1 - low) | w1 | (w2 - low) | w2 | (w3 - low) | w3
		b = b[32:]
	}
	if acc&high != 0 {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// escape checks the escape sequence at b[at] (a backslash) and returns its length.
func (s *scanner) escape(at int) (int, error) {
	if at+1 >= len(s.b) {
		s.i = at
		return 0, s.fail("unterminated escape")
	}
	switch s.b[at+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if at+6 > len(s.b) || !isHex4(s.b[at+2:at+6]) {
			s.i = at
			return 0, s.fail("invalid \\u escape")
		}
		return 6, nil
	}
	s.i = at
	return 0, s.fail("invalid escape %q", s.b[at:at+2])
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !isHex(c) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// unquote decodes the contents of a validated string with escapes, appending
// to dst. It rejects lone UTF-16 surrogates, which have no UTF-8 form.
func unquote(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		r, n, err := unescape(s[i:])
		if err != nil {
			return dst, err
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst, nil
}

// unescape decodes one escape sequence (already validated) at the start of s.
func unescape(s []byte) (rune, int, error) {
	switch s[1] {
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		return unescapeU(s)
	}
	return rune(s[1]), 2, nil
}

func unescapeU(s []byte) (rune, int, error) {
	r := hex4(s[2:6])
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' && isHex4(s[8:12]) {
		if d := utf16.DecodeRune(r, hex4(s[8:12])); d != utf8.RuneError {
			return d, 12, nil
		}
	}
	return 0, 0, errorf(ErrBadRequest, "lone UTF-16 surrogate %s in a string that must be UTF-8", s[:6])
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= 'a':
			c = c - 'a' + 10
		case c >= 'A':
			c = c - 'A' + 10
		default:
			c -= '0'
		}
		r = r<<4 | rune(c)
	}
	return r
}
