package faultinject_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/internal/pipe"
	"github.com/shmlab/shmlab/shm"
)

// ---- unit tests of the wrappers ----

var byteText = []byte(`{"isSharedMemoryMessage":true,"method":"set","uuid":1,"key":"k","value":[1,2,3]}` + "\n")

// byteReadPieces reads r to the end with a large buffer and returns what each
// read returned.
func byteReadPieces(t *testing.T, r io.Reader) []string {
	t.Helper()
	var pieces []string
	buf := make([]byte, 1<<10)
	for range 10000 {
		n, err := r.Read(buf)
		if n > 0 {
			pieces = append(pieces, string(buf[:n]))
		}
		if err == io.EOF {
			return pieces
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	t.Fatal("reader never ended")
	return nil
}

// byteRecorder records each write it takes.
type byteRecorder struct {
	writes []string
	closed bool
}

func (r *byteRecorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *byteRecorder) Close() error { r.closed = true; return nil }

func (r *byteRecorder) text() string {
	var b bytes.Buffer
	for _, w := range r.writes {
		b.WriteString(w)
	}
	return b.String()
}

func TestByteShortReader(t *testing.T) {
	long := bytes.Repeat(byteText, 20)
	for _, seed := range []uint64{1, 2, 3} {
		pieces := byteReadPieces(t, faultinject.ShortReader(bytes.NewReader(long), seed))
		if diff := cmp.Diff(string(long), byteJoin(pieces)); diff != "" {
			t.Errorf("seed %d: stream mismatch (-want +got):\n%s", seed, diff)
		}
		for _, p := range pieces {
			if len(p) > faultinject.MaxShort {
				t.Errorf("seed %d: a read of %d bytes, want at most %d", seed, len(p), faultinject.MaxShort)
			}
		}
		again := byteReadPieces(t, faultinject.ShortReader(bytes.NewReader(long), seed))
		if diff := cmp.Diff(pieces, again); diff != "" {
			t.Errorf("seed %d: the same seed cut differently (-first +second):\n%s", seed, diff)
		}
	}
	a := byteReadPieces(t, faultinject.ShortReader(bytes.NewReader(long), 1))
	b := byteReadPieces(t, faultinject.ShortReader(bytes.NewReader(long), 2))
	if cmp.Equal(a, b) {
		t.Error("seeds 1 and 2 cut the stream the same way")
	}
}

func byteJoin(pieces []string) string {
	var b bytes.Buffer
	for _, p := range pieces {
		b.WriteString(p)
	}
	return b.String()
}

func TestSplitReader(t *testing.T) {
	for at := range int64(len(byteText)) + 2 {
		got := byteReadPieces(t, faultinject.SplitReader(bytes.NewReader(byteText), at))
		want := []string{string(byteText)}
		if at > 0 && at < int64(len(byteText)) {
			want = []string{string(byteText[:at]), string(byteText[at:])}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("SplitReader at %d: mismatch (-want +got):\n%s", at, diff)
		}
	}
}

func TestByteShortWriter(t *testing.T) {
	long := bytes.Repeat(byteText, 10)
	var rec byteRecorder
	w := faultinject.ShortWriter(&rec, 7)
	n, err := w.Write(long)
	if n != len(long) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(long))
	}
	if diff := cmp.Diff(string(long), rec.text()); diff != "" {
		t.Errorf("written mismatch (-want +got):\n%s", diff)
	}
	for _, p := range rec.writes {
		if len(p) == 0 || len(p) > faultinject.MaxShort {
			t.Errorf("an inner write of %d bytes, want 1 to %d", len(p), faultinject.MaxShort)
		}
	}
	if len(rec.writes) < len(long)/faultinject.MaxShort {
		t.Errorf("%d inner writes for %d bytes", len(rec.writes), len(long))
	}
}

// byteErrWriter takes n bytes, then fails.
type byteErrWriter struct{ n int }

func (e *byteErrWriter) Write(p []byte) (int, error) {
	if len(p) <= e.n {
		e.n -= len(p)
		return len(p), nil
	}
	k := e.n
	e.n = 0
	return k, errors.New("broken")
}

// byteLazyWriter takes nothing and reports no error.
type byteLazyWriter struct{}

func (byteLazyWriter) Write(p []byte) (int, error) { return 0, nil }

func TestByteShortWriterErrors(t *testing.T) {
	n, err := faultinject.ShortWriter(&byteErrWriter{n: 50}, 1).Write(byteText)
	if n != 50 || err == nil || err.Error() != "broken" {
		t.Errorf("Write = %d, %v; want 50, broken", n, err)
	}
	n, err = faultinject.ShortWriter(byteLazyWriter{}, 1).Write(byteText)
	if n != 0 || err != io.ErrShortWrite {
		t.Errorf("Write to a lazy writer = %d, %v; want 0, io.ErrShortWrite", n, err)
	}
}

func TestTornWriter(t *testing.T) {
	type write struct {
		N   int
		Err error
	}
	var rec byteRecorder
	w := faultinject.TornWriter(&rec, 15)
	var got []write
	for _, p := range []string{"0123456789", "abcdefghij", "ABCDEFGHIJ"} {
		n, err := w.Write([]byte(p))
		got = append(got, write{n, err})
	}
	want := []write{{10, nil}, {5, faultinject.ErrWriterDied}, {0, faultinject.ErrWriterDied}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("writes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("0123456789abcde", rec.text()); diff != "" {
		t.Errorf("written mismatch (-want +got):\n%s", diff)
	}
	if !rec.closed {
		t.Error("the writer died but its stream was not closed")
	}
}

func TestBitFlipReader(t *testing.T) {
	data := bytes.Repeat([]byte{0x55}, 20000)
	read := func(r io.Reader) []byte {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := read(faultinject.BitFlipReader(bytes.NewReader(data), 1, 0)); !bytes.Equal(got, data) {
		t.Error("p = 0 changed the stream")
	}
	for i, b := range read(faultinject.BitFlipReader(bytes.NewReader(data), 1, 1)) {
		if d := b ^ 0x55; d == 0 || d&(d-1) != 0 {
			t.Fatalf("p = 1: byte %d is %#x, want one bit flipped from 0x55", i, b)
		}
	}
	whole := read(faultinject.BitFlipReader(bytes.NewReader(data), 9, 0.05))
	pieces := read(faultinject.BitFlipReader(iotest.OneByteReader(bytes.NewReader(data)), 9, 0.05))
	if !bytes.Equal(whole, pieces) {
		t.Error("seed 9: the flips depend on how the reads fall")
	}
	flips := 0
	for _, b := range whole {
		if b != 0x55 {
			flips++
		}
	}
	if flips < 800 || flips > 1200 { // 1000 expected; the seed makes it exact
		t.Errorf("seed 9, p = 0.05: %d of %d bytes flipped", flips, len(data))
	}
}

func TestFlipAtReader(t *testing.T) {
	for _, at := range []int64{0, 1, 40, int64(len(byteText)) - 1} {
		for name, mk := range map[string]func(io.Reader) io.Reader{
			"whole": func(r io.Reader) io.Reader { return r },
			"one":   iotest.OneByteReader,
			"half":  iotest.HalfReader,
		} {
			r := faultinject.FlipAtReader(mk(bytes.NewReader(byteText)), at, 1<<2)
			got, _ := io.ReadAll(r)
			want := bytes.Clone(byteText)
			want[at] ^= 1 << 2
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("offset %d, %s reads: mismatch (-want +got):\n%s", at, name, diff)
			}
		}
	}
}

func TestEarlyEOFReader(t *testing.T) {
	got, err := io.ReadAll(faultinject.EarlyEOFReader(bytes.NewReader(byteText), 10))
	if diff := cmp.Diff(string(byteText[:10]), string(got)); diff != "" || err != nil {
		t.Errorf("ReadAll: error %v, mismatch (-want +got):\n%s", err, diff)
	}
}

func TestEPIPEWriter(t *testing.T) {
	a, b := byteNetPair(t)
	f, err := os.CreateTemp(t.TempDir(), "epipe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		w    io.Writer
		want any
	}{
		{a, new(*net.OpError)},
		{f, new(*os.PathError)},
		{new(bytes.Buffer), new(*os.SyscallError)},
	} {
		w := faultinject.EPIPEWriter(tc.w, 4)
		n, err := w.Write([]byte("abcdef"))
		if n != 4 || !errors.Is(err, syscall.EPIPE) || !errors.As(err, tc.want) {
			t.Errorf("%T: Write = %d, %v (%T); want 4 and EPIPE as %T", tc.w, n, err, err, tc.want)
		}
		if n, err := w.Write([]byte("g")); n != 0 || !errors.Is(err, syscall.EPIPE) {
			t.Errorf("%T: second Write = %d, %v; want 0, EPIPE", tc.w, n, err)
		}
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(b, got); err != nil || string(got) != "abcd" {
		t.Errorf("the peer read %q, %v; want the 4 bytes before the fault", got, err)
	}
}

func byteNetPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	a, b, err := pipe.ConnPair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestHalfCloseWriter(t *testing.T) {
	a, b := byteNetPair(t)
	w := faultinject.HalfCloseWriter(a, 6)
	n, err := w.Write([]byte("abcdefgh"))
	if n != 6 || err != faultinject.ErrHalfClosed {
		t.Errorf("Write across the shutdown = %d, %v; want 6, ErrHalfClosed", n, err)
	}
	if n, err := w.Write([]byte("x")); n != 0 || err != faultinject.ErrHalfClosed {
		t.Errorf("Write after the shutdown = %d, %v; want 0, ErrHalfClosed", n, err)
	}
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(b)
	if string(got) != "abcdef" || err != nil {
		t.Errorf("the peer read %q, %v; want abcdef, then the end of the stream", got, err)
	}
	if _, err := b.Write([]byte("still")); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, 5)
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(a, back); err != nil || string(back) != "still" {
		t.Errorf("the half-closed side read %q, %v; want still", back, err)
	}
}

func TestHalfCloseSocketFile(t *testing.T) {
	f0, f1, err := pipe.SocketPair("a", "b")
	if err != nil {
		t.Fatal(err)
	}
	defer f0.Close()
	defer f1.Close()
	if err := faultinject.CloseWrite(f0); err != nil {
		t.Fatalf("CloseWrite of a socket file: %v", err)
	}
	if n, err := f1.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("the peer read %d, %v; want 0, EOF", n, err)
	}
	if _, err := f0.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("write after shutdown: %v, want EPIPE", err)
	}
	if err := faultinject.CloseWrite(new(bytes.Buffer)); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CloseWrite of a buffer: %v, want errors.ErrUnsupported", err)
	}
	// A plain writer cannot be shut, but its writes still fail.
	w := faultinject.HalfCloseWriter(new(bytes.Buffer), 0)
	if _, err := w.Write([]byte("x")); err != faultinject.ErrHalfClosed {
		t.Errorf("Write = %v, want ErrHalfClosed", err)
	}
}

func TestStallReader(t *testing.T) {
	const d = 60 * time.Millisecond
	s := faultinject.StallReader(bytes.NewReader(byteText), 10, d)
	buf := make([]byte, 100)
	start := time.Now()
	if n, err := s.Read(buf); n != 10 || err != nil {
		t.Fatalf("first read = %d, %v; want the 10 bytes before the stall", n, err)
	}
	if el := time.Since(start); el >= d {
		t.Errorf("the bytes before the stall took %v", el)
	}
	s.SetReadDeadline(time.Now().Add(d / 4))
	if n, err := s.Read(buf); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline = %d, %v; want 0, os.ErrDeadlineExceeded", n, err)
	}
	s.SetReadDeadline(time.Time{})
	if n, err := s.Read(buf); n == 0 || err != nil {
		t.Errorf("read after the stall = %d, %v", n, err)
	}
	if el := time.Since(start); el < d {
		t.Errorf("the stall lasted %v, want %v", el, d)
	}
	// Release ends a long stall at once.
	s = faultinject.StallReader(bytes.NewReader(byteText), 0, time.Hour)
	time.AfterFunc(10*time.Millisecond, s.Release)
	if got := byteReadPieces(t, s); byteJoin(got) != string(byteText) {
		t.Errorf("after Release read %q", got)
	}
}

func TestFullPipeWriter(t *testing.T) {
	var rec byteRecorder
	f := faultinject.FullPipeWriter(&rec, 4, time.Hour)
	f.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	n, err := f.Write([]byte("abcdefgh"))
	if n != 4 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Write into a full pipe = %d, %v; want 4, os.ErrDeadlineExceeded", n, err)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("the write gave up after %v, before its deadline", el)
	}
	f.SetWriteDeadline(time.Time{})
	time.AfterFunc(10*time.Millisecond, f.Release)
	if n, err := f.Write([]byte("efgh")); n != 4 || err != nil {
		t.Errorf("Write after Release = %d, %v", n, err)
	}
	if diff := cmp.Diff("abcdefgh", rec.text()); diff != "" {
		t.Errorf("written mismatch (-want +got):\n%s", diff)
	}
	// A pipe full for a while drains by itself.
	f = faultinject.FullPipeWriter(&rec, 0, 30*time.Millisecond)
	start = time.Now()
	if _, err := f.Write([]byte("x")); err != nil || time.Since(start) < 30*time.Millisecond {
		t.Errorf("Write = %v after %v; want nil after 30ms", err, time.Since(start))
	}
}

func TestByteStream(t *testing.T) {
	a, _ := byteNetPair(t)
	var fp *faultinject.FullPipe
	s := faultinject.Stream(a, nil, func(w io.Writer) io.Writer {
		fp = faultinject.FullPipeWriter(w, 0, time.Hour)
		return fp
	})
	if _, ok := s.(syscall.Conn); ok {
		t.Error("Stream exposes the socket: a codec could write around the wrappers")
	}
	s.(interface{ SetWriteDeadline(time.Time) error }).SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := s.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Write through a full pipe with a deadline: %v", err)
	}
	s.(interface{ SetWriteDeadline(time.Time) error }).SetWriteDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := s.Write([]byte("x")); done <- err }()
	time.Sleep(5 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("a write blocked when the stream closed returned %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release a blocked write")
	}
	// Nil wrappers pass everything through.
	c, d := byteNetPair(t)
	s = faultinject.Stream(c, nil, nil)
	if _, err := s.Write(byteText); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(byteText))
	if _, err := io.ReadFull(d, got); err != nil || !bytes.Equal(got, byteText) {
		t.Errorf("read %q, %v", got, err)
	}
}

// ---- on the wire: the real codec, master and client over a socket pair ----

// wireSide is how one end of a test connection is wrapped.
type wireSide struct {
	r    func(io.Reader) io.Reader
	w    func(io.Writer) io.Writer
	opts shm.StreamOptions
}

// wireSides returns the plain ends of a connection speaking a codec.
func wireSides(compact bool) (master, worker wireSide) {
	return wireSide{opts: shm.StreamOptions{AcceptCompact: true}}, wireSide{opts: shm.StreamOptions{Compact: compact}}
}

func (s wireSide) conn(nc net.Conn) shm.Conn {
	if s.r == nil && s.w == nil {
		return shm.NewStreamConn(nc, s.opts)
	}
	return shm.NewStreamConn(faultinject.Stream(nc, s.r, s.w), s.opts)
}

func wireCodec(compact bool) string {
	if compact {
		return "compact"
	}
	return "json"
}

// wireLink is one worker's connection to a master.
type wireLink struct {
	c    *shm.Client
	mc   shm.Conn
	done chan struct{} // closed when Serve returns
	err  error         // what Serve returned
	once sync.Once
}

var wireInc atomic.Uint64

// wireConnect serves a new connection of m on a socket pair, each end
// wrapped as asked, and returns the client on the worker's end.
func wireConnect(t *testing.T, m *shm.Master, master, worker wireSide, co shm.ClientOptions) *wireLink {
	t.Helper()
	a, b, err := pipe.ConnPair()
	if err != nil {
		t.Fatal(err)
	}
	l := &wireLink{mc: master.conn(a), done: make(chan struct{})}
	id := shm.Identity{Worker: 1, Inc: wireInc.Add(1)}
	go func() {
		defer close(l.done)
		l.err = m.Serve(l.mc, id)
	}()
	l.c = shm.NewClient(worker.conn(b), co)
	t.Cleanup(func() { l.close(t) })
	return l
}

// served waits for Serve to return by itself and returns its result.
func (l *wireLink) served(t *testing.T) error {
	t.Helper()
	select {
	case <-l.done:
		return l.err
	case <-time.After(5 * time.Second):
		t.Fatal("the master did not end the connection within 5s")
		return nil
	}
}

// close closes both ends and returns what Serve returned.
func (l *wireLink) close(t *testing.T) error {
	l.once.Do(func() {
		l.c.Close()
		select {
		case <-l.done:
		case <-time.After(time.Second):
			l.mc.Close() // a master blocked in a stall or a full pipe
		}
	})
	select {
	case <-l.done:
		return l.err
	case <-time.After(5 * time.Second):
		t.Error("Serve did not return within 5s of the close")
		return nil
	}
}

// wirePilot runs ops on a clean connection and returns the bytes the
// master read: the request stream that faults at offsets then cut.
func wirePilot(t *testing.T, compact bool, ops func(c *shm.Client) error) []byte {
	t.Helper()
	var tap bytes.Buffer
	master, worker := wireSides(compact)
	master.r = func(r io.Reader) io.Reader { return io.TeeReader(r, &tap) }
	l := wireConnect(t, shm.NewMaster(shm.MasterOptions{}), master, worker, shm.ClientOptions{})
	if err := ops(l.c); err != nil {
		t.Fatalf("%s pilot: %v", wireCodec(compact), err)
	}
	if err := l.close(t); err != nil {
		t.Fatalf("%s pilot: Serve: %v", wireCodec(compact), err)
	}
	return tap.Bytes()
}

// wireFrameEnds returns the offsets at which the request stream's frames end
// (the compact codec's hello line is a frame of its own).
func wireFrameEnds(stream []byte, compact bool) []int {
	var ends []int
	pos := 0
	if compact {
		pos = bytes.IndexByte(stream, '\n') + 1
		ends = append(ends, pos)
		for pos+4 <= len(stream) {
			pos += 4 + int(binary.LittleEndian.Uint32(stream[pos:]))
			ends = append(ends, pos)
		}
		return ends
	}
	for i, b := range stream {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	return ends
}

// wireCtx bounds one call of a test.
func wireCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func wireIndefinite(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || shm.IsDefinite(err) {
		t.Errorf("%s: error %v, want an indefinite one", what, err)
	}
}

// wireServing checks that m still serves a fresh, fault-free connection.
func wireServing(t *testing.T, m *shm.Master) {
	t.Helper()
	master, worker := wireSides(false)
	l := wireConnect(t, m, master, worker, shm.ClientOptions{})
	ctx := wireCtx(t, 5*time.Second)
	if n, err := l.c.Add(ctx, "control", 1); err != nil || n < 1 {
		t.Errorf("a healthy connection to the same master: Add = %d, %v", n, err)
	}
	l.close(t)
}

func wireStats(t *testing.T, m *shm.Master, want shm.MasterStats) {
	t.Helper()
	got := m.Stats()
	got.Store = shm.StoreStats{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("master stats mismatch (-want +got):\n%s", diff)
	}
}

// TestSplitFrameEveryPoint: a request stream split at every offset, on
// both codecs, is reassembled by the master's frame reader and answered
// correctly; nothing is refused and no connection ends.
func TestSplitFrameEveryPoint(t *testing.T) {
	for _, compact := range []bool{false, true} {
		key := func(i int) string { return fmt.Sprintf("split-%04d", i) }
		val := func(i int) shm.Value { return shm.String(fmt.Sprintf("v%04d", i)) }
		ops := func(c *shm.Client, i int) error {
			ctx := wireCtx(t, 5*time.Second)
			if err := c.Set(ctx, key(i), val(i)); err != nil {
				return err
			}
			v, ok, err := c.Get(ctx, key(i))
			if err != nil || !ok || !v.Equal(val(i)) {
				return fmt.Errorf("get %s = %s, %v, %v; want %s", key(i), v, ok, err, val(i))
			}
			return nil
		}
		stream := wirePilot(t, compact, func(c *shm.Client) error { return ops(c, 0) })
		m := shm.NewMaster(shm.MasterOptions{})
		for at := 1; at < len(stream); at++ {
			master, worker := wireSides(compact)
			master.r = func(r io.Reader) io.Reader { return faultinject.SplitReader(r, int64(at)) }
			l := wireConnect(t, m, master, worker, shm.ClientOptions{})
			if err := ops(l.c, at); err != nil {
				t.Errorf("%s stream split at byte %d of %d: %v", wireCodec(compact), at, len(stream), err)
			}
			if err := l.close(t); err != nil {
				t.Errorf("%s stream split at byte %d: Serve: %v", wireCodec(compact), at, err)
			}
		}
		wireStats(t, m, shm.MasterStats{Requests: uint64(2 * (len(stream) - 1))})
		t.Logf("%s: %d frames split at each of %d points", wireCodec(compact), len(wireFrameEnds(stream, compact)), len(stream)-1)
	}
}

// TestByteShortOnTheWire: both ends read and write in random pieces of 1
// to 32 bytes; many pipelined calls all get their own right answers.
func TestByteShortOnTheWire(t *testing.T) {
	const seed = 20240601
	for _, compact := range []bool{false, true} {
		master, worker := wireSides(compact)
		master.r = func(r io.Reader) io.Reader { return faultinject.ShortReader(r, seed) }
		master.w = func(w io.Writer) io.Writer { return faultinject.ShortWriter(w, seed+1) }
		worker.r = func(r io.Reader) io.Reader { return faultinject.ShortReader(r, seed+2) }
		worker.w = func(w io.Writer) io.Writer { return faultinject.ShortWriter(w, seed+3) }
		m := shm.NewMaster(shm.MasterOptions{})
		l := wireConnect(t, m, master, worker, shm.ClientOptions{Timeout: 10 * time.Second})
		const n = 300
		got := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			req := shm.Message{Method: shm.MethodAdd, Key: fmt.Appendf(nil, "short-%d", i%7), Delta: int64(i), Has: shm.HasKey | shm.HasDelta}
			l.c.Go(&req, func(rep shm.Message, err error) {
				defer wg.Done()
				got[i] = fmt.Sprint(err)
			})
		}
		wg.Wait()
		for i := range got {
			if got[i] != "<nil>" {
				t.Errorf("%s, seed %d: call %d: %s", wireCodec(compact), seed, i, got[i])
			}
		}
		for k := range 7 {
			want := 0
			for i := k; i < n; i += 7 {
				want += i
			}
			if v, _ := m.Get(fmt.Sprintf("short-%d", k)); string(v) != fmt.Sprint(want) {
				t.Errorf("%s, seed %d: short-%d = %s, want %d", wireCodec(compact), seed, k, v, want)
			}
		}
		if err := l.close(t); err != nil {
			t.Errorf("%s, seed %d: Serve: %v", wireCodec(compact), seed, err)
		}
		wireStats(t, m, shm.MasterStats{Requests: n})
	}
}

// TestTornFrameEndsOnlyThatConnection: a worker dies after each possible
// number of bytes of its two requests. Inside a frame, the master ends
// that connection as torn (io.ErrUnexpectedEOF) and counts it; a frame
// cut off is never applied, a whole one always is; the caller whose
// request was cut gets an indefinite error; other connections go on.
func TestTornFrameEndsOnlyThatConnection(t *testing.T) {
	for _, compact := range []bool{false, true} {
		key := func(i int, s string) string { return fmt.Sprintf("torn-%04d-%s", i, s) }
		ops := func(c *shm.Client, i int) [2]error {
			ctx := wireCtx(t, 5*time.Second)
			return [2]error{c.Set(ctx, key(i, "a"), shm.Int(1)), c.Set(ctx, key(i, "b"), shm.Int(2))}
		}
		stream := wirePilot(t, compact, func(c *shm.Client) error { errs := ops(c, 0); return errors.Join(errs[:]...) })
		ends := wireFrameEnds(stream, compact)
		starts := append([]int{0}, ends[:len(ends)-1]...)
		reqStarts, reqEnds := starts[len(ends)-2:], ends[len(ends)-2:] // the two requests, after the hello if any
		m := shm.NewMaster(shm.MasterOptions{})
		other := wireConnect(t, m, wireSide{}, wireSide{}, shm.ClientOptions{})
		torn := 0
		for n := range len(stream) {
			what := fmt.Sprintf("%s, worker died after %d of %d bytes", wireCodec(compact), n, len(stream))
			master, worker := wireSides(compact)
			worker.w = func(w io.Writer) io.Writer { return faultinject.TornWriter(w, int64(n)) }
			l := wireConnect(t, m, master, worker, shm.ClientOptions{})
			errs := ops(l.c, n)
			err := l.served(t)
			boundary := n == 0
			for _, e := range ends {
				boundary = boundary || n == e
			}
			if !boundary {
				torn++
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("%s: Serve returned %v, want a torn frame (io.ErrUnexpectedEOF)", what, err)
				}
			}
			for j, s := range []string{"a", "b"} {
				_, applied := m.Get(key(n, s))
				if want := n >= reqEnds[j]; applied != want {
					t.Errorf("%s: request %s applied = %v, want %v", what, s, applied, want)
				}
				if n > reqStarts[j] && n < reqEnds[j] {
					wireIndefinite(t, what+": the call whose frame was torn", errs[j])
				}
			}
			if err := other.c.Set(wireCtx(t, 5*time.Second), "other", shm.Int(int64(n))); err != nil {
				t.Fatalf("%s: another connection failed: %v", what, err)
			}
		}
		if d := m.Stats().Disconnected; d < uint64(torn) || d > uint64(torn+1) {
			// At the end of the first request the master may also fail
			// to write the reply to the dead worker (EPIPE).
			t.Errorf("%s: master counted %d disconnections, want %d torn frames (+1)", wireCodec(compact), d, torn)
		}
		t.Logf("%s: %d torn frames ended %d connections; Stats %+v", wireCodec(compact), torn, m.Stats().Disconnected, m.Stats())
	}
}

// wireStore returns the master's store as key: value text.
func wireStore(m *shm.Master) map[string]string {
	rep := m.Apply(&shm.Message{Kind: shm.KindRequest, Method: shm.MethodKeys})
	var keys []string
	rep.Value.Unmarshal(&keys)
	st := make(map[string]string, len(keys))
	for _, k := range keys {
		v, _ := m.Get(k)
		st[k] = string(v)
	}
	return st
}

// TestBitFlipEveryByteOfARequest flips one bit (drawn from a seed) in
// each byte of a set request in turn, on both codecs, each on a fresh
// master, and classifies what happens. It holds the master to: no crash
// and no hang (Serve returns); a definite error reply means nothing was
// applied; the store holds something other than nothing or exactly what
// was sent only when the flip hit the key's or the value's bytes; and a
// success reply with nothing stored only when it hit the method or, on
// JSON lines, the name of the "value" member (a set without a value is
// the article's remove, answered "OK"). Neither
// codec has a checksum: a flipped key or value that is still valid is
// applied silently, and the compact codec's method byte can turn set
// into delete (answered false, which Client.Set takes for success). Those
// cases are counted and logged, not refused.
func TestBitFlipEveryByteOfARequest(t *testing.T) {
	const seed = 7
	for _, compact := range []bool{false, true} {
		stream := wirePilot(t, compact, func(c *shm.Client) error { return flipSet(wireCtx(t, 5*time.Second), c) })
		region := flipRegions(stream, compact)
		rng := rand.New(rand.NewPCG(seed, 0))
		var mu sync.Mutex
		outcomes := map[string]int{}
		var silent []string
		sem := make(chan struct{}, 8) // flips at once
		var wg sync.WaitGroup
		for at := range stream {
			mask := byte(1) << rng.IntN(8)
			what := fmt.Sprintf("%s, seed %d, byte %d (%q) ^ %#x in the %s", wireCodec(compact), seed, at, stream[at], mask, region(at))
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				outcome, changed := flipOnce(t, what, compact, at, mask, region(at))
				mu.Lock()
				defer mu.Unlock()
				outcomes[outcome]++
				if changed != "" {
					silent = append(silent, fmt.Sprintf("byte %d (%s): %s", at, region(at), changed))
				}
			}()
		}
		wg.Wait()
		sort.Strings(silent)
		t.Logf("%s, seed %d, %d flips: %v", wireCodec(compact), seed, len(stream), outcomes)
		t.Logf("%s: silently applied otherwise: %v", wireCodec(compact), silent)
		if outcomes[shm.CodeBadRequest]+outcomes[shm.CodeWrongType]+outcomes[shm.CodeUnknownMethod] == 0 {
			t.Errorf("%s: no flip was refused with an error reply: %v", wireCodec(compact), outcomes)
		}
	}
}

const flipKey, flipValue = "flip-key", "123456789"

func flipSet(ctx context.Context, c *shm.Client) error {
	return c.Set(ctx, flipKey, shm.Value(flipValue))
}

// flipRegions returns which part of the set request in stream an offset
// is in: "key", "value", "method", "value name" (JSON) or "other".
func flipRegions(stream []byte, compact bool) func(at int) string {
	method, methodLen := bytes.Index(stream, []byte(`"set"`))+1, 3 // JSON: the method's name
	if compact {
		method, methodLen = wireFrameEnds(stream, true)[0]+5, 1 // after the hello: length, kind, method
	}
	regions := []struct {
		name    string
		at, len int
	}{
		{"key", bytes.Index(stream, []byte(flipKey)), len(flipKey)},
		{"value", bytes.Index(stream, []byte(flipValue)), len(flipValue)},
		{"method", method, methodLen},
	}
	if !compact { // a set without its "value" member is the article's remove
		regions = append(regions, struct {
			name    string
			at, len int
		}{"value name", bytes.Index(stream, []byte(`"value":`)) + 1, len("value")})
	}
	return func(at int) string {
		for _, r := range regions {
			if at >= r.at && at < r.at+r.len {
				return r.name
			}
		}
		return "other"
	}
}

// flipOnce sends the set with one byte flipped on its way to a fresh
// master and checks the outcome; it returns the outcome and, if the
// store holds something other than what was sent, what.
func flipOnce(t *testing.T, what string, compact bool, at int, mask byte, region string) (outcome, changed string) {
	m := shm.NewMaster(shm.MasterOptions{})
	master, worker := wireSides(compact)
	master.r = func(r io.Reader) io.Reader { return faultinject.FlipAtReader(r, int64(at), mask) }
	l := wireConnect(t, m, master, worker, shm.ClientOptions{})
	err := flipSet(wireCtx(t, 200*time.Millisecond), l.c)
	serveErr := l.close(t)
	st := wireStore(m)
	outcome = "ok"
	if e := (*shm.Error)(nil); errors.As(err, &e) {
		outcome = e.Code
	}
	if serveErr != nil {
		outcome += ", connection ended"
	}
	switch {
	case err == nil && len(st) == 0:
		if region != "method" && region != "value name" {
			t.Errorf("%s: a success reply, but nothing applied", what)
		}
		return outcome + ", another method", "set answered, nothing stored"
	case shm.IsDefinite(err) && len(st) != 0:
		t.Errorf("%s: definite error %v, but the store holds %v", what, err, st)
	case len(st) != 0 && !cmp.Equal(st, map[string]string{flipKey: flipValue}):
		if region != "key" && region != "value" {
			t.Errorf("%s: a flip outside the key and value applied %v (reply error %v)", what, st, err)
		}
		return outcome + ", applied changed", fmt.Sprint(st)
	}
	return outcome, ""
}

// TestBitFlipRandomReplies flips random bits in the replies a client
// reads. The client must not crash and must end every call exactly once;
// replies whose value was changed are counted (JSON lines and the compact
// codec carry no checksum, so a client cannot notice them).
func TestBitFlipRandomReplies(t *testing.T) {
	const seed, p = 11, 0.002
	for _, compact := range []bool{false, true} {
		m := shm.NewMaster(shm.MasterOptions{})
		const n = 300
		for i := range n {
			m.Set(fmt.Sprintf("k%03d", i), shm.Int(int64(1000+i)))
		}
		master, worker := wireSides(compact)
		worker.r = func(r io.Reader) io.Reader { return faultinject.BitFlipReader(r, seed, p) }
		l := wireConnect(t, m, master, worker, shm.ClientOptions{Timeout: 300 * time.Millisecond})
		var calls [n]atomic.Int32
		var mu sync.Mutex
		outcomes := map[string]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			req := shm.Message{Method: shm.MethodGet, Key: fmt.Appendf(nil, "k%03d", i), Has: shm.HasKey}
			l.c.Go(&req, func(rep shm.Message, err error) {
				defer wg.Done()
				calls[i].Add(1)
				outcome := "right value"
				var e *shm.Error
				switch {
				case errors.As(err, &e):
					outcome = e.Code
				case err != nil:
					outcome = err.Error()
				case string(rep.Value) != fmt.Sprint(1000+i):
					outcome = "wrong value"
				}
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
			})
		}
		wireWait(t, &wg, 5*time.Second)
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Errorf("%s, seed %d: call %d ended %d times", wireCodec(compact), seed, i, c)
			}
		}
		if p := l.c.Pending(); p != 0 {
			t.Errorf("%s: %d calls left pending", wireCodec(compact), p)
		}
		t.Logf("%s, seed %d, p %v: %v", wireCodec(compact), seed, p, outcomes)
		l.close(t)
		wireServing(t, m)
	}
}

func wireWait(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(patience.Bound(d)):
		t.Fatalf("calls did not end within %v", patience.Bound(d))
	}
}

// TestStallDelaysButLosesNothing: the master stops reading in the middle
// of a worker's second request. The call waits out the stall and
// succeeds, nothing is lost, the master keeps serving another connection
// meanwhile; a caller whose deadline is shorter than the stall gets an
// indefinite timeout, and its request is applied after the stall anyway.
func TestStallDelaysButLosesNothing(t *testing.T) {
	const d = 300 * time.Millisecond
	for _, compact := range []bool{false, true} {
		ops := func(c *shm.Client, ctx context.Context) error {
			return errors.Join(c.Set(ctx, "a", shm.Int(1)), c.Set(ctx, "b", shm.Int(2)))
		}
		stream := wirePilot(t, compact, func(c *shm.Client) error { return ops(c, wireCtx(t, 5*time.Second)) })
		ends := wireFrameEnds(stream, compact)
		after := int64(ends[len(ends)-2] + 3) // 3 bytes into the second request
		for _, timeout := range []time.Duration{5 * time.Second, d / 6} {
			what := fmt.Sprintf("%s, stall of %v after byte %d, call timeout %v", wireCodec(compact), d, after, timeout)
			m := shm.NewMaster(shm.MasterOptions{})
			other := wireConnect(t, m, wireSide{}, wireSide{}, shm.ClientOptions{})
			master, worker := wireSides(compact)
			master.r = func(r io.Reader) io.Reader { return faultinject.StallReader(r, after, d) }
			l := wireConnect(t, m, master, worker, shm.ClientOptions{})
			if err := l.c.Set(wireCtx(t, 5*time.Second), "a", shm.Int(1)); err != nil {
				t.Fatalf("%s: the call before the stall: %v", what, err)
			}
			start := time.Now()
			ctx := wireCtx(t, timeout)
			stalled := make(chan error, 1)
			go func() { stalled <- l.c.Set(ctx, "b", shm.Int(2)) }()
			if err := other.c.Set(wireCtx(t, 5*time.Second), "other", shm.Int(3)); err != nil {
				t.Errorf("%s: another connection during the stall: %v", what, err)
			}
			otherDone := time.Since(start)
			err := <-stalled
			took := time.Since(start)
			if timeout > d {
				if err != nil || took < d || otherDone >= took {
					t.Errorf("%s: the stalled call returned %v after %v (another connection's after %v); want success after %v, the other first", what, err, took, otherDone, d)
				}
			} else {
				wireIndefinite(t, what+": the call that gave up during the stall", err)
			}
			if !wireEventually(func() bool { v, _ := m.Get("b"); return string(v) == "2" }, 5*time.Second) {
				t.Errorf("%s: the stalled request was never applied", what)
			}
			// One more call, so that the late reply is read before the
			// close (a socket closed with unread data resets the peer).
			if v, _, err := l.c.Get(wireCtx(t, 5*time.Second), "b"); err != nil || string(v) != "2" {
				t.Errorf("%s: get b after the stall = %s, %v", what, v, err)
			}
			if err := l.close(t); err != nil {
				t.Errorf("%s: Serve: %v", what, err)
			}
			wireStats(t, m, shm.MasterStats{Requests: 4})
		}
	}
}

// wireEventually polls cond until it holds or d (grown by the patience
// factor: it waits for what must happen) passes.
func wireEventually(cond func() bool, d time.Duration) bool {
	deadline := time.Now().Add(patience.Bound(d))
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// TestFullPipeTimesOutOnlyThatWorker: the master's socket to one worker
// is full (the worker stopped reading). The master's reply write blocks
// until StreamOptions.WriteTimeout, then the master ends that connection
// (counted in Stats) and the worker's call fails indefinitely although
// its request was applied; another connection is served throughout. A
// pipe that drains before the timeout only delays the reply.
func TestFullPipeTimesOutOnlyThatWorker(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, compact := range []bool{false, true} {
		m := shm.NewMaster(shm.MasterOptions{})
		other := wireConnect(t, m, wireSide{}, wireSide{}, shm.ClientOptions{})
		master, worker := wireSides(compact)
		master.opts.WriteTimeout = timeout
		master.w = func(w io.Writer) io.Writer { return faultinject.FullPipeWriter(w, 0, time.Minute) }
		l := wireConnect(t, m, master, worker, shm.ClientOptions{})
		start := time.Now()
		err := l.c.Set(wireCtx(t, 5*time.Second), "full", shm.Int(1))
		wireIndefinite(t, wireCodec(compact)+": the call whose reply could not be written", err)
		if took := time.Since(start); took < timeout {
			t.Errorf("%s: the call failed after %v, before the master's write timeout", wireCodec(compact), took)
		}
		if err := l.served(t); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: Serve returned %v, want os.ErrDeadlineExceeded", wireCodec(compact), err)
		}
		if v, _ := m.Get("full"); string(v) != "1" {
			t.Errorf("%s: full = %q, want the request applied", wireCodec(compact), v)
		}
		if err := other.c.Set(wireCtx(t, 5*time.Second), "other", shm.Int(2)); err != nil {
			t.Errorf("%s: another connection: %v", wireCodec(compact), err)
		}
		wireStats(t, m, shm.MasterStats{Requests: 2, Disconnected: 1})

		var fp *faultinject.FullPipe
		master.opts.WriteTimeout = 5 * time.Second
		master.w = func(w io.Writer) io.Writer { fp = faultinject.FullPipeWriter(w, 0, time.Minute); return fp }
		l = wireConnect(t, m, master, worker, shm.ClientOptions{})
		start = time.Now()
		time.AfterFunc(timeout, fp.Release)
		if err := l.c.Set(wireCtx(t, 5*time.Second), "drained", shm.Int(3)); err != nil || time.Since(start) < timeout {
			t.Errorf("%s: a pipe drained after %v: the call returned %v after %v", wireCodec(compact), timeout, err, time.Since(start))
		}
		if err := l.close(t); err != nil {
			t.Errorf("%s: Serve after the pipe drained: %v", wireCodec(compact), err)
		}
		wireStats(t, m, shm.MasterStats{Requests: 3, Disconnected: 1})
	}
}

// TestHalfCloseWorker: the worker shuts its writing side after its first
// request. The master answers it (the worker still reads), reads the end
// of the stream and ends the connection cleanly (nil, not counted); the
// worker's next call fails and is not applied.
func TestHalfCloseWorker(t *testing.T) {
	for _, compact := range []bool{false, true} {
		what := wireCodec(compact) + ", worker half-closed after its first request"
		stream := wirePilot(t, compact, func(c *shm.Client) error { return c.Set(wireCtx(t, 5*time.Second), "a", shm.Int(1)) })
		m := shm.NewMaster(shm.MasterOptions{})
		master, worker := wireSides(compact)
		worker.w = func(w io.Writer) io.Writer { return faultinject.HalfCloseWriter(w, int64(len(stream))) }
		l := wireConnect(t, m, master, worker, shm.ClientOptions{})
		if err := l.c.Set(wireCtx(t, 5*time.Second), "a", shm.Int(1)); err != nil {
			t.Errorf("%s: the request before the shutdown: %v", what, err)
		}
		if err := l.served(t); err != nil {
			t.Errorf("%s: Serve returned %v, want nil (a clean end)", what, err)
		}
		if err := l.c.Set(wireCtx(t, 5*time.Second), "b", shm.Int(2)); err == nil {
			t.Errorf("%s: a request after the shutdown succeeded", what)
		}
		if _, ok := m.Get("b"); ok {
			t.Errorf("%s: a request after the shutdown was applied", what)
		}
		wireStats(t, m, shm.MasterStats{Requests: 1})
		wireServing(t, m)
	}
}

// TestHalfCloseMaster: the master's writing side is shut when it writes
// its first reply (at its start, or 10 bytes in). The request was
// applied; the master's write fails with ErrHalfClosed and it ends that
// connection (counted); the worker reads the end of the stream (or a torn
// reply) and its call fails indefinitely; other connections go on.
func TestHalfCloseMaster(t *testing.T) {
	for _, compact := range []bool{false, true} {
		m := shm.NewMaster(shm.MasterOptions{})
		for i, after := range []int64{0, 10} {
			what := fmt.Sprintf("%s, master half-closed after %d bytes", wireCodec(compact), after)
			master, worker := wireSides(compact)
			master.w = func(w io.Writer) io.Writer { return faultinject.HalfCloseWriter(w, after) }
			l := wireConnect(t, m, master, worker, shm.ClientOptions{})
			key := fmt.Sprint("half-", after)
			err := l.c.Set(wireCtx(t, 5*time.Second), key, shm.Int(1))
			wireIndefinite(t, what, err)
			if err := l.served(t); !errors.Is(err, faultinject.ErrHalfClosed) {
				t.Errorf("%s: Serve returned %v, want ErrHalfClosed", what, err)
			}
			if _, ok := m.Get(key); !ok {
				t.Errorf("%s: the request was not applied", what)
			}
			wireStats(t, m, shm.MasterStats{Requests: uint64(i + 1), Disconnected: uint64(i + 1)})
		}
		wireServing(t, m)
	}
}

// TestEarlyEOFMaster: the master's reader sees the end of the stream
// after the worker's first request (a clean end: nil, not counted) or 5
// bytes into its second (a torn frame: io.ErrUnexpectedEOF, counted).
// The first call succeeds; the second fails and is not applied.
func TestEarlyEOFMaster(t *testing.T) {
	for _, compact := range []bool{false, true} {
		stream := wirePilot(t, compact, func(c *shm.Client) error { return c.Set(wireCtx(t, 5*time.Second), "a", shm.Int(1)) })
		m := shm.NewMaster(shm.MasterOptions{})
		for i, extra := range []int64{0, 5} {
			n := int64(len(stream)) + extra
			what := fmt.Sprintf("%s, master's stream ends after %d bytes", wireCodec(compact), n)
			master, worker := wireSides(compact)
			master.r = func(r io.Reader) io.Reader { return faultinject.EarlyEOFReader(r, n) }
			l := wireConnect(t, m, master, worker, shm.ClientOptions{})
			if err := l.c.Set(wireCtx(t, 5*time.Second), "a", shm.Int(1)); err != nil {
				t.Errorf("%s: the first call: %v", what, err)
			}
			err := l.c.Set(wireCtx(t, 5*time.Second), "b", shm.Int(2))
			if extra > 0 {
				wireIndefinite(t, what+": the call whose frame was cut", err)
			} else if err == nil {
				t.Errorf("%s: the call past the end succeeded", what)
			}
			serveErr := l.served(t)
			if torn := errors.Is(serveErr, io.ErrUnexpectedEOF); torn != (extra > 0) || (extra == 0 && serveErr != nil) {
				t.Errorf("%s: Serve returned %v", what, serveErr)
			}
			if _, ok := m.Get("b"); ok {
				t.Errorf("%s: the request past the end was applied", what)
			}
			wireStats(t, m, shm.MasterStats{Requests: uint64(i + 1), Disconnected: uint64(i)})
		}
		wireServing(t, m)
	}
}

// TestEarlyEOFWorker: the worker's reader sees the end of the stream
// after the first of two pipelined replies (held back until both calls
// are in flight). The second call, applied by
// the master, fails with an indefinite conn_lost; OnLost is called.
func TestEarlyEOFWorker(t *testing.T) {
	for _, compact := range []bool{false, true} {
		what := wireCodec(compact) + ", worker's stream ends after one reply"
		m := shm.NewMaster(shm.MasterOptions{})
		master, worker := wireSides(compact)
		var first int64
		var hold *faultinject.Stall // holds the replies until both calls are in flight
		worker.r = func(r io.Reader) io.Reader {
			hold = faultinject.StallReader(r, 0, patience.Bound(5*time.Second))
			return faultinject.EarlyEOFReader(hold, first)
		}
		// The first reply's length, from a pilot with a tap on the worker.
		var tap bytes.Buffer
		pw := worker
		pw.r = func(r io.Reader) io.Reader { return io.TeeReader(r, &tap) }
		pl := wireConnect(t, shm.NewMaster(shm.MasterOptions{}), master, pw, shm.ClientOptions{})
		pl.c.Set(wireCtx(t, 5*time.Second), "a", shm.Int(1))
		pl.close(t)
		first = int64(tap.Len())

		lost := make(chan error, 1)
		l := wireConnect(t, m, master, worker, shm.ClientOptions{OnLost: func(err error) { lost <- err }})
		var wg sync.WaitGroup
		var errs [2]error
		for i, k := range []string{"a", "b"} {
			wg.Add(1)
			req := shm.Message{Method: shm.MethodSet, Key: []byte(k), Value: shm.Int(1), Has: shm.HasKey | shm.HasValue}
			l.c.Go(&req, func(rep shm.Message, err error) { errs[i] = err; wg.Done() })
		}
		// Both requests applied before the replies go on: once the
		// worker's reader sees the end, its client closes, and a request
		// still in its writer (a busy machine) would never be sent.
		if !wireEventually(func() bool { _, ok := m.Get("b"); return ok }, 5*time.Second) {
			t.Fatalf("%s: the second request was not applied", what)
		}
		hold.Release()
		wireWait(t, &wg, 5*time.Second)
		if errs[0] != nil {
			t.Errorf("%s: the call answered before the end: %v", what, errs[0])
		}
		wireIndefinite(t, what+": the call pending at the end", errs[1])
		select {
		case err := <-lost:
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s: OnLost(%v), want io.EOF", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: OnLost was not called", what)
		}
		l.close(t)
		wireServing(t, m)
	}
}

// TestEPIPEMaster: the master's writes fail with EPIPE at its first
// reply, or 10 bytes into it. The master ends that connection (counted,
// errors.Is EPIPE); the worker's call, applied, fails indefinitely (the
// end of the stream, or a torn reply); other connections go on.
func TestEPIPEMaster(t *testing.T) {
	for _, compact := range []bool{false, true} {
		m := shm.NewMaster(shm.MasterOptions{})
		for i, n := range []int64{0, 10} {
			what := fmt.Sprintf("%s, master's writes fail with EPIPE after %d bytes", wireCodec(compact), n)
			master, worker := wireSides(compact)
			master.w = func(w io.Writer) io.Writer { return faultinject.EPIPEWriter(w, n) }
			l := wireConnect(t, m, master, worker, shm.ClientOptions{})
			key := fmt.Sprint("epipe-", n)
			wireIndefinite(t, what, l.c.Set(wireCtx(t, 5*time.Second), key, shm.Int(1)))
			if err := l.served(t); !errors.Is(err, syscall.EPIPE) {
				t.Errorf("%s: Serve returned %v, want EPIPE", what, err)
			}
			if _, ok := m.Get(key); !ok {
				t.Errorf("%s: the request was not applied", what)
			}
			wireStats(t, m, shm.MasterStats{Requests: uint64(i + 1), Disconnected: uint64(i + 1)})
		}
		wireServing(t, m)
	}
}

// TestEPIPEWorker: the worker's writes fail with EPIPE while its socket
// stays open (its reader still works). Its request never reaches the
// master; the failed write ends the connection, so the call fails at once,
// indefinitely, naming the broken pipe, and a later call fails at once,
// definitely.
func TestEPIPEWorker(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, compact := range []bool{false, true} {
		what := wireCodec(compact) + ", worker's writes fail with EPIPE"
		m := shm.NewMaster(shm.MasterOptions{})
		master, worker := wireSides(compact)
		worker.w = func(w io.Writer) io.Writer { return faultinject.EPIPEWriter(w, 0) }
		l := wireConnect(t, m, master, worker, shm.ClientOptions{Timeout: timeout})
		start := time.Now()
		err := l.c.Set(context.Background(), "a", shm.Int(1))
		took := time.Since(start)
		wireIndefinite(t, what, err)
		if !strings.Contains(fmt.Sprint(err), "broken pipe") {
			t.Errorf("%s: the call failed with %v, which does not name the broken pipe", what, err)
		}
		err2 := l.c.Set(context.Background(), "b", shm.Int(2))
		if err2 == nil {
			t.Errorf("%s: a second call succeeded", what)
		}
		t.Logf("%s: first call %v after %v; second call %v", what, err, took.Round(time.Millisecond), err2)
		if st := wireStore(m); len(st) != 0 {
			t.Errorf("%s: store %v, want nothing applied", what, st)
		}
		if err := l.close(t); err != nil {
			t.Errorf("%s: Serve: %v", what, err)
		}
		wireStats(t, m, shm.MasterStats{})
	}
}
