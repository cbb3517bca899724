package bench

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/shmlab/shmlab/shm"
	"pgregory.net/rapid"
)

const hello = `{"cmd":"SHMLAB_CODEC","codec":"compact"}` + "\n"

// framing is one way of cutting a stream into frames.
type framing struct {
	name    string
	compact bool
	skip    bool
}

var framings = []framing{
	{"json", false, false},
	{"json-hello", false, true},
	{"compact", true, false},
	{"compact-hello", true, true},
}

// stream is a byte stream and where each of its frames ends.
type stream struct {
	b    []byte
	ends []int
}

// add appends one frame; its end is where the counter must count it.
func (s *stream) add(frame []byte) {
	s.b = append(s.b, frame...)
	s.ends = append(s.ends, len(s.b))
}

// complete returns how many frames end at or before offset i.
func (s *stream) complete(i int) int {
	n := 0
	for _, e := range s.ends {
		if e <= i {
			n++
		}
	}
	return n
}

// encodedStream builds n frames with the shm encoders: requests and
// replies of growing values, so that lengths, varints and values contain
// the byte '\n' as well.
func encodedStream(f framing, n int) *stream {
	s := &stream{}
	if f.skip {
		s.b = append(s.b, hello...)
	}
	enc := shm.AppendFrame
	if f.compact {
		enc = shm.AppendCompact
	}
	for i := range n {
		m := shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Worker: int64(i), Seq: uint64(i) + 10,
			Key: []byte(fmt.Sprintf("k\n%d", i)), Value: makeValue(2 + 4*i), Has: shm.HasWorker | shm.HasSeq | shm.HasKey | shm.HasValue}
		if i%2 == 1 {
			m = shm.Message{Kind: shm.KindReply, Seq: uint64(i) + 10, Value: makeValue(i), Has: shm.HasSeq | shm.HasValue}
		}
		s.add(enc(nil, &m))
	}
	return s
}

func TestFrameCounterEncodedStreams(t *testing.T) {
	const n = 12
	for _, f := range framings {
		t.Run(f.name, func(t *testing.T) {
			s := encodedStream(f, n)
			if len(s.ends) != n {
				t.Fatalf("built %d frames, want %d", len(s.ends), n)
			}
			fc := frameCounter{compact: f.compact, skip: f.skip}
			if got := fc.feed(s.b); got != n {
				t.Fatalf("whole stream of %d bytes: counted %d frames, want %d", len(s.b), got, n)
			}
			checkEverySplit(t, f, s)
			checkByteByByte(t, f, s)
		})
	}
}

// checkEverySplit feeds the stream in two chunks, cut at every offset: the
// first chunk must count exactly the frames it completes.
func checkEverySplit(t *testing.T, f framing, s *stream) {
	t.Helper()
	for i := 0; i <= len(s.b); i++ {
		fc := frameCounter{compact: f.compact, skip: f.skip}
		first := fc.feed(s.b[:i])
		second := fc.feed(s.b[i:])
		if want := s.complete(i); first != want || first+second != len(s.ends) {
			t.Fatalf("split at %d of %d: counted %d then %d, want %d then %d", i, len(s.b), first, second, want, len(s.ends)-want)
		}
	}
}

func checkByteByByte(t *testing.T, f framing, s *stream) {
	t.Helper()
	fc := frameCounter{compact: f.compact, skip: f.skip}
	total := 0
	for i := range s.b {
		total += fc.feed(s.b[i : i+1])
		if want := s.complete(i + 1); total != want {
			t.Fatalf("byte by byte: %d frames after %d bytes, want %d", total, i+1, want)
		}
	}
}

// TestFrameCounterEveryTwoSplits cuts a short stream into three chunks at
// every pair of offsets, so that headers split in three are covered.
func TestFrameCounterEveryTwoSplits(t *testing.T) {
	for _, f := range framings {
		s := encodedStream(f, 3)
		for i := 0; i <= len(s.b); i++ {
			for j := i; j <= len(s.b); j++ {
				fc := frameCounter{compact: f.compact, skip: f.skip}
				a, b, c := fc.feed(s.b[:i]), fc.feed(s.b[i:j]), fc.feed(s.b[j:])
				if a != s.complete(i) || a+b != s.complete(j) || a+b+c != len(s.ends) {
					t.Fatalf("%s: cut at %d and %d of %d: counted %d, %d, %d; want %d, %d, %d", f.name, i, j, len(s.b),
						a, b, c, s.complete(i), s.complete(j)-s.complete(i), len(s.ends)-s.complete(j))
				}
			}
		}
	}
}

// drawStream draws a stream of raw frames: compact ones of any payload
// (empty ones and payloads full of '\n' bytes included), or JSON lines.
func drawStream(t *rapid.T, f framing) *stream {
	s := &stream{}
	if f.skip {
		s.b = append(s.b, hello...)
	}
	payloads := rapid.SliceOfN(rapid.SliceOfN(rapid.SampledFrom([]byte{0, 1, '\n', '{', 'x', 0xff}), 0, 300), 0, 20).Draw(t, "payloads")
	for _, p := range payloads {
		if f.compact {
			s.add(binary.LittleEndian.AppendUint32(nil, uint32(len(p))))
			s.ends = s.ends[:len(s.ends)-1]
			s.add(p)
			continue
		}
		line := make([]byte, 0, len(p)+1)
		for _, c := range p {
			if c != '\n' {
				line = append(line, c)
			}
		}
		s.add(append(line, '\n'))
	}
	return s
}

func TestFrameCounterRandomChunks(t *testing.T) {
	for _, f := range framings {
		t.Run(f.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				s := drawStream(t, f)
				fc := frameCounter{compact: f.compact, skip: f.skip}
				total, at := 0, 0
				for at < len(s.b) {
					if rapid.Bool().Draw(t, "empty chunk") {
						total += fc.feed(nil)
					}
					k := rapid.IntRange(1, len(s.b)-at).Draw(t, "chunk")
					total += fc.feed(s.b[at : at+k])
					at += k
					if want := s.complete(at); total != want {
						t.Fatalf("after %d of %d bytes: counted %d frames, want %d", at, len(s.b), total, want)
					}
				}
				if total != len(s.ends) {
					t.Fatalf("counted %d frames, want %d", total, len(s.ends))
				}
			})
		})
	}
}

// TestFrameCounterHelloAcrossChunks: the hello line's bytes, however cut,
// count nothing, and a frame right after it counts once.
func TestFrameCounterHelloAcrossChunks(t *testing.T) {
	for i := 0; i <= len(hello); i++ {
		fc := frameCounter{compact: true, skip: true}
		if n := fc.feed([]byte(hello[:i])) + fc.feed([]byte(hello[i:])); n != 0 {
			t.Fatalf("hello cut at %d counted %d frames, want 0", i, n)
		}
		if n := fc.feed([]byte{0, 0, 0, 0}); n != 1 {
			t.Fatalf("hello cut at %d: an empty compact frame after it counted %d, want 1", i, n)
		}
	}
}
