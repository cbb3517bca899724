package faultinject

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// ByteKind is what a byte fault of a plan does: it names one of the
// wrappers of bytes*.go.
type ByteKind string

// The byte fault kinds, and the side of the master's end of a worker's
// connection each one hits.
const (
	// ByteShort cuts reads (ShortReader) or writes (ShortWriter) into
	// pieces of 1 to MaxShort bytes. Harmless to a correct codec.
	ByteShort ByteKind = "short"
	// ByteSplit stops a read at byte At (SplitReader). Harmless.
	ByteSplit ByteKind = "split"
	// ByteBitFlip flips a random bit of each byte read with probability P
	// (BitFlipReader), or, with P 0, one bit of byte At (FlipAtReader).
	ByteBitFlip ByteKind = "bitflip"
	// ByteStall stops reading for For once At bytes are read (StallReader).
	ByteStall ByteKind = "stall"
	// ByteEOF ends the stream read after At bytes (EarlyEOFReader): the
	// master ends the connection, and the request cut, if any, is not
	// applied.
	ByteEOF ByteKind = "eof"
	// ByteTorn kills the writer At bytes in (TornWriter): the reply cut
	// is torn, and the connection closed.
	ByteTorn ByteKind = "torn"
	// ByteFullPipe blocks the writes past byte At for For (FullPipeWriter).
	ByteFullPipe ByteKind = "fullpipe"
	// ByteHalfClose shuts the writing side after At bytes
	// (HalfCloseWriter).
	ByteHalfClose ByteKind = "halfclose"
	// ByteEPIPE fails the writes past byte At with EPIPE (EPIPEWriter).
	ByteEPIPE ByteKind = "epipe"
)

// Harmless reports whether k changes only how the bytes arrive, never
// what arrives or whether the connection lasts (short, split).
func (k ByteKind) Harmless() bool { return k == ByteShort || k == ByteSplit }

// Side is the side of the master's end of a worker's connection that a
// byte fault hits.
type Side string

// The sides. ReadSide carries what the master reads (the worker's
// requests, link {worker, Requests}); WriteSide what it writes (its
// replies, link {worker, Replies}).
const (
	ReadSide  Side = "read"
	WriteSide Side = "write"
)

// ByteFault is one byte fault of a plan, on the master's end of the
// connections it targets. Offsets count the bytes of one side of one
// connection from its start.
type ByteFault struct {
	Kind ByteKind `json:"kind" yaml:"kind"`
	// Side is the side it hits; empty means the kind's only side (for
	// short: both).
	Side Side `json:"side,omitempty" yaml:"side,omitempty"`
	// Worker names the worker whose connections it may hit (every
	// worker's if empty); Conn, if not 0, picks one of them by its
	// number (the worker's first connection under its master is 1, the
	// one after a restart 2, …).
	Worker string `json:"worker,omitempty" yaml:"worker,omitempty"`
	Conn   int    `json:"conn,omitempty" yaml:"conn,omitempty"`
	// P is, for bitflip, the probability that a byte read has a bit
	// flipped (0: one flip, at byte At); for the others, the probability
	// that a connection it targets gets it at all (0: every one).
	P float64 `json:"p,omitempty" yaml:"p,omitempty"`
	// At is the byte offset where it strikes (split, bitflip with P 0,
	// stall, eof, torn, fullpipe, halfclose, epipe).
	At int64 `json:"at,omitempty" yaml:"at,omitempty"`
	// For is how long a stall or a full pipe lasts.
	For time.Duration `json:"for,omitempty" yaml:"for,omitempty"`
}

// sides returns the sides f hits, its Side or its kind's.
func (f *ByteFault) sides() []Side {
	switch {
	case f.Side != "":
		return []Side{f.Side}
	case f.Kind == ByteShort:
		return []Side{ReadSide, WriteSide}
	case f.Kind == ByteSplit || f.Kind == ByteBitFlip || f.Kind == ByteStall || f.Kind == ByteEOF:
		return []Side{ReadSide}
	}
	return []Side{WriteSide}
}

// byteSides says which sides each kind may hit.
var byteSides = map[ByteKind]string{
	ByteShort: "rw", ByteSplit: "r", ByteBitFlip: "r", ByteStall: "r", ByteEOF: "r",
	ByteTorn: "w", ByteFullPipe: "w", ByteHalfClose: "w", ByteEPIPE: "w",
}

func (f *ByteFault) validate() error {
	sides, ok := byteSides[f.Kind]
	if !ok {
		return fmt.Errorf("unknown kind %q (want short, split, bitflip, stall, eof, torn, fullpipe, halfclose or epipe)", f.Kind)
	}
	switch {
	case f.Side != "" && f.Side != ReadSide && f.Side != WriteSide:
		return fmt.Errorf("unknown side %q (want read or write)", f.Side)
	case f.Side != "" && !containsByte(sides, f.Side[0]):
		return fmt.Errorf("%s has no %s side", f.Kind, f.Side)
	case f.P < 0 || f.P > 1:
		return fmt.Errorf("p %v is not a probability", f.P)
	case f.At < 0:
		return fmt.Errorf("at %d is negative", f.At)
	case f.Conn < 0:
		return fmt.Errorf("conn %d is negative", f.Conn)
	case f.Kind == ByteSplit && f.At == 0:
		return errors.New("a split needs at > 0: nothing comes before byte 0")
	case f.Kind == ByteShort && f.At != 0:
		return errors.New("short takes no at: it cuts every read or write")
	case (f.Kind == ByteStall || f.Kind == ByteFullPipe) && f.For <= 0:
		return fmt.Errorf("a %s needs for > 0", f.Kind)
	case f.Kind != ByteStall && f.Kind != ByteFullPipe && f.For != 0:
		return fmt.Errorf("%s takes no for (only stall and fullpipe last)", f.Kind)
	}
	return nil
}

func containsByte(s string, b byte) bool {
	for i := range len(s) {
		if s[i] == b {
			return true
		}
	}
	return false
}

// armed is a byte fault one connection got, on one side.
type armed struct {
	f     *ByteFault
	index int    // in Plan.Bytes
	seed  uint64 // for the wrapper's own draws (short, bitflip)
	side  Side
}

// connRand is the generator of one connection's byte faults, seeded
// from the plan's seed, the worker and the connection's number.
func connRand(seed uint64, worker string, conn int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, hash64("bytes\x00"+worker+"\x00"+strconv.Itoa(conn))))
}

// arm draws the byte faults connection conn of worker gets. Every fault
// draws from the connection's generator, targeted or not, so a
// connection's faults depend only on the plan, the worker and conn.
func (p *Plan) arm(worker string, conn int) []armed {
	rng := connRand(p.Seed, worker, conn)
	var out []armed
	for i := range p.Bytes {
		f := &p.Bytes[i]
		u, seed := rng.Float64(), rng.Uint64()
		if !f.hits(worker, conn, u) {
			continue
		}
		for _, s := range f.sides() {
			out = append(out, armed{f: f, index: i, seed: seed, side: s})
		}
	}
	return out
}

func (f *ByteFault) hits(worker string, conn int, u float64) bool {
	switch {
	case f.Worker != "" && f.Worker != worker, f.Conn != 0 && f.Conn != conn:
		return false
	case f.Kind == ByteBitFlip || f.P == 0:
		return true
	}
	return u < f.P
}

// Streams returns the wrapper of the master's end of connection conn of
// worker (its number: 1 for the first, 2 after a restart, …) under p's
// byte faults, for shm.MasterOptions.WrapStream. Which faults the
// connection gets, and their own draws, come from a generator seeded
// from (p.Seed, worker, conn). Each fault is added to log (which may be
// nil) when it fires, with what it did; a connection no fault hits is
// returned as it is.
func (p *Plan) Streams(worker string, conn int, log *Log) func(io.ReadWriteCloser) io.ReadWriteCloser {
	faults := p.arm(worker, conn)
	if len(faults) == 0 {
		return func(rw io.ReadWriteCloser) io.ReadWriteCloser { return rw }
	}
	var reads func(io.Reader) io.Reader
	var writes func(io.Writer) io.Writer
	for _, a := range faults {
		if a.side == ReadSide {
			reads = func(r io.Reader) io.Reader { return readChain(r, faults, worker, conn, log) }
		} else {
			writes = func(w io.Writer) io.Writer { return writeChain(w, faults, worker, conn, log) }
		}
	}
	return func(rw io.ReadWriteCloser) io.ReadWriteCloser { return Stream(rw, reads, writes) }
}

// readChain puts the read side's faults on r, in plan order, each
// under a watch that logs it when it fires.
func readChain(r io.Reader, faults []armed, worker string, conn int, log *Log) io.Reader {
	c := &chainReader{Reader: r}
	for _, a := range faults {
		if a.side != ReadSide {
			continue
		}
		fire := newFirer(log, Link{Worker: worker, Dir: Requests}, conn, a)
		if a.f.Kind == ByteBitFlip {
			c.Reader = newFlipWatch(c.Reader, a, fire)
			continue
		}
		inner := a.reader(c.Reader)
		if s, ok := inner.(*Stall); ok {
			c.holds = append(c.holds, s.h)
		}
		c.Reader = &watchReader{r: inner, w: a.watch(fire)}
	}
	return c
}

// writeChain puts the write side's faults on w, as readChain does.
func writeChain(w io.Writer, faults []armed, worker string, conn int, log *Log) io.Writer {
	c := &chainWriter{Writer: w}
	for _, a := range faults {
		if a.side != WriteSide {
			continue
		}
		inner := a.writer(&closing{Writer: c.Writer, conn: w})
		if p, ok := inner.(*FullPipe); ok {
			c.holds = append(c.holds, p.h)
		}
		fire := newFirer(log, Link{Worker: worker, Dir: Replies}, conn, a)
		c.Writer = &watchWriter{w: inner, wt: a.watch(fire)}
	}
	return c
}

// reader and writer make a's wrapper.
func (a *armed) reader(r io.Reader) io.Reader {
	switch a.f.Kind {
	case ByteShort:
		return ShortReader(r, a.seed)
	case ByteSplit:
		return SplitReader(r, a.f.At)
	case ByteStall:
		return StallReader(r, a.f.At, a.f.For)
	}
	return EarlyEOFReader(r, a.f.At)
}

func (a *armed) writer(w io.Writer) io.Writer {
	switch a.f.Kind {
	case ByteShort:
		return ShortWriter(w, a.seed)
	case ByteTorn:
		return TornWriter(w, a.f.At)
	case ByteFullPipe:
		return FullPipeWriter(w, a.f.At, a.f.For)
	case ByteHalfClose:
		return HalfCloseWriter(w, a.f.At)
	}
	return EPIPEWriter(w, a.f.At)
}

// closing is a writer of the chain that closes, or shuts the writing
// side of, the connection under the whole chain: what a torn writer or a
// half-close does to the connection, whatever lies between.
type closing struct {
	io.Writer
	conn io.Writer
}

func (c *closing) Close() error {
	if cl, ok := c.conn.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

func (c *closing) CloseWrite() error { return CloseWrite(c.conn) }

// holds are the stalls or full pipes of one side's chain of wrappers:
// deadlines and Release reach every one of them, where Stream would find
// only the outermost.
type holds []*hold

// Release ends every hold.
func (hs holds) Release() {
	for _, h := range hs {
		h.release()
	}
}

func (hs holds) setDeadline(t time.Time) error {
	for _, h := range hs {
		h.setDeadline(t)
	}
	return nil
}

// chainReader is a side's chain of wrappers, read from the outermost.
type chainReader struct {
	io.Reader
	holds
}

func (c *chainReader) SetReadDeadline(t time.Time) error { return c.setDeadline(t) }

// chainWriter is chainReader's writing side, for full pipes.
type chainWriter struct {
	io.Writer
	holds
}

func (c *chainWriter) SetWriteDeadline(t time.Time) error { return c.setDeadline(t) }

// watch returns the watch that logs a's fault when it fires.
func (a *armed) watch(fire firer) watch {
	return watch{kind: a.f.Kind, at: a.f.At, dur: a.f.For, fire: fire}
}
