package faultinject

import (
	"errors"
	"io"
)

// ErrWriterDied is returned by a TornWriter's writes once it has died.
var ErrWriterDied = errors.New("faultinject: writer died")

// TornWriter returns a writer that dies after n bytes, as a process killed
// in the middle of a frame: the write that reaches n writes only the bytes
// up to n, then w is closed if it is an io.Closer (the peer reads the torn
// frame, then the end of the stream), and that write and every later one
// return ErrWriterDied.
func TornWriter(w io.Writer, n int64) io.Writer {
	return &tornWriter{w: w, left: n}
}

type tornWriter struct {
	w    io.Writer
	left int64
	dead bool
}

func (t *tornWriter) Write(p []byte) (int, error) {
	if t.dead {
		return 0, ErrWriterDied
	}
	n, reached, err := writePrefix(t.w, &t.left, p)
	if !reached {
		return n, err
	}
	t.dead = true
	if c, ok := t.w.(io.Closer); ok {
		c.Close()
	}
	return n, ErrWriterDied
}
