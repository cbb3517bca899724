package faultinject

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/history"
)

// ByteRecord is what a byte fault of a plan did, in a Record: Plan.Streams
// logs one when the fault fires (for a bitflip, one per read that flipped
// bits, up to MaxFlipRecords a connection).
type ByteRecord struct {
	Kind ByteKind `json:"kind"`
	// Fault is the fault's index in Plan.Bytes.
	Fault int `json:"fault"`
	// Conn is the number of the worker's connection (see Plan.Streams).
	Conn int `json:"conn"`
	// At is the offset of the byte where it fired, on its side of the
	// connection (for a bitflip, the first byte flipped).
	At int64 `json:"at"`
	// For is how long a stall or a full pipe lasts, at most.
	For time.Duration `json:"for,omitempty"`
	// Flips is how many bits a bitflip flipped in one read.
	Flips int `json:"flips,omitempty"`
	// Text says what happened.
	Text string `json:"text"`
}

// MaxFlipRecords bounds the records a bitflip logs for one connection.
const MaxFlipRecords = 32

// event is the history event of r, a record of a byte fault.
func (b *ByteRecord) event(r *Record) history.Event {
	return history.Event{
		Kind:   history.EventFault,
		Time:   r.Time,
		End:    r.Time + int64(b.For),
		Worker: r.Link.Worker,
		Link:   r.Link.String(),
		Fault:  string(b.Kind),
		Truth:  r.Truth,
		Text:   fmt.Sprintf("connection %d on %s, byte %d: %s", b.Conn, r.Link, b.At, b.Text),
	}
}

// byteTruth is what a byte fault of kind does to the requests it meets:
// a stream read that ends leaves the request it cuts (and every later
// one) not applied; a reply lost to a writer that fails belongs to a
// request the master applied; a stall or a full pipe delays; the rest
// do nothing to any one request that is known.
func byteTruth(kind ByteKind) history.Truth {
	switch kind {
	case ByteEOF:
		return history.TruthNotApplied
	case ByteTorn, ByteEPIPE, ByteHalfClose:
		return history.TruthApplied
	case ByteStall, ByteFullPipe:
		return history.TruthDelayed
	}
	return history.TruthNone
}

// firer logs one firing of a byte fault: where, how many bits (a
// bitflip), and what happened.
type firer func(at int64, flips int, text string)

func newFirer(log *Log, l Link, conn int, a armed) firer {
	if log == nil {
		return func(int64, int, string) {}
	}
	return func(at int64, flips int, text string) {
		log.Add(Record{Time: history.Now(), Link: l, Truth: byteTruth(a.f.Kind), Bytes: &ByteRecord{
			Kind: a.f.Kind, Fault: a.index, Conn: conn, At: at, For: a.f.For, Flips: flips, Text: text}})
	}
}

// watch counts the bytes through one fault's wrapper and fires once,
// when the fault does.
type watch struct {
	kind  ByteKind
	at    int64
	dur   time.Duration // a stall's or a full pipe's
	pos   int64
	fired bool
	fire  firer
}

func (w *watch) once(at int64, format string, args ...any) {
	if !w.fired {
		w.fired = true
		w.fire(at, 0, fmt.Sprintf(format, args...))
	}
}

// before sees a read or write of n bytes coming: the faults that block
// in it (a stall, a full pipe) fire here.
func (w *watch) before(n int) {
	switch {
	case w.kind == ByteStall && w.pos >= w.at:
		w.once(w.at, "the master stops reading for %v at most: the requests wait in the pipe", w.dur)
	case w.kind == ByteFullPipe && w.pos+int64(n) > w.at:
		w.once(w.at, "the pipe to the worker is full: the master's writes block for %v at most", w.dur)
	}
}

// afterRead and afterWrite see a read or write that asked for asked
// bytes and did n.
func (w *watch) afterRead(asked, n int, err error) {
	start := w.pos
	w.pos += int64(n)
	switch {
	case w.kind == ByteShort && n > 0 && n < asked:
		w.once(start, "the master's reads return %d bytes at most", MaxShort)
	case w.kind == ByteSplit && start < w.at && w.pos == w.at:
		w.once(w.at, "a read stops here, splitting what crosses it")
	case w.kind == ByteEOF && n == 0 && errors.Is(err, io.EOF) && w.pos == w.at:
		w.once(w.at, "the stream the master reads ends: the request it cuts, if any, and every later one are not applied")
	}
}

func (w *watch) afterWrite(asked, n int, err error) {
	start := w.pos
	w.pos += int64(n)
	switch {
	case w.kind == ByteShort && asked > 1:
		w.once(start, "the master's writes go out in pieces of %d bytes at most", MaxShort)
	case w.kind == ByteTorn && errors.Is(err, ErrWriterDied):
		w.once(w.pos, "the master's writer dies and closes the connection: the reply it cuts, if any, is torn")
	case w.kind == ByteEPIPE && errors.Is(err, syscall.EPIPE):
		w.once(w.pos, "the master's writes fail with EPIPE: the reply it cuts, if any, is torn")
	case w.kind == ByteHalfClose && (w.pos >= w.at || errors.Is(err, ErrHalfClosed)):
		w.once(w.at, "the master shuts its writing side: the worker reads the end of the stream")
	}
}

// watchReader and watchWriter put a watch around a fault's wrapper.
type watchReader struct {
	r io.Reader
	w watch
}

func (wr *watchReader) Read(p []byte) (int, error) {
	wr.w.before(len(p))
	n, err := wr.r.Read(p)
	wr.w.afterRead(len(p), n, err)
	return n, err
}

type watchWriter struct {
	w  io.Writer
	wt watch
}

func (ww *watchWriter) Write(p []byte) (int, error) {
	ww.wt.before(len(p))
	n, err := ww.w.Write(p)
	ww.wt.afterWrite(len(p), n, err)
	return n, err
}

// flipWatch logs the bits a bitflip reader flips, by comparing what it
// returns with what it read.
type flipWatch struct {
	r      io.Reader // the flipping reader, reading from tap
	tap    *tap
	pos    int64
	logged int
	fire   firer
}

func newFlipWatch(r io.Reader, a armed, fire firer) *flipWatch {
	t := &tap{r: r}
	var flip io.Reader
	if a.f.P == 0 {
		flip = FlipAtReader(t, a.f.At, 1<<(a.seed%8))
	} else {
		flip = BitFlipReader(t, a.seed, a.f.P)
	}
	return &flipWatch{r: flip, tap: t, fire: fire}
}

func (f *flipWatch) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	var at []int64
	flips := 0
	for i, b := range f.tap.last[:n] {
		if d := p[i] ^ b; d != 0 {
			at = append(at, f.pos+int64(i))
			flips += bits.OnesCount8(d)
		}
	}
	f.pos += int64(n)
	if len(at) > 0 && f.logged < MaxFlipRecords {
		f.logged++
		f.fire(at[0], flips, flipText(at, f.logged == MaxFlipRecords))
	}
	return n, err
}

func flipText(at []int64, last bool) string {
	s := fmt.Sprintf("bits flipped in what the master reads, at bytes %v", at[:min(len(at), 8)])
	if len(at) > 8 {
		s += fmt.Sprintf(" and %d more", len(at)-8)
	}
	if last {
		s += " (the last flips logged on this connection)"
	}
	return s
}

// tap keeps what the last read returned, before a wrapper changes it.
type tap struct {
	r    io.Reader
	last []byte
}

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.last = append(t.last[:0], p[:n]...)
	return n, err
}
