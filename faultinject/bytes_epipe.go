package faultinject

import (
	"io"
	"net"
	"os"
	"syscall"
)

// EPIPEWriter returns a writer that writes the first n bytes to w, then
// fails as a pipe whose reader has gone: the bytes past n and every later
// write return syscall.EPIPE wrapped as the os wraps it (a *net.OpError
// for a net.Conn, an *os.PathError for an *os.File, an *os.SyscallError
// otherwise), so errors.Is(err, syscall.EPIPE) holds. Nothing is closed:
// the peer notices only what the writer does about the error.
func EPIPEWriter(w io.Writer, n int64) io.Writer {
	return &epipeWriter{w: w, left: n}
}

type epipeWriter struct {
	w    io.Writer
	left int64
}

func (e *epipeWriter) Write(p []byte) (int, error) {
	n, _, err := writePrefix(e.w, &e.left, p)
	if err == nil && n < len(p) {
		err = epipeErr(e.w)
	}
	return n, err
}

// epipeErr is EPIPE as a write to w reports it.
func epipeErr(w io.Writer) error {
	switch c := w.(type) {
	case net.Conn:
		op := &net.OpError{Op: "write", Net: "unix", Source: c.LocalAddr(), Addr: c.RemoteAddr(),
			Err: os.NewSyscallError("write", syscall.EPIPE)}
		if op.Source != nil {
			op.Net = op.Source.Network()
		}
		return op
	case *os.File:
		return &os.PathError{Op: "write", Path: c.Name(), Err: syscall.EPIPE}
	}
	return os.NewSyscallError("write", syscall.EPIPE)
}
