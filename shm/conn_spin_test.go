package shm

import (
	"bytes"
	"io"
	"syscall"
	"testing"
)

// spinFixture is a frameReader whose blocking reader and non-blocking
// read are scripted.
type spinFixture struct {
	blocking   *bytes.Buffer
	tries      []func([]byte) (int, error)
	triesMade  int
	blockReads int
}

func (s *spinFixture) Read(p []byte) (int, error) {
	s.blockReads++
	if s.blocking.Len() == 0 {
		return 0, io.EOF
	}
	return s.blocking.Read(p)
}

func (s *spinFixture) tryRead(p []byte) (int, error) {
	i := s.triesMade
	s.triesMade++
	if i < len(s.tries) {
		return s.tries[i](p)
	}
	return 0, syscall.EAGAIN
}

func lines(n int, method string) []byte {
	var b []byte
	for range n {
		b = append(b, `{"isSharedMemoryMessage":true,"method":"`+method+`","uuid":1,"key":"k"}`+"\n"...)
	}
	return b
}

func newSpinFixture(first []byte) (*spinFixture, *frameReader) {
	s := &spinFixture{blocking: bytes.NewBuffer(first)}
	f := &frameReader{r: s, max: DefaultMaxFrame, tryRead: s.tryRead, spin: spinReads}
	return s, f
}

func TestSpinReadCatchesPipelinedFrames(t *testing.T) {
	s, f := newSpinFixture(lines(spinMinBatch, "get"))
	ms := make([]Message, 64)
	if n, err := f.recv(ms); err != nil || n != spinMinBatch {
		t.Fatalf("first recv: %d, %v", n, err)
	}
	eagain := func([]byte) (int, error) { return 0, syscall.EAGAIN }
	more := lines(3, "set")
	s.tries = []func([]byte) (int, error){eagain, eagain, func(p []byte) (int, error) { return copy(p, more), nil }}
	n, err := f.recv(ms)
	if err != nil || n != 3 || ms[0].Method != MethodSet {
		t.Fatalf("second recv: %d, %v, %v", n, err, ms[0].Method)
	}
	if s.triesMade != 3 || s.blockReads != 1 {
		t.Fatalf("tries %d, blocking reads %d; want 3 and 1", s.triesMade, s.blockReads)
	}
}

func TestSpinReadSkipsAfterSmallBatch(t *testing.T) {
	s, f := newSpinFixture(lines(spinMinBatch-1, "get"))
	ms := make([]Message, 64)
	if n, err := f.recv(ms); err != nil || n != spinMinBatch-1 {
		t.Fatalf("first recv: %d, %v", n, err)
	}
	s.blocking.Write(lines(1, "set"))
	if n, err := f.recv(ms); err != nil || n != 1 {
		t.Fatalf("second recv: %d, %v", n, err)
	}
	if s.triesMade != 0 || s.blockReads != 2 {
		t.Fatalf("tries %d, blocking reads %d; want 0 and 2", s.triesMade, s.blockReads)
	}
}

func TestSpinReadFallsBackToBlockingRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		try   func([]byte) (int, error)
		tries int
	}{
		{"nothing comes", func([]byte) (int, error) { return 0, syscall.EAGAIN }, spinReads},
		{"end of stream", func([]byte) (int, error) { return 0, nil }, 1},
		{"reset", func([]byte) (int, error) { return 0, syscall.ECONNRESET }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := newSpinFixture(lines(spinMinBatch, "get"))
			ms := make([]Message, 64)
			if _, err := f.recv(ms); err != nil {
				t.Fatal(err)
			}
			s.tries = make([]func([]byte) (int, error), spinReads)
			for i := range s.tries {
				s.tries[i] = tc.try
			}
			s.blocking.Write(lines(1, "set"))
			if n, err := f.recv(ms); err != nil || n != 1 {
				t.Fatalf("recv: %d, %v", n, err)
			}
			if _, err := f.recv(ms); err != io.EOF {
				t.Fatalf("recv at the end: %v, want EOF", err)
			}
			if s.triesMade != tc.tries {
				t.Fatalf("tries %d, want %d", s.triesMade, tc.tries)
			}
		})
	}
}
