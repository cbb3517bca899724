package shm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// compactMsg draws a request or reply with any members.
func compactMsg(t *rapid.T) Message {
	m := Message{Kind: KindReply}
	if rapid.Bool().Draw(t, "request") {
		m.Kind, m.Method = KindRequest, Method(rapid.IntRange(1, 7).Draw(t, "method"))
	}
	m.Has = uint16(rapid.IntRange(0, 0x1ff).Draw(t, "has"))
	m.Worker = rapid.Int64().Draw(t, "id")
	m.Inc, m.Seq, m.Ack = rapid.Uint64().Draw(t, "inc"), rapid.Uint64().Draw(t, "uuid"), rapid.Uint64().Draw(t, "ack")
	m.Key = []byte(rapid.String().Draw(t, "key"))
	m.TTL, m.Delta = rapid.Int64().Draw(t, "ttl"), rapid.Int64().Draw(t, "delta")
	vals := []Value{Value(`0`), Value(`""`), Value(`null`), Value(`123456789012345678901234567890`), Value(`{"a":[1,"\u00e9"]}`)}
	m.Value = rapid.SampledFrom(vals).Draw(t, "value")
	m.Old = rapid.SampledFrom(vals).Draw(t, "old")
	if m.Kind == KindReply && rapid.Bool().Draw(t, "error") {
		m.Err = &Error{Code: rapid.String().Draw(t, "code"), Message: rapid.String().Draw(t, "msg"), Definite: rapid.Bool().Draw(t, "definite")}
	}
	return m
}

// present keeps only the members m says it has, as a decoder reports them.
func present(m Message) Message {
	keep := Message{Kind: m.Kind, Method: m.Method, Has: m.Has, Err: m.Err}
	if m.Has&HasWorker != 0 {
		keep.Worker = m.Worker
	}
	if m.Has&HasInc != 0 {
		keep.Inc = m.Inc
	}
	if m.Has&HasSeq != 0 {
		keep.Seq = m.Seq
	}
	if m.Has&HasAck != 0 {
		keep.Ack = m.Ack
	}
	if m.Has&HasKey != 0 {
		keep.Key = m.Key
	}
	if m.Has&HasValue != 0 {
		keep.Value = m.Value
	}
	if m.Has&HasOld != 0 {
		keep.Old = m.Old
	}
	if m.Has&HasTTL != 0 {
		keep.TTL = m.TTL
	}
	if m.Has&HasDelta != 0 {
		keep.Delta = m.Delta
	}
	return keep
}

var msgCmp = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b *Error) bool {
	return (a == nil) == (b == nil) && (a == nil || (a.Code == b.Code && a.Message == b.Message && a.Definite == b.Definite))
})}

func TestCompactRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := compactMsg(t)
		frame := AppendCompact(nil, &m)
		if n := binary.LittleEndian.Uint32(frame); int(n) != len(frame)-4 {
			t.Fatalf("length header %d, payload %d", n, len(frame)-4)
		}
		var got Message
		var scratch []byte
		DecodeCompact(frame[4:], &got, &scratch)
		want := present(m)
		if m.Kind == KindRequest {
			want.Err = nil // requests never carry an error
		}
		if diff := cmp.Diff(want, got, msgCmp); diff != "" {
			t.Fatalf("compact round trip mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestCompactRejects(t *testing.T) {
	valid := Message{Kind: KindRequest, Method: MethodSet, Seq: 7, Key: []byte("k"), Value: Value(`1`), Has: HasSeq | HasKey | HasValue}
	good := AppendCompact(nil, &valid)[4:]
	tests := []struct {
		name    string
		payload []byte
		code    string
	}{
		{"empty", nil, CodeBadRequest},
		{"short", []byte{1, 2}, CodeBadRequest},
		{"bad kind", append([]byte{9}, good[1:]...), CodeBadRequest},
		{"unknown method", append([]byte{1, 42}, good[2:]...), CodeUnknownMethod},
		{"method none", append([]byte{1, 0}, good[2:]...), CodeUnknownMethod},
		{"truncated", good[:len(good)-1], CodeBadRequest},
		{"trailing", append(append([]byte{}, good...), 0), CodeBadRequest},
		{"length past end", append(append([]byte{}, good[:len(good)-3]...), 0x7f), CodeBadRequest},
		{"invalid JSON value", replaceTail(good, `{`), CodeBadRequest},
		{"invalid UTF-8 in value", replaceTail(good, "\"\xff\""), CodeBadRequest},
		{"varint overflow", append([]byte{1, 2, 1, 0}, bytes.Repeat([]byte{0xff}, 11)...), CodeBadRequest},
	}
	for _, tt := range tests {
		var m Message
		var scratch []byte
		DecodeCompact(tt.payload, &m, &scratch)
		if m.Kind != KindInvalid || m.Err == nil || m.Err.Code != tt.code || !m.Err.Definite || m.Err.Message == "" {
			t.Errorf("%s: DecodeCompact(%x) = kind %d, err %v; want KindInvalid with a definite %s and a message", tt.name, tt.payload, m.Kind, m.Err, tt.code)
		}
	}
}

// replaceTail swaps the last value (length 1) of a payload for v.
func replaceTail(payload []byte, v string) []byte {
	out := append([]byte{}, payload[:len(payload)-2]...)
	out = binary.AppendUvarint(out, uint64(len(v)))
	return append(out, v...)
}

func TestCompactValueCompacted(t *testing.T) {
	m := Message{Kind: KindRequest, Method: MethodSet, Seq: 1, Key: []byte("k"), Value: Value(" { \"a\" : [ 1 , 2 ] } "), Has: HasSeq | HasKey | HasValue}
	frame := AppendCompact(nil, &m)
	var got Message
	var scratch []byte
	DecodeCompact(frame[4:], &got, &scratch)
	if diff := cmp.Diff(`{"a":[1,2]}`, string(got.Value)); diff != "" || got.Err != nil {
		t.Errorf("value mismatch (-want +got):\n%s (err %v)", diff, got.Err)
	}
}

// TestCompactNegotiation runs a client and a master over a pipe, the client
// announcing the compact codec, and checks the bytes really are compact
// after the hello and that replies are correct.
func TestCompactNegotiation(t *testing.T) {
	masterEnd, workerEnd := net.Pipe()
	var wire bytes.Buffer
	tap := &tapConn{Conn: masterEnd, w: &wire}
	m := NewMaster(MasterOptions{})
	go m.Serve(NewStreamConn(tap, StreamOptions{AcceptCompact: true}), Identity{Worker: 1, Inc: 1})
	c := NewClient(NewStreamConn(workerEnd, StreamOptions{Compact: true}), ClientOptions{})
	defer c.Close()
	ctx := t.Context()
	if err := c.Set(ctx, "k", Value(`[1,2,3]`)); err != nil {
		t.Fatal(err)
	}
	v, found, err := c.Get(ctx, "k")
	if err != nil || !found || string(v) != `[1,2,3]` {
		t.Fatalf("Get = %s, %v, %v; want [1,2,3]", v, found, err)
	}
	got := wire.Bytes()
	if !bytes.HasPrefix(got, append(append([]byte{}, compactHello...), '\n')) {
		t.Fatalf("wire does not start with the hello line: %q", got)
	}
	rest := got[len(compactHello)+1:]
	if bytes.Contains(rest, []byte("isSharedMemoryMessage")) {
		t.Errorf("JSON after the hello: %q", rest)
	}
	if n := binary.LittleEndian.Uint32(rest); int(n) > len(rest)-4 {
		t.Errorf("first compact frame claims %d bytes, %d follow", n, len(rest)-4)
	}
}

// tapConn copies what it reads into w.
type tapConn struct {
	net.Conn
	w io.Writer
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.Write(p[:n])
	return n, err
}

// TestCompactHelloOnlyFirst: the hello switches the codec only as the first
// line, and only where the master accepts it.
func TestCompactHelloOnlyFirst(t *testing.T) {
	hello := append(append([]byte{}, compactHello...), '\n')
	req := []byte(`{"isSharedMemoryMessage":true,"method":"len","uuid":1}` + "\n")
	for _, tt := range []struct {
		name   string
		input  []byte
		accept bool
		kinds  []Kind
	}{
		{"not accepted", hello, false, []Kind{KindOther}},
		{"second line", append(append([]byte{}, req...), hello...), true, []Kind{KindRequest, KindOther}},
	} {
		c := NewStreamConn(struct {
			io.Reader
			io.Writer
			io.Closer
		}{bytes.NewReader(tt.input), io.Discard, io.NopCloser(nil)}, StreamOptions{AcceptCompact: tt.accept})
		var kinds []Kind
		ms := make([]Message, 4)
		for {
			n, err := c.Recv(ms)
			for _, m := range ms[:n] {
				kinds = append(kinds, m.Kind)
			}
			if err != nil {
				break
			}
		}
		if diff := cmp.Diff(tt.kinds, kinds); diff != "" {
			t.Errorf("%s: kinds mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// serveCompact feeds hello + input to a master that accepts the compact
// codec and returns what it wrote and how serving ended.
func serveCompact(r io.Reader) ([]byte, error) {
	var out bytes.Buffer
	hello := bytes.NewReader(append(append([]byte{}, compactHello...), '\n'))
	rwc := struct {
		io.Reader
		io.Writer
		io.Closer
	}{io.MultiReader(hello, r), &out, io.NopCloser(nil)}
	err := NewMaster(MasterOptions{}).Serve(NewStreamConn(rwc, StreamOptions{AcceptCompact: true, MaxFrame: 1 << 20}), Identity{Worker: 1, Inc: 1})
	return out.Bytes(), err
}

// FuzzCompactMaster feeds arbitrary compact streams to a master: it must
// never panic, and every reply it writes must be a well-formed compact
// frame whose values are valid JSON, whole or read a byte at a time.
func FuzzCompactMaster(f *testing.F) {
	for _, m := range []Message{
		{Kind: KindRequest, Method: MethodSet, Seq: 1, Key: []byte("a"), Value: Value(`{"x":1}`), Has: HasSeq | HasKey | HasValue},
		{Kind: KindRequest, Method: MethodAdd, Seq: 2, Key: []byte("n"), Delta: -3, Has: HasSeq | HasKey | HasDelta},
		{Kind: KindRequest, Method: MethodCAS, Seq: 3, Key: []byte("a"), Old: Value(`{"x":1}`), Value: Null, Has: HasSeq | HasKey | HasValue | HasOld},
		{Kind: KindRequest, Method: MethodKeys, Seq: 4, Has: HasSeq},
		{Kind: KindReply, Seq: 5, Value: True, Has: HasSeq | HasValue},
	} {
		f.Add(AppendCompact(nil, &m))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{4, 0, 0, 0, 1, 1, 1, 0})
	f.Fuzz(func(t *testing.T, input []byte) {
		out, _ := serveCompact(bytes.NewReader(input))
		checkCompactReplies(t, out)
		out1, _ := serveCompact(iotest.OneByteReader(bytes.NewReader(input)))
		if !bytes.Equal(out, out1) {
			t.Fatalf("replies differ when read a byte at a time:\n%x\n%x", out, out1)
		}
	})
}

func checkCompactReplies(t *testing.T, out []byte) {
	for len(out) > 0 {
		if len(out) < 4 {
			t.Fatalf("torn reply header %x", out)
		}
		n := int(binary.LittleEndian.Uint32(out))
		if n > len(out)-4 {
			t.Fatalf("reply claims %d bytes, %d follow", n, len(out)-4)
		}
		var m Message
		var scratch []byte
		DecodeCompact(out[4:4+n], &m, &scratch)
		if m.Kind != KindReply {
			t.Fatalf("master wrote kind %d (%v): %x", m.Kind, m.Err, out[4:4+n])
		}
		if m.Has&HasValue != 0 && !json.Valid(m.Value) {
			t.Fatalf("master wrote invalid JSON value %q", m.Value)
		}
		if m.Err != nil && (m.Err.Code == "" || m.Err.Message == "") {
			t.Fatalf("error reply without code or message: %+v", m.Err)
		}
		out = out[4+n:]
	}
}
