package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/shmlab/shmlab/internal/jsonlex"
)

// A hand-written decoder for history lines: encoding/json spent most of
// the time of a check on reading. It is strict the same way: unknown and
// duplicate members, wrong types and trailing data are errors that name
// the member.

// field is one member a line may have, as a bit of line.has.
type field uint32

const (
	fType field = 1 << iota
	fFormat
	fVersion
	fModel
	fScenario
	fSeed
	fFaults
	fMeta
	fID
	fWorker
	fStream
	fMethod
	fKey
	fInput
	fOutput
	fCall
	fReturn
	fStatus
	fKind
	fTime
	fEnd
	fLink
	fFault
	fTruth
	fOp
	fReset
	fText
	fExit
	fStderr
	fStore
	fDedupWindow
	fCalls
)

// fieldOrder lists the member names in the order of their bits.
var fieldOrder = []string{"type", "format", "version", "model", "scenario", "seed", "faults", "meta", "id", "worker",
	"stream", "method", "key", "input", "output", "call", "return", "status", "kind", "time", "end",
	"link", "fault", "truth", "op", "reset", "text", "exit", "stderr", "store", "dedup_window", "calls"}

// fieldOf returns the bit of the member called name, or 0. (A switch:
// a map lookup per member cost a tenth of the reading time.)
func fieldOf(name []byte) field {
	switch string(name) {
	case "type":
		return fType
	case "format":
		return fFormat
	case "version":
		return fVersion
	case "model":
		return fModel
	case "scenario":
		return fScenario
	case "seed":
		return fSeed
	case "faults":
		return fFaults
	case "meta":
		return fMeta
	case "id":
		return fID
	case "worker":
		return fWorker
	case "stream":
		return fStream
	case "method":
		return fMethod
	case "key":
		return fKey
	case "input":
		return fInput
	case "output":
		return fOutput
	case "call":
		return fCall
	case "return":
		return fReturn
	case "status":
		return fStatus
	case "kind":
		return fKind
	case "time":
		return fTime
	case "end":
		return fEnd
	case "link":
		return fLink
	case "fault":
		return fFault
	case "truth":
		return fTruth
	case "op":
		return fOp
	case "reset":
		return fReset
	case "text":
		return fText
	case "exit":
		return fExit
	case "stderr":
		return fStderr
	case "store":
		return fStore
	case "dedup_window":
		return fDedupWindow
	case "calls":
		return fCalls
	}
	return 0
}

// The members each type of line may have.
const (
	headerFields = fType | fFormat | fVersion | fModel | fScenario | fSeed | fFaults | fMeta | fStore | fDedupWindow | fCalls
	opFields     = fType | fID | fWorker | fStream | fMethod | fKey | fInput | fOutput | fCall | fReturn | fStatus
	eventFields  = fType | fKind | fTime | fEnd | fWorker | fLink | fFault | fTruth | fOp | fReset | fText | fExit | fStderr
)

// name returns the member name of the lowest bit of f.
func (f field) name() string {
	if f == 0 {
		return "?"
	}
	return fieldOrder[bits.TrailingZeros32(uint32(f))]
}

// line is any line of a history: the union of the three kinds, with a
// bit in has for each member present.
type line struct {
	has                                       field
	Type, Format, Scenario, Worker, Key, Link string
	Fault, Text, Exit, Stderr                 string
	Model                                     Model
	Method                                    Method
	Status                                    Status
	Kind                                      EventKind
	Truth                                     Truth
	Version, Stream, Faults, DedupWindow      int
	Seed                                      uint64
	ID, Call, Return, Time, End, Op           int64
	Reset                                     bool
	Meta                                      json.RawMessage
	Store                                     *StoreLimits
	Calls                                     *CallLimits
	Input                                     Input
	inputHas                                  uint8 // the input's members
	Output                                    Output
}

// scanError is a problem at a member (field may be empty).
type scanError struct {
	field string
	err   error
}

func (e *scanError) Error() string { return e.err.Error() }

// lineScanner decodes one line. Raw values and strings without escapes
// share the line's bytes, which must outlive the history.
type lineScanner struct {
	b      []byte
	i      int
	first  bool // at the first member of an object
	intern map[string]string
	// recent holds strings interned lately, by recentSlot, so that the
	// few that fill most lines (methods, statuses, workers, keys) are
	// found by one comparison rather than a hash.
	recent [64]string
	buf    []byte
}

// recentSlot is where b would be in a lineScanner's recent, from its
// length and its first and last bytes; b is not empty.
func recentSlot(b []byte) int {
	return (len(b)*31 + int(b[0])*7 + int(b[len(b)-1])) & 63
}

func (s *lineScanner) fail(field, format string, args ...any) error {
	return &scanError{field, fmt.Errorf(format, args...)}
}

// The tokens (white space, strings, numbers, literals, whole values)
// are read by the shared JSON lexer, internal/jsonlex; this file words
// what it finds wrong, naming the member.

func (s *lineScanner) ws() { s.i = jsonlex.WS(s.b, s.i) }

// problem words what the lexer found wrong at offset at in member field,
// and moves the scanner there.
func (s *lineScanner) problem(field string, at int, c jsonlex.Code) error {
	s.i = at
	if s.i >= len(s.b) {
		return s.torn(field, "")
	}
	switch c {
	case jsonlex.Control:
		return s.fail(field, "a control character (0x%02x) inside a string", s.b[s.i])
	case jsonlex.BadUTF8:
		return s.fail(field, "the string is not valid UTF-8")
	case jsonlex.BadEscape:
		return s.fail(field, "a bad escape \\%c in a string", s.b[s.i+1])
	case jsonlex.BadUEscape:
		return s.fail(field, "a bad \\u escape in a string")
	case jsonlex.TooDeep:
		return s.fail(field, "nesting deeper than %d", maxDepth)
	case jsonlex.BadNumber, jsonlex.NoFraction, jsonlex.NoExponent:
		return s.torn(field, "a bad number")
	case jsonlex.BadLiteral:
		if c := s.b[s.i]; c == 't' || c == 'f' {
			return s.torn(field, "an invalid literal")
		}
	case jsonlex.NoName:
		return s.fail(field, "%s cannot be a string", s.kindAt())
	case jsonlex.NoColon:
		return s.torn(field, "expected ':'")
	case jsonlex.NoComma:
		if s.leadingZero() {
			return s.torn(field, "a number with a leading zero")
		}
		return s.torn(field, "expected ',' or a closing bracket")
	}
	return s.torn(field, "an invalid character")
}

// leadingZero reports whether the scanner is at a digit after a number
// "0" (the lexer ends a number there, as the grammar does), and if so
// moves to the zero.
func (s *lineScanner) leadingZero() bool {
	if s.i > 0 && s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.b[s.i-1] == '0' {
		s.i--
		return true
	}
	return false
}

// parse decodes b into l.
func (s *lineScanner) parse(b []byte, l *line) error {
	s.b, s.i = b, 0
	if err := s.open(""); err != nil {
		return err
	}
	for {
		name, more, err := s.next("")
		if err != nil || !more {
			if err != nil {
				return err
			}
			break
		}
		f := fieldOf(name)
		if f == 0 {
			return s.fail(string(name), "unknown field")
		}
		if l.has&f != 0 {
			return s.fail(string(name), "duplicate field")
		}
		l.has |= f
		if err := s.member(l, f); err != nil {
			return err
		}
	}
	s.ws()
	if s.i < len(s.b) {
		return s.fail("", "more than one JSON value on the line")
	}
	return nil
}

// open moves past the '{' that begins an object; prefix names the
// object in errors.
func (s *lineScanner) open(prefix string) error {
	s.ws()
	if s.i >= len(s.b) {
		return s.fail(prefix, "the line ends where a JSON object should begin (a torn write?)")
	}
	if s.b[s.i] != '{' {
		if c := s.b[s.i]; !strings.ContainsRune(`"{[tfn-0123456789`, rune(c)) {
			return s.fail(prefix, "not JSON: %q at byte %d", c, s.i+1)
		}
		return s.fail(prefix, "%s is not a JSON object", s.kindAt())
	}
	s.i++
	s.first = true
	return nil
}

// next moves to the next member of the object being read and returns its
// name, with the scanner just before its value; more is false at the
// object's end.
func (s *lineScanner) next(prefix string) (name []byte, more bool, err error) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, false, s.torn(prefix, "")
	}
	if !s.first {
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return nil, false, nil
		default:
			return nil, false, s.fail(prefix, "not JSON: expected ',' or '}' at byte %d", s.i+1)
		}
	} else if s.b[s.i] == '}' {
		s.i++
		s.first = false
		return nil, false, nil
	}
	s.first = false
	name, err = s.strBytes(prefix)
	if err != nil {
		return nil, false, err
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, false, s.torn(prefix, "expected ':' after member name")
	}
	s.i++
	s.ws()
	return name, true, nil
}

// sub names member name of the object prefix, for errors.
func sub(prefix string, name []byte) string { return prefix + "." + string(name) }

// torn reports a line that ends too early, or another syntax error.
func (s *lineScanner) torn(field, what string) error {
	if s.i >= len(s.b) {
		return s.fail("", "the line ends inside a JSON value (a torn write?)")
	}
	return s.fail(field, "not JSON: %s at byte %d", what, s.i+1)
}

// kindAt names the JSON type of the value at the scanner.
func (s *lineScanner) kindAt() string {
	if s.i >= len(s.b) {
		return "nothing"
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return "a JSON string"
	case c == '{':
		return "a JSON object"
	case c == '[':
		return "a JSON array"
	case c == 't' || c == 'f':
		return "a JSON boolean"
	case c == 'n':
		return "a JSON null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a JSON number"
	}
	return fmt.Sprintf("%q, which is not JSON,", s.b[s.i])
}

func (s *lineScanner) member(l *line, f field) error {
	var err error
	name := f.name()
	switch f {
	case fType:
		l.Type, err = s.internStr(name)
	case fFormat:
		l.Format, err = s.str(name)
	case fScenario:
		l.Scenario, err = s.str(name)
	case fWorker:
		err = internInto(s, name, &l.Worker)
	case fKey:
		err = internInto(s, name, &l.Key)
	case fLink:
		err = internInto(s, name, &l.Link)
	case fFault:
		err = internInto(s, name, &l.Fault)
	case fText:
		l.Text, err = s.str(name)
	case fExit:
		l.Exit, err = s.str(name)
	case fStderr:
		l.Stderr, err = s.str(name)
	case fModel:
		err = internInto(s, name, &l.Model)
	case fMethod:
		err = internInto(s, name, &l.Method)
	case fStatus:
		err = internInto(s, name, &l.Status)
	case fKind:
		err = internInto(s, name, &l.Kind)
	case fTruth:
		err = internInto(s, name, &l.Truth)
	case fVersion, fStream:
		var n int64
		n, err = s.integer(name, math.MinInt32, math.MaxInt32)
		if f == fVersion {
			l.Version = int(n)
		} else {
			l.Stream = int(n)
		}
	case fSeed:
		l.Seed, err = s.uinteger(name)
	case fFaults, fDedupWindow:
		var n int64
		n, err = s.integer(name, 0, math.MaxInt32)
		if f == fFaults {
			l.Faults = int(n)
		} else {
			l.DedupWindow = int(n)
		}
	case fID, fCall, fReturn, fTime, fEnd, fOp:
		var n int64
		n, err = s.integer(name, math.MinInt64, math.MaxInt64)
		*l.int64Field(f) = n
	case fReset:
		l.Reset, err = s.boolean(name)
	case fMeta:
		l.Meta, err = s.raw(name)
	case fInput:
		l.inputHas, err = s.input(&l.Input)
	case fOutput:
		err = s.output(&l.Output)
	case fStore:
		l.Store = &StoreLimits{}
		err = s.storeLimits(l.Store)
	case fCalls:
		l.Calls = &CallLimits{}
		err = s.callLimits(l.Calls)
	}
	return err
}

// storeLimits decodes a header's store object.
func (s *lineScanner) storeLimits(st *StoreLimits) error {
	return s.members("store", func(name, full string) (err error) {
		var n int64
		switch name {
		case "max_entries", "sweep":
			n, err = s.integer(full, 0, math.MaxInt32)
			if name == "sweep" {
				st.Sweep = int(n)
			} else {
				st.MaxEntries = int(n)
			}
		case "max_bytes":
			st.MaxBytes, err = s.integer(full, 0, math.MaxInt64)
		case "entry_overhead":
			st.EntryOverhead, err = s.integer(full, 0, math.MaxInt64)
		case "clock_tolerance":
			st.ClockTolerance, err = s.integer(full, 0, math.MaxInt64)
		case "resend_after":
			st.ResendAfter, err = s.integer(full, 0, math.MaxInt64)
		default:
			return s.fail(full, "unknown field")
		}
		return err
	})
}

// callLimits decodes a header's calls object.
func (s *lineScanner) callLimits(c *CallLimits) error {
	return s.members("calls", func(name, full string) (err error) {
		switch name {
		case "timeout":
			c.Timeout, err = s.integer(full, 0, math.MaxInt64)
		case "slack":
			c.Slack, err = s.integer(full, 0, math.MaxInt64)
		default:
			return s.fail(full, "unknown field")
		}
		return err
	})
}

// members decodes the object obj member by member, passing each name and
// its full name ("store.sweep") to member, which reads the value; a
// member given twice is an error.
func (s *lineScanner) members(obj string, member func(name, full string) error) error {
	if err := s.open(obj); err != nil {
		return err
	}
	seen := map[string]bool{}
	for {
		name, more, err := s.next(obj)
		if err != nil || !more {
			return err
		}
		full := sub(obj, name)
		if seen[string(name)] {
			return s.fail(full, "duplicate field")
		}
		seen[string(name)] = true
		if err := member(string(name), full); err != nil {
			return err
		}
	}
}

// int64Field returns the member of l that f names.
func (l *line) int64Field(f field) *int64 {
	switch f {
	case fID:
		return &l.ID
	case fCall:
		return &l.Call
	case fReturn:
		return &l.Return
	case fTime:
		return &l.Time
	case fEnd:
		return &l.End
	}
	return &l.Op
}

// The members of an input, as bits.
const (
	inValue uint8 = 1 << iota
	inOld
	inDelta
	inTTL
	inIncr
)

// inputNames names the bits of an input's members, in order.
var inputNames = []string{"value", "old", "delta", "ttl", "incr"}

// inputAllowed is the members each method's input may have.
func inputAllowed(m Method) uint8 {
	switch m {
	case Set:
		return inValue | inTTL | inIncr
	case CAS:
		return inValue | inOld | inTTL
	case Add:
		return inDelta
	case Append:
		return inValue
	}
	return 0
}

// inputBit numbers the members of an input.
func inputBit(name []byte) uint8 {
	switch string(name) {
	case "value":
		return 1
	case "old":
		return 2
	case "delta":
		return 4
	case "ttl":
		return 8
	case "incr":
		return 16
	}
	return 0
}

// input decodes an input object and returns the members it had.
func (s *lineScanner) input(in *Input) (uint8, error) {
	if err := s.open("input"); err != nil {
		return 0, err
	}
	var seen uint8
	for {
		name, more, err := s.next("input")
		if err != nil || !more {
			return seen, err
		}
		bit := inputBit(name)
		if bit == 0 {
			return 0, s.fail(sub("input", name), "unknown field")
		}
		if seen&bit != 0 {
			return 0, s.fail(sub("input", name), "duplicate field")
		}
		seen |= bit
		full := sub("input", name)
		switch bit {
		case 1:
			in.Value, err = s.raw(full)
		case 2:
			in.Old, err = s.raw(full)
		case 4:
			in.Delta, err = s.integer(full, math.MinInt64, math.MaxInt64)
		case 8:
			in.TTL, err = s.integer(full, math.MinInt64, math.MaxInt64)
		case 16:
			in.Incr, err = s.integer(full, math.MinInt64, math.MaxInt64)
		}
		if err != nil {
			return 0, err
		}
	}
}

func (s *lineScanner) output(out *Output) error {
	if err := s.open("output"); err != nil {
		return err
	}
	var seen uint8
	for {
		name, more, err := s.next("output")
		if err != nil || !more {
			return err
		}
		switch string(name) {
		case "value":
			if seen&1 != 0 {
				return s.fail("output.value", "duplicate field")
			}
			seen |= 1
			out.Value, err = s.raw("output.value")
		case "error":
			if seen&2 != 0 {
				return s.fail("output.error", "duplicate field")
			}
			seen |= 2
			out.Error = &ErrorInfo{}
			err = s.errorInfo(out.Error)
		default:
			return s.fail(sub("output", name), "unknown field")
		}
		if err != nil {
			return err
		}
	}
}

func (s *lineScanner) errorInfo(e *ErrorInfo) error {
	if err := s.open("output.error"); err != nil {
		return err
	}
	for {
		name, more, err := s.next("output.error")
		if err != nil || !more {
			return err
		}
		switch string(name) {
		case "code":
			e.Code, err = s.internStr("output.error.code")
		case "message":
			e.Message, err = s.str("output.error.message")
		default:
			return s.fail(sub("output.error", name), "unknown field")
		}
		if err != nil {
			return err
		}
	}
}

// internInto decodes a string likely to repeat into *dst.
func internInto[T ~string](s *lineScanner, field string, dst *T) error {
	v, err := s.internStr(field)
	*dst = T(v)
	return err
}

// internStr decodes a string that is likely to repeat (names, keys).
func (s *lineScanner) internStr(field string) (string, error) {
	b, err := s.strBytes(field)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", nil
	}
	slot := recentSlot(b)
	if v := s.recent[slot]; v == string(b) {
		return v, nil
	}
	v, ok := s.intern[string(b)]
	if !ok {
		v = string(b)
		if s.intern != nil && len(s.intern) < 1<<16 {
			s.intern[v] = v
		}
	}
	s.recent[slot] = v
	return v, nil
}

// str decodes a JSON string.
func (s *lineScanner) str(field string) (string, error) {
	b, err := s.strBytes(field)
	return string(b), err
}

// strBytes decodes a JSON string; the bytes are the line's when the
// string has no escape, else the scanner's until its next call. A lone
// UTF-16 surrogate is refused: keys and names are text.
func (s *lineScanner) strBytes(field string) ([]byte, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		if s.i >= len(s.b) {
			return nil, s.torn(field, "")
		}
		return nil, s.fail(field, "%s cannot be a string", s.kindAt())
	}
	end, esc, c := jsonlex.String(s.b, s.i)
	if c != jsonlex.OK {
		return nil, s.problem(field, end, c)
	}
	raw := s.b[s.i+1 : end-1]
	s.i = end
	if !esc {
		return raw, nil
	}
	b, at, c := jsonlex.Unquote(s.buf[:0], raw)
	s.buf = b[:0]
	if c != jsonlex.OK {
		return nil, s.fail(field, "a lone UTF-16 surrogate \\u%04x, which UTF-8 cannot hold (a key or name must be text)", jsonlex.Surrogate(raw[at:]))
	}
	return b, nil
}

// number returns the text of a JSON number at the scanner.
func (s *lineScanner) number(field string) ([]byte, error) {
	start := s.i
	if s.i >= len(s.b) || (s.b[s.i] != '-' && (s.b[s.i] < '0' || s.b[s.i] > '9')) {
		return nil, errNotNumber
	}
	end, c := jsonlex.Number(s.b, s.i)
	if c != jsonlex.OK {
		return nil, s.problem(field, end, c)
	}
	s.i = end
	if s.leadingZero() {
		return nil, s.torn(field, "a number with a leading zero")
	}
	return s.b[start:s.i], nil
}

// errNotNumber is number's answer when no number begins at all: the
// caller says what it wanted instead.
var errNotNumber = errors.New("not a number")

func (s *lineScanner) kindOf(at int) string {
	save := s.i
	s.i = at
	k := s.kindAt()
	s.i = save
	return k
}

// integer decodes a JSON number that must be an integer in [lo, hi].
func (s *lineScanner) integer(field string, lo, hi int64) (int64, error) {
	start := s.i
	t, err := s.number(field)
	if err == errNotNumber {
		return 0, s.fail(field, "%s cannot be an integer", s.kindOf(start))
	} else if err != nil {
		return 0, err
	}
	n, ok := atoi(t)
	if !ok {
		if bytes.ContainsAny(t, ".eE") {
			return 0, s.fail(field, "%s is not an integer", t)
		}
		return 0, s.fail(field, "%s is out of range", t)
	}
	if n < lo || n > hi {
		return 0, s.fail(field, "%s is out of range", t)
	}
	return n, nil
}

func (s *lineScanner) uinteger(field string) (uint64, error) {
	start := s.i
	t, err := s.number(field)
	if err == errNotNumber {
		return 0, s.fail(field, "%s cannot be an integer", s.kindOf(start))
	} else if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(t), 10, 64)
	if err != nil {
		return 0, s.fail(field, "%s is not an integer from 0 to 2^64-1", t)
	}
	return n, nil
}

func (s *lineScanner) boolean(field string) (bool, error) {
	if c := s.peek(); c == 't' || c == 'f' {
		end, lc := jsonlex.Literal(s.b, s.i)
		if lc != jsonlex.OK {
			return false, s.torn(field, "an invalid literal")
		}
		s.i = end
		return c == 't', nil
	}
	return false, s.fail(field, "%s cannot be a boolean", s.kindAt())
}

// peek returns the byte at the scanner, or 0 at the end.
func (s *lineScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// raw returns the JSON value at the scanner, validated, without
// insignificant white space. Its strings are kept as written, lone
// surrogates included.
func (s *lineScanner) raw(field string) (json.RawMessage, error) {
	start := s.i
	l := jsonlex.Lexer{B: s.b, I: s.i, MaxDepth: maxDepth}
	if c := l.Value(); c != jsonlex.OK {
		return nil, s.problem(field, l.I, c)
	}
	s.i = l.I
	if s.leadingZero() {
		return nil, s.torn(field, "a number with a leading zero")
	}
	v := s.b[start:s.i]
	if l.Spaced {
		return jsonlex.Compact(nil, v), nil
	}
	return json.RawMessage(v), nil
}

// maxDepth bounds the nesting of values (encoding/json's bound).
const maxDepth = 10000

// atoi parses a JSON number that is an integer in the int64 range.
func atoi(t []byte) (int64, bool) {
	neg := len(t) > 0 && t[0] == '-'
	if neg {
		t = t[1:]
	}
	if len(t) == 0 || len(t) > 19 {
		if len(t) == 0 {
			return 0, false
		}
		return 0, false
	}
	var u uint64
	for _, c := range t {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u-1) - 1, true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}
