package shm

import (
	"context"
	"testing"
	"time"

	"github.com/shmlab/shmlab/internal/patience"
)

// TestClientOnUnmatched: a reply that comes after its call timed out is
// handed to OnUnmatched with its id; a reply in time is not.
func TestClientOnUnmatched(t *testing.T) {
	a, b := socketPair(t)
	late := make(chan uint64, 4)
	c := NewClient(NewStreamConn(b, StreamOptions{}), ClientOptions{OnUnmatched: func(seq uint64) { late <- seq }})
	t.Cleanup(func() { c.Close() })
	master := NewStreamConn(a, StreamOptions{})
	ms := make([]Message, 4)
	answer := func() uint64 {
		n, err := master.Recv(ms)
		if err != nil || n != 1 {
			t.Errorf("master: %d messages, %v", n, err)
			return 0
		}
		rep := Message{Kind: KindReply, Seq: ms[0].Seq, Has: HasSeq | HasValue, Value: Value(`"OK"`)}
		if err := master.Send([]Message{rep}); err != nil {
			t.Error(err)
		}
		return ms[0].Seq
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- c.Set(ctx, "k", Value("1")) }()
	wantCode(t, "the late call", <-errc, CodeTimeout, false)
	seq := answer() // the request waited in the socket; its reply comes now
	select {
	case got := <-late:
		if got != seq {
			t.Errorf("OnUnmatched(%d), want the late reply's id %d", got, seq)
		}
	case <-time.After(patience.Bound(time.Second)):
		t.Fatal("OnUnmatched was not called for the late reply")
	}

	go func() { errc <- c.Set(context.Background(), "k", Value("2")) }()
	answer()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-late:
		t.Errorf("OnUnmatched(%d) for a reply in time", got)
	default:
	}
}
