package faultinject

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// ErrHalfClosed is returned by a HalfCloseWriter's writes once its
// writing side is shut.
var ErrHalfClosed = errors.New("faultinject: write side shut down")

// HalfCloseWriter returns a writer that writes the first after bytes to
// w, then shuts w's writing side (CloseWrite) if w can, so that the peer
// reads the end of the stream while reading from it goes on. The shutdown
// comes with the write that reaches after (or the first write, for 0);
// the bytes past after and every later write fail with ErrHalfClosed.
func HalfCloseWriter(w io.Writer, after int64) io.Writer {
	return &halfCloseWriter{w: w, left: after}
}

type halfCloseWriter struct {
	w    io.Writer
	left int64
	shut bool
}

func (h *halfCloseWriter) Write(p []byte) (int, error) {
	if h.shut {
		return 0, ErrHalfClosed
	}
	n, reached, err := writePrefix(h.w, &h.left, p)
	if !reached {
		return n, err
	}
	h.shut = true
	if err := CloseWrite(h.w); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return n, err
	}
	if n < len(p) {
		return n, ErrHalfClosed
	}
	return n, nil
}

// CloseWrite shuts down the writing side of a connection c: by its
// CloseWrite method (*net.UnixConn, *net.TCPConn, a Stream), or else by
// shutdown(2) if c is a socket file (a syscall.Conn, such as an *os.File
// from a socket pair). The peer reads the end of the stream; reading from
// c goes on. For anything else it returns errors.ErrUnsupported.
func CloseWrite(c any) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Shutdown(int(fd), syscall.SHUT_WR) }); err != nil {
		return err
	}
	return os.NewSyscallError("shutdown", serr)
}
