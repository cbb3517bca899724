package shm

import (
	"bytes"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmlab/shmlab/internal/pipe"
)

// socketPair returns two connected AF_UNIX stream sockets, as spawned
// workers get.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	a, b, err := pipe.ConnPair()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestNoDeadlockWithLargePipelinedValues keeps 64 requests with 64 KiB
// values in flight through the callback API over a real socket pair. The
// replies (gets of 64 KiB) and the requests (sets of 64 KiB) each fill the
// pipe; if the client's reader ever blocked writing while the master
// blocked writing to it, neither would read again.
func TestNoDeadlockWithLargePipelinedValues(t *testing.T) {
	t.Parallel() // long and alone: it overlaps the other parallel tests
	masterEnd, workerEnd := socketPair(t)
	m := NewMaster(MasterOptions{})
	go m.Serve(NewStreamConn(masterEnd, StreamOptions{AcceptCompact: true}), Identity{Worker: 1, Inc: 1})
	// A deadlock shows as no progress at all, not as slowness: on a busy
	// machine the whole run may take long, so the calls' timeout is far
	// beyond any wait and the test fails only when no call has completed
	// for stuckAfter.
	const stuckAfter = 60 * time.Second
	c := NewClient(NewStreamConn(workerEnd, StreamOptions{Compact: true}), ClientOptions{Timeout: 10 * time.Minute})
	defer c.Close()
	var completed atomic.Int64

	val := Value(`"` + strings.Repeat("v", 64<<10-2) + `"`)
	const inflight, rounds = 64, 20
	done := make(chan error, inflight)
	reqs := make([]Message, inflight)
	var issue func(i, n int)
	issue = func(i, n int) {
		if n == rounds {
			done <- nil
			return
		}
		reqs[i] = Message{Method: MethodGet, Key: []byte{byte('a' + i%26)}, Has: HasKey}
		if n%2 == 0 {
			reqs[i].Method, reqs[i].Value, reqs[i].Has = MethodSet, val, HasKey|HasValue
		}
		c.Go(&reqs[i], func(_ Message, err error) {
			if err != nil {
				done <- err
				return
			}
			completed.Add(1)
			issue(i, n+1)
		})
	}
	for i := range inflight {
		issue(i, 0)
	}
	watch := time.NewTicker(stuckAfter)
	defer watch.Stop()
	last := int64(-1)
	for finished := 0; finished < inflight; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished++
		case <-watch.C:
			n := completed.Load()
			if n == last {
				t.Fatalf("stuck: no call completed in %v, %d calls pending (client and master blocked writing to each other?)", stuckAfter, c.Pending())
			}
			last = n
		}
	}
}

// TestSendKeepsBytesIntactAcrossHugeBatches sends batches larger than the
// write buffer the connection keeps for reuse (1 MiB) from one goroutine
// while others send small batches all along, and checks that every frame
// arrives intact: a buffer being written must never also be the one others
// append to.
func TestSendKeepsBytesIntactAcrossHugeBatches(t *testing.T) {
	a, b := socketPair(t)
	// A small socket buffer keeps every write blocked for a while, so the
	// senders append while a write is in progress.
	rc, err := a.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096) })
	sender := NewStreamConn(a, StreamOptions{Compact: true, MaxQueued: 64 << 20}).(*streamConn)
	receiver := NewStreamConn(b, StreamOptions{AcceptCompact: true, MaxFrame: 8 << 20})
	big := Value(`"` + strings.Repeat("x", 256<<10) + `"`)
	const bigBatches, perBig, smallSenders, smalls = 8, 5, 3, 3000 // 5 × 256 KiB > 1 MiB
	send := func(ms []Message, mode sendMode) {
		if err := sender.send(ms, mode); err != nil {
			t.Error(err)
		}
	}
	go func() {
		for r := range bigBatches {
			batch := make([]Message, perBig)
			for i := range batch {
				batch[i] = Message{Kind: KindReply, Seq: uint64(r*perBig + i), Value: big, Has: HasSeq | HasValue}
			}
			send(batch, sendMode(r%3))
		}
	}()
	for g := range smallSenders {
		go func() {
			for i := range smalls {
				seq := uint64((g+1)*1_000_000 + i)
				send([]Message{{Kind: KindReply, Seq: seq, Value: Int(int64(seq)), Has: HasSeq | HasValue}}, sendMode(i%3))
			}
		}()
	}
	ms := make([]Message, 64)
	for got := 0; got < bigBatches*perBig+smallSenders*smalls; {
		n, err := receiver.Recv(ms)
		if err != nil {
			t.Fatalf("after %d frames: %v", got, err)
		}
		for _, m := range ms[:n] {
			want := big
			if m.Seq >= 1_000_000 {
				want = Int(int64(m.Seq))
			}
			if m.Kind != KindReply || !m.Value.Equal(want) {
				t.Fatalf("frame %d (uuid %d) arrived damaged: kind %d, %d value bytes, err %v", got, m.Seq, m.Kind, len(m.Value), m.Err)
			}
			got++
		}
	}
}

// probeRWC is a stream whose Write runs a hook while it holds the buffer,
// and checks that the buffer did not change under it.
type probeRWC struct {
	hook    func(call int)
	calls   int
	damaged []int
}

func (p *probeRWC) Read([]byte) (int, error) { select {} }
func (p *probeRWC) Close() error             { return nil }
func (p *probeRWC) Write(b []byte) (int, error) {
	snap := append([]byte(nil), b...)
	p.calls++
	p.hook(p.calls)
	if !bytes.Equal(snap, b) {
		p.damaged = append(p.damaged, p.calls)
	}
	return len(b), nil
}

// TestWriteBufferNeverAliased appends, from another goroutine, while each
// write is in progress, with a batch over the 1 MiB reuse limit among
// them: the buffer under a write must never be the one appended to.
func TestWriteBufferNeverAliased(t *testing.T) {
	p := &probeRWC{}
	c := NewStreamConn(p, StreamOptions{MaxQueued: 64 << 20}).(*streamConn)
	big := Value(`"` + strings.Repeat("x", 1<<20) + `"`)
	batch := func(v Value) []Message {
		return []Message{{Kind: KindReply, Seq: 1, Value: v, Has: HasSeq | HasValue}}
	}
	sizes := []Value{Int(1), big, Int(2), Int(3), Int(4), Int(5)}
	p.hook = func(call int) {
		if call > len(sizes) {
			return
		}
		done := make(chan error)
		go func() { done <- c.Send(batch(sizes[call-1])) }()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if err := c.Send(batch(Int(0))); err != nil {
		t.Fatal(err)
	}
	if len(p.damaged) > 0 {
		t.Errorf("writes %v saw their buffer change under them", p.damaged)
	}
	if p.calls != len(sizes)+1 {
		t.Errorf("%d writes, want %d", p.calls, len(sizes)+1)
	}
}
