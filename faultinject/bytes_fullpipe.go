package faultinject

import (
	"io"
	"time"
)

// FullPipe is a writer whose pipe fills up: see FullPipeWriter.
type FullPipe struct {
	w     io.Writer
	after int64
	pos   int64
	h     *hold
}

// FullPipeWriter returns a writer that writes the first after bytes to w,
// then blocks as if the pipe were full, as when the peer stops reading.
// The pipe stays full for d from the moment a write first blocks, or until
// Release; then the blocked write goes on. A write deadline
// (SetWriteDeadline, which Stream passes on) ends a blocked write with the
// bytes written so far and os.ErrDeadlineExceeded, as a socket's does.
func FullPipeWriter(w io.Writer, after int64, d time.Duration) *FullPipe {
	return &FullPipe{w: w, after: after, h: newHold(d)}
}

func (f *FullPipe) Write(p []byte) (int, error) {
	total := 0
	if f.pos < f.after {
		k := int(min(int64(len(p)), f.after-f.pos))
		n, err := f.w.Write(p[:k])
		f.pos += int64(n)
		total = n
		if err != nil || total == len(p) {
			return total, err
		}
	}
	if err := f.h.wait(); err != nil {
		return total, err
	}
	n, err := f.w.Write(p[total:])
	f.pos += int64(n)
	return total + n, err
}

// Release drains the pipe: a blocked write goes on, and later ones do not
// block.
func (f *FullPipe) Release() { f.h.release() }

// SetWriteDeadline bounds the writes blocked on the full pipe; the zero
// time removes the bound.
func (f *FullPipe) SetWriteDeadline(t time.Time) error {
	f.h.setDeadline(t)
	return nil
}
