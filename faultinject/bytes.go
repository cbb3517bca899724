package faultinject

import (
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

// Byte faults wrap the io.Reader and io.Writer under a codec, as
// testing/iotest does: ShortReader, SplitReader, ShortWriter, TornWriter,
// BitFlipReader, FlipAtReader, StallReader, FullPipeWriter,
// HalfCloseWriter, EarlyEOFReader and EPIPEWriter, one file each. Offsets
// count the bytes of the wrapped stream from its start. Stream puts a
// reader and a writer wrapper on a connection, for shm.NewStreamConn or
// shm.MasterOptions.WrapStream.
//
// Like iotest's, a wrapper's Read (or Write) is not safe for concurrent
// use; Release and the deadline setters of Stall and FullPipe are.

// Stream returns rw with its reads passed through r(rw) and its writes
// through w(rw); a nil function leaves that side as it is. The result
// never exposes rw's SyscallConn, so a codec cannot write around the
// wrappers. It has SetReadDeadline and SetWriteDeadline, which set the
// deadline on rw and on the outermost wrapper that take one (a stream
// without deadlines ignores them), and CloseWrite (see CloseWrite). Close
// closes rw, then releases the wrappers' holds (Stall, FullPipe), so a
// call blocked in one returns with rw's error.
func Stream(rw io.ReadWriteCloser, r func(io.Reader) io.Reader, w func(io.Writer) io.Writer) io.ReadWriteCloser {
	s := &stream{rwc: rw, r: rw, w: rw}
	if r != nil {
		s.r = r(rw)
		s.rd, _ = s.r.(readDeadliner)
	}
	if w != nil {
		s.w = w(rw)
		s.wd, _ = s.w.(writeDeadliner)
	}
	return s
}

type stream struct {
	rwc io.ReadWriteCloser
	r   io.Reader
	w   io.Writer
	rd  readDeadliner  // the reader wrapper, if it takes deadlines
	wd  writeDeadliner // the writer wrapper, if it takes deadlines
}

func (s *stream) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s *stream) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s *stream) CloseWrite() error           { return CloseWrite(s.rwc) }

func (s *stream) Close() error {
	err := s.rwc.Close()
	for _, x := range []any{s.r, s.w} {
		if h, ok := x.(interface{ Release() }); ok {
			h.Release()
		}
	}
	return err
}

type readDeadliner interface{ SetReadDeadline(time.Time) error }
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

func (s *stream) SetReadDeadline(t time.Time) error {
	if s.rd != nil {
		s.rd.SetReadDeadline(t)
	}
	if d, ok := s.rwc.(readDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

func (s *stream) SetWriteDeadline(t time.Time) error {
	if s.wd != nil {
		s.wd.SetWriteDeadline(t)
	}
	if d, ok := s.rwc.(writeDeadliner); ok {
		return d.SetWriteDeadline(t)
	}
	return nil
}

// byteRand returns the generator of a byte fault: PCG seeded with seed
// and the fault's name, so two kinds with one seed draw differently.
func byteRand(seed uint64, kind string) *rand.Rand {
	return rand.New(rand.NewPCG(seed, hash64("bytes/"+kind)))
}

// hold is a wait that lasts d from the moment it begins, ends early on
// release, and gives up at a deadline; a later wait lasts until the same
// end (a full pipe stays full for d however often it is tried).
type hold struct {
	d        time.Duration
	mu       sync.Mutex
	end      time.Time // zero until the hold begins
	released bool
	deadline time.Time
	wake     chan struct{} // closed when released or the deadline changes
}

func newHold(d time.Duration) *hold { return &hold{d: d, wake: make(chan struct{})} }

// wait blocks until the hold is over (nil) or the deadline passes
// (os.ErrDeadlineExceeded). Each turn of its loop ends on a timer or a
// change of state.
func (h *hold) wait() error {
	for {
		h.mu.Lock()
		if h.end.IsZero() {
			h.end = time.Now().Add(h.d)
		}
		until, dl, released, wake := h.end, h.deadline, h.released, h.wake
		h.mu.Unlock()
		now := time.Now()
		switch {
		case released || !now.Before(until):
			return nil
		case !dl.IsZero() && !now.Before(dl):
			return os.ErrDeadlineExceeded
		case !dl.IsZero() && dl.Before(until):
			until = dl
		}
		t := time.NewTimer(until.Sub(now))
		select {
		case <-t.C:
		case <-wake:
		}
		t.Stop()
	}
}

func (h *hold) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.released = true
	h.kick()
}

func (h *hold) setDeadline(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deadline = t
	h.kick()
}

// kick wakes the waiters; called with mu held.
func (h *hold) kick() {
	close(h.wake)
	h.wake = make(chan struct{})
}

// writePrefix writes to w what of p fits under the limit *left, and
// reports whether the limit is reached. A short write without an error
// is io.ErrShortWrite, as io.Writer requires.
func writePrefix(w io.Writer, left *int64, p []byte) (n int, reached bool, err error) {
	if k := min(int64(len(p)), *left); k > 0 {
		n, err = w.Write(p[:k])
		*left -= int64(n)
		if err == nil && int64(n) < k {
			err = io.ErrShortWrite
		}
	}
	return n, err == nil && *left == 0, err
}
