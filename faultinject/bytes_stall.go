package faultinject

import (
	"io"
	"time"
)

// Stall is a reader that stops for a while, as a peer that goes quiet:
// see StallReader.
type Stall struct {
	r     io.Reader
	after int64
	pos   int64
	h     *hold
}

// StallReader returns a reader that reads the first after bytes of r as
// they come, then blocks for d before it reads on; the bytes the peer
// writes meanwhile wait in the pipe. The stall happens once, lasts at
// most d, and ends early on Release. A read deadline (SetReadDeadline)
// ends the wait for that read with os.ErrDeadlineExceeded; the next read
// goes on waiting for the rest of d.
func StallReader(r io.Reader, after int64, d time.Duration) *Stall {
	return &Stall{r: r, after: after, h: newHold(d)}
}

func (s *Stall) Read(p []byte) (int, error) {
	if s.pos < s.after {
		if int64(len(p)) > s.after-s.pos {
			p = p[:s.after-s.pos]
		}
	} else if err := s.h.wait(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	s.pos += int64(n)
	return n, err
}

// Release ends the stall, now or when it comes.
func (s *Stall) Release() { s.h.release() }

// SetReadDeadline bounds the reads blocked in the stall; the zero time
// removes the bound.
func (s *Stall) SetReadDeadline(t time.Time) error {
	s.h.setDeadline(t)
	return nil
}
