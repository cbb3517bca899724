package shm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/internal/patience"
)

// pairClient serves a fresh master on one end of a socket pair and
// returns it with a client on the other end, speaking JSON lines.
func pairClient(t *testing.T, co ClientOptions, compact ...bool) (*Master, *Client) {
	t.Helper()
	a, b := socketPair(t)
	m := NewMaster(MasterOptions{})
	go m.Serve(NewStreamConn(a, StreamOptions{AcceptCompact: true}), Identity{Worker: 1, Inc: 1})
	c := NewClient(NewStreamConn(b, StreamOptions{Compact: len(compact) > 0 && compact[0]}), co)
	t.Cleanup(func() { c.Close() })
	return m, c
}

func wantCode(t *testing.T, what string, err error, code string, definite bool) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Definite != definite {
		t.Errorf("%s: error %v, want code %s (definite %v)", what, err, code, definite)
	}
}

// TestClientChecksRequests: whatever the caller passes, the client sends
// one well-formed request or none, on either codec.
func TestClientChecksRequests(t *testing.T) {
	for _, compact := range []bool{false, true} {
		checkRequests(t, compact)
	}
}

func checkRequests(t *testing.T, compact bool) {
	m, c := pairClient(t, ClientOptions{}, compact)
	ctx := t.Context()
	err := c.Set(ctx, "inj", Value(`1,"ttl":1`))
	wantCode(t, "Set of a value that is not one JSON value", err, CodeBadRequest, true)
	wantCode(t, "Set of {", c.Set(ctx, "k", Value(`{`)), CodeBadRequest, true)
	req := Message{Method: MethodSet, Key: []byte("bad\xffkey"), Value: Int(1), Has: HasKey | HasValue}
	_, err = c.Do(ctx, &req)
	wantCode(t, "Do with a key that is not UTF-8", err, CodeBadRequest, true)
	req = Message{Method: Method(42), Has: HasKey, Key: []byte("k")}
	_, err = c.Do(ctx, &req)
	wantCode(t, "Do with method 42", err, CodeUnknownMethod, true)
	if err := c.Set(ctx, "ws", Value(" [ 1 , 2 ] ")); err != nil {
		t.Fatal(err)
	}
	if keys, _ := c.Keys(ctx); !cmp.Equal(keys, []string{"ws"}) {
		t.Errorf("keys %q: a refused request reached the store", keys)
	}
	if v, _ := m.Get("ws"); string(v) != "[1,2]" {
		t.Errorf("stored %s, want the compact [1,2]", v)
	}
}

// TestOversizedRequestsAndReplies: a request over the frame limit, or a
// value no reply could carry back, gets a definite too_large, and the
// connection lives on; a reply that would pass the limit is replaced by a
// too_large whose message gives the frame size it compared, above the
// limit.
func TestOversizedRequestsAndReplies(t *testing.T) {
	m, c := pairClient(t, ClientOptions{})
	ctx := t.Context()
	huge := String(strings.Repeat("x", DefaultMaxFrame))
	wantCode(t, "Set of 4 MiB", c.Set(ctx, "huge", huge), CodeTooLarge, true)
	wantCode(t, "the master's own Set of 4 MiB", m.Set("big", huge), CodeTooLarge, true)
	if _, found, err := c.Get(ctx, "big"); found || err != nil {
		t.Fatalf("Get of a refused value: found %v, %v", found, err)
	}
	if err := c.Set(ctx, "small", Int(1)); err != nil {
		t.Fatalf("the connection did not survive: %v", err)
	}
	for _, n := range []int{MaxValueBytes(0), MaxValueBytes(0) + 1, DefaultMaxFrame} {
		rep := m.fit(Message{Kind: KindReply, Seq: 1, Value: String(strings.Repeat("x", n-2)), Has: HasSeq | HasValue})
		if n <= MaxValueBytes(0) {
			if rep.Err != nil || len(rep.Value) != n {
				t.Errorf("reply of a %d-byte value: %v", n, rep.Err)
			}
			continue
		}
		wantReplyTooLarge(t, fmt.Sprintf("reply of a %d-byte value", n), rep, DefaultMaxFrame)
	}
}

// TestDoneContextSendsNothing: a call whose context is already over
// returns a definite error and is not applied.
func TestDoneContextSendsNothing(t *testing.T) {
	m, c := pairClient(t, ClientOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantCode(t, "Set with a canceled context", c.Set(ctx, "x", Int(1)), CodeCanceled, true)
	if _, err := c.Len(t.Context()); err != nil { // a round trip, so a stray set would be in
		t.Fatal(err)
	}
	if _, found := m.Get("x"); found {
		t.Error("the canceled Set was applied")
	}
}

// TestCallsReturnWhileThePeerDoesNotRead: the peer never reads, so the
// pipe fills; a call still returns at its deadline, and once too much is
// queued calls fail at once, definitely, with nothing sent.
func TestCallsReturnWhileThePeerDoesNotRead(t *testing.T) {
	a, b := socketPair(t) // a is never read
	defer a.Close()
	c := NewClient(NewStreamConn(b, StreamOptions{MaxQueued: 4 << 20}), ClientOptions{Timeout: time.Minute})
	defer c.Close()
	v := String(strings.Repeat("v", 1<<20))
	var overloaded bool
	for i := 0; i < 16 && !overloaded; i++ {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		start := time.Now()
		err := c.Set(ctx, "k", v)
		cancel()
		if d := time.Since(start); d > patience.Bound(500*time.Millisecond) {
			t.Fatalf("call %d took %v with a 100ms deadline", i, d)
		}
		var e *Error
		switch {
		case errors.As(err, &e) && e.Code == CodeOverloaded && e.Definite:
			overloaded = true
		case errors.As(err, &e) && e.Code == CodeTimeout && !e.Definite:
		default:
			t.Fatalf("call %d: %v, want a timeout or, later, overloaded", i, err)
		}
	}
	if !overloaded {
		t.Error("16 MiB queued for a peer that reads nothing, and no call was refused")
	}
	if n := c.Pending(); n != 0 {
		t.Errorf("%d calls left pending", n)
	}
}

// TestContextDeadlineBeyondTimeout: a context deadline longer than the
// client's Timeout is the one that counts.
func TestContextDeadlineBeyondTimeout(t *testing.T) {
	a, b := socketPair(t) // a never answers
	defer a.Close()
	c := NewClient(NewStreamConn(b, StreamOptions{}), ClientOptions{Timeout: 20 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Get(ctx, "k")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Get returned after %v (%v); the context allowed 400ms", d, err)
	}
	wantCode(t, "Get past its deadline", err, CodeTimeout, false)
}

func TestStringIsNotHTMLEscaped(t *testing.T) {
	if got := string(String("<b>&\u2028")); got != `"<b>&`+"\u2028"+`"` {
		t.Errorf("String = %s, want the characters as they are", got)
	}
	v, err := Marshal(map[string]string{"t": "<b>&"})
	if err != nil || string(v) != `{"t":"<b>&"}` {
		t.Errorf("Marshal = %s, %v; want {\"t\":\"<b>&\"}", v, err)
	}
}

func TestUnreadableUUIDNotEchoed(t *testing.T) {
	var m Message
	var scratch []byte
	DecodeFrame([]byte(`{"isSharedMemoryMessage":true,"method":"get","uuid":01,"key":"z"}`), &m, &scratch)
	rep := ErrorReply(&m, m.Err)
	if rep.Has&HasSeq != 0 {
		t.Errorf("reply to uuid 01 names uuid %d", rep.Seq)
	}
}

func TestNewMasterInAWorkerWithoutMain(t *testing.T) {
	t.Setenv(EnvWorker, "some-worker")
	defer func() {
		if recover() == nil {
			t.Error("NewMaster in a worker process without Main did not panic")
		}
	}()
	NewMaster(MasterOptions{})
}

// registered counts the names tests register, so that each run (with
// -count) registers new ones.
var registered atomic.Int64

func TestRegisterTwicePanics(t *testing.T) {
	name := fmt.Sprintf("twice-%s-%d", t.Name(), registered.Add(1))
	Handle(name, func(context.Context, *Client, []string) error { return nil })
	defer func() {
		if recover() == nil {
			t.Error("HandleRaw of a name Handle registered did not panic")
		}
	}()
	HandleRaw(name, nil)
}

func TestHandleWithKeepsOptions(t *testing.T) {
	name := fmt.Sprintf("with-%s-%d", t.Name(), registered.Add(1))
	HandleWith(name, ClientOptions{Timeout: time.Hour}, func(context.Context, *Client, []string) error { return nil })
	registryMu.Lock()
	got := options[name].Timeout
	registryMu.Unlock()
	if got != time.Hour {
		t.Errorf("options[%q].Timeout = %v, want 1h", name, got)
	}
}

// TestGoCallsTimeOutWhileSent: a Go call whose deadline passes while
// its goroutine is still sending (a busy machine can hold it there past
// a short timeout) is ended and released by the sweeper, and its
// request's bytes are not read from the released call meanwhile: run
// under the race detector, which saw that read race the release. Every
// callback runs once, and nothing is left pending.
func TestGoCallsTimeOutWhileSent(t *testing.T) {
	a, b := socketPair(t)
	defer a.Close()
	go io.Copy(io.Discard, a) // a master that reads and never answers
	c := NewClient(NewStreamConn(b, StreamOptions{}), ClientOptions{Timeout: time.Nanosecond})
	defer c.Close()
	const n = 2000
	var wg sync.WaitGroup
	var timeouts atomic.Int64
	for i := range n {
		wg.Add(1)
		req := Message{Method: MethodSet, Key: []byte("k"), Value: Int(int64(i)), Has: HasKey | HasValue}
		c.Go(&req, func(_ Message, err error) {
			if e, ok := err.(*Error); ok && e.Code == CodeTimeout {
				timeouts.Add(1)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if got := timeouts.Load(); got != n {
		t.Errorf("%d of %d calls timed out, want all: the master answers nothing", got, n)
	}
	if p := c.Pending(); p != 0 {
		t.Errorf("%d calls left pending", p)
	}
}
