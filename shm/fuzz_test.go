package shm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shmlab/shmlab/shm"
)

// fuzzSeeds are frames worth starting from, shared by the fuzz targets.
var fuzzSeeds = []string{
	sm + `"method":"get","id":1,"uuid":1,"key":"a"}`,
	sm + `"method":"set","id":1,"inc":2,"uuid":2,"ack":1,"key":"a","value":{"b":[1,2.5e3,"c"]},"ttl":1000}`,
	sm + `"method":"delete","uuid":3,"key":"__proto__"}`,
	sm + `"method":"cas","uuid":4,"key":"","old":null,"value":false}`,
	sm + `"method":"cas","uuid":5,"key":"0","value":""}`,
	sm + `"method":"add","uuid":6,"key":"n","delta":-9223372036854775808}`,
	sm + `"method":"len","uuid":7}`,
	sm + `"method":"keys","uuid":8}`,
	sm + `"uuid":9,"value":"OK"}`,
	sm + `"uuid":10,"error":{"code":"overflow","message":"m","definite":true}}`,
	`{"cmd":"NODE_CLUSTER","act":"online","seq":0}`,
	`{"cmd":"NODE_CLUSTER","act":"queryServer","index":0,"data":null,"port":0,"seq":1}`,
	`{"hello":"world"}`,
	sm + `"method":"plusOne","id":1,"uuid":"1796645489267-1","key":"hits","value":null}`,
	sm + `"method":"set","id":1,"uuid":"1796645489267-2","value":{"a":1,"b":"\u0041"}}`,
	sm + `"method":"set","id":1,"uuid":-1.5e3,"key":"gone"}`,
	sm + `"uuid":"r","value":"OK"}`,
	sm + `"method":"remove","uuid":"9b2e1c4a-7f0d-4c1e-8a55-0c1d2e3f4a5b","key":"k","value":null}`,
	"null",
	"[]",
	"",
	strings.Repeat("[", 300) + strings.Repeat("]", 300),
	sm + `"method":"set","uuid":11,"key":"k","value":` + strings.Repeat(`{"a":`, 257) + "1" + strings.Repeat("}", 257) + `}`,
	sm + "\"method\":\"set\",\"uuid\":12,\"key\":\"\xff\",\"value\":\"\xc3\"}",
	sm + `"method":"set","uuid":13,"key":"big","value":123456789012345678901234567890}`,
	sm + `"method":"get","uuid":18446744073709551616,"key":"\ud83d\ude00\u0041"}`,
	sm + `"method":"get","uuid":"x","key":5,"ttl":-1}`,
	sm + `"method":"put","uuid":14,"key":"\ud800"}`,
	` { "isSharedMemoryMessage" : true , "method" : "set" , "uuid" : 15 , "key" : "k" , "value" : [ 1 , { "x" : null } ] } `,
	sm + `"method":"get","uuid":16,"key":"a","key":"b"}`,
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var m shm.Message
		var scratch []byte
		shm.DecodeFrame(frame, &m, &scratch)
		checkDecoded(t, frame, &m)
		if (m.Kind == shm.KindRequest && m.Err == nil) || m.Kind == shm.KindReply {
			checkReencode(t, frame, &m)
		}
	})
}

// checkDecoded checks what holds for any decoded frame.
func checkDecoded(t *testing.T, frame []byte, m *shm.Message) {
	t.Helper()
	switch m.Kind {
	case shm.KindInvalid:
		if m.Err == nil || m.Err.Code != shm.CodeBadRequest || !m.Err.Definite || m.Err.Message == "" {
			t.Fatalf("DecodeFrame(%q): KindInvalid with error %+v, want a definite bad_request with a message", frame, m.Err)
		}
		return
	case shm.KindInternal, shm.KindOther:
		if !bytes.Equal(m.Raw, frame) || m.Err != nil {
			t.Fatalf("DecodeFrame(%q): kind %d with Raw %q, Err %v; want Raw the frame and no error", frame, m.Kind, m.Raw, m.Err)
		}
	case shm.KindRequest, shm.KindReply:
	default:
		t.Fatalf("DecodeFrame(%q): kind %d", frame, m.Kind)
	}
	// The decoder is stricter than encoding/json: what it takes is JSON.
	if !json.Valid(frame) || bytes.TrimLeft(frame, " \t\r\n")[0] != '{' {
		t.Fatalf("DecodeFrame(%q) = kind %d, but the frame is not a JSON object", frame, m.Kind)
	}
	for _, v := range []shm.Value{m.Value, m.Old} {
		if v != nil && !isCompactJSON(v) {
			t.Fatalf("DecodeFrame(%q): value %q is not compact JSON", frame, v)
		}
	}
	if m.Kind == shm.KindRequest && m.Err == nil && !utf8.Valid(m.Key) {
		t.Fatalf("DecodeFrame(%q): key %q is not UTF-8", frame, m.Key)
	}
}

func isCompactJSON(v []byte) bool {
	var b bytes.Buffer
	return json.Valid(v) && json.Compact(&b, v) == nil && bytes.Equal(b.Bytes(), v)
}

// checkReencode checks that a decoded request or reply survives AppendFrame
// and DecodeFrame with the members that AppendFrame writes.
func checkReencode(t *testing.T, frame []byte, m *shm.Message) {
	t.Helper()
	want := *m
	want.Raw = nil
	switch {
	case want.Kind == shm.KindReply && want.Err != nil:
		want.Has &= shm.HasSeq | shm.HasUUID
		want.Value = nil
	case want.Kind == shm.KindReply:
		want.Has &= shm.HasSeq | shm.HasUUID | shm.HasValue
	}
	if want.Kind == shm.KindReply {
		want.Worker, want.Inc, want.Ack, want.Key, want.Old, want.TTL, want.Delta = 0, 0, 0, nil, nil, 0, 0
		if want.Has&shm.HasValue == 0 {
			want.Value = nil
		}
	}
	out := shm.AppendFrame(nil, m)
	if !bytes.HasSuffix(out, []byte("\n")) || !json.Valid(out[:len(out)-1]) {
		t.Fatalf("AppendFrame of DecodeFrame(%q) wrote %q, not a JSON line", frame, out)
	}
	var got shm.Message
	var scratch []byte
	shm.DecodeFrame(out[:len(out)-1], &got, &scratch)
	opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(shm.Error{})}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Fatalf("DecodeFrame(%q) then AppendFrame (%s) mismatch (-want +got):\n%s", frame, out, diff)
	}
}

// valueSeeds are JSON texts (and near misses) for FuzzParseValue.
var valueSeeds = []string{
	"0", "-0", "123456789012345678901234567890", "1.5e-300", "-1E+2", `""`, `"\u0041\ud800"`,
	"true", "false", "null", " [ 1 , { \"a\" : [ ] } ] ", `{"$binary":"AAEC"}`,
	"\"\xff\"", "\"\xed\xa0\x80\"", "01", "1.", "[1,]", "nul", "\"a\x01\"",
	strings.Repeat("[", 256) + strings.Repeat("]", 256), strings.Repeat("[", 257) + strings.Repeat("]", 257),
	`{"a":1,"a":2}`, `[{"b":{"c":1,"c":1}}]`, `{"a":1,"\u0061":2}`, `{"\ud800":1,"\udbff":2}`, `{"a":{"a":1}}`,
}

// dupMember reports whether an object in valid JSON text has two members
// of one name, as encoding/json decodes the names (it is not the
// decoder under test). surrogate reports a lone surrogate escape in the
// text, which encoding/json decodes to U+FFFD, so that two different
// names may look alike to it: dup then says nothing.
func dupMember(text []byte) (dup, surrogate bool) {
	if loneSurrogate.Match(text) {
		return false, true
	}
	type level struct {
		names   map[string]bool // nil for an array
		wantKey bool
	}
	var stack []*level
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].names != nil {
			stack[n-1].wantKey = true
		}
	}
	d := json.NewDecoder(bytes.NewReader(text))
	for {
		tok, err := d.Token()
		if err != nil {
			return false, false
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			if name, ok := tok.(string); ok {
				if stack[n-1].names[name] {
					return true, false
				}
				stack[n-1].names[name], stack[n-1].wantKey = true, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{names: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &level{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// loneSurrogate finds an escape of a UTF-16 surrogate (paired or not:
// the oracle stands aside for both).
var loneSurrogate = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)

// jsonDepth is the nesting depth of valid JSON text.
func jsonDepth(b []byte) int {
	depth, most, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
			most = max(most, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return most
}

// stripWS removes the white space outside strings from valid JSON text.
func stripWS(b []byte) []byte {
	out, inStr := []byte{}, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr && c == '\\':
			out = append(out, c, b[i+1])
			i++
			continue
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		out = append(out, c)
	}
	return out
}

// FuzzParseValue checks ParseValue against encoding/json.Valid. It accepts
// exactly what json.Valid accepts, with three documented differences: it
// refuses invalid UTF-8 (json.Valid does not look at the bytes inside
// strings; encoding/json would turn them into U+FFFD, changing the value),
// it refuses nesting deeper than 256 (json.Valid allows 10000), and it
// refuses an object with two members of one name (names with surrogate
// escapes are left out of this comparison, see dupMember). Lone
// UTF-16 surrogate escapes such as "\ud800" are accepted by both: a value
// is kept as JSON text, never decoded.
func FuzzParseValue(f *testing.F) {
	for _, s := range valueSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		in := bytes.Clone(text)
		v, err := shm.ParseValue(text)
		if !bytes.Equal(in, text) {
			t.Fatalf("ParseValue changed its input %q to %q", in, text)
		}
		valid := json.Valid(text)
		want := valid && utf8.Valid(text) && jsonDepth(text) <= 256
		dup, unsure := false, false
		if want {
			dup, unsure = dupMember(text)
			want = !dup
		}
		if unsure && err != nil && strings.Contains(err.Error(), "duplicate member") {
			want = false
		}
		if (err == nil) != want {
			t.Fatalf("ParseValue(%q) error = %v; json.Valid = %v, UTF-8 %v, depth %d", text, err, valid, utf8.Valid(text), jsonDepth(text))
		}
		if err != nil {
			var e *shm.Error
			if !errors.As(err, &e) || e.Code != shm.CodeBadRequest || !e.Definite {
				t.Fatalf("ParseValue(%q) error %v, want a definite bad_request", text, err)
			}
			return
		}
		if want := stripWS(text); !bytes.Equal(v, want) || !json.Valid(v) {
			t.Fatalf("ParseValue(%q) = %q, want %q", text, v, want)
		}
	})
}

// memRWC is an in-memory stream: it reads the input and records the output.
type memRWC struct {
	io.Reader
	out bytes.Buffer
}

func (c *memRWC) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *memRWC) Close() error                { return nil }

// serveBytes runs a fresh master on input read through r and returns what
// it wrote and why it stopped.
func serveBytes(r io.Reader) ([]byte, error) {
	m := shm.NewMaster(shm.MasterOptions{Batch: 4, ReplyBytes: 64})
	defer m.Close()
	rwc := &memRWC{Reader: r}
	err := m.Serve(shm.NewStreamConn(rwc, shm.StreamOptions{}), shm.Identity{Worker: 1, Inc: 1})
	return rwc.out.Bytes(), err
}

// expectedReplies says, for the complete lines of input, the uuid each
// reply names ("none" for none), in order.
func expectedReplies(input []byte) []string {
	lines := bytes.Split(input, []byte("\n"))
	var want []string
	for _, line := range lines[:len(lines)-1] {
		var m shm.Message
		var scratch []byte
		shm.DecodeFrame(line, &m, &scratch)
		if m.Kind == shm.KindInternal && nodeClusterWaits(line) {
			want = append(want, "node cluster ack")
		}
		if m.Kind == shm.KindInternal || m.Kind == shm.KindOther {
			continue
		}
		want = append(want, replyUUID(&m))
	}
	return want
}

func replyUUID(m *shm.Message) string {
	switch {
	case m.Has&shm.HasUUID != 0:
		return string(m.UUID)
	case m.Has&shm.HasSeq == 0:
		return "none"
	}
	return strconv.FormatUint(m.Seq, 10)
}

// nodeClusterAck reports whether a line the master wrote is its answer
// to a Node cluster message.
func nodeClusterAck(line []byte) bool {
	var a struct {
		Cmd string
		Ack json.RawMessage
	}
	return json.Unmarshal(line, &a) == nil && a.Cmd == "NODE_CLUSTER" && len(a.Ack) > 0
}

// nodeClusterWaits reports whether a Node-internal line is one of the two
// cluster messages whose sender waits for the master's answer.
func nodeClusterWaits(line []byte) bool {
	var q struct {
		Cmd, Act string
		Seq      json.RawMessage
	}
	return json.Unmarshal(line, &q) == nil && q.Cmd == "NODE_CLUSTER" && len(q.Seq) > 0 &&
		(q.Act == "queryServer" || q.Act == "exitedAfterDisconnect")
}

// checkReplies checks that out is JSON lines of replies and returns the
// uuids they name.
func checkReplies(t *testing.T, input, out []byte) []string {
	t.Helper()
	var got []string
	for len(out) > 0 {
		i := bytes.IndexByte(out, '\n')
		if i < 0 {
			t.Fatalf("master output for %q ends without a newline: %q", input, out)
		}
		line := out[:i]
		out = out[i+1:]
		if !json.Valid(line) {
			t.Fatalf("master wrote invalid JSON for %q: %q", input, line)
		}
		var m shm.Message
		var scratch []byte
		shm.DecodeFrame(line, &m, &scratch)
		if m.Kind == shm.KindInternal && nodeClusterAck(line) {
			got = append(got, "node cluster ack")
			continue
		}
		if m.Kind != shm.KindReply || (m.Err != nil && m.Err.Code == "") {
			t.Fatalf("master wrote %q for %q: kind %d, err %+v; want a reply", line, input, m.Kind, m.Err)
		}
		got = append(got, replyUUID(&m))
	}
	return got
}

// FuzzMasterHandle feeds arbitrary bytes to a master over a stream
// connection: it must not panic, must answer every request, broken frame
// and stray reply with one valid JSON line naming the same uuid, in order,
// and must end the connection only for a torn last frame.
func FuzzMasterHandle(f *testing.F) {
	f.Add([]byte(strings.Join(fuzzSeeds, "\n") + "\n"))
	for _, s := range fuzzSeeds {
		f.Add([]byte(s + "\n"))
	}
	f.Add([]byte(sm + `"method":"add","uuid":1,"key":"n"}` + "\n" + sm + `"method":"add","uuid":1,"key":"n"}` + "\n"))
	f.Add([]byte(sm + `"method":"get","uuid":1,"key":"a"}` + "\n" + `{"isShared`))
	f.Add([]byte("\n\n\r\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		out, err := serveBytes(bytes.NewReader(input))
		got := checkReplies(t, input, out)
		if diff := cmp.Diff(expectedReplies(input), got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("replies to %q name uuids mismatch (-want +got):\n%s", input, diff)
		}
		torn := len(input) > 0 && input[len(input)-1] != '\n'
		if torn != (err != nil) {
			t.Fatalf("Serve(%q) = %v; torn last frame %v", input, err, torn)
		}
		out1, _ := serveBytes(iotest.OneByteReader(bytes.NewReader(input)))
		if diff := cmp.Diff(got, checkReplies(t, input, out1), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("replies to %q read a byte at a time mismatch (-whole +bytewise):\n%s", input, diff)
		}
	})
}
