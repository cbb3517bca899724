package linearizability

import (
	"fmt"
	"hash/maphash"
	"math"
	"sort"

	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
)

// A history whose header states the store's limits (history.StoreLimits)
// is checked as one whole: an eviction takes the least recently used
// entry of the store, whatever its key, so the keys are not independent.
// The model's state is the whole store (its entries in LRU order, each
// with its value and, for a TTL, the span its expiry lies in). A key
// vanishes only where the reference store would remove it:
//
//   - its TTL has passed: the store applies an operation at some time in
//     its span [call, return] (widened by the clock tolerance), so an
//     entry's expiry lies in the span of its write plus the TTL, and an
//     entry is read as expired only when that may be so;
//   - a write took the store past a limit: the entries beyond the limit
//     go, least recently used first (a get that found its key, a write,
//     a cas that matched and an add refresh it; a get that found nothing
//     and a cas that did not match do not), never the entry just written.
//
// Concurrency makes "least recently used" a set of candidates: porcupine
// tries every order of concurrent operations, and each order has its own
// LRU list. Expired entries the store has not swept yet still count
// against the limits, so an entry that may have expired counts as
// present or not, and the eviction may stop anywhere between the two.
// A get is not deduplicated: its copies (resent, duplicated, delayed)
// are touches of unknown outcome that may refresh its key later.
//
// The state keeps no clock: that the store's clock never goes back
// would narrow an operation's span by the one before it, but states
// that differ by it alone defeat porcupine's cache (a history of 1,200
// operations on real processes took 14 s with it and 0.24 s without,
// and the store variants were caught as often).

// boundedOp is one operation as the whole-store model sees it: as the
// per-key model does, and more.
type boundedOp struct {
	kvOp
	// touch marks a phantom: another copy of a get that a fault
	// duplicated, delayed or made the client resend, which may refresh
	// its key's place in the LRU order at any time after the call.
	touch bool
	key   uint32
	unset bool  // a set without a value: it removes the key
	ttl   int64 // set and cas: the TTL in nanoseconds (0: none)
	// lo and hi bound the store's clock when it applied the operation, on
	// the history's clock: its call and return widened by the tolerance
	// (hi is math.MaxInt64 for an unknown outcome).
	lo, hi int64
}

// bentry is an entry of the model's store.
type bentry struct {
	key, val uint32
	ttl      int64 // nanoseconds; 0: the entry never expires
	// expLo and expHi bound the time it expires at (ttl > 0 only).
	expLo, expHi int64
}

// bstate is the whole store at one point of a linearization.
type bstate struct {
	epoch   uint32
	entries []bentry // most recently used first
	id      string   // the state encoded, for hashing and comparing
}

// boundedModel is the porcupine model of a bounded store.
type boundedModel struct {
	limits history.StoreLimits
	keys   []string
	keyIDs map[string]uint32
	in     *interner
	seed   maphash.Seed
}

func newBoundedModel(limits history.StoreLimits) *boundedModel {
	return &boundedModel{limits: limits, keyIDs: make(map[string]uint32), in: newInterner(), seed: maphash.MakeSeed()}
}

func (m *boundedModel) keyID(k string) uint32 {
	if id, ok := m.keyIDs[k]; ok {
		return id
	}
	id := uint32(len(m.keys))
	m.keyIDs[k] = id
	m.keys = append(m.keys, k)
	return id
}

// size is what an entry counts against MaxBytes.
func (m *boundedModel) size(e *bentry) int64 {
	return int64(len(m.keys[e.key])+len(m.in.vals[e.val])) + m.limits.EntryOverhead
}

// seal encodes s for hashing and comparing.
func (m *boundedModel) seal(s *bstate) *bstate {
	b := make([]byte, 0, 16+len(s.entries)*32)
	b = strconv.AppendUint(b, uint64(s.epoch), 36)
	for _, e := range s.entries {
		b = strconv.AppendUint(append(b, ' '), uint64(e.key), 36)
		b = strconv.AppendUint(append(b, '='), uint64(e.val), 36)
		if e.ttl > 0 {
			b = strconv.AppendInt(append(b, '~'), e.expLo, 36)
			b = strconv.AppendInt(append(b, ','), e.expHi, 36)
			b = strconv.AppendInt(append(b, ','), e.ttl, 36)
		}
	}
	s.id = string(b)
	return s
}

// satAdd is a+b, held at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// step returns every state that may follow s once o is applied.
func (m *boundedModel) step(s *bstate, o *boundedOp) []*bstate {
	if o.reset {
		if s.epoch+1 != o.epoch {
			return nil
		}
		return []*bstate{m.seal(&bstate{epoch: o.epoch})}
	}
	if o.epoch != s.epoch {
		// Only an operation of unknown outcome may come after its
		// epoch's end, and it did nothing.
		if o.unknown && o.epoch < s.epoch {
			return []*bstate{s}
		}
		return nil
	}
	lo, hi := o.lo, o.hi
	es := m.sweep(s.entries, lo, hi)
	i := find(es, o.key)
	var out []*bstate
	if i < 0 || es[i].ttl == 0 || es[i].expLo > hi {
		return m.apply(out, s.epoch, es, i, o, lo, hi)
	}
	e := es[i]
	if e.expHi > lo { // it may still be there: its expiry is after now
		live := cloneEntries(es)
		live[i].expLo = max(e.expLo, lo+1)
		out = m.apply(out, s.epoch, live, i, o, lo, min(hi, e.expHi-1))
	}
	// It may have expired: now is at or after its expiry. The lookup
	// removes it (a set replaces it, to the same effect).
	return m.apply(out, s.epoch, removeEntry(es, i), -1, o, max(lo, e.expLo), hi)
}

// sweep returns es without the entries the store surely swept before
// applying an operation at a time in [lo, hi]: it removes up to
// limits.Sweep expired entries first, so when no more than that may
// have expired by hi, and all surely have by lo, they are all gone.
func (m *boundedModel) sweep(es []bentry, lo, hi int64) []bentry {
	if m.limits.Sweep == 0 {
		return es
	}
	n := 0
	for i := range es {
		if es[i].ttl == 0 || es[i].expLo > hi {
			continue
		}
		if es[i].expHi > lo {
			return es // may or may not have expired: the sweep may take it, or others
		}
		n++
	}
	if n == 0 || n > m.limits.Sweep {
		return es
	}
	kept := make([]bentry, 0, len(es)-n)
	for _, e := range es {
		if e.ttl == 0 || e.expLo > hi {
			kept = append(kept, e)
		}
	}
	return kept
}

func find(es []bentry, key uint32) int {
	for i := range es {
		if es[i].key == key {
			return i
		}
	}
	return -1
}

func cloneEntries(es []bentry) []bentry { return append([]bentry(nil), es...) }

// removeEntry returns a copy of es without its entry i.
func removeEntry(es []bentry, i int) []bentry {
	out := make([]bentry, 0, len(es))
	out = append(out, es[:i]...)
	return append(out, es[i+1:]...)
}

// front returns a copy of es with e first and without its entry i (if
// i >= 0).
func front(es []bentry, i int, e bentry) []bentry {
	out := make([]bentry, 0, len(es)+1)
	out = append(out, e)
	for j := range es {
		if j != i {
			out = append(out, es[j])
		}
	}
	return out
}

// apply appends to out the states o leaves when the store, its clock in
// [lo, hi], holds es, in which i is o's key's live entry (-1: none).
func (m *boundedModel) apply(out []*bstate, epoch uint32, es []bentry, i int, o *boundedOp, lo, hi int64) []*bstate {
	done := func(es []bentry) {
		out = append(out, m.seal(&bstate{epoch: epoch, entries: es}))
	}
	write := func(val uint32, ttl int64, keep *bentry) {
		e := bentry{key: o.key, val: val, ttl: ttl}
		switch {
		case keep != nil:
			e.ttl, e.expLo, e.expHi = keep.ttl, keep.expLo, keep.expHi
		case ttl > 0:
			e.expLo, e.expHi = satAdd(lo, ttl), satAdd(hi, ttl)
		}
		if m.limits.MaxBytes > 0 && m.size(&e) > m.limits.MaxBytes {
			if o.unknown {
				done(es) // refused: too large for the store
			}
			return
		}
		for _, next := range m.evict(front(es, i, e), hi) {
			done(next)
		}
	}
	switch o.method {
	case history.Get:
		switch {
		case i < 0:
			if o.unknown || o.touch || !o.present {
				done(es)
			}
		case o.unknown || o.touch || (o.present && es[i].val == o.value):
			done(front(es, i, es[i]))
		}
	case history.Set:
		if o.unset {
			if i >= 0 {
				es = removeEntry(es, i)
			}
			done(es)
			return out
		}
		write(o.value, o.ttl, nil)
	case history.Delete:
		if o.unknown || o.flag == (i >= 0) {
			if i >= 0 {
				es = removeEntry(es, i)
			}
			done(es)
		}
	case history.CAS:
		match := i < 0 && !o.hasOld || i >= 0 && o.hasOld && es[i].val == o.old
		switch {
		case !o.unknown && o.flag != match:
		case match:
			write(o.value, o.ttl, nil)
		default:
			done(es)
		}
	case history.Add:
		var cur int64
		var keep *bentry
		if i >= 0 {
			if !m.in.isInt[es[i].val] {
				if o.unknown || o.fail == failNotInt {
					done(es) // refused: not an integer
				}
				return out
			}
			cur, keep = m.in.intOf[es[i].val], &es[i]
		}
		sum, ok := addInt(cur, o.delta)
		if !ok {
			if o.unknown || o.fail == failOverflow {
				done(es)
			}
			return out
		}
		if o.fail != notFailed {
			return out // it failed where the add fits
		}
		id := m.in.intID(sum)
		if o.unknown || id == o.value {
			write(id, 0, keep)
		}
	case history.Append:
		// As add: it changes the value in place, keeping its TTL; on a
		// value that is not a string it fails.
		cur, keep := uint32(0), (*bentry)(nil)
		if i >= 0 {
			if !m.in.isStr(es[i].val) {
				if o.unknown {
					done(es)
				}
				return out
			}
			cur, keep = es[i].val, &es[i]
		}
		write(m.in.concat(cur, o.value), 0, keep)
	}
	return out
}

// evict returns every store the reference may leave after a write made
// es (the entry written first), its clock at most hi: it removes the
// least recently used entries while over a limit. An entry that may
// have expired by hi may have been swept already; counting all of them,
// or none, bounds how far the eviction goes, and it may stop anywhere
// between.
func (m *boundedModel) evict(es []bentry, hi int64) [][]bentry {
	if !m.limits.Bounded() {
		return [][]bentry{es}
	}
	maybe := func(e *bentry) bool { return e.ttl > 0 && e.expLo <= hi }
	most := m.cut(es, func(*bentry) bool { return true })
	least := m.cut(es, func(e *bentry) bool { return !maybe(e) })
	out := make([][]bentry, 0, least-most+1)
	for p := most; p <= least; p++ {
		out = append(out, es[:p:p])
	}
	return out
}

// cut returns how many entries of es, from the most recently used, the
// store keeps when the entries counted are those present says.
func (m *boundedModel) cut(es []bentry, present func(*bentry) bool) int {
	var n int
	var bytes int64
	for i := range es {
		if present(&es[i]) {
			n++
			bytes += m.size(&es[i])
		}
	}
	over := func() bool {
		return (m.limits.MaxEntries > 0 && n > m.limits.MaxEntries) || (m.limits.MaxBytes > 0 && bytes > m.limits.MaxBytes)
	}
	p := len(es)
	for p > 1 && over() {
		p--
		if present(&es[p]) {
			n--
			bytes -= m.size(&es[p])
		}
	}
	return p
}

// init is the empty store before the first operation.
func (m *boundedModel) init() *bstate { return m.seal(&bstate{}) }

// porcupine returns the porcupine model of m.
func (m *boundedModel) porcupine() porcupine.Model {
	nd := porcupine.NondeterministicModel{
		Init: func() []any { return []any{m.init()} },
		Step: func(state, input, _ any) []any {
			next := m.step(state.(*bstate), input.(*boundedOp))
			out := make([]any, len(next))
			for i, s := range next {
				out[i] = s
			}
			return out
		},
		Equal: func(a, b any) bool { return a.(*bstate).id == b.(*bstate).id },
		Hash:  func(state any) uint64 { return maphash.String(m.seed, state.(*bstate).id) },
		DescribeOperation: func(input, _ any) string {
			return m.describeOp(input.(*boundedOp))
		},
		DescribeState: func(state any) string { return m.describe(state.(*bstate)) },
	}
	return nd.ToModel()
}

func (m *boundedModel) describeOp(o *boundedOp) string {
	switch {
	case o.reset:
		return fmt.Sprintf("master restart: epoch %d begins, the state is lost", o.epoch)
	case o.touch:
		return "another copy of " + o.op.Describe()
	}
	return o.op.Describe()
}

// describe says what the store holds in s, least recently used last.
func (m *boundedModel) describe(s *bstate) string {
	if len(s.entries) == 0 {
		return "an empty store"
	}
	parts := make([]string, len(s.entries))
	for i, e := range s.entries {
		parts[i] = fmt.Sprintf("%q=%s", m.keys[e.key], m.in.vals[e.val])
		if e.ttl > 0 {
			parts[i] += " " + m.expiry(&e)
		}
	}
	return strings.Join(parts, ", ")
}

// expiry says when e expires, on the history's clock.
func (m *boundedModel) expiry(e *bentry) string {
	if e.expHi == math.MaxInt64 {
		return fmt.Sprintf("(expires at %d or later)", e.expLo)
	}
	return fmt.Sprintf("(expires in [%d, %d])", e.expLo, e.expHi)
}

// storeHistory is a bounded store's whole history, ready for porcupine.
type storeHistory struct {
	model *boundedModel
	ops   []porcupine.Operation
}

// partitionStore turns h into one history of the whole store. Failed
// operations are left out (they surely did nothing), but for the adds
// whose failure the model checks (checkedFailure), and so are len and
// keys.
func partitionStore(h *history.History, limits history.StoreLimits, ss *streams) *storeHistory {
	inf := infinity(h)
	bounds := epochs(h)
	m := newBoundedModel(limits)
	sh := &storeHistory{model: m}
	tol := limits.ClockTolerance
	var lastReturn []streamReturn
	named := namedOps(h)
	next := nextReturns(h)
	for i := range h.Ops {
		op := &h.Ops[i]
		call := afterStream(op, ss.id(op), &lastReturn)
		if !checked(op) {
			continue
		}
		o := m.convert(op, epochOf(bounds, op.Call))
		o.lo, o.hi = op.Call-tol, satAdd(op.Return, tol)
		ret := op.Return
		if o.unknown {
			ret, o.hi = inf, math.MaxInt64
		}
		sh.ops = append(sh.ops, porcupine.Operation{ClientId: ss.id(op), Input: o, Call: call, Return: ret})
		if op.Method == history.Get {
			n, until := copies(op, named[op.ID], next[i], limits.ResendAfter)
			if until == 0 {
				until = inf
			}
			for range n {
				t := *o
				t.touch, t.unknown, t.hi = true, true, math.MaxInt64
				sh.ops = append(sh.ops, porcupine.Operation{ClientId: ss.id(&history.Op{Worker: "copies of " + op.Worker}), Input: &t, Call: call, Return: satAdd(until, tol)})
			}
		}
	}
	reset := ss.id(&history.Op{Worker: "master"})
	for e, t := range bounds {
		o := &boundedOp{kvOp: kvOp{reset: true, epoch: uint32(e + 1)}}
		sh.ops = append(sh.ops, porcupine.Operation{ClientId: reset, Input: o, Call: t, Return: t})
	}
	return sh
}

// nextReturns returns, for each operation of h by index, when the next
// operation of its stream returned (0: none did, or there is none).
func nextReturns(h *history.History) []int64 {
	byStream := map[streamKey][]int{}
	for i := range h.Ops {
		k := streamKey{h.Ops[i].Worker, h.Ops[i].Stream}
		byStream[k] = append(byStream[k], i)
	}
	out := make([]int64, len(h.Ops))
	for _, idx := range byStream {
		sort.SliceStable(idx, func(a, b int) bool { return h.Ops[idx[a]].Call < h.Ops[idx[b]].Call })
		for j := 0; j+1 < len(idx); j++ {
			if n := &h.Ops[idx[j+1]]; n.Status != history.StatusUnknown {
				out[idx[j]] = n.Return
			}
		}
	}
	return out
}

// requestFaults is what the fault events naming an operation did to
// its request.
type requestFaults struct {
	n   int   // faults on the request's way to the master
	end int64 // when the last of them ended (math.MaxInt64: unknown)
}

// namedOps returns, for each operation a fault event names, the faults
// on its request's way (a reply's faults make no copy of a request; the
// client's resends are counted apart).
func namedOps(h *history.History) map[int64]requestFaults {
	out := map[int64]requestFaults{}
	for i := range h.Events {
		e := &h.Events[i]
		if e.Op == 0 || e.Kind != history.EventFault || strings.HasPrefix(e.Link, MasterName+">") {
			continue
		}
		f := out[e.Op]
		f.n++
		switch {
		case e.Link == "":
			f.end = math.MaxInt64
		default:
			f.end = max(f.end, e.Time, e.End)
		}
		out[e.Op] = f
	}
	return out
}

// copies returns how many other copies of the get op may have reached
// the store, and by when: each at any time after its call, even after
// it returned. There is one per fault on its request's way (a duplicate,
// a delay) and one per resend interval the client waited for its reply
// (one for an unknown outcome without the time it gave up). A copy
// reaches the store before the stream's next request does (a connection
// keeps its order: next, when that returned, 0 for never), or when the
// fault that held it back ended, if later.
func copies(op *history.Op, f requestFaults, next, resend int64) (int, int64) {
	n := f.n
	switch {
	case resend <= 0:
	case op.Status == history.StatusUnknown && op.Return == 0:
		n++
	default:
		n += int((op.Return - op.Call) / resend)
	}
	if next == 0 || f.end == math.MaxInt64 {
		return n, 0
	}
	return n, max(next, f.end)
}

// convert turns op into what the model steps on.
func (m *boundedModel) convert(op *history.Op, epoch uint32) *boundedOp {
	kv := kvModel{in: m.in}
	o := &boundedOp{kvOp: *kv.convert(op, epoch), key: m.keyID(op.Key)}
	o.unset = op.Method == history.Set && op.Input.Value == nil
	if op.Input.TTL > 0 {
		o.ttl = op.Input.TTL * 1e6
	}
	return o
}
