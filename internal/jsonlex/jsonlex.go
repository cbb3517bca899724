// Package jsonlex is shmlab's one JSON lexer, shared by the wire codec
// (package shm) and the history reader (package history). It validates
// JSON text in place, token by token or a whole value at a time, and
// never allocates on the valid path: a string's contents, a number's text
// and a value's text are spans of the input. It reports what is wrong as
// a Code with the offset at fault, and each caller words its own messages.
//
// # Lone surrogates
//
// JSON text may spell a UTF-16 surrogate that has no partner ("\ud800"),
// which has no UTF-8 form. The rule, the same for every caller:
//
//   - a string that is decoded into text (a key, a method, an error
//     code, a member name the reader must recognise) is refused if it
//     holds one: Unquote returns LoneSurrogate;
//   - a string inside a value, which is kept as its JSON text, keeps it
//     as written, as JSON allows and as JavaScript's JSON.stringify
//     writes it ("\ud800" since ES2019);
//   - member names inside a value are compared (to refuse a duplicate)
//     as the code points they spell, a lone surrogate as itself
//     (MemberName).
package jsonlex

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// Code says what is wrong with the text, at Lexer.I (or, from Unquote,
// at the offset it returns).
type Code uint8

const (
	OK            Code = iota
	End                // the text ends where a value should begin
	NotValue           // a byte that begins no JSON value
	BadLiteral         // t, f or n that does not begin true, false or null (I at its start)
	BadNumber          // a minus sign followed by no digit (I after the sign)
	NoFraction         // a decimal point followed by no digit (I after the point)
	NoExponent         // an exponent with no digit (I after the e and its sign)
	Unterminated       // a string with no closing quote (I at the text's end)
	Control            // a control character in a string (I at it)
	BadUTF8            // invalid UTF-8 in a string (I at it)
	BadEscape          // a backslash that escapes nothing (I at the backslash)
	BadUEscape         // \u not followed by four hex digits (I at the backslash)
	LoneSurrogate      // a lone UTF-16 surrogate in a string decoded to text (Unquote)
	TooDeep            // an array or object nested deeper than MaxDepth (I at its bracket)
	Duplicate          // a member name an object already has (Lexer.Dup; I after the colon)
	NoName             // no member name where one must be (I there)
	NoColon            // no ':' after a member name (I there)
	NoComma            // neither ',' nor the closing bracket (Lexer.Closer) after an element (I there)
)

// Lexer scans B from I. A method that fails leaves I at the fault and
// says what it is; one that succeeds leaves I after what it scanned.
type Lexer struct {
	B []byte
	I int
	// MaxDepth is how deep Value lets arrays and objects nest (a value
	// that is one array has depth 1).
	MaxDepth int
	// Unique makes Value refuse an object with two members of one name,
	// compared as MemberName does.
	Unique bool
	// Spaced is set when WS skips white space (callers clear it before a
	// value to learn whether it is compact).
	Spaced bool
	// Closer is the bracket a NoComma wanted, ']' or '}'.
	Closer byte
	// Dup is the offset of the opening quote of a Duplicate member's name.
	Dup int
}

// WS skips white space.
func (l *Lexer) WS() {
	if j := WS(l.B, l.I); j != l.I {
		l.I, l.Spaced = j, true
	}
}

// WS returns the offset of the first byte of b from i on that is not
// white space.
func WS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Peek returns the byte at I, or 0 at the end.
func (l *Lexer) Peek() byte {
	if l.I < len(l.B) {
		return l.B[l.I]
	}
	return 0
}

// Value scans one JSON value at I (no white space before it), validating
// it: strings are checked, not decoded.
func (l *Lexer) Value() Code { return l.value(0) }

func (l *Lexer) value(depth int) Code {
	if l.I >= len(l.B) {
		return End
	}
	switch c := l.B[l.I]; {
	case c == '"':
		end, _, code := String(l.B, l.I)
		l.I = end
		return code
	case c == '{':
		return l.object(depth + 1)
	case c == '[':
		return l.array(depth + 1)
	case c == '-' || (c >= '0' && c <= '9'):
		return l.Number()
	case c == 't' || c == 'f' || c == 'n':
		return l.Literal()
	}
	return NotValue
}

// Literal scans true, false or null.
func (l *Lexer) Literal() Code {
	end, c := Literal(l.B, l.I)
	if c == OK {
		l.I = end
	}
	return c
}

// Literal scans the true, false or null at b[i] and returns the offset
// after it (i itself and BadLiteral if there is none).
func Literal(b []byte, i int) (end int, c Code) {
	var lit string
	switch {
	case i >= len(b):
		return i, BadLiteral
	case b[i] == 't':
		lit = "true"
	case b[i] == 'f':
		lit = "false"
	case b[i] == 'n':
		lit = "null"
	default:
		return i, BadLiteral
	}
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, BadLiteral
	}
	return i + len(lit), OK
}

// open moves past the bracket at I of an array or object at depth, and
// the white space after it, and reports whether the closer follows (and
// was consumed too).
func (l *Lexer) open(depth int, closer byte) (empty bool, c Code) {
	if depth > l.MaxDepth {
		return false, TooDeep
	}
	l.I++
	l.WS()
	if l.I < len(l.B) && l.B[l.I] == closer {
		l.I++
		return true, OK
	}
	return false, OK
}

func (l *Lexer) array(depth int) Code {
	if empty, c := l.open(depth, ']'); empty || c != OK {
		return c
	}
	for {
		if c := l.value(depth); c != OK {
			return c
		}
		if done, c := l.Next(']'); done || c != OK {
			return c
		}
	}
}

func (l *Lexer) object(depth int) Code {
	if empty, c := l.open(depth, '}'); empty || c != OK {
		return c
	}
	if !l.Unique {
		return l.members(depth, nil)
	}
	var seen memberSet
	return l.members(depth, &seen)
}

// members scans an object's members, from the first name to the closing
// brace, noting their names in seen if it is not nil.
func (l *Lexer) members(depth int, seen *memberSet) Code {
	for {
		if l.I >= len(l.B) || l.B[l.I] != '"' {
			return NoName
		}
		end, esc, c := String(l.B, l.I)
		if c != OK {
			l.I = end
			return c
		}
		name0, name := l.I, l.B[l.I+1:end-1]
		l.I = end
		if c := l.Colon(); c != OK {
			return c
		}
		if seen != nil && seen.add(name, esc) {
			l.Dup = name0
			return Duplicate
		}
		if c := l.value(depth); c != OK {
			return c
		}
		if done, c := l.Next('}'); done || c != OK {
			return c
		}
	}
}

// Colon scans the ':' after a member name, and the white space around it.
func (l *Lexer) Colon() Code {
	l.WS()
	if l.I >= len(l.B) || l.B[l.I] != ':' {
		return NoColon
	}
	l.I++
	l.WS()
	return OK
}

// Next scans the separator after an element of an array or object, and
// the white space around it: ',' (not done) or closer (done).
func (l *Lexer) Next(closer byte) (done bool, c Code) {
	l.WS()
	if l.I < len(l.B) {
		switch l.B[l.I] {
		case ',':
			l.I++
			l.WS()
			return false, OK
		case closer:
			l.I++
			return true, OK
		}
	}
	l.Closer = closer
	return false, NoComma
}

// Number scans a JSON number.
func (l *Lexer) Number() Code {
	end, c := Number(l.B, l.I)
	l.I = end
	return c
}

// Number scans the JSON number at b[i] and returns the offset after it,
// or the offset at fault. It stops where the grammar does: after "0", a
// digit that follows is not part of the number (the caller finds it
// where a separator should be).
func Number(b []byte, i int) (end int, c Code) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, BadNumber
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, NoFraction
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, NoExponent
		}
		i = j
	}
	return i, OK
}

// digits returns the offset of the first byte of b from i on that is not
// a digit.
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// String scans the string whose opening quote is at b[i] and returns the
// offset after its closing quote (its contents are b[i+1:end-1]) and
// whether it holds escapes, or the offset at fault. It checks that the
// string has no control characters, valid escapes and valid UTF-8; it
// decodes nothing (Unquote does).
func String(b []byte, i int) (end int, escaped bool, c Code) {
	start := i + 1
	// A short string of ASCII and escapes, byte by byte; anything else,
	// and what is left of a long one, is longString's.
	j := start
scan:
	for j < len(b) && j-start < 64 {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, OK
		case c == '\\':
			if j+1 >= len(b) {
				break scan
			}
			n, code := escape(b, j)
			if code != OK {
				break scan
			}
			j += n
			escaped = true
		case c >= 0x20 && c < utf8.RuneSelf:
			j++
		default:
			break scan
		}
	}
	return longString(b, j, escaped)
}

// longString is String for long strings and strings with non-ASCII
// bytes or faults, from offset from on (what lies before it is valid, and
// has escapes if escaped): it finds the quote and the backslashes with
// the vectorised IndexByte, then checks the runs between them eight
// bytes at a time.
func longString(b []byte, from int, escaped bool) (end int, esc bool, code Code) {
	i, q := from, -1 // q: the first quote at or after i, once known
	for {
		if q < i {
			j := bytes.IndexByte(b[i:], '"')
			if j < 0 {
				return len(b), false, Unterminated
			}
			q = i + j
		}
		seg := b[i:q]
		bs := bytes.IndexByte(seg, '\\')
		if bs >= 0 {
			seg = seg[:bs]
		}
		if at, c := run(seg); c != OK {
			return i + at, false, c
		}
		if bs < 0 {
			return q + 1, escaped, OK
		}
		n, c := escape(b, i+bs)
		if c != OK {
			return i + bs, false, c
		}
		i += bs + n
		escaped = true
	}
}

// run checks a run of unescaped string bytes, returning the offset in it
// of a fault.
func run(seg []byte) (at int, c Code) {
	if printableASCII(seg) {
		return 0, OK
	}
	for j := 0; j < len(seg); {
		c := seg[j]
		switch {
		case c < 0x20:
			return j, Control
		case c < utf8.RuneSelf:
			j++
			continue
		}
		r, n := utf8.DecodeRune(seg[j:])
		if r == utf8.RuneError && n <= 1 {
			return j, BadUTF8
		}
		j += n
	}
	return 0, OK
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

// escape checks the escape sequence whose backslash is at b[at], inside a
// string whose closing quote is known to follow, and returns its length.
func escape(b []byte, at int) (int, Code) {
	switch b[at+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, OK
	case 'u':
		if at+6 > len(b) || !isHex4(b[at+2:at+6]) {
			return 0, BadUEscape
		}
		return 6, OK
	}
	return 0, BadEscape
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

// Unquote appends the text that the contents of a string String accepted
// (with escapes) denote to dst. A lone UTF-16 surrogate has no UTF-8 form:
// Unquote then returns LoneSurrogate and the offset in content of its
// escape (content[at:at+6]).
func Unquote(dst, content []byte) (out []byte, at int, c Code) {
	for i := 0; i < len(content); {
		b := content[i]
		if b != '\\' {
			dst = append(dst, b)
			i++
			continue
		}
		r, n := unescape(content[i:])
		if n == 0 {
			return dst, i, LoneSurrogate
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst, 0, OK
}

// Surrogate returns the surrogate whose escape begins content (at
// Unquote's offset of a LoneSurrogate).
func Surrogate(content []byte) rune { return hex4(content[2:6]) }

// unescape decodes the escape sequence (validated) at the start of s and
// returns its length, 0 for a lone surrogate.
func unescape(s []byte) (rune, int) {
	switch s[1] {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r := hex4(s[2:6])
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' && isHex4(s[8:12]) {
			if d := utf16.DecodeRune(r, hex4(s[8:12])); d != utf8.RuneError {
				return d, 12
			}
		}
		return r, 0
	}
	return rune(s[1]), 2
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

// MemberName returns the name that the raw contents of a member name
// spell (escaped: whether they hold escapes), for comparing names: escapes
// decoded, and a lone UTF-16 surrogate kept as its three-byte generalised
// UTF-8 form, so that every spelling of one name gives the same bytes.
// Without escapes it returns raw itself.
func MemberName(raw []byte, escaped bool) []byte {
	if !escaped {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			out = append(out, raw[i])
			i++
			continue
		}
		r, n := unescape(raw[i:])
		if n == 0 { // a lone surrogate
			out = append(out, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
			n = 6
		} else {
			out = utf8.AppendRune(out, r)
		}
		i += n
	}
	return out
}

// memberSet holds the names of one object's members, to refuse a
// duplicate: JSON leaves its meaning open (JavaScript keeps the last,
// others the first), so a value holding one would read back differently
// by reader. Names are compared as MemberName spells them. A few names
// are compared one by one without allocating; past that a map takes
// over, so an object of n members costs O(n) whatever n.
type memberSet struct {
	small [8][]byte
	n     int
	big   map[string]struct{}
}

// add records a name (raw, as String returns it) and reports whether the
// object already had it.
func (m *memberSet) add(name []byte, escaped bool) (dup bool) {
	name = MemberName(name, escaped)
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

// Compact appends text, a JSON value Value accepted, to dst without its
// insignificant white space.
func Compact(dst, text []byte) []byte {
	for i := 0; i < len(text); {
		switch c := text[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end, _, _ := String(text, i)
			dst = append(dst, text[i:end]...)
			i = end
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}
