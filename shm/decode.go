package shm

import (
	"bytes"
	"math"

	"github.com/shmlab/shmlab/internal/jsonlex"
)

// frameDecoder turns one frame (a line without its newline) into a Message.
type frameDecoder struct {
	s       scanner
	m       *Message
	scratch *[]byte // decoded keys and compacted values are appended here
	flag    int8    // isSharedMemoryMessage: -1 absent, 0 false, 1 true
	cmd     []byte
	method  []byte
	sawErr  bool
	flagBad bool // isSharedMemoryMessage present but neither true nor false
	// replyErr is the "error" member, which a reply carries; on a request
	// it means nothing and is ignored (a worker cannot choose its answer).
	replyErr *Error
}

// DecodeFrame decodes one frame (without its trailing newline) into m.
// Problems with the frame are reported in m (Kind and Err), never returned:
// a semantic problem in a request (say, a wrong type) keeps Kind ==
// KindRequest with Err set, so that the reply can still name the request's
// uuid. Slices in m point into frame or into *scratch.
func DecodeFrame(frame []byte, m *Message, scratch *[]byte) {
	if decodeFast(frame, m) {
		return
	}
	*m = Message{}
	d := frameDecoder{s: newScanner(frame, 0), m: m, scratch: scratch, flag: -1}
	if err := d.top(); err != nil {
		m.Kind, m.Err = KindInvalid, err.(*Error)
		return
	}
	d.classify(frame)
}

func (d *frameDecoder) top() error {
	d.s.WS()
	rest := d.s.B[d.s.I:]
	switch {
	case len(rest) > 0 && rest[0] == '{':
	case bytes.Equal(bytes.TrimRight(rest, " \t\r\n"), []byte("null")):
		return errorf(ErrBadRequest, "message is null, want a JSON object")
	case len(rest) == 0:
		return errorf(ErrBadRequest, "empty frame, want a JSON object")
	default:
		if err := d.s.value(); err != nil {
			return err
		}
		return errorf(ErrBadRequest, "message is not a JSON object")
	}
	if err := d.members(); err != nil {
		return err
	}
	d.s.WS()
	if d.s.I != len(d.s.B) {
		return d.s.fail("trailing data after the message")
	}
	return nil
}

func (d *frameDecoder) members() error {
	return d.s.members(func(name []byte, esc bool) error {
		if esc {
			name = nil // no member we know has an escape in its name
		}
		return d.member(name)
	})
}

// member decodes the value of one top-level member.
func (d *frameDecoder) member(name []byte) error {
	switch string(name) {
	case "isSharedMemoryMessage":
		return d.flagMember()
	case "method":
		return d.strMember(name, &d.method)
	case "cmd":
		return d.strMember(name, &d.cmd)
	case "uuid":
		return d.uuidMember()
	case "ack":
		return d.uintMember(name, HasAck, &d.m.Ack)
	case "inc":
		return d.uintMember(name, HasInc, &d.m.Inc)
	case "id":
		return d.intMember(name, HasWorker, &d.m.Worker)
	case "ttl":
		return d.intMember(name, HasTTL, &d.m.TTL)
	case "delta":
		return d.intMember(name, HasDelta, &d.m.Delta)
	case "key":
		return d.keyMember()
	case "value":
		return d.valueMember(name, HasValue, &d.m.Value)
	case "old":
		return d.valueMember(name, HasOld, &d.m.Old)
	case "error":
		return d.errorMember()
	}
	return d.s.value()
}

// span scans one value and returns its text.
func (d *frameDecoder) span() ([]byte, error) {
	start := d.s.I
	if c := d.s.Value(); c != jsonlex.OK { // not d.s.value(): a call fewer per member
		return d.s.B[start:d.s.I], d.s.problem(c)
	}
	return d.s.B[start:d.s.I], nil
}

// once records that a member was seen, failing on a duplicate.
func (d *frameDecoder) once(name []byte, bit uint16) error {
	if d.m.Has&bit != 0 {
		return d.s.fail("duplicate member %q", name)
	}
	d.m.Has |= bit
	return nil
}

// wrongType records the first semantic problem; decoding goes on.
func (d *frameDecoder) wrongType(format string, args ...any) {
	if d.m.Err == nil {
		d.m.Err = errorf(ErrWrongType, format, args...)
	}
}

func (d *frameDecoder) flagMember() error {
	text, err := d.span()
	if err != nil {
		return err
	}
	if d.flag != -1 {
		return d.s.fail("duplicate member \"isSharedMemoryMessage\"")
	}
	d.flag = 0
	if string(text) == "true" {
		d.flag = 1
	}
	if d.flag == 0 && string(text) != "false" {
		d.flagBad = true
		d.wrongType("isSharedMemoryMessage must be true or false, got %.40s", text)
	}
	return nil
}

func (d *frameDecoder) strMember(name []byte, dst *[]byte) error {
	if *dst != nil {
		return d.s.fail("duplicate member %q", name)
	}
	if d.s.Peek() != '"' {
		text, err := d.span()
		d.wrongType("%s must be a string, got %.40s", name, text)
		*dst = []byte{}
		return err
	}
	content, esc, err := d.s.str()
	if esc && err == nil {
		content, err = d.unquote(content)
	}
	if content == nil {
		content = []byte{} // non-nil: the member was present
	}
	*dst = content
	return err
}

// unquote decodes a string with escapes. A string that JSON allows but
// that has no UTF-8 form (a lone surrogate) is a problem of the request,
// not of the frame: it is recorded and decoding goes on.
func (d *frameDecoder) unquote(content []byte) ([]byte, error) {
	start := len(*d.scratch)
	out, err := unquote(*d.scratch, content)
	*d.scratch = out
	if err != nil && d.m.Err == nil {
		d.m.Err = err.(*Error)
	}
	return out[start:len(out):len(out)], nil
}

func (d *frameDecoder) keyMember() error {
	if err := d.once(keyName, HasKey); err != nil {
		return err
	}
	if d.s.Peek() != '"' {
		text, err := d.span()
		d.wrongType("key must be a string, got %.40s", text)
		return err
	}
	content, esc, err := d.s.str()
	if esc && err == nil {
		content, err = d.unquote(content)
	}
	d.m.Key = content[:len(content):len(content)]
	return err
}

func (d *frameDecoder) valueMember(name []byte, bit uint16, dst *Value) error {
	if err := d.once(name, bit); err != nil {
		return err
	}
	d.s.Spaced = false
	text, err := d.span()
	if err == nil && d.s.Spaced {
		start := len(*d.scratch)
		*d.scratch = jsonlex.Compact(*d.scratch, text)
		text = (*d.scratch)[start:]
	}
	*dst = Value(text[:len(text):len(text)])
	return err
}

func (d *frameDecoder) uintMember(name []byte, bit uint16, dst *uint64) error {
	return numMember(d, name, bit, dst, parseUint, "a non-negative integer")
}

func (d *frameDecoder) intMember(name []byte, bit uint16, dst *int64) error {
	return numMember(d, name, bit, dst, parseInt, "an integer in the int64 range")
}

// numMember decodes an integer member. A value of another type is a
// problem of the request: it is recorded, and the member counts as absent
// (a reply must not claim a uuid it does not have).
func numMember[T int64 | uint64](d *frameDecoder, name []byte, bit uint16, dst *T, parse func([]byte) (T, bool), want string) error {
	if d.m.Has&bit != 0 {
		return d.s.fail("duplicate member %q", name)
	}
	text, err := d.span()
	if err == nil {
		d.s.WS()
		if c := d.s.Peek(); c != ',' && c != '}' {
			err = d.s.fail("want ',' or '}' after %s", name) // as in "uuid":01
		}
	}
	if err != nil {
		return err // the member stays absent: a reply names no uuid it could not read
	}
	n, ok := parse(text)
	if !ok {
		d.wrongType("%s must be %s, got %.40s", name, want, text)
		return nil
	}
	*dst, d.m.Has = n, d.m.Has|bit
	return nil
}

// uuidMember decodes "uuid": an integer from 0 to 2^64-1 goes to Seq (the
// request can be deduplicated); any other JSON scalar is kept as its text
// in UUID, to be echoed as it came. An object or an array is a wrong type,
// and the reply names no uuid.
func (d *frameDecoder) uuidMember() error {
	if d.m.Has&(HasSeq|HasUUID) != 0 {
		return d.s.fail("duplicate member \"uuid\"")
	}
	c := d.s.Peek()
	text, err := d.span()
	if err == nil {
		d.s.WS()
		if c := d.s.Peek(); c != ',' && c != '}' {
			err = d.s.fail("want ',' or '}' after uuid") // as in "uuid":01
		}
	}
	switch {
	case err != nil:
		return err // the member stays absent: a reply names no uuid it could not read
	case c == '{' || c == '[':
		d.wrongType("uuid must be a string, a number, true, false or null, got %.40s", text)
	default:
		if n, ok := parseUint(text); ok {
			d.m.Seq, d.m.Has = n, d.m.Has|HasSeq
			return nil
		}
		if len(text) > MaxUUIDBytes {
			if d.m.Err == nil { // the reply must stay short: it names no uuid
				d.m.Err = errorf(ErrBadRequest, "uuid of %d bytes, longer than %d", len(text), MaxUUIDBytes)
			}
			return nil
		}
		d.m.UUID, d.m.Has = Value(text[:len(text):len(text)]), d.m.Has|HasUUID
	}
	return nil
}

// fastUint parses a short run of digits followed by ',' or '}' in one pass.
func (s *scanner) fastUint() (uint64, bool) {
	b, i := s.B, s.I
	var n uint64
	for j := i; j < len(b) && j-i < 19; j++ {
		c := b[j]
		if c >= '0' && c <= '9' {
			n = n*10 + uint64(c-'0')
			continue
		}
		if (c == ',' || c == '}') && j > i && (b[i] != '0' || j == i+1) {
			s.I = j
			return n, true
		}
		return 0, false
	}
	return 0, false
}

// parseUint parses a JSON integer without sign, fraction or exponent.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt parses a JSON integer in the int64 range.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseUint(b)
	switch {
	case !ok:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

func (d *frameDecoder) classify(frame []byte) {
	m := d.m
	switch {
	case bytes.HasPrefix(d.cmd, []byte("NODE_")):
		m.Kind, m.Raw, m.Err = KindInternal, frame, nil
	case d.flag == 1 || (d.flagBad && d.method != nil):
		// isSharedMemoryMessage of the wrong type on a request is answered.
		if d.method != nil {
			m.Kind = KindRequest
			d.setMethod()
		} else {
			m.Kind = KindReply
			if m.Err == nil {
				m.Err = d.replyErr
			}
		}
	default:
		m.Kind, m.Raw, m.Err = KindOther, frame, nil
	}
}

func (d *frameDecoder) setMethod() {
	meth, ok := wireMethod(d.method)
	d.m.Method = meth
	if !ok && d.m.Err == nil {
		d.m.Err = errorf(ErrUnknownMethod, "unknown method %.40q (want get, set, delete, cas, add, len, keys, getLock, releaseLock, or plusOne or remove)", d.method)
	}
}

var keyName = []byte("key")
