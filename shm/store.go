package shm

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"sort"
)

// StoreOptions limit a Store. Zero means no limit.
type StoreOptions struct {
	MaxEntries  int   `json:"max_entries,omitempty"`  // entries kept; beyond it the least recently used go
	MaxBytes    int64 `json:"max_bytes,omitempty"`    // key bytes + value bytes + EntryOverhead per entry; LRU beyond it
	DedupWindow int   `json:"dedup_window,omitempty"` // most replies remembered per worker incarnation, rounded up to a power of two (DefaultDedupWindow if 0)
	Bugs        Bugs  `json:"bugs,omitempty"`         // deliberately broken behaviours, for testing the testers only
}

// Validate reports a negative limit.
func (o StoreOptions) Validate() error {
	if o.MaxEntries < 0 || o.MaxBytes < 0 || o.DedupWindow < 0 {
		return fmt.Errorf("shm: store limits must not be negative (entries %d, bytes %d, dedup window %d)", o.MaxEntries, o.MaxBytes, o.DedupWindow)
	}
	return nil
}

// EntryOverhead is the per-entry cost counted against StoreOptions.MaxBytes.
const EntryOverhead = 64

// DefaultDedupWindow is how many recent mutating requests per worker
// incarnation the store remembers to suppress duplicates.
const DefaultDedupWindow = 4096

// Identity names the sender of a request: a worker and its incarnation.
// The master takes it from the connection, never from the message.
type Identity struct {
	Worker int64
	Inc    uint64
}

// StoreStats counts what the store has done.
type StoreStats struct {
	Applied     uint64 // requests executed
	Duplicates  uint64 // duplicates answered from the dedup window
	Evictions   uint64 // entries removed by an entry or byte limit
	Expirations uint64 // entries removed by their TTL
}

// Store is the master's state machine: a map from string keys to JSON
// values with optional LRU limits, TTLs and per-worker duplicate
// suppression. It does no I/O and reads no clock: the time is an argument.
// It is not safe for concurrent use; its owner serialises calls.
type Store struct {
	opts    StoreOptions
	entries map[string]*entry
	lru     entry // sentinel: lru.next is the most recently used
	bytes   int64
	ttl     ttlHeap
	dedup   map[Identity]*window
	lastID  Identity // the sender of the last mutating request...
	lastWin *window  // ...and its window, saving a map lookup per request
	seed    maphash.Seed
	stats   StoreStats
	// deferred is an add's write held back by BugAddGetSet.
	deferred *deferredAdd
}

type entry struct {
	key        string
	val        Value
	expires    int64 // 0: never
	heapIdx    int   // index in the TTL heap, -1 if absent
	prev, next *entry
}

// NewStore returns an empty store.
func NewStore(opts StoreOptions) *Store {
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = DefaultDedupWindow
	}
	opts.DedupWindow = max(8, 1<<bits.Len(uint(opts.DedupWindow-1)))
	s := &Store{opts: opts, entries: make(map[string]*entry), dedup: make(map[Identity]*window), seed: maphash.MakeSeed()}
	s.lru.next, s.lru.prev = &s.lru, &s.lru
	return s
}

// Stats returns the counters.
func (s *Store) Stats() StoreStats { return s.stats }

// Bytes returns the bytes counted against MaxBytes.
func (s *Store) Bytes() int64 { return s.bytes }

// Forget drops the dedup memory of an incarnation that will send no more.
func (s *Store) Forget(id Identity) {
	delete(s.dedup, id)
	if s.lastID == id {
		s.lastWin = nil
	}
}

// Apply executes one request from the given sender at time now (in
// nanoseconds on any monotonic clock) and returns the reply. Replies to
// mutating requests are remembered per sender, so a duplicate or retry of a
// request is answered without being applied again. The zero Identity is
// the master's own process: its requests are applied every time.
func (s *Store) Apply(now int64, from Identity, req *Message) Message {
	local := from == (Identity{})
	if err := validate(req, local); err != nil {
		return errorReply(req, err)
	}
	if !req.Method.Mutates() || local || s.opts.Bugs.Has(BugNoDedup) {
		s.stats.Applied++
		return s.execute(now, req)
	}
	w := s.window(from)
	if req.Has&HasAck != 0 {
		w.ack(req.Ack)
	}
	fp := s.fingerprint(req)
	if rep, ok := w.lookup(fp, req.Seq); ok {
		if rep.Err == nil || (rep.Err.Code != CodeExpired && rep.Err.Code != CodeSeqReused) {
			s.stats.Duplicates++ // a replay, not a refusal
		}
		return rep
	}
	s.stats.Applied++
	rep := s.execute(now, req)
	w.record(fp, req.Seq, &rep)
	return rep
}

// Answer is the master's answer to one decoded message from the given
// sender: a request is applied (Apply); a frame that failed to decode,
// or a reply sent to the master, gets a definite bad_request. ok is false
// for a message that gets no answer (Node-internal or foreign ones). The
// real master and the simulator both answer with it.
func (s *Store) Answer(now int64, from Identity, msg *Message) (Message, bool) {
	switch msg.Kind {
	case KindRequest:
		return s.Apply(now, from, msg), true
	case KindInvalid:
		return errorReply(msg, msg.Err), true
	case KindReply:
		return errorReply(msg, errorf(ErrBadRequest, "shared-memory message without a method")), true
	}
	return Message{}, false
}

// fingerprint summarises a request cheaply (its method, key, and the sizes
// of its arguments), to tell a duplicate from another request that reuses
// its id.
func (s *Store) fingerprint(req *Message) uint64 {
	h := maphash.Bytes(s.seed, req.Key)
	h ^= uint64(req.Method) | uint64(len(req.Value))<<8 | uint64(len(req.Old))<<32
	return h ^ uint64(req.Delta)*0x9e3779b97f4a7c15 ^ uint64(req.TTL)<<1
}

func (s *Store) window(id Identity) *window {
	if s.lastWin != nil && s.lastID == id {
		return s.lastWin // batches come from one sender
	}
	w := s.dedup[id]
	if w == nil {
		w = newWindow(s.opts.DedupWindow)
		s.dedup[id] = w
	}
	s.lastID, s.lastWin = id, w
	return w
}

func (s *Store) execute(now int64, req *Message) Message {
	if s.deferred != nil {
		return s.executeBefore(now, req)
	}
	return s.run(now, req)
}

func (s *Store) run(now int64, req *Message) Message {
	s.expire(now, 2)
	switch req.Method {
	case MethodGet:
		return s.get(now, req)
	case MethodSet:
		return s.set(now, req)
	case MethodDelete:
		return s.del(now, req)
	case MethodCAS:
		return s.cas(now, req)
	case MethodAdd:
		return s.add(now, req)
	case MethodLen:
		s.expire(now, len(s.entries))
		return valueReply(req, Int(int64(len(s.entries))))
	case MethodKeys:
		return s.keys(now, req)
	}
	return errorReply(req, errorf(ErrUnknownMethod, "unknown method %d", req.Method))
}

var replyOK = Value(`"OK"`)

func (s *Store) get(now int64, req *Message) Message {
	e := s.lookup(now, req.Key)
	if e == nil {
		return Message{Kind: KindReply, Seq: req.Seq, Has: HasSeq}
	}
	s.touch(e)
	return valueReply(req, e.val)
}

func (s *Store) set(now int64, req *Message) Message {
	if err := s.fits(req.Key, req.Value); err != nil {
		return errorReply(req, err)
	}
	if s.opts.Bugs.Has(BugEvictInFlight) && s.full() && s.lookup(now, req.Key) != nil {
		return valueReply(req, replyOK) // the write landed on an evicted copy
	}
	s.put(now, req.Key, req.Value, expiry(now, req))
	return valueReply(req, replyOK)
}

func (s *Store) del(now int64, req *Message) Message {
	e := s.lookup(now, req.Key)
	if e == nil {
		return valueReply(req, False)
	}
	s.remove(e)
	return valueReply(req, True)
}

func (s *Store) cas(now int64, req *Message) Message {
	e := s.lookup(now, req.Key)
	match := e == nil && req.Has&HasOld == 0
	if e != nil && req.Has&HasOld != 0 {
		match = e.val.Equal(req.Old)
	}
	if !match {
		return valueReply(req, False)
	}
	if err := s.fits(req.Key, req.Value); err != nil {
		return errorReply(req, err)
	}
	s.put(now, req.Key, req.Value, expiry(now, req))
	return valueReply(req, True)
}

func (s *Store) add(now int64, req *Message) Message {
	var cur int64
	e := s.lookup(now, req.Key)
	if e != nil {
		n, ok := parseInt(e.val)
		if !ok {
			return errorReply(req, errorf(ErrNotInteger, "value of key %.40q is %.40s, not an integer in the int64 range", req.Key, e.val))
		}
		cur = n
	}
	delta := int64(1)
	if req.Has&HasDelta != 0 {
		delta = req.Delta
	}
	sum := cur + delta
	if (delta > 0 && sum < cur) || (delta < 0 && sum > cur) {
		return errorReply(req, errorf(ErrOverflow, "%d + %d leaves the int64 range", cur, delta))
	}
	v := Int(sum)
	if err := s.fits(req.Key, v); err != nil {
		return errorReply(req, err)
	}
	keep := int64(0)
	if e != nil {
		keep = e.expires
	}
	if s.opts.Bugs.Has(BugAddGetSet) {
		s.deferred = &deferredAdd{key: string(req.Key), val: v, expires: keep}
		return valueReply(req, v)
	}
	s.put(now, req.Key, v, keep)
	return valueReply(req, v)
}

func (s *Store) keys(now int64, req *Message) Message {
	s.expire(now, len(s.entries))
	names := make([]string, 0, len(s.entries))
	for k := range s.entries {
		names = append(names, k)
	}
	sort.Strings(names)
	v := Value{'['}
	for i, k := range names {
		if i > 0 {
			v = append(v, ',')
		}
		v = AppendString(v, []byte(k))
	}
	return valueReply(req, append(v, ']'))
}

func expiry(now int64, req *Message) int64 {
	if req.Has&HasTTL == 0 {
		return 0
	}
	return now + req.TTL*1e6
}

func valueReply(req *Message, v Value) Message {
	return Message{Kind: KindReply, Seq: req.Seq, Has: req.Has&HasSeq | HasValue, Value: v}
}

func errorReply(req *Message, err *Error) Message {
	return Message{Kind: KindReply, Seq: req.Seq, Has: req.Has & HasSeq, Err: err}
}

// ErrorReply returns the reply that reports err for req.
func ErrorReply(req *Message, err *Error) Message { return errorReply(req, err) }
