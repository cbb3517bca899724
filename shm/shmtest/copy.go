// Package shmtest holds test helpers for stores (as net/http/httptest
// does for servers): a driver that applies random concurrent operations
// to a store and records their history, the reference store behind it,
// and Copy, a copy of the reference's entry keeping (LRU, byte and entry
// limits, TTLs) with variants broken on purpose, to show that the
// bounded-store checker catches them.
package shmtest

import (
	"container/heap"
	"encoding/json"
	"strconv"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// Store is a store the driver applies operations to.
type Store interface {
	// Apply applies op, sent by worker, at now (nanoseconds), and says
	// how it ended.
	Apply(now int64, worker int, op *workload.Op) (history.Status, history.Output)
}

// Reference is the reference store, shm.Store, as a Store.
type Reference struct {
	s   *shm.Store
	seq uint64
}

// NewReference returns an empty reference store of the given options.
func NewReference(opts shm.StoreOptions) *Reference { return &Reference{s: shm.NewStore(opts)} }

// Apply applies op to the reference store, as the master would, as a
// request of its own (a new id).
func (r *Reference) Apply(now int64, worker int, op *workload.Op) (history.Status, history.Output) {
	req := op.Request()
	r.seq++
	req.Seq, req.Has = r.seq, req.Has|shm.HasSeq
	rep := r.s.Apply(now, shm.Identity{Worker: int64(worker) + 1, Inc: 1}, &req)
	st, out := workload.Outcome(&rep, nil)
	if out.Value != nil {
		out.Value = append(json.RawMessage(nil), out.Value...)
	}
	return st, out
}

// Variant is a set of deliberate departures of Copy from the reference.
type Variant uint

// The variants.
const (
	// EvictNewest evicts the most recently used entry (the one just
	// written) instead of the least recently used.
	EvictNewest Variant = 1 << iota
	// NoTouchOnGet leaves the LRU order alone when a get finds its key.
	NoTouchOnGet
	// KeyBytesUncounted counts an entry's bytes without its key's length.
	KeyBytesUncounted
	// KeepOldTTL keeps an entry's old TTL across a set without one.
	KeepOldTTL
	// ExpireLate expires an entry one tick (a nanosecond) after its TTL.
	ExpireLate
	// EvictBelowLimit evicts when the store reaches a limit, not only
	// past it.
	EvictBelowLimit
)

// Variants lists every variant with its name.
var Variants = []struct {
	Name string
	V    Variant
}{
	{"evict-newest", EvictNewest}, {"no-touch-on-get", NoTouchOnGet}, {"key-bytes-uncounted", KeyBytesUncounted},
	{"keep-old-ttl", KeepOldTTL}, {"expire-late", ExpireLate}, {"evict-below-limit", EvictBelowLimit},
}

// Copy is a copy of the reference store's entry keeping, at the level
// of a history's operations: the same LRU list (refreshed by a get that
// finds its key and by every write), the same byte count (key + value +
// shm.EntryOverhead), eviction of the least recently used entries after
// a write takes the store past a limit, TTL expiry on access and a sweep
// of shm.ExpireSweep expired entries (in the same heap order) before
// each operation, with the departures its Variant names. Without one it
// answers as shm.Store does (TestCopyIsTheReference).
type Copy struct {
	V          Variant
	MaxEntries int
	MaxBytes   int64
	entries    map[string]*centry
	lru        centry // sentinel: lru.next is the most recently used
	bytes      int64
	ttl        cheap
}

type centry struct {
	key        string
	val        json.RawMessage
	expires    int64
	heapIdx    int
	prev, next *centry
}

// NewCopy returns an empty Copy with the given limits and variant.
func NewCopy(maxEntries int, maxBytes int64, v Variant) *Copy {
	c := &Copy{V: v, MaxEntries: maxEntries, MaxBytes: maxBytes, entries: map[string]*centry{}}
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	return c
}

// Apply applies op at now.
func (c *Copy) Apply(now int64, _ int, op *workload.Op) (history.Status, history.Output) {
	c.expire(now, shm.ExpireSweep)
	ok := func(v json.RawMessage) (history.Status, history.Output) {
		return history.StatusOK, history.Output{Value: v}
	}
	fail := func(code string) (history.Status, history.Output) {
		return history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: code}}
	}
	val := json.RawMessage(op.Value)
	switch op.Method {
	case history.Get:
		e := c.lookup(now, op.Key)
		if e == nil {
			return ok(nil)
		}
		if c.V&NoTouchOnGet == 0 {
			c.touch(e)
		}
		return ok(e.val)
	case history.Set:
		if c.tooLarge(op.Key, val) {
			return fail("too_large")
		}
		e := c.entries[op.Key]
		exp := expiry(now, op.TTLms)
		if c.V&KeepOldTTL != 0 && op.TTLms == 0 && e != nil {
			exp = e.expires
		}
		c.keep(e, op.Key, val, exp)
		return ok(json.RawMessage(`"OK"`))
	case history.Delete:
		e := c.lookup(now, op.Key)
		if e != nil {
			c.remove(e)
		}
		return ok(boolean(e != nil))
	case history.CAS:
		e := c.lookup(now, op.Key)
		match := e == nil && op.Old == nil
		if e != nil && op.Old != nil {
			match = string(e.val) == string(op.Old)
		}
		if !match {
			return ok(boolean(false))
		}
		if c.tooLarge(op.Key, val) {
			return fail("too_large")
		}
		c.keep(e, op.Key, val, expiry(now, op.TTLms))
		return ok(boolean(true))
	}
	return c.add(now, op)
}

func (c *Copy) add(now int64, op *workload.Op) (history.Status, history.Output) {
	e := c.lookup(now, op.Key)
	var cur, keep int64
	if e != nil {
		n, isInt := history.Int(e.val)
		if !isInt {
			return history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: "not_integer"}}
		}
		cur, keep = n, e.expires
	}
	sum := cur + op.Delta
	if (op.Delta > 0 && sum < cur) || (op.Delta < 0 && sum > cur) {
		return history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: "overflow"}}
	}
	v := json.RawMessage(strconv.FormatInt(sum, 10))
	if c.tooLarge(op.Key, v) {
		return history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: "too_large"}}
	}
	c.keep(e, op.Key, v, keep)
	return history.StatusOK, history.Output{Value: v}
}

func boolean(b bool) json.RawMessage {
	if b {
		return json.RawMessage("true")
	}
	return json.RawMessage("false")
}

func expiry(now, ttlMS int64) int64 {
	if ttlMS <= 0 {
		return 0
	}
	return now + ttlMS*1e6
}

// expired reports whether an entry that expires at exp has at now.
func (c *Copy) expired(exp, now int64) bool {
	if c.V&ExpireLate != 0 {
		return exp != 0 && exp < now
	}
	return exp != 0 && exp <= now
}

func (c *Copy) size(key string, val json.RawMessage) int64 {
	if c.V&KeyBytesUncounted != 0 {
		return int64(len(val)) + shm.EntryOverhead
	}
	return int64(len(key)+len(val)) + shm.EntryOverhead
}

func (c *Copy) tooLarge(key string, val json.RawMessage) bool {
	return c.MaxBytes > 0 && c.size(key, val) > c.MaxBytes
}

func (c *Copy) lookup(now int64, key string) *centry {
	e := c.entries[key]
	if e != nil && c.expired(e.expires, now) {
		c.remove(e)
		return nil
	}
	return e
}

func (c *Copy) keep(e *centry, key string, v json.RawMessage, expires int64) {
	if e == nil {
		e = &centry{key: key, heapIdx: -1}
		c.entries[key] = e
	} else {
		c.unlink(e)
		c.bytes -= c.size(e.key, e.val)
	}
	e.val = v
	c.bytes += c.size(e.key, e.val)
	c.setExpiry(e, expires)
	c.pushFront(e)
	c.evict()
}

func (c *Copy) evict() {
	for c.overLimit() && c.lru.prev != &c.lru {
		if c.V&EvictNewest != 0 {
			c.remove(c.lru.next)
			continue
		}
		c.remove(c.lru.prev)
	}
}

func (c *Copy) overLimit() bool {
	if c.V&EvictBelowLimit != 0 {
		return (c.MaxEntries > 0 && len(c.entries) >= c.MaxEntries) || (c.MaxBytes > 0 && c.bytes >= c.MaxBytes)
	}
	return (c.MaxEntries > 0 && len(c.entries) > c.MaxEntries) || (c.MaxBytes > 0 && c.bytes > c.MaxBytes)
}

func (c *Copy) remove(e *centry) {
	c.unlink(e)
	c.setExpiry(e, 0)
	delete(c.entries, e.key)
	c.bytes -= c.size(e.key, e.val)
}

func (c *Copy) touch(e *centry) {
	c.unlink(e)
	c.pushFront(e)
}

func (c *Copy) unlink(e *centry) { e.prev.next, e.next.prev = e.next, e.prev }

func (c *Copy) pushFront(e *centry) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}

// expire removes up to n entries whose TTL has passed at now, earliest
// expiry first.
func (c *Copy) expire(now int64, n int) {
	for i := 0; i < n && len(c.ttl) > 0 && c.expired(c.ttl[0].expires, now); i++ {
		c.remove(c.ttl[0])
	}
}

func (c *Copy) setExpiry(e *centry, expires int64) {
	e.expires = expires
	switch {
	case e.heapIdx >= 0 && expires == 0:
		heap.Remove(&c.ttl, e.heapIdx)
	case e.heapIdx >= 0:
		heap.Fix(&c.ttl, e.heapIdx)
	case expires != 0:
		heap.Push(&c.ttl, e)
	}
}

// cheap is a min-heap of entries by expiry, with the reference's
// order among equal expiries.
type cheap []*centry

func (h cheap) Len() int           { return len(h) }
func (h cheap) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h cheap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *cheap) Push(x any) {
	e := x.(*centry)
	e.heapIdx = len(*h)
	*h = append(*h, e)
}
func (h *cheap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.heapIdx = -1
	*h = old[:len(old)-1]
	return e
}
