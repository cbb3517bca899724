// Package pipe holds writing helpers for sockets that shm and bench share:
// a write that never blocks, and a writer that hands what the pipe cannot
// take yet to a goroutine.
package pipe

import (
	"net"
	"os"
	"sync"
	"syscall"
)

// WriteNoWait writes as much of buf to the socket behind rc as it takes
// now. If the socket's buffer fills up it returns syscall.EAGAIN with the
// count written; it never waits.
func WriteNoWait(rc syscall.RawConn, buf []byte) (int, error) {
	total := 0
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for total < len(buf) {
			n, err := syscall.Write(int(fd), buf[total:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				werr = err
				return true
			}
			total += n
		}
		return true
	})
	if err != nil {
		return total, err
	}
	return total, werr
}

// Writer writes to a socket without ever blocking its caller: what the
// socket takes now is written at once, the rest is queued and written by a
// goroutine, in order. A peer that stops reading makes the queue grow; the
// caller bounds it by what it sends.
type Writer struct {
	c   net.Conn
	rc  syscall.RawConn
	mu  sync.Mutex
	q   []byte
	bg  bool // a goroutine is draining q
	err error
}

// NewWriter returns a Writer for c, which must be a socket (a syscall.Conn).
func NewWriter(c net.Conn) (*Writer, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, syscall.EINVAL
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &Writer{c: c, rc: rc}, nil
}

// Write writes or queues b; it returns the first error the socket gave.
func (w *Writer) Write(b []byte) error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err // nothing drains the queue after an error
		w.mu.Unlock()
		return err
	}
	if w.bg {
		w.q = append(w.q, b...)
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	n, err := WriteNoWait(w.rc, b)
	if err != syscall.EAGAIN {
		return err
	}
	w.mu.Lock()
	w.q, w.bg = append(w.q[:0], b[n:]...), true
	w.mu.Unlock()
	go w.drain()
	return nil
}

func (w *Writer) drain() {
	for {
		w.mu.Lock()
		if len(w.q) == 0 || w.err != nil {
			w.bg = false
			w.mu.Unlock()
			return
		}
		buf := w.q
		w.q = nil
		w.mu.Unlock()
		if _, err := w.c.Write(buf); err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
		}
	}
}

// SocketPair returns the two ends of a new AF_UNIX stream socket pair,
// close-on-exec, as files (one may be handed to a child process).
func SocketPair(name0, name1 string) (*os.File, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), name0), os.NewFile(uintptr(fds[1]), name1), nil
}

// ConnPair returns a connected socket pair as two net.Conns, as a spawned
// worker and its master hold them.
func ConnPair() (net.Conn, net.Conn, error) {
	f0, f1, err := SocketPair("pair-0", "pair-1")
	if err != nil {
		return nil, nil, err
	}
	defer f0.Close()
	defer f1.Close()
	c0, err := net.FileConn(f0)
	if err != nil {
		return nil, nil, err
	}
	c1, err := net.FileConn(f1)
	if err != nil {
		c0.Close()
		return nil, nil, err
	}
	return c0, c1, nil
}
