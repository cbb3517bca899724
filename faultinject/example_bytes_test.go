package faultinject_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
)

// A master whose socket reads and writes in random short pieces still
// answers correctly: the codec reassembles frames.
func ExampleStream() {
	masterEnd, workerEnd := net.Pipe()
	faulty := faultinject.Stream(masterEnd,
		func(r io.Reader) io.Reader { return faultinject.ShortReader(r, 1) },
		func(w io.Writer) io.Writer { return faultinject.ShortWriter(w, 2) })
	m := shm.NewMaster(shm.MasterOptions{})
	go m.Serve(shm.NewStreamConn(faulty, shm.StreamOptions{}), shm.Identity{Worker: 1, Inc: 1})
	c := shm.NewClient(shm.NewStreamConn(workerEnd, shm.StreamOptions{}), shm.ClientOptions{})
	defer c.Close()

	ctx := context.Background()
	c.Set(ctx, "greeting", shm.String("hello"))
	v, _, _ := c.Get(ctx, "greeting")
	fmt.Println(v)
	// Output: "hello"
}

// Byte faults for spawned workers go in MasterOptions.WrapStream, seeded
// per worker so that a run can be repeated.
func ExampleStream_wrapStream() {
	opts := shm.MasterOptions{
		WrapStream: func(w *shm.Worker, rw io.ReadWriteCloser) io.ReadWriteCloser {
			seed := uint64(w.ID)
			return faultinject.Stream(rw,
				func(r io.Reader) io.Reader { return faultinject.ShortReader(r, seed) },
				func(w io.Writer) io.Writer { return faultinject.ShortWriter(w, seed) })
		},
	}
	_ = shm.NewMaster(opts)
}

func ExampleSplitReader() {
	r := faultinject.SplitReader(strings.NewReader(`{"a":1}`+"\n"+`{"b":2}`+"\n"), 4)
	buf := make([]byte, 64)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			fmt.Printf("%q\n", buf[:n])
		}
		if err != nil {
			break
		}
	}
	// Output:
	// "{\"a\""
	// ":1}\n{\"b\":2}\n"
}

func ExampleShortReader() {
	r := faultinject.ShortReader(strings.NewReader(strings.Repeat("x", 100)), 1)
	buf := make([]byte, 64)
	var lens []int
	for {
		n, err := r.Read(buf)
		if n > 0 {
			lens = append(lens, n)
		}
		if err != nil {
			break
		}
	}
	fmt.Println(lens)
	// Output: [8 12 19 17 9 8 9 5 8 5]
}

func ExampleTornWriter() {
	var buf bytes.Buffer
	w := faultinject.TornWriter(&buf, 12)
	_, err := io.WriteString(w, `{"method":"set"}`+"\n")
	fmt.Printf("%q: %v\n", buf.String(), err)
	// Output: "{\"method\":\"s": faultinject: writer died
}

func ExampleBitFlipReader() {
	r := faultinject.BitFlipReader(strings.NewReader(`{"key":"hello","value":12345}`), 3, 0.1)
	b, _ := io.ReadAll(r)
	fmt.Printf("%s\n", b)
	// Output: {#key":"hedlo","value":12345}
}

func ExampleFlipAtReader() {
	r := faultinject.FlipAtReader(strings.NewReader(`{"value":12345}`), 10, 1<<2)
	b, _ := io.ReadAll(r)
	fmt.Printf("%s\n", b)
	// Output: {"value":16345}
}

func ExampleStallReader() {
	s := faultinject.StallReader(strings.NewReader("before|after"), 7, 20*time.Millisecond)
	start := time.Now()
	b, _ := io.ReadAll(s)
	fmt.Println(string(b), time.Since(start) >= 20*time.Millisecond)
	// Output: before|after true
}

func ExampleFullPipeWriter() {
	var buf bytes.Buffer
	f := faultinject.FullPipeWriter(&buf, 2, time.Minute)
	f.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	n, err := f.Write([]byte("hello"))
	fmt.Println(n, errors.Is(err, os.ErrDeadlineExceeded), buf.String())
	// Output: 2 true he
}

func ExampleHalfCloseWriter() {
	var buf bytes.Buffer // not a socket: its writes fail, nothing is shut
	w := faultinject.HalfCloseWriter(&buf, 3)
	n, err := w.Write([]byte("hello"))
	fmt.Println(n, err, buf.String())
	// Output: 3 faultinject: write side shut down hel
}

func ExampleEarlyEOFReader() {
	b, err := io.ReadAll(faultinject.EarlyEOFReader(strings.NewReader(`{"a":1}`+"\n"), 4))
	fmt.Printf("%q %v\n", b, err)
	// Output: "{\"a\"" <nil>
}

func ExampleEPIPEWriter() {
	w := faultinject.EPIPEWriter(io.Discard, 3)
	n, err := w.Write([]byte("hello"))
	fmt.Println(n, errors.Is(err, syscall.EPIPE), err)
	// Output: 3 true write: broken pipe
}
