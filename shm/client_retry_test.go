package shm

import (
	"context"
	"testing"
	"time"
)

// TestRetriedDefiniteErrorIsIndefinite: a fake master swallows the first
// copy of a set (as if it applied it and the reply was lost) and answers
// the resent copy with a definite error. The call must not say the set
// surely did not happen: the first copy may have been applied.
func TestRetriedDefiniteErrorIsIndefinite(t *testing.T) {
	a, b := socketPair(t)
	masterEnd := NewStreamConn(a, StreamOptions{})
	defer masterEnd.Close()
	c := NewClient(NewStreamConn(b, StreamOptions{}), ClientOptions{Timeout: 5 * time.Second, RetryAfter: 20 * time.Millisecond})
	defer c.Close()
	go func() {
		ms := make([]Message, 4)
		copies := 0
		for {
			n, err := masterEnd.Recv(ms)
			if err != nil {
				return
			}
			for _, m := range ms[:n] {
				if m.Kind != KindRequest {
					continue
				}
				if copies++; copies == 2 {
					masterEnd.Send([]Message{{Kind: KindReply, Seq: m.Seq, Has: HasSeq, Err: errorf(ErrBadRequest, "damaged in transit")}})
				}
			}
		}
	}()
	err := c.Set(context.Background(), "k", Int(1))
	if err == nil || IsDefinite(err) {
		t.Fatalf("Set = %v (definite %v); want an indefinite error", err, IsDefinite(err))
	}
	t.Logf("Set: %v", err)
}
