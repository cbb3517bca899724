package shm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/internal/race"
)

// oneBuffer is a connection whose reads return everything the test
// wrote at once, as many frames as the reader's buffer takes: the case
// where a whole oversized frame arrives in one read.
type oneBuffer struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func (o *oneBuffer) Read(p []byte) (int, error)  { return o.r.Read(p) }
func (o *oneBuffer) Write(p []byte) (int, error) { return o.out.Write(p) }
func (o *oneBuffer) Close() error                { return nil }

// framed returns the frame of a set of key to a string value, sized so
// that the frame (a JSON line without its newline, or a compact payload)
// is exactly size bytes.
func framed(t *testing.T, compact bool, seq uint64, key string, size int) (frame []byte, value Value) {
	t.Helper()
	enc := func(n int) []byte {
		value = String(strings.Repeat("v", n))
		m := Message{Kind: KindRequest, Method: MethodSet, Seq: seq, Key: []byte(key), Value: value, Has: HasSeq | HasKey | HasValue}
		if compact {
			return AppendCompact(nil, &m)
		}
		return AppendFrame(nil, &m)
	}
	n := size
	for range 4 {
		f := enc(n)
		got := len(f) - 1 // the newline
		if compact {
			got = len(f) - compactHeader
		}
		if got == size {
			return f, value
		}
		n += size - got
	}
	t.Fatalf("cannot size a frame to %d bytes", size)
	return nil, nil
}

// TestNoRaceFrameLimitIsExact: a frame of up to MaxFrame bytes is served and
// one byte more ends the connection, whether the frame arrives in one
// read with its neighbours or in pieces over a socket, for both codecs.
// Nothing after the oversized frame is applied.
func TestNoRaceFrameLimitIsExact(t *testing.T) {
	race.Skip(t)
	t.Parallel() // long and alone: it overlaps the other parallel tests
	for _, compact := range []bool{false, true} {
		for _, delta := range []int{-1, 0, 1, 64 << 10} {
			for _, via := range []string{"one buffer", "socket"} {
				name := fmt.Sprintf("compact=%v/limit%+d/%s", compact, delta, via)
				t.Run(name, func(t *testing.T) { checkFrameLimit(t, compact, delta, via) })
			}
		}
	}
}

func checkFrameLimit(t *testing.T, compact bool, delta int, via string) {
	var in []byte
	if compact {
		in = append(append(in, compactHello...), '\n')
	}
	before, _ := framed(t, compact, 1, "before", 100)
	big, bigValue := framed(t, compact, 2, "big", DefaultMaxFrame+delta)
	after, _ := framed(t, compact, 3, "after", 100)
	in = append(append(append(in, before...), big...), after...)

	m := NewMaster(MasterOptions{})
	defer m.Close()
	var err error
	opts := StreamOptions{AcceptCompact: true}
	if via == "one buffer" {
		err = m.Serve(NewStreamConn(&oneBuffer{r: bytes.NewReader(in)}, opts), Identity{Worker: 1, Inc: 1})
	} else {
		a, b := socketPair(t)
		go func() {
			b.Write(in)
			b.(interface{ CloseWrite() error }).CloseWrite()
			io.Copy(io.Discard, b)
		}()
		err = m.Serve(NewStreamConn(a, opts), Identity{Worker: 1, Inc: 1})
	}
	over := delta > 0
	if over != errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Serve = %v; frame of limit%+d bytes, want ErrFrameTooLarge: %v", err, delta, over)
	}
	if !over && err != nil {
		t.Fatalf("Serve = %v, want nil at the end of the stream", err)
	}
	if _, ok := m.Get("before"); !ok {
		t.Error("the frame before the big one was not applied")
	}
	// A frame within the limit is answered; its value is stored if a reply
	// can carry it back (a compact set frame at the limit holds a value
	// too long for the longest JSON reply: it is refused too_large).
	wantStored := !over && len(bigValue) <= MaxValueBytes(0)
	v, ok := m.Get("big")
	if ok != wantStored {
		t.Errorf("big value of %d bytes stored: %v, want %v", len(bigValue), ok, wantStored)
	}
	if ok && !v.Equal(bigValue) {
		t.Errorf("big value of %d bytes read back as %d bytes", len(bigValue), len(v))
	}
	if _, ok := m.Get("after"); ok == over {
		t.Errorf("the frame after the big one applied: %v, want %v", ok, !over)
	}
}

// TestValueAtTheLimitReadsBack: a value that arrived in a JSON set frame
// within the limit fits in the reply to a get of it.
func TestValueAtTheLimitReadsBack(t *testing.T) {
	_, value := framed(t, false, 1<<62, "k", DefaultMaxFrame)
	m, c := pairClient(t, ClientOptions{})
	if err := m.Set("k", value); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Get(t.Context(), "k")
	if err != nil || !got.Equal(value) {
		t.Fatalf("Get of a %d-byte value: %d bytes, %v", len(value), len(got), err)
	}
}
