package shm

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/internal/race"
)

// rawPeer is a worker's end of a real socket to a master, speaking one
// codec frame by frame, as a worker in another language would.
type rawPeer struct {
	t       *testing.T
	c       net.Conn
	r       *bufio.Reader
	compact bool
}

// dialRaw serves a new socket on m as worker id and returns the other
// end, switched to the compact codec if asked.
func dialRaw(t *testing.T, m *Master, compact bool, id int64) *rawPeer {
	t.Helper()
	a, b := socketPair(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Serve(NewStreamConn(a, StreamOptions{AcceptCompact: true}), Identity{Worker: id, Inc: 1})
	}()
	t.Cleanup(func() { b.Close(); <-done })
	p := &rawPeer{t: t, c: b, r: bufio.NewReaderSize(b, 64<<10), compact: compact}
	if compact {
		p.write(append(append([]byte{}, compactHello...), '\n'))
	}
	return p
}

func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	if _, err := p.c.Write(b); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// call sends one request and returns the reply and the size of its frame
// (a JSON line without its newline, or a compact payload).
func (p *rawPeer) call(req Message) (Message, int) {
	p.t.Helper()
	req.Kind = KindRequest
	if p.compact {
		p.write(AppendCompact(nil, &req))
	} else {
		p.write(AppendFrame(nil, &req))
	}
	return p.reply()
}

// send writes one raw JSON line and returns the reply to it.
func (p *rawPeer) send(line string) (Message, int) {
	p.t.Helper()
	p.write([]byte(line + "\n"))
	return p.reply()
}

func (p *rawPeer) reply() (Message, int) {
	p.t.Helper()
	var frame []byte
	if p.compact {
		var hdr [compactHeader]byte
		if _, err := io.ReadFull(p.r, hdr[:]); err != nil {
			p.t.Fatalf("read reply header: %v", err)
		}
		frame = make([]byte, binary.LittleEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(p.r, frame); err != nil {
			p.t.Fatalf("read reply: %v", err)
		}
	} else {
		line, err := p.r.ReadBytes('\n')
		if err != nil {
			p.t.Fatalf("read reply: %v", err)
		}
		frame = line[:len(line)-1]
	}
	var m Message
	var scratch []byte
	if p.compact {
		DecodeCompact(frame, &m, &scratch)
	} else {
		DecodeFrame(frame, &m, &scratch)
	}
	if m.Kind != KindReply {
		p.t.Fatalf("master wrote kind %d (%v), not a reply", m.Kind, m.Err)
	}
	m.Value = append(Value(nil), m.Value...)
	return m, len(frame)
}

func codecName(compact bool) string {
	if compact {
		return "compact"
	}
	return "json"
}

// firstNumber is the first decimal number in s, or -1.
func firstNumber(s string) int {
	n, err := strconv.Atoi(regexp.MustCompile(`[0-9]+`).FindString(s))
	if err != nil {
		return -1
	}
	return n
}

// wantTooLarge checks a definite too_large whose message leads with the
// size it compared, above the limit, and names the limit.
func wantReplyTooLarge(t *testing.T, what string, rep Message, limit int) {
	t.Helper()
	if rep.Err == nil || rep.Err.Code != CodeTooLarge || !rep.Err.Definite || rep.Has&HasValue != 0 {
		t.Fatalf("%s: reply %+v, want a definite too_large and no value", what, rep)
	}
	if n := firstNumber(rep.Err.Message); n <= limit || !strings.Contains(rep.Err.Message, fmt.Sprint(limit)) {
		t.Errorf("%s: message %q: its first number %d is not above the limit %d it names", what, rep.Err.Message, n, limit)
	}
}

// TestNoRaceStoredValuesReadBackOnEveryCodec: a value is stored only if a reply
// can carry it back within the frame limit on either codec, whatever the
// reader's uuid: set over one codec, get over the other (and the same)
// with the largest uuid, and the reply is within the limit; a longer value
// is refused too_large (definite) and nothing is stored. At the largest
// value a JSON reply with the largest uuid is exactly the limit.
func TestNoRaceStoredValuesReadBackOnEveryCodec(t *testing.T) {
	race.Skip(t)
	t.Parallel() // long and alone: it overlaps the other parallel tests
	const limit = DefaultMaxFrame
	maxv := MaxValueBytes(0)
	// The reviewer's case: a compact set frame of exactly the limit.
	_, atLimit := framed(t, true, 1, "k", limit)
	// The longest value a JSON set frame within the limit carries.
	_, jsonMax := framed(t, false, 1, "k", limit)
	type tc struct {
		name    string
		compact bool // the codec of the set
		value   Value
	}
	var cases []tc
	for _, n := range []int{maxv - 1, maxv, maxv + 1} {
		cases = append(cases, tc{fmt.Sprintf("compact set of max%+d", n-maxv), true, String(strings.Repeat("v", n-2))})
	}
	cases = append(cases,
		tc{"compact set frame at the limit", true, atLimit},
		tc{"json set frame at the limit", false, jsonMax})
	m := NewMaster(MasterOptions{})
	defer m.Close()
	readers := map[bool]*rawPeer{false: dialRaw(t, m, false, 2), true: dialRaw(t, m, true, 3)}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := dialRaw(t, m, c.compact, int64(10+i))
			key := []byte{byte('a' + i)} // one byte, as framed's "k": the frame stays its size
			rep, _ := w.call(Message{Method: MethodSet, Seq: 1, Key: key, Value: c.value, Has: HasSeq | HasKey | HasValue})
			stored := len(c.value) <= maxv
			if stored && (rep.Err != nil || string(rep.Value) != `"OK"`) {
				t.Fatalf("set of %d bytes over %s: %+v, want OK", len(c.value), codecName(c.compact), rep)
			}
			if !stored {
				wantReplyTooLarge(t, "set", rep, limit)
				cas, _ := w.call(Message{Method: MethodCAS, Seq: 2, Key: key, Value: c.value, Has: HasSeq | HasKey | HasValue})
				wantReplyTooLarge(t, "cas", cas, limit)
			}
			for _, compact := range []bool{false, true} {
				got, size := readers[compact].call(Message{Method: MethodGet, Seq: math.MaxUint64, Key: key, Has: HasSeq | HasKey})
				if got.Err != nil || got.Seq != math.MaxUint64 || size > limit {
					t.Fatalf("get over %s: reply of %d bytes, %v (uuid %d)", codecName(compact), size, got.Err, got.Seq)
				}
				if found := got.Has&HasValue != 0; found != stored || (stored && !got.Value.Equal(c.value)) {
					t.Fatalf("get over %s of a %d-byte value: found %v (%d bytes), want %v", codecName(compact), len(c.value), found, len(got.Value), stored)
				}
				if !compact && len(c.value) == maxv && size != limit {
					t.Errorf("JSON reply to a get of the largest value: %d bytes, want exactly the limit %d", size, limit)
				}
			}
		})
	}
}

// TestNoRaceNodeStyleReplyWithinLimit: requests in the shapes a Node worker
// builds (members in any order, the uuid as the largest number the
// protocol reads, or as a string) get replies within the frame limit for
// the largest stored value; a uuid echoed as text that is longer than the
// longest integer makes that reply too long, and it is answered
// too_large, with the uuid, instead.
func TestNoRaceNodeStyleReplyWithinLimit(t *testing.T) {
	race.Skip(t)
	t.Parallel() // long and alone: it overlaps the other parallel tests
	m := NewMaster(MasterOptions{})
	defer m.Close()
	value := String(strings.Repeat("n", MaxValueBytes(0)-2))
	if err := m.Set("k", value); err != nil {
		t.Fatal(err)
	}
	err := m.Set("over", String(strings.Repeat("n", MaxValueBytes(0)-1)))
	wantCode(t, "the master's own Set one byte past MaxValueBytes", err, CodeTooLarge, true)
	p := dialRaw(t, m, false, 1)
	for _, line := range []string{
		`{"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":18446744073709551615,"key":"k"}`,
		`{"key":"k","uuid":18446744073709551615,"method":"get","isSharedMemoryMessage":true}`,
	} {
		rep, size := p.send(line)
		if rep.Err != nil || rep.Seq != math.MaxUint64 || !rep.Value.Equal(value) || size != DefaultMaxFrame {
			t.Errorf("%s: reply of %d bytes (uuid %d), %v; want the value in exactly %d bytes", line, size, rep.Seq, rep.Err, DefaultMaxFrame)
		}
	}
	for _, tt := range []struct {
		uuid string
		fits bool
	}{
		{`18446744073709551616`, true}, {`1e3`, true}, {`"1796645489267-1"`, true},
		{`"18446744073709551615"`, false}, {`-18446744073709551615`, false},
	} {
		line := `{"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":` + tt.uuid + `,"key":"k"}`
		rep, size := p.send(line)
		switch {
		case string(rep.UUID) != tt.uuid || rep.Has&HasSeq != 0:
			t.Errorf("%s: reply of %d bytes with uuid %s, want the uuid as sent", line, size, rep.UUID)
		case tt.fits && (rep.Err != nil || !rep.Value.Equal(value) || size > DefaultMaxFrame):
			t.Errorf("%s: reply of %d bytes, %v; want the value within %d bytes", line, size, rep.Err, DefaultMaxFrame)
		case !tt.fits && (rep.Err == nil || rep.Err.Code != CodeTooLarge || rep.Has&HasValue != 0 || size > 400):
			t.Errorf("%s: reply of %d bytes, %v; want a short too_large", line, size, rep.Err)
		}
	}
}

// TestReplyOverheadIsExact: replyOverhead is what a JSON reply with the
// largest uuid adds to its value, and a compact reply adds no more.
func TestReplyOverheadIsExact(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 1 << 14, 1 << 21, DefaultMaxFrame} {
		v := String(strings.Repeat("x", n))
		rep := Message{Kind: KindReply, Seq: math.MaxUint64, Value: v, Has: HasSeq | HasValue}
		if got := len(AppendFrame(nil, &rep)) - 1 - len(v); got != replyOverhead {
			t.Errorf("JSON reply adds %d bytes to a %d-byte value, replyOverhead is %d", got, len(v), replyOverhead)
		}
		if got := len(AppendCompact(nil, &rep)) - compactHeader - len(v); got > replyOverhead {
			t.Errorf("compact reply adds %d bytes to a %d-byte value, more than replyOverhead %d", got, len(v), replyOverhead)
		}
	}
}
