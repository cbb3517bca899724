package shm

import (
	"bytes"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCodecMatchesConn: a frame decoded in memory (Codec.Decode) is the
// message a stream connection of that codec reads from the same bytes,
// and Codec.Append writes the bytes the connection sends.
func TestCodecMatchesConn(t *testing.T) {
	msgs := []Message{
		{Kind: KindRequest, Method: MethodCAS, Worker: 3, Inc: 9, Seq: 41, Ack: 40, Key: []byte("k\n\u00e9"), Old: Value(`"a"`), Value: Value(`{"b":[1,2.5e3]}`), TTL: 5,
			Has: HasWorker | HasInc | HasSeq | HasAck | HasKey | HasOld | HasValue | HasTTL},
		{Kind: KindRequest, Method: MethodAdd, Seq: 1, Key: []byte(""), Delta: -7, Has: HasSeq | HasKey | HasDelta},
		{Kind: KindReply, Seq: 41, Value: Value(`true`), Has: HasSeq | HasValue},
		{Kind: KindReply, Seq: 2, Err: &Error{Code: CodeBadRequest, Message: "no \"key\"", Definite: true}, Has: HasSeq},
	}
	for _, c := range []Codec{CodecJSON, CodecCompact} {
		t.Run(c.String(), func(t *testing.T) {
			var frames []byte
			for i := range msgs {
				frames = c.Append(frames, &msgs[i])
			}
			var sent bytes.Buffer
			conn := NewStreamConn(nopCloser{&sent}, StreamOptions{Compact: c == CodecCompact})
			if err := conn.Send(msgs); err != nil {
				t.Fatal(err)
			}
			if c == CodecCompact {
				sent.Next(len(CompactHello) + 1)
			}
			if d := cmp.Diff(frames, sent.Bytes()); d != "" {
				t.Fatalf("Append and Send differ: mismatch (-want +got):\n%s", d)
			}
			in := NewStreamConn(nopCloser{bytes.NewReader(frames)}, StreamOptions{})
			in.(*streamConn).rd.compact = c == CodecCompact
			want := make([]Message, len(msgs))
			if n, err := in.Recv(want); n != len(msgs) || err != nil {
				t.Fatalf("Recv: %d, %v", n, err)
			}
			rest := frames
			for i := range msgs {
				size := frameSize(t, c, rest)
				var got Message
				var scratch []byte
				c.Decode(rest[:size], &got, &scratch)
				rest = rest[size:]
				if d := cmp.Diff(want[i], got, msgCmp); d != "" {
					t.Errorf("frame %d: mismatch (-want +got):\n%s", i, d)
				}
			}
		})
	}
}

// frameSize is the size of the first frame in b.
func frameSize(t *testing.T, c Codec, b []byte) int {
	t.Helper()
	if c == CodecCompact {
		return compactHeader + int(b[0]) | int(b[1])<<8
	}
	return bytes.IndexByte(b, '\n') + 1
}

// TestCodecDecodeBadLength: a compact frame whose length does not match
// its bytes is refused, not read past.
func TestCodecDecodeBadLength(t *testing.T) {
	frame := CodecCompact.Append(nil, &Message{Kind: KindReply, Seq: 1, Has: HasSeq})
	var m Message
	var scratch []byte
	CodecCompact.Decode(frame[:len(frame)-1], &m, &scratch)
	if m.Kind != KindInvalid || m.Err == nil {
		t.Errorf("a short frame decoded as %+v", m)
	}
}

type nopCloser struct{ rw any }

func (n nopCloser) Read(p []byte) (int, error) {
	if r, ok := n.rw.(io.Reader); ok {
		return r.Read(p)
	}
	return 0, io.EOF
}

func (n nopCloser) Write(p []byte) (int, error) { return n.rw.(io.Writer).Write(p) }
func (n nopCloser) Close() error                { return nil }
