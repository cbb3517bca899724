package shm

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func boundSet(s *Store, now int64, key string, v Value, ttl int64) Message {
	req := Message{Kind: KindRequest, Method: MethodSet, Key: []byte(key), Value: v, Has: HasKey | HasValue}
	if ttl > 0 {
		req.TTL, req.Has = ttl, req.Has|HasTTL
	}
	return s.Apply(now, Identity{}, &req)
}

func wantTooLarge(t *testing.T, what string, rep Message) {
	t.Helper()
	if rep.Err == nil || rep.Err.Code != CodeTooLarge || !rep.Err.Definite {
		t.Errorf("%s: reply %+v, want a definite too_large", what, rep)
	}
}

// TestDefaultByteBound: a store with StoreOptions{} holds at most
// DefaultMaxBytes, refuses the write that would pass it (evicting
// nothing), and takes writes again once room is made: by a delete, by
// entries whose TTL passed, or by a smaller value in place. With MaxBytes
// set, the least recently used are evicted instead.
func TestDefaultByteBound(t *testing.T) {
	s := NewStore(StoreOptions{})
	// Values near the largest stored, with room left for the writes below.
	big := String(strings.Repeat("b", MaxValueBytes(0)-1024))
	want, sum := 0, int64(0)
	for ; ; want++ {
		if sum += entrySize(fmt.Append(nil, "k", want), big); sum > DefaultMaxBytes {
			break
		}
	}
	n := 0
	for ; ; n++ {
		rep := boundSet(s, 0, fmt.Sprint("k", n), big, 0)
		if rep.Err != nil {
			wantTooLarge(t, "the write past the bound", rep)
			break
		}
	}
	if n != want || s.Bytes() > DefaultMaxBytes || s.Stats().Evictions != 0 {
		t.Fatalf("stored %d entries, %d bytes, %d evictions; want %d entries within %d bytes, none evicted",
			n, s.Bytes(), s.Stats().Evictions, want, int64(DefaultMaxBytes))
	}
	if rep := boundSet(s, 0, "k0", big, 0); rep.Err != nil {
		t.Errorf("overwriting an entry with a value of its size: %v", rep.Err)
	}
	if rep := boundSet(s, 0, "k0", Int(1), 0); rep.Err != nil {
		t.Errorf("shrinking an entry: %v", rep.Err)
	}
	if rep := boundSet(s, 0, "new", big, 0); rep.Err != nil {
		t.Errorf("a write into the room a smaller value left: %v", rep.Err)
	}
	wantTooLarge(t, "the next one", boundSet(s, 0, "new2", big, 0))
	del := Message{Kind: KindRequest, Method: MethodDelete, Key: []byte("k1"), Has: HasKey}
	s.Apply(0, Identity{}, &del)
	if rep := boundSet(s, 0, "new2", big, 0); rep.Err != nil {
		t.Errorf("a write after a delete: %v", rep.Err)
	}
	// Entries with a TTL: once it passes, they make room.
	s = NewStore(StoreOptions{})
	for i := range n {
		boundSet(s, 0, fmt.Sprint("t", i), big, 1000)
	}
	wantTooLarge(t, "full of live entries", boundSet(s, 0, "later", big, 0))
	if rep := boundSet(s, 2e9, "later", big, 0); rep.Err != nil {
		t.Errorf("a write once the TTLs passed: %v", rep.Err)
	}
	// An explicit bound evicts.
	s = NewStore(StoreOptions{MaxBytes: 8 << 20})
	for i := range 5 {
		if rep := boundSet(s, 0, fmt.Sprint("e", i), big, 0); rep.Err != nil {
			t.Fatalf("write %d under MaxBytes: %v", i, rep.Err)
		}
	}
	if s.Stats().Evictions == 0 || s.Bytes() > 8<<20 {
		t.Errorf("MaxBytes 8 MiB: %d evictions, %d bytes; want evictions within the bound", s.Stats().Evictions, s.Bytes())
	}
}

// TestKeysBounded: keys lists up to MaxKeysListed entries and refuses
// more with a definite too_large before building anything; so too a list
// whose names could not fit in a frame.
func TestKeysBounded(t *testing.T) {
	keys := Message{Kind: KindRequest, Method: MethodKeys}
	s := NewStore(StoreOptions{})
	for i := range MaxKeysListed {
		boundSet(s, 0, fmt.Sprintf("%05d", i), Int(1), 0)
	}
	rep := s.Apply(0, Identity{}, &keys)
	if rep.Err != nil || !strings.HasPrefix(string(rep.Value), `["00000","00001",`) {
		t.Fatalf("keys of %d entries: %.40s, %v", MaxKeysListed, rep.Value, rep.Err)
	}
	boundSet(s, 0, "one more", Int(1), 0)
	work := s.work
	rep = s.Apply(0, Identity{}, &keys)
	wantTooLarge(t, "keys of one entry too many", rep)
	if !strings.Contains(rep.Err.Message, fmt.Sprint(MaxKeysListed+1)) {
		t.Errorf("refusal %q does not say how many entries", rep.Err.Message)
	}
	if d := s.work - work; d > 2 {
		t.Errorf("a refused keys did %d units of work, want it refused before building", d)
	}
	s = NewStore(StoreOptions{})
	for _, k := range []string{"a", "b"} {
		boundSet(s, 0, strings.Repeat(k, 3<<20), Int(1), 0)
	}
	wantTooLarge(t, "keys of 6 MiB of names", s.Apply(0, Identity{}, &keys))
}

// sliceConn delivers one batch, then blocks until closed; it records
// when the replies were sent.
type sliceConn struct {
	batch  []Message
	given  atomic.Bool
	sent   atomic.Bool
	closed chan struct{}
}

func (c *sliceConn) Recv(ms []Message) (int, error) {
	if !c.given.Swap(true) {
		return copy(ms, c.batch), nil
	}
	<-c.closed
	return 0, errClosedTest
}

func (c *sliceConn) Send(ms []Message) error { c.sent.Store(true); return nil }
func (c *sliceConn) Close() error            { return nil }

var errClosedTest = fmt.Errorf("closed")

// TestLockSlicedByWork: a batch of keys calls, each listing thousands of
// entries, does not hold the store's lock from its first to its last:
// the master's own calls get the lock many times in between, though the
// replies are gathered until the end (ReplyBytes out of the way).
func TestLockSlicedByWork(t *testing.T) {
	m := NewMaster(MasterOptions{ReplyBytes: 1 << 30})
	for i := range MaxKeysListed - 10 {
		m.Set(fmt.Sprintf("%05d", i), Int(1))
	}
	c := &sliceConn{closed: make(chan struct{})}
	for i := range 128 {
		c.batch = append(c.batch, Message{Kind: KindRequest, Method: MethodKeys, Seq: uint64(i + 1), Has: HasSeq})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Serve(c, Identity{Worker: 1, Inc: 1})
	}()
	for !c.given.Load() {
		time.Sleep(time.Millisecond)
	}
	between := 0
	for !c.sent.Load() {
		m.Apply(&Message{Kind: KindRequest, Method: MethodLen})
		if !c.sent.Load() {
			between++
		}
	}
	close(c.closed)
	<-done
	t.Logf("%d calls of the master's own ran during a batch of 128 keys calls", between)
	if between < 10 {
		t.Errorf("%d calls ran during the batch, want the lock given up between its keys calls", between)
	}
}
