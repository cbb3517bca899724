package linearizability

import (
	"cmp"
	"encoding/binary"
	"math"
	mathbits "math/bits"
	"slices"
	"time"
)

// The search of one key's history: Wing and Gong's algorithm with Lowe's
// cache, as porcupine runs it, but over flat arrays. Porcupine keeps
// each call and return as a boxed node of a linked list and caches every
// (linearized set, state) it meets with a copy of the whole set as a
// bitset: a key of n operations costs n/8 bytes per step, which on
// 1,000,000 operations is gigabytes within seconds. Here events are
// indices, the list is two int32 arrays, and a linearized set is cached
// as its frontier (one past the latest operation taken, in call order)
// and the few operations before the frontier not yet taken: those are
// the operations still open around the frontier, so a set costs a few
// words however long the history.
//
// The search finds what porcupine's verbose search does, in one run: the
// verdict, and for each operation the longest linearizable prefix found
// that holds it (for a linearizable key, one whole linearization).

// searchResult is what searchKey found.
type searchResult struct {
	verdict Verdict
	// prefixes are indices into the key's ops: one linearization of a
	// linearizable key, the distinct longest linearizable prefixes of one
	// that is not, nil if undecided.
	prefixes [][]int
	// steps counts the model steps taken.
	steps int
}

// stepper is a key's model over states packed in a uint64.
type stepper interface {
	init() uint64
	step(s uint64, o *kvOp) (bool, uint64)
}

// detStepper is the model of a store that never loses a key.
type detStepper struct{ m *kvModel }

func (d detStepper) init() uint64 { return uint64(mkState(0, false, 0)) }

func (d detStepper) step(s uint64, o *kvOp) (bool, uint64) {
	ok, next := d.m.step(kvState(s), o)
	return ok, uint64(next)
}

// setStepper is the model of a store whose keys may vanish: a state is
// the set of states the key may be in (porcupine's power-set
// construction), interned, and packed as its number.
type setStepper struct {
	m    *kvModel
	ids  map[string]uint64
	sets [][]kvState
	buf  []kvState
	key  []byte
}

func newSetStepper(m *kvModel) *setStepper {
	return &setStepper{m: m, ids: map[string]uint64{}}
}

func (ss *setStepper) init() uint64 { return ss.intern([]kvState{mkState(0, false, 0)}) }

func (ss *setStepper) step(s uint64, o *kvOp) (bool, uint64) {
	ss.buf = ss.buf[:0]
	for _, st := range ss.sets[s] {
		ss.buf = append(ss.buf, ss.m.stepEvict(st, o)...)
	}
	if len(ss.buf) == 0 {
		return false, s
	}
	slices.Sort(ss.buf)
	return true, ss.intern(slices.Compact(ss.buf))
}

// intern returns the number of the sorted set of states set.
func (ss *setStepper) intern(set []kvState) uint64 {
	ss.key = ss.key[:0]
	for _, st := range set {
		ss.key = binary.LittleEndian.AppendUint64(ss.key, uint64(st))
	}
	if id, ok := ss.ids[string(ss.key)]; ok {
		return id
	}
	id := uint64(len(ss.sets))
	ss.ids[string(ss.key)] = id
	ss.sets = append(ss.sets, slices.Clone(set))
	return id
}

func (kh *keyHistory) stepper() stepper {
	if kh.model.evict {
		return newSetStepper(kh.model)
	}
	return detStepper{kh.model}
}

// none stands for no event in the search's linked list.
const none = -1

// searcher is the state of one key's search.
type searcher struct {
	model stepper
	in    []*kvOp // by rank: operations numbered in the order of their calls
	orig  []int32 // by rank: the index in the key's ops
	ev    []int32 // by event: rank<<1, |1 for a return
	ret   []int32 // by rank: the event of its return
	next  []int32 // by event, and the head (the last slot)
	prev  []int32
	// The linearized set: every rank below front is taken except those in
	// open (sorted); none at or above it is. openHash sums mix(rank) over
	// open.
	front    int32
	open     []int32
	openHash uint64
	cache    setCache
	stack    []frame
	// Every operation taken is a node of the search's tree: its rank and
	// the node taken before it (-1: none), so that a prefix is a node.
	nodeRank, nodeUp []int32
	// longest[r] is the longest prefix found holding rank r.
	longest []prefix
	// twin[r] is the rank of the latest operation called before rank r
	// that is interchangeable with it (twins), or none; taken[r] says
	// whether rank r is in the linearized set.
	twin  []int32
	taken []bool
}

// Symmetry: two unknown operations with the same input (the same kvOp
// but for the recorded operation: method, epoch, values) and the same
// return time are twins, and the search linearizes twins in the order
// of their calls: it takes an operation only once its twin called
// before it is taken.
//
// Proof that this keeps the verdict. Let a and b be twins, a called no
// later than b, and L a linearization (or a linearizable prefix) that
// holds b but, before b, not a. Exchange them: a where b was, and b
// where a was, if L holds a (later). The model steps on both alike, so
// the states are the same. Real time still allows the order: what must
// come before a (returned before its call) returned before b's call, so
// came before b's place; what must come before b came before its old,
// earlier place, so before a's; and what must come after one (called
// after its return) must come after the other, as their returns are
// equal (infinite, or bounded alike), so after both places. Repeated,
// the exchanges give a linearization (a prefix) of the same length in
// which every group of twins is taken in call order, which the search
// finds. The cache stays sound: which operations may be taken next
// depends on the linearized set alone.

// twinKey is what makes operations twins.
type twinKey struct {
	o   kvOp
	ret int64
}

// twins returns, by rank, the twin called before each operation, or
// none, and how many have one. in is by rank, call order; ret the
// return times by rank.
func twins(in []*kvOp, ret func(r int) int64) ([]int32, int) {
	tw := make([]int32, len(in))
	last := map[twinKey]int32{}
	n := 0
	for r, o := range in {
		tw[r] = none
		if !o.unknown || o.reset {
			continue
		}
		k := twinKey{*o, ret(r)}
		k.o.op = nil
		if q, ok := last[k]; ok {
			tw[r] = q
			n++
		}
		last[k] = int32(r)
	}
	return tw, n
}

// prefix is a linearizable prefix: its last node, and its length (0:
// none).
type prefix struct{ node, len int32 }

// frame is one operation taken: its call event, the state before it, and
// how to undo its change of the linearized set.
type frame struct {
	call  int32
	node  int32
	state uint64
	// best is the longest prefix recorded while it was on top of the
	// stack, or handed down by those taken after it when they were undone.
	best prefix
	// front is the frontier before it was taken, if it moved it (else -1).
	front int32
	// at is where its rank was in open, if it did not move the frontier.
	at int32
}

// newSearcher lays out kh's operations for the search.
func newSearcher(kh *keyHistory) *searcher {
	n := len(kh.ops)
	type event struct {
		t    int64
		code int32 // index<<1, |1 for a return
	}
	// By time; at a tie, calls before returns (as porcupine orders them),
	// then by index: the calls and the returns, each nearly in order
	// already, are sorted apart and merged.
	calls, rets := make([]event, n), make([]event, n)
	for i := range kh.ops {
		calls[i], rets[i] = event{kh.ops[i].Call, int32(i) << 1}, event{kh.ops[i].Return, int32(i)<<1 | 1}
	}
	byTime := func(a, b event) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.code, b.code)) }
	sortNearly(calls, byTime)
	sortNearly(rets, byTime)
	evs := make([]event, 0, 2*n)
	for len(calls) > 0 || len(rets) > 0 {
		if len(rets) == 0 || len(calls) > 0 && calls[0].t <= rets[0].t {
			evs, calls = append(evs, calls[0]), calls[1:]
		} else {
			evs, rets = append(evs, rets[0]), rets[1:]
		}
	}
	s := &searcher{
		model: kh.stepper(), in: make([]*kvOp, n), orig: make([]int32, n),
		ev: make([]int32, 2*n), ret: make([]int32, n),
		next: make([]int32, 2*n+1), prev: make([]int32, 2*n+1),
		longest: make([]prefix, n), taken: make([]bool, n),
	}
	rank := make([]int32, n) // by index
	r := int32(0)
	for p, e := range evs {
		i := e.code >> 1
		if e.code&1 == 0 {
			rank[i] = r
			s.in[r], s.orig[r] = kh.ops[i].Input.(*kvOp), i
			r++
		}
		s.ev[p] = rank[i]<<1 | e.code&1
		if e.code&1 == 1 {
			s.ret[rank[i]] = int32(p)
		}
	}
	s.twin, _ = twins(s.in, func(r int) int64 { return kh.ops[s.orig[r]].Return })
	head := int32(2 * n)
	for p := range int32(2 * n) {
		s.prev[p], s.next[p] = p-1, p+1
	}
	if n > 0 {
		s.prev[0], s.next[2*n-1] = head, none
		s.next[head] = 0
	} else {
		s.next[head] = none
	}
	s.prev[head] = none
	return s
}

// lift takes the call event p and its return out of the list.
func (s *searcher) lift(p int32) {
	s.next[s.prev[p]] = s.next[p]
	s.prev[s.next[p]] = s.prev[p] // a call is followed by at least its return
	m := s.ret[s.ev[p]>>1]
	s.next[s.prev[m]] = s.next[m]
	if s.next[m] != none {
		s.prev[s.next[m]] = s.prev[m]
	}
}

// unlift puts back the call event p and its return, in reverse order.
func (s *searcher) unlift(p int32) {
	m := s.ret[s.ev[p]>>1]
	s.next[s.prev[m]] = m
	if s.next[m] != none {
		s.prev[s.next[m]] = m
	}
	s.next[s.prev[p]] = p
	s.prev[s.next[p]] = p
}

// mix scatters a rank for the open set's hash, a sum.
func mix(r int32) uint64 {
	x := uint64(r) + 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// take adds rank r to the linearized set; f records how to undo it.
func (s *searcher) take(r int32, f *frame) {
	s.taken[r] = true
	if r < s.front {
		at, _ := slices.BinarySearch(s.open, r)
		s.open = slices.Delete(s.open, at, at+1)
		s.openHash -= mix(r)
		f.front, f.at = -1, int32(at)
		return
	}
	f.front = s.front
	for q := s.front; q < r; q++ {
		s.open = append(s.open, q)
		s.openHash += mix(q)
	}
	s.front = r + 1
}

// untake undoes take(r, f).
func (s *searcher) untake(r int32, f *frame) {
	s.taken[r] = false
	if f.front < 0 {
		s.open = slices.Insert(s.open, int(f.at), r)
		s.openHash += mix(r)
		return
	}
	for q := f.front; q < r; q++ {
		s.openHash -= mix(q)
	}
	s.open = s.open[:len(s.open)-int(r-f.front)]
	s.front = f.front
}

// run searches until the key is decided or deadline passes (zero: none).
func (s *searcher) run(deadline time.Time) searchResult {
	head := int32(len(s.next) - 1)
	state := s.model.init()
	p := s.next[head]
	var res searchResult
	for iter := 1; s.next[head] != none; iter++ {
		if iter&0xfff == 0 && !deadline.IsZero() && time.Now().After(deadline) {
			return searchResult{verdict: Unknown, steps: res.steps}
		}
		e := s.ev[p]
		if e&1 == 0 {
			r := e >> 1
			if t := s.twin[r]; t != none && !s.taken[t] {
				p = s.next[p]
				continue
			}
			res.steps++
			ok, next := s.model.step(state, s.in[r])
			if !ok {
				p = s.next[p]
				continue
			}
			f := frame{call: p, state: state}
			s.take(r, &f)
			if s.cache.add(s, next) {
				f.node = s.push(r)
				s.stack = append(s.stack, f)
				state = next
				s.lift(p)
				p = s.next[head]
				continue
			}
			s.untake(r, &f)
			p = s.next[p]
			continue
		}
		// A return with its call not taken: stuck here, back up.
		if len(s.stack) == 0 {
			res.verdict, res.prefixes = Illegal, s.prefixes()
			return res
		}
		f := s.pop()
		s.untake(s.ev[f.call]>>1, &f)
		state = f.state
		s.unlift(f.call)
		p = s.next[f.call]
	}
	res.prefixes = [][]int{s.seq()}
	return res
}

// seq returns the stack's operations as indices into the key's ops.
func (s *searcher) seq() []int {
	out := make([]int, len(s.stack))
	for i, f := range s.stack {
		out[i] = int(s.orig[s.ev[f.call]>>1])
	}
	return out
}

// push makes the node of rank r taken on top of the stack.
func (s *searcher) push(r int32) int32 {
	up := int32(-1)
	if n := len(s.stack); n > 0 {
		up = s.stack[n-1].node
	}
	s.nodeRank = append(s.nodeRank, r)
	s.nodeUp = append(s.nodeUp, up)
	return int32(len(s.nodeRank) - 1)
}

// pop backs up from a dead end: the stack is a prefix as long as any
// found while its top was there, and each operation taken gets the
// longest prefix found while it was taken, as porcupine records them
// (the first found of the longest), but handed down the stack as
// operations are undone rather than written to every one at each dead
// end.
func (s *searcher) pop() frame {
	n := int32(len(s.stack))
	f := s.stack[n-1]
	if n > f.best.len {
		f.best = prefix{f.node, n}
	}
	s.stack = s.stack[:n-1]
	if n > 1 && f.best.len > s.stack[n-2].best.len {
		s.stack[n-2].best = f.best
	}
	if r := s.nodeRank[f.node]; f.best.len > s.longest[r].len {
		s.longest[r] = f.best
	}
	return f
}

// maxPrefixInts bounds the prefixes a key that is not linearizable
// keeps, in operations per operation of the key: the longest are kept
// whole, the others while they fit.
const maxPrefixInts = 4

// prefixes returns the distinct longest prefixes the operations hold,
// longest first, then in the order they were found; past maxPrefixInts
// ints per operation only those of the greatest length.
func (s *searcher) prefixes() [][]int {
	seen := make(map[int32]bool)
	var ps []prefix
	for _, p := range s.longest {
		if p.len > 0 && !seen[p.node] {
			seen[p.node] = true
			ps = append(ps, p)
		}
	}
	slices.SortStableFunc(ps, func(a, b prefix) int {
		if c := cmp.Compare(b.len, a.len); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
	budget := maxPrefixInts * len(s.longest)
	var out [][]int
	for _, p := range ps {
		if budget -= int(p.len); budget < 0 && p.len < ps[0].len {
			break
		}
		seq := make([]int, p.len)
		for i, x := int(p.len)-1, p.node; i >= 0; i, x = i-1, s.nodeUp[x] {
			seq[i] = int(s.orig[s.nodeRank[x]])
		}
		out = append(out, seq)
	}
	return out
}

// setCache holds the (linearized set, state) pairs the search has met:
// an open-addressed table of entries whose open sets share one arena.
// An entry is 16 bytes: the search makes several for each operation. An
// open set is kept as a list of ranks or, where that is smaller (many
// operations open at once, as unknown ones stay), as a bitset from its
// least rank to the frontier; the choice depends on the set alone, so
// equal sets are equal words.
type setCache struct {
	table   []uint32 // entry index + 1; 0: empty
	entries []cacheEntry
	arena   []int32
	enc     []int32 // the searcher's open set, encoded
}

type cacheEntry struct {
	state    uint64
	front    int32
	openFrom uint32 // in arena: the open set's encoding
}

// encode encodes the open set of s in c.enc: n then n ranks, or -(w+1)
// then the least rank and w words of bits from it.
func (c *setCache) encode(s *searcher) {
	c.enc = c.enc[:0]
	if len(s.open) == 0 {
		c.enc = append(c.enc, 0)
		return
	}
	lo := s.open[0]
	words := (s.front - lo + 31) / 32
	if int32(len(s.open)) <= words+1 {
		c.enc = append(c.enc, int32(len(s.open)))
		c.enc = append(c.enc, s.open...)
		return
	}
	c.enc = append(c.enc, -(words + 1), lo)
	c.enc = append(c.enc, make([]int32, words)...)
	for _, r := range s.open {
		c.enc[2+(r-lo)/32] |= 1 << ((r - lo) % 32)
	}
}

// open returns the encoding of e's open set.
func (c *setCache) open(e *cacheEntry) []int32 {
	n := c.arena[e.openFrom]
	if n < 0 {
		n = -n
	}
	return c.arena[e.openFrom : e.openFrom+1+uint32(n)]
}

// openHash returns the sum of mix over an encoded open set.
func openHash(enc []int32) uint64 {
	var h uint64
	if enc[0] >= 0 {
		for _, r := range enc[1:] {
			h += mix(r)
		}
		return h
	}
	lo := enc[1]
	for w, bits := range enc[2:] {
		for b := uint32(bits); b != 0; b &= b - 1 {
			h += mix(lo + int32(w)*32 + int32(mathbits.TrailingZeros32(b)))
		}
	}
	return h
}

// hash hashes a linearized set, given as its frontier and the sum of
// mix over its open set, with a state.
func hash(front int32, openHash, state uint64) uint64 {
	h := openHash + mix(front) + mathbits.RotateLeft64(mix(int32(state))^mix(int32(state>>32)), 17)
	h = (h ^ h>>33) * 0xff51afd7ed558ccd
	return h ^ h>>29
}

// add adds the searcher's linearized set with state, and reports whether
// it was not there. An arena past 2^32 words takes nothing more: the
// cache only saves work.
func (c *setCache) add(s *searcher, state uint64) bool {
	if 3*(len(c.entries)+1) > 2*len(c.table) {
		c.grow()
	}
	c.encode(s)
	mask := uint64(len(c.table) - 1)
	for i := hash(s.front, s.openHash, state) & mask; ; i = (i + 1) & mask {
		x := c.table[i]
		if x == 0 {
			if uint64(len(c.arena))+uint64(len(c.enc)) > math.MaxUint32 {
				return true
			}
			c.table[i] = uint32(len(c.entries) + 1)
			c.entries = append(c.entries, cacheEntry{state: state, front: s.front, openFrom: uint32(len(c.arena))})
			c.arena = append(c.arena, c.enc...)
			return true
		}
		e := &c.entries[x-1]
		if e.state == state && e.front == s.front && slices.Equal(c.open(e), c.enc) {
			return false
		}
	}
}

func (c *setCache) grow() {
	size := max(1024, 2*len(c.table))
	c.table = make([]uint32, size)
	mask := uint64(size - 1)
	for j := range c.entries {
		e := &c.entries[j]
		i := hash(e.front, openHash(c.open(e)), e.state) & mask
		for c.table[i] != 0 {
			i = (i + 1) & mask
		}
		c.table[i] = uint32(j + 1)
	}
}

// searchKey decides kh, once, and keeps what explanations need.
func searchKey(kh *keyHistory, deadline time.Time) searchResult {
	return newSearcher(kh).run(deadline)
}
