package shm

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"sort"
)

// StoreOptions limit a Store. Zero means no limit, but for MaxBytes (see
// DefaultMaxBytes).
type StoreOptions struct {
	MaxEntries  int   `json:"max_entries,omitempty"`  // entries kept; beyond it the least recently used go
	MaxBytes    int64 `json:"max_bytes,omitempty"`    // key bytes + value bytes + EntryOverhead per entry; LRU beyond it (0: writes past DefaultMaxBytes are refused)
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

// DefaultMaxBytes bounds a store whose MaxBytes is 0: key bytes, value
// bytes and EntryOverhead per entry, as MaxBytes counts them. A write
// that would take such a store past it is refused with a definite
// too_large, and nothing is evicted, so a store nobody bounded never
// loses data silently (the checkers' model of it stays a plain map).
// 64 MiB is a fixed size, the same on every machine so that a run means
// the same everywhere: sixteen values of the largest frame, or 100,000
// entries of 500 bytes, far beyond what the bundled scenarios hold, and
// little enough that one runaway worker cannot take the machine's memory
// (the master's heap stays within about twice it).
const DefaultMaxBytes = 64 << 20

// MaxKeysListed is the most entries a keys answer lists. A store holding
// more answers keys with a definite too_large at once, before building
// anything, so the cost of one keys call (collecting, sorting and
// encoding the names) is bounded however large the store grows.
const MaxKeysListed = 10_000

// workBytes is how many value bytes copied count as one unit of work
// (Store.work), as one entry visited does.
const workBytes = 4096

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
	// keyBytes is the sum of the keys' lengths, to refuse a keys answer
	// too long for a frame before building it.
	keyBytes int
	// work counts the units of work done: one per request applied, per
	// entry visited (listed by keys, expired, evicted or removed) and per
	// workBytes of value copied. The master yields its lock by it.
	work  uint64
	ttl   ttlHeap
	dedup map[Identity]*window
	wins  [8]cachedWindow // recent senders' windows, by worker number
	seed  maphash.Seed
	stats StoreStats
	// deferred is an add's write held back by BugAddGetSet.
	deferred *deferredAdd
	// maxFrame is the frame limit replies must fit in: no value longer
	// than MaxValueBytes(maxFrame) is stored. The master sets it from its
	// StreamOptions; DefaultMaxFrame otherwise.
	maxFrame int
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
	s := &Store{opts: opts, entries: make(map[string]*entry), dedup: make(map[Identity]*window), seed: maphash.MakeSeed(), maxFrame: DefaultMaxFrame}
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
	if c := s.cached(id); c.id == id {
		*c = cachedWindow{}
	}
}

// Apply executes one request from the given sender at time now (in
// nanoseconds on any monotonic clock) and returns the reply. Replies to
// mutating requests are remembered per sender, so a duplicate or retry of a
// request is answered without being applied again. The zero Identity is
// the master's own process: its requests are applied every time.
func (s *Store) Apply(now int64, from Identity, req *Message) Message {
	var rep Message
	s.apply(now, from, req, &rep)
	return rep
}

// apply is Apply, answering into rep.
func (s *Store) apply(now int64, from Identity, req *Message, rep *Message) {
	local := from == (Identity{})
	if err := validate(req, local); err != nil {
		*rep = errorReply(req, err)
		return
	}
	if err := s.checkStored(req); err != nil {
		*rep = errorReply(req, err)
		return
	}
	if !req.Method.Mutates() || local || req.Has&HasSeq == 0 || s.opts.Bugs.Has(BugNoDedup) {
		s.stats.Applied++
		s.work++
		s.execute(now, req, rep)
		return
	}
	w := s.window(from)
	if req.Has&HasAck != 0 {
		w.ack(req.Ack)
	}
	fp := s.fingerprint(req)
	if w.lookup(fp, req.Seq, rep) {
		if rep.Err == nil || (rep.Err.Code != CodeExpired && rep.Err.Code != CodeSeqReused) {
			s.stats.Duplicates++ // a replay, not a refusal
		}
		return
	}
	s.stats.Applied++
	s.work++
	s.execute(now, req, rep)
	w.record(fp, req.Seq, rep)
}

// Answer is the master's answer, into rep, to one decoded message msg
// from the given sender: a request is applied (Apply); a frame that
// failed to decode, or a reply sent to the master, gets a definite
// bad_request. It returns false, leaving rep alone, for a message that
// gets no answer (Node-internal or foreign ones). rep must not be msg.
// The real master and the simulator both answer with it.
func (s *Store) Answer(now int64, from Identity, msg *Message, rep *Message) bool {
	switch msg.Kind {
	case KindRequest:
		if s.opts.Bugs.Has(BugNoReply) && msg.Method == MethodDelete {
			return false // the bug: never answered, never applied
		}
		s.apply(now, from, msg, rep)
	case KindInvalid:
		*rep = errorReply(msg, msg.Err)
	case KindReply:
		*rep = errorReply(msg, errorf(ErrBadRequest, "shared-memory message without a method"))
	default:
		return false
	}
	return true
}

// fingerprint summarises a request cheaply (its method, key, and the sizes
// of its arguments), to tell a duplicate from another request that reuses
// its id.
func (s *Store) fingerprint(req *Message) uint64 {
	h := maphash.Bytes(s.seed, req.Key)
	h ^= uint64(req.Method) | uint64(len(req.Value))<<8 | uint64(len(req.Old))<<32
	return h ^ uint64(req.Delta)*0x9e3779b97f4a7c15 ^ uint64(req.TTL)<<1
}

// cachedWindow is a sender's window, saving a map lookup per request.
type cachedWindow struct {
	id Identity
	w  *window
}

// cached returns the cache slot of sender id: workers numbered 1 to 8
// each have their own.
func (s *Store) cached(id Identity) *cachedWindow {
	return &s.wins[uint64(id.Worker)%uint64(len(s.wins))]
}

func (s *Store) window(id Identity) *window {
	c := s.cached(id)
	if c.w != nil && c.id == id {
		return c.w
	}
	w := s.dedup[id]
	if w == nil {
		w = newWindow(s.opts.DedupWindow)
		s.dedup[id] = w
	}
	*c = cachedWindow{id, w}
	return w
}

// checkStored refuses a set or cas whose value could not be read back: a
// get's reply to it, on either codec and with the longest uuid, would
// pass the frame limit. It is decided on the request alone, before the
// duplicate window, so a resent request gets the same answer.
func (s *Store) checkStored(req *Message) *Error {
	if req.Method != MethodSet && req.Method != MethodCAS {
		return nil
	}
	if max := MaxValueBytes(s.maxFrame); len(req.Value) > max {
		return errorf(ErrTooLarge, "reply frame of up to %d bytes (a value of %d and %d around it) would exceed the frame limit of %d: the largest value stored is %d bytes",
			len(req.Value)+replyOverhead, len(req.Value), replyOverhead, s.maxFrame, max)
	}
	return nil
}

func (s *Store) execute(now int64, req *Message, rep *Message) {
	if s.deferred != nil {
		s.executeBefore(now, req, rep)
		return
	}
	s.run(now, req, rep)
}

// ExpireSweep is how many entries past their TTL the store removes
// before it applies each request (more are removed as they are met).
const ExpireSweep = 2

func (s *Store) run(now int64, req *Message, rep *Message) {
	s.expire(now, ExpireSweep)
	switch req.Method {
	case MethodGet:
		s.get(now, req, rep)
	case MethodSet:
		s.set(now, req, rep)
	case MethodDelete:
		s.del(now, req, rep)
	case MethodCAS:
		s.cas(now, req, rep)
	case MethodAdd:
		s.add(now, req, rep)
	case MethodLen:
		s.expire(now, len(s.entries))
		*rep = valueReply(req, Int(int64(len(s.entries))))
	case MethodKeys:
		s.keys(now, req, rep)
	case MethodGetLock, MethodReleaseLock:
		*rep = errorReply(req, errorf(ErrUnknownMethod, "%s is served by a master to its connections, not by a store", req.Method))
	default:
		*rep = errorReply(req, errorf(ErrUnknownMethod, "unknown method %d", req.Method))
	}
}

var replyOK = Value(`"OK"`)

func (s *Store) get(now int64, req *Message, rep *Message) {
	e := s.lookup(now, req.Key)
	if e == nil {
		*rep = Message{Kind: KindReply, Seq: req.Seq, Has: HasSeq}
		if req.Has&HasUUID != 0 {
			*rep = replyTo(req)
		}
		return
	}
	s.touch(e)
	*rep = valueReply(req, e.val)
}

func (s *Store) set(now int64, req *Message, rep *Message) {
	switch {
	case req.Has&HasKey == 0:
		s.setMany(now, req, rep)
		return
	case req.Has&HasValue == 0:
		s.unset(now, req, rep)
		return
	}
	if err := s.fits(now, s.entries[string(req.Key)], req.Key, req.Value); err != nil {
		*rep = errorReply(req, err)
		return
	}
	if s.opts.Bugs.Has(BugEvictInFlight) && s.full() && s.lookup(now, req.Key) != nil {
		*rep = valueReply(req, replyOK) // the write landed on an evicted copy
		return
	}
	s.put(now, req.Key, req.Value, expiry(now, req))
	*rep = valueReply(req, replyOK)
}

func (s *Store) del(now int64, req *Message, rep *Message) {
	e := s.lookup(now, req.Key)
	if e == nil {
		*rep = valueReply(req, False)
		return
	}
	s.remove(e)
	*rep = valueReply(req, True)
}

func (s *Store) cas(now int64, req *Message, rep *Message) {
	e := s.lookup(now, req.Key)
	match := e == nil && req.Has&HasOld == 0
	if e != nil && req.Has&HasOld != 0 {
		match = e.val.Equal(req.Old)
	}
	if !match {
		*rep = valueReply(req, False)
		return
	}
	if err := s.fits(now, e, req.Key, req.Value); err != nil {
		*rep = errorReply(req, err)
		return
	}
	s.keep(e, req.Key, append(Value(nil), req.Value...), expiry(now, req))
	*rep = valueReply(req, True)
}

func (s *Store) add(now int64, req *Message, rep *Message) {
	var cur int64
	e := s.lookup(now, req.Key)
	if e != nil {
		n, ok := parseInt(e.val)
		if !ok {
			*rep = errorReply(req, errorf(ErrNotInteger, "value of key %.40q is %.40s, not an integer in the int64 range", req.Key, e.val))
			return
		}
		cur = n
	}
	delta := int64(1)
	if req.Has&HasDelta != 0 {
		delta = req.Delta
	}
	sum := cur + delta
	if (delta > 0 && sum < cur) || (delta < 0 && sum > cur) {
		*rep = errorReply(req, errorf(ErrOverflow, "%d + %d leaves the int64 range", cur, delta))
		return
	}
	v := Int(sum)
	if err := s.fits(now, e, req.Key, v); err != nil {
		*rep = errorReply(req, err)
		return
	}
	keep := int64(0)
	if e != nil {
		keep = e.expires
	}
	if s.opts.Bugs.Has(BugAddGetSet) {
		s.deferred = &deferredAdd{key: string(req.Key), val: v, expires: keep}
		*rep = valueReply(req, v)
		return
	}
	s.keep(e, req.Key, v, keep)
	*rep = valueReply(req, v)
}

// keys answers the live keys, sorted, or a too_large refusal decided
// before building anything when there are more than MaxKeysListed or
// their text could not fit in a frame.
func (s *Store) keys(now int64, req *Message, rep *Message) {
	s.expire(now, len(s.entries))
	n := len(s.entries)
	if n > MaxKeysListed {
		*rep = errorReply(req, errorf(ErrTooLarge, "keys would list %d entries, more than the limit of %d", n, MaxKeysListed))
		return
	}
	if size := s.keyBytes + 3*n + 2 + replyOverhead; size > s.maxFrame { // quotes and commas, escapes not counted
		*rep = errorReply(req, errorf(ErrTooLarge, "keys would answer a reply frame of %d bytes or more, more than the frame limit of %d", size, s.maxFrame))
		return
	}
	s.work += uint64(n)
	names := make([]string, 0, n)
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
	*rep = valueReply(req, append(v, ']'))
}

func expiry(now int64, req *Message) int64 {
	if req.Has&HasTTL == 0 {
		return 0
	}
	return now + req.TTL*1e6
}

func valueReply(req *Message, v Value) Message {
	if req.Has&HasUUID != 0 {
		rep := replyTo(req)
		rep.Value, rep.Has = v, rep.Has|HasValue
		return rep
	}
	return Message{Kind: KindReply, Seq: req.Seq, Has: req.Has&HasSeq | HasValue, Value: v}
}

func errorReply(req *Message, err *Error) Message {
	rep := replyTo(req)
	rep.Err = err
	return rep
}

// replyTo returns a reply to req carrying its uuid, whichever form it
// took, and nothing else. A uuid kept as text is copied: the request's
// points into a buffer the next receive reuses, and a reply may be held
// longer (a delayed message, a remembered reply).
func replyTo(req *Message) Message {
	rep := Message{Kind: KindReply, Seq: req.Seq, Has: req.Has & HasSeq}
	if req.Has&HasUUID != 0 {
		rep.UUID, rep.Has = append(Value(nil), req.UUID...), rep.Has|HasUUID
	}
	return rep
}

// ErrorReply returns the reply that reports err for req.
func ErrorReply(req *Message, err *Error) Message { return errorReply(req, err) }
