package pipe

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
)

func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	a, b, err := ConnPair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestWriteNoWaitStopsAtAFullPipe(t *testing.T) {
	a, _ := socketPair(t)
	rc, err := a.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 64<<20) // far more than any socket buffer
	n, err := WriteNoWait(rc, big)
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("WriteNoWait(64 MiB) = %d, %v; want EAGAIN", n, err)
	}
	if n <= 0 || n >= len(big) {
		t.Fatalf("WriteNoWait wrote %d bytes, want some but not all of %d", n, len(big))
	}
	if n, err := WriteNoWait(rc, []byte("x")); !errors.Is(err, syscall.EAGAIN) || n != 0 {
		t.Fatalf("WriteNoWait on a full pipe = %d, %v; want 0, EAGAIN", n, err)
	}
}

// TestWriterNeverBlocksAndKeepsOrder writes far more than the pipe holds
// while nobody reads: no call may block. Then the reader gets every byte,
// in order.
func TestWriterNeverBlocksAndKeepsOrder(t *testing.T) {
	a, b := socketPair(t)
	w, err := NewWriter(a)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for i := range 400 {
		chunk := bytes.Repeat([]byte{byte(i)}, 10_000+i)
		want.Write(chunk)
		if err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("bytes arrived out of order or damaged")
	}
}

func TestNewWriterNeedsASocket(t *testing.T) {
	a, _ := net.Pipe()
	if _, err := NewWriter(a); err == nil {
		t.Fatal("NewWriter(net.Pipe) = nil error, want one: it has no file descriptor")
	}
}
