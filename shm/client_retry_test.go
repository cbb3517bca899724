package shm

import (
	"context"
	"errors"
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

// TestReplyThatDoesNotFit: an answer of the wrong shape (a set answered
// false, as when a damaged method byte turned it into a delete) is a
// bad_reply, indefinite: what the master applied is unknown.
func TestReplyThatDoesNotFit(t *testing.T) {
	for _, tt := range []struct {
		name  string
		call  func(c *Client) error
		reply Value
	}{
		{"set answered false", func(c *Client) error { return c.Set(context.Background(), "k", Int(1)) }, Value("false")},
		{"add answered a string", func(c *Client) error { _, err := c.Add(context.Background(), "k", 1); return err }, Value(`"OK"`)},
		{"delete answered OK", func(c *Client) error { _, err := c.Delete(context.Background(), "k"); return err }, Value(`"OK"`)},
	} {
		a, b := socketPair(t)
		masterEnd := NewStreamConn(a, StreamOptions{})
		c := NewClient(NewStreamConn(b, StreamOptions{}), ClientOptions{Timeout: 5 * time.Second})
		go func() {
			ms := make([]Message, 4)
			n, err := masterEnd.Recv(ms)
			if err == nil && n > 0 {
				masterEnd.Send([]Message{{Kind: KindReply, Seq: ms[0].Seq, Has: HasSeq | HasValue, Value: tt.reply}})
			}
		}()
		err := tt.call(c)
		if !errors.Is(err, ErrBadReply) || IsDefinite(err) {
			t.Errorf("%s: %v; want an indefinite bad_reply", tt.name, err)
		}
		c.Close()
		masterEnd.Close()
	}
}
