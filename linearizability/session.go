package linearizability

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/shmlab/shmlab/history"
)

// The session guarantees are checked per session: the operations of one
// (worker, stream) pair, which follow one another. The checks look at the
// operations on keys that did not fail (a failed one surely did nothing),
// and compare only operations of one epoch, since a master restart that
// lost the state (see epochs) owes nothing to what came before it.
//
// Every check rests on one conclusion drawn from real time alone, so that
// a linearizable history is never rejected: a read r of a value v is
// "older than" an operation x when every operation that may have written
// v, of those called by the time r returned, had returned before x was
// called. Then, if x wrote the key and is linearized before r, what r
// read from was overwritten before r ran, so r cannot have returned v.
// The operations that may have written v are: an ok or unknown set of v,
// an unknown cas to v or an ok one that answered true, an ok add that
// answered v, an unknown add (of any integer), an ok or unknown delete
// (of absence), and the epoch's initial state (absence, before all).
// Under the evicting model, and on a key written with a TTL, absence may
// come at any time, so it is never older than anything. A value nothing
// may have written is the linearizability checker's business.
//
// An observation is an ok get (of the value it returned, or absence) or an
// ok cas that answered true (of the value it expected). With x ≺ y meaning
// that x returned before y was called, the guarantees are:
//
//   - read-your-writes: a session's ok write w ≺ its observation r of the
//     same key, and r's value is older than w. Reported: w, r.
//   - monotonic-reads: a session's observation r1 ≺ its observation r2 of
//     the same key, and r2's value is older than every write r1 may have
//     read from. Reported: r1, r2.
//   - monotonic-writes: a session S's ok write w1 ≺ its operation w2;
//     another session T observed a value only w2 may have written, then
//     (≺) observed w1's key holding a value older than w1. Reported: w1,
//     w2, then T's two observations.
//   - writes-follow-reads: S's observation r1 ≺ its operation w2; T
//     observed a value only w2 may have written, then observed r1's key
//     holding a value older than every write r1 may have read from.
//     Reported: r1, w2, then T's two observations.
//
// The last two leave out T = S, where the first two say the same more
// simply. All violations are counted, and grouped by cause: those that
// read the same stale value, or whose worker read the same key stale
// (sessionFindings.causes). One line per cause is reported, its earliest
// violation, counting the others of any check; the earliest causes (by
// the call of the last operation) are listed.

// sessionChecks are the names of the session checks, as in
// Violation.Check, in the order they are reported.
var sessionChecks = []string{"read-your-writes", "monotonic-reads", "monotonic-writes", "writes-follow-reads"}

// maxShownPerCheck is how many violations of one check are reported;
// the last one says how many more there were.
const maxShownPerCheck = 20

const (
	timeMin = math.MinInt64
	timeMax = math.MaxInt64
)

// checkSessions checks the session guarantees of every session in h, and
// returns their violations grouped by cause (sessionFindings.violations).
func checkSessions(h *history.History, model history.Model) []Violation {
	c, f := findSessions(h, model)
	return f.violations(c)
}

// findSessions finds every violation of a session guarantee in h, not
// yet grouped.
func findSessions(h *history.History, model history.Model) (*sessionCheck, *sessionFindings) {
	c := newSessionCheck(h, model)
	f := &sessionFindings{}
	t := newSessionLearnt(len(c.slotKey))
	for _, obs := range c.sessions {
		c.walk(obs, t, f)
		t.reset()
	}
	return c, f
}

// pair packs two 32-bit numbers into a map key.
func pair[A, B ~int32 | ~uint32](a A, b B) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// sessionCheck is what the checks precompute from a history.
type sessionCheck struct {
	h      *history.History
	bounds []int64
	keyIDs map[string]int32
	evict  []bool // per key: absence may come at any time
	vals   valueTable
	// A slot is a key in an epoch: slots numbers them by pair(key,
	// epoch), slotKey and slotEpoch say what each is.
	slots     map[uint64]int32
	slotKey   []int32
	slotEpoch []uint32
	// lastSlot is each key's last slot looked up, a shortcut.
	lastSlot []int32
	// unknownAdd is the earliest call of an unknown add per slot, and
	// appendCall of an append: an append may leave any string.
	unknownAdd, appendCall []int64
	// srcs numbers the values of each slot, and writers holds the
	// operations that may have written each.
	srcs    sourceNumbers
	writers writeSources
	// session is each operation's session (-1: not looked at).
	session []int32
	// streams numbers the sessions as partition does, sessionOf turns
	// that number into the session's here.
	streams   streams
	sessionOf []int32
	obs       []sessionObs
	// sessions lists each session's observations, in order.
	sessions [][]int32
	// lists are by session, then slot.
	lists [][]*sessionLists
}

// sessionObs is an operation that saw a key hold a value.
type sessionObs struct {
	op        int32
	val       int32
	slot      int32
	src       int32 // its value's number in srcs
	call, ret int64
	list      *sessionLists // its session's, of its slot
	from      readOrigin    // the writes it may have read from
}

// sessionLists are one session's writes and observations of one key in
// one epoch.
type sessionLists struct {
	// writes are the ok writes, weighed by their call.
	writes prefixMax
	// reads are the observations, weighed by the earliest call of a
	// write they may have read from.
	reads prefixMax
}

// newSessionCheck sorts out what h's operations wrote and saw.
func newSessionCheck(h *history.History, model history.Model) *sessionCheck {
	c := &sessionCheck{
		h: h, bounds: epochs(h), keyIDs: make(map[string]int32), vals: newValueTable(),
		slots: make(map[uint64]int32), srcs: sourceNumbers{other: make(map[uint64]int32)},
		session: make([]int32, len(h.Ops)),
	}
	c.presize()
	for i := range h.Ops {
		c.session[i] = -1
		op := &h.Ops[i]
		if !op.Method.Keyed() {
			continue
		}
		key := c.keyID(op.Key, model)
		if op.Input.TTL > 0 {
			c.evict[key] = true
		}
		if op.Status != history.StatusFail {
			c.session[i] = c.sessionID(op)
			c.classify(int32(i), c.slot(key, epochOf(c.bounds, op.Call)))
		}
	}
	c.writers.finish(int(c.srcs.n))
	c.weighReads()
	for _, ls := range c.lists {
		for _, l := range ls {
			if l != nil {
				l.writes.finish()
				l.reads.finish()
			}
		}
	}
	for _, obs := range c.sessions {
		c.sortByCall(obs)
	}
	return c
}

// keyID returns key's number.
func (c *sessionCheck) keyID(key string, model history.Model) int32 {
	id, ok := c.keyIDs[key]
	if !ok {
		id = int32(len(c.evict))
		c.keyIDs[key] = id
		c.evict = append(c.evict, model == history.ModelKVEvict)
		c.lastSlot = append(c.lastSlot, -1)
	}
	return id
}

// slot returns the number of key in epoch.
func (c *sessionCheck) slot(key int32, epoch uint32) int32 {
	if s := c.lastSlot[key]; s >= 0 && c.slotEpoch[s] == epoch {
		return s
	}
	s, ok := c.slots[pair(key, epoch)]
	if !ok {
		s = int32(len(c.slotKey))
		c.slots[pair(key, epoch)] = s
		c.slotKey = append(c.slotKey, key)
		c.slotEpoch = append(c.slotEpoch, epoch)
		c.unknownAdd = append(c.unknownAdd, timeMax)
		c.appendCall = append(c.appendCall, timeMax)
	}
	c.lastSlot[key] = s
	return s
}

// sessionID returns the number of op's session.
func (c *sessionCheck) sessionID(op *history.Op) int32 {
	id := c.streams.id(op)
	for id >= len(c.sessionOf) {
		c.sessionOf = append(c.sessionOf, -1)
	}
	if c.sessionOf[id] < 0 {
		c.sessionOf[id] = int32(len(c.sessions))
		c.sessions = append(c.sessions, nil)
	}
	return c.sessionOf[id]
}

// classify records what op i may have written, wrote, and saw.
func (c *sessionCheck) classify(i int32, slot int32) {
	op := &c.h.Ops[i]
	if val, ok := mayWrite(op); ok {
		s := c.sources(slot, c.vals.id(val))
		c.writers.add(s, writeSource{call: op.Call, ret: returned(op), op: i})
	} else if op.Method == history.Add && op.Status == history.StatusUnknown {
		c.unknownAdd[slot] = min(c.unknownAdd[slot], op.Call)
	} else if op.Method == history.Append {
		c.appendCall[slot] = min(c.appendCall[slot], op.Call)
	}
	if wrote(op) {
		l := c.list(c.session[i], slot)
		l.writes.e = append(l.writes.e, timedEntry{op.Return, op.Call, i})
	}
	if v, ok := saw(op); ok {
		s, val := c.session[i], c.vals.id(v)
		c.sessions[s] = append(c.sessions[s], int32(len(c.obs)))
		c.obs = append(c.obs, sessionObs{op: i, val: val, slot: slot, src: c.sources(slot, val),
			call: op.Call, ret: op.Return, list: c.list(s, slot)})
	}
}

// presize sizes the lists classify fills for the operations of h that
// may write or observe, so that they are not grown one by one.
func (c *sessionCheck) presize() {
	writes, seen := 0, 0
	for i := range c.h.Ops {
		op := &c.h.Ops[i]
		if _, ok := mayWrite(op); ok {
			writes++
		}
		if _, ok := saw(op); ok {
			seen++
		}
	}
	c.writers.added = make([]writeSource, 0, writes)
	c.writers.value = make([]int32, 0, writes)
	c.obs = make([]sessionObs, 0, seen)
}

// sources returns the number in srcs of val in slot, making it if need
// be.
func (c *sessionCheck) sources(slot, val int32) int32 {
	s, _ := c.srcs.number(slot, val, true)
	return s
}

// sourceNumbers numbers the values of each slot. Most values belong to
// one slot: each value's number in the first slot it was met in is kept
// by value, the others in a map by pair(slot, value).
type sourceNumbers struct {
	n     int32   // how many are numbered
	slot  []int32 // by value: the first slot it was numbered in, or -1
	first []int32 // by value: its number there
	other map[uint64]int32
}

// number returns the number of val in slot, and whether it has one;
// create numbers it if it has none.
func (sn *sourceNumbers) number(slot, val int32, create bool) (int32, bool) {
	if int(val) < len(sn.slot) {
		switch sn.slot[val] {
		case slot:
			return sn.first[val], true
		case -1:
			if !create {
				return 0, false
			}
			sn.slot[val], sn.first[val] = slot, sn.n
			sn.n++
			return sn.first[val], true
		}
	} else if create {
		for int(val) >= len(sn.slot) {
			sn.slot, sn.first = append(sn.slot, -1), append(sn.first, 0)
		}
		return sn.number(slot, val, true)
	}
	s, ok := sn.other[pair(slot, val)]
	if !ok && create {
		s, ok = sn.n, true
		sn.other[pair(slot, val)] = s
		sn.n++
	}
	return s, ok
}

// list returns session s's lists for slot, making them if need be.
func (c *sessionCheck) list(s int32, slot int32) *sessionLists {
	for int(s) >= len(c.lists) {
		c.lists = append(c.lists, nil)
	}
	ls := c.lists[s]
	for int(slot) >= len(ls) {
		ls = append(ls, nil)
	}
	c.lists[s] = ls
	if ls[slot] == nil {
		ls[slot] = &sessionLists{}
	}
	return ls[slot]
}

// listOf returns session s's lists for slot, or nil if it has none.
func (c *sessionCheck) listOf(s int32, slot int32) *sessionLists {
	if int(s) < len(c.lists) && int(slot) < len(c.lists[s]) {
		return c.lists[s][slot]
	}
	return nil
}

// weighReads finds where each observation may have read from, and adds
// it to its session's reads.
func (c *sessionCheck) weighReads() {
	for i := range c.obs {
		o := &c.obs[i]
		o.from = c.originOf(o.slot, o.val, o.src, o.ret)
		if o.from.n > 0 && o.from.lo != timeMin {
			o.list.reads.e = append(o.list.reads.e, timedEntry{o.ret, o.from.lo, o.op})
		}
	}
}

// sortByCall sorts a session's observations by call.
func (c *sessionCheck) sortByCall(obs []int32) {
	sortNearly(obs, func(a, b int32) int { return cmp.Or(cmp.Compare(c.obs[a].call, c.obs[b].call), cmp.Compare(a, b)) })
}

// sortNearly sorts s by cmp, which must be a total order. Histories
// list operations nearly in time order (as they returned, or by worker),
// so it first tries an insertion sort, quick on such lists, and gives up
// on it after moving elements 4 times as many places as s has elements.
func sortNearly[E any](s []E, cmp func(a, b E) int) {
	budget := 4 * len(s)
	for i := 1; i < len(s); i++ {
		j := i
		for ; j > 0 && cmp(s[i], s[j-1]) < 0; j-- {
		}
		if budget -= i - j; budget < 0 {
			slices.SortFunc(s, cmp)
			return
		}
		if j < i {
			e := s[i]
			copy(s[j+1:i+1], s[j:i])
			s[j] = e
		}
	}
}

// mayWrite returns the value op may have left its key holding (nil for
// absence), if it may have written one value; an unknown add may have
// written any integer.
func mayWrite(op *history.Op) (json.RawMessage, bool) {
	ok, unknown := op.Status == history.StatusOK, op.Status == history.StatusUnknown
	switch {
	case op.Method == history.Set && (ok || unknown):
		return op.Input.Value, true
	case op.Method == history.CAS && (unknown || ok && string(op.Output.Value) == "true"):
		return op.Input.Value, true
	case op.Method == history.Add && ok:
		return op.Output.Value, true
	case op.Method == history.Delete && (ok || unknown):
		return nil, true
	}
	return nil, false
}

// wrote reports whether op surely wrote its key: an ok set, delete, add,
// or cas that answered true.
func wrote(op *history.Op) bool {
	_, ok := mayWrite(op)
	return ok && op.Status == history.StatusOK
}

// saw returns the value op saw its key hold (nil for absence), if it
// saw one: an ok get, or an ok cas that answered true.
func saw(op *history.Op) (json.RawMessage, bool) {
	if op.Status != history.StatusOK {
		return nil, false
	}
	switch {
	case op.Method == history.Get:
		return op.Output.Value, true
	case op.Method == history.CAS && string(op.Output.Value) == "true":
		return op.Input.Old, true
	}
	return nil, false
}

// returned is op's return time, or timeMax if it has none.
func returned(op *history.Op) int64 {
	if op.Status == history.StatusUnknown {
		return timeMax
	}
	return op.Return
}

// valueTable numbers values by their JSON text; 0 is absence.
type valueTable struct {
	ids   map[string]int32
	isInt []bool
}

func newValueTable() valueTable {
	return valueTable{ids: map[string]int32{"": absentID}, isInt: []bool{false}}
}

// absentID is absence's number: the empty text, which no value has.
const absentID = 0

func (t *valueTable) id(v json.RawMessage) int32 {
	if id, ok := t.ids[string(v)]; ok {
		return id
	}
	id := int32(len(t.isInt))
	t.ids[string(v)] = id
	_, isInt := history.Int(v)
	t.isInt = append(t.isInt, isInt)
	return id
}

// writeSource is an operation that may have written a value.
type writeSource struct {
	call, ret int64
	op        int32
}

// writeSources holds, for each value of each slot, numbered by srcs,
// the operations that may have written it, by call, with the latest
// return of each prefix. They are added in any order, then finish lays
// them out by value.
type writeSources struct {
	added  []writeSource
	value  []int32 // of each added
	start  []int32 // value v's are e[start[v]:start[v+1]]
	e      []writeSource
	maxRet []int64
}

func (w *writeSources) add(value int32, s writeSource) {
	w.added = append(w.added, s)
	w.value = append(w.value, value)
}

// finish lays out what was added for n values.
func (w *writeSources) finish(n int) {
	w.start = make([]int32, n+1)
	for _, v := range w.value {
		w.start[v+1]++
	}
	for v := range n {
		w.start[v+1] += w.start[v]
	}
	w.e = make([]writeSource, len(w.added))
	next := slices.Clone(w.start[:n])
	for i, v := range w.value {
		w.e[next[v]] = w.added[i]
		next[v]++
	}
	w.added, w.value = nil, nil
	w.maxRet = make([]int64, len(w.e))
	for v := range n {
		e, maxRet := w.e[w.start[v]:w.start[v+1]], w.maxRet[w.start[v]:w.start[v+1]]
		sortNearly(e, func(a, b writeSource) int { return cmp.Or(cmp.Compare(a.call, b.call), cmp.Compare(a.op, b.op)) })
		hi := int64(timeMin)
		for i := range e {
			hi = max(hi, e[i].ret)
			maxRet[i] = hi
		}
	}
}

// of returns the writes of value v, and the latest return of each
// prefix.
func (w *writeSources) of(v int32) ([]writeSource, []int64) {
	return w.e[w.start[v]:w.start[v+1]], w.maxRet[w.start[v]:w.start[v+1]]
}

// calledBy returns how many of e were called by t.
func calledBy(e []writeSource, t int64) int {
	return sort.Search(len(e), func(i int) bool { return e[i].call > t })
}

// readOrigin sums up the writes a read may have read a value from.
type readOrigin struct {
	// n is how many there are (0: the value came from nowhere).
	n int
	// lo is the earliest call among them, hi the latest return (timeMax:
	// the value is never older than anything).
	lo, hi int64
	// only is the one operation, when n is 1 and it is one.
	only int32
}

// originOf returns the origin of value val read from slot by a read
// that returned at t, src being the writes of val: only writes called by
// t count.
func (c *sessionCheck) originOf(slot, val, src int32, t int64) readOrigin {
	o := readOrigin{lo: timeMax, hi: timeMin, only: -1}
	if val == absentID {
		if c.evict[c.slotKey[slot]] {
			return readOrigin{n: 1, lo: timeMin, hi: timeMax, only: -1}
		}
		o = readOrigin{n: 1, lo: timeMin, hi: timeMin, only: -1} // the initial state
	}
	if e, maxRet := c.writers.of(src); calledBy(e, t) > 0 {
		n := calledBy(e, t)
		if o.n == 0 && n == 1 {
			o.only = e[0].op
		}
		o.n += n
		o.lo = min(o.lo, e[0].call)
		o.hi = max(o.hi, maxRet[n-1])
	}
	call := int64(timeMax) // of the first unknown add or append that may have written val
	if c.vals.isInt[val] && c.unknownAdd[slot] <= t {
		call = c.unknownAdd[slot]
	}
	if val != absentID && c.appendCall[slot] <= t {
		call = min(call, c.appendCall[slot])
	}
	if call != timeMax {
		o.n, o.only = o.n+1, -1
		o.lo, o.hi = min(o.lo, call), timeMax
	}
	return o
}

// timedEntry is one element of a prefixMax.
type timedEntry struct {
	ret, weight int64
	op          int32
}

// prefixMax answers: of the entries that returned before t, which weighs
// most? Entries are added in any order, then finish sorts them by return
// and turns each weight into its prefix's greatest, op into its owner.
type prefixMax struct{ e []timedEntry }

func (p *prefixMax) finish() {
	sortNearly(p.e, func(a, b timedEntry) int { return cmp.Or(cmp.Compare(a.ret, b.ret), cmp.Compare(a.op, b.op)) })
	for i := 1; i < len(p.e); i++ {
		if p.e[i-1].weight > p.e[i].weight {
			p.e[i].weight, p.e[i].op = p.e[i-1].weight, p.e[i-1].op
		}
	}
}

// before returns the greatest weight of the entries that returned before
// t, and its operation; op is -1 if there are none.
func (p *prefixMax) before(t int64) (weight int64, op int32) {
	i := sort.Search(len(p.e), func(i int) bool { return p.e[i].ret >= t })
	if i == 0 {
		return timeMin, -1
	}
	return p.e[i-1].weight, p.e[i-1].op
}

// walk checks one session's observations against what came before them.
func (c *sessionCheck) walk(obs []int32, t *sessionLearnt, f *sessionFindings) {
	byRet := slices.Clone(obs)
	sortNearly(byRet, func(a, b int32) int { return cmp.Or(cmp.Compare(c.obs[a].ret, c.obs[b].ret), cmp.Compare(a, b)) })
	j := 0
	for _, i := range obs {
		for ; j < len(byRet) && c.obs[byRet[j]].ret < c.obs[i].call; j++ {
			c.learn(&c.obs[byRet[j]], t)
		}
		c.judge(&c.obs[i], t, f)
	}
}

// sessionLearnt is what a session learnt from the writes of others that
// it observed: the latest of each other session (and epoch) in a list,
// the last learnt first, so that an observation catches up with only
// what was learnt since the last observation of its slot.
type sessionLearnt struct {
	seen    map[uint64]int32 // pair(session, epoch) -> node
	nodes   []seenNode
	head    int32 // the node learnt last, or -1
	version int
	// caught is the version each slot caught up with; mw and wfr are, per
	// slot, the heaviest write (by call) and observation (by what it may
	// have read from) known to come before something observed (op -1:
	// none). touched lists the slots whose are set, for reset.
	caught  []int
	mw, wfr []seenWrite
	touched []int32
}

// seenNode is the latest write w2 seen of one session in one epoch, seen
// by observation rb.
type seenNode struct {
	session    int32
	epoch      uint32
	call       int64 // w2's
	w2, rb     int32
	version    int
	prev, next int32
}

// seenWrite is an operation (w1 or r1) that came before w2 in w2's
// session, with its weight; rb saw w2.
type seenWrite struct {
	weight     int64
	op, w2, rb int32
}

// newSessionLearnt returns an empty sessionLearnt for slots slots.
func newSessionLearnt(slots int) *sessionLearnt {
	t := &sessionLearnt{seen: map[uint64]int32{}, head: -1, caught: make([]int, slots),
		mw: make([]seenWrite, slots), wfr: make([]seenWrite, slots)}
	for i := range slots {
		t.mw[i].op, t.wfr[i].op = -1, -1
	}
	return t
}

// reset empties t for the next session, at the cost of what it holds.
func (t *sessionLearnt) reset() {
	for _, slot := range t.touched {
		t.caught[slot] = 0
		t.mw[slot].op, t.wfr[slot].op = -1, -1
	}
	clear(t.seen)
	t.nodes, t.head, t.version, t.touched = t.nodes[:0], -1, 0, t.touched[:0]
}

// learn notes what observation rb tells its session: if only w2 may
// have written what it saw, w2 and all that came before it in its own
// session came before rb.
func (c *sessionCheck) learn(rb *sessionObs, t *sessionLearnt) {
	w2 := rb.from.only
	if w2 < 0 || c.session[w2] == c.session[rb.op] {
		return
	}
	s, epoch, call := c.session[w2], c.slotEpoch[rb.slot], c.h.Ops[w2].Call
	n, ok := t.seen[pair(s, epoch)]
	if ok && t.nodes[n].call >= call {
		return
	}
	if !ok {
		n = int32(len(t.nodes))
		t.seen[pair(s, epoch)] = n
		t.nodes = append(t.nodes, seenNode{session: s, epoch: epoch, prev: -1, next: -1})
	}
	t.version++
	t.nodes[n].call, t.nodes[n].w2, t.nodes[n].rb, t.nodes[n].version = call, w2, rb.op, t.version
	t.toFront(n)
}

// toFront moves node n to the head of the list.
func (t *sessionLearnt) toFront(n int32) {
	if t.head == n {
		return
	}
	node := &t.nodes[n]
	if node.prev >= 0 {
		t.nodes[node.prev].next = node.next
	}
	if node.next >= 0 {
		t.nodes[node.next].prev = node.prev
	}
	node.prev, node.next = -1, t.head
	if t.head >= 0 {
		t.nodes[t.head].prev = n
	}
	t.head = n
}

// catchUp brings mw and wfr of slot up to date with what was learnt.
func (c *sessionCheck) catchUp(slot int32, t *sessionLearnt) {
	epoch := c.slotEpoch[slot]
	for n := t.head; n >= 0 && t.nodes[n].version > t.caught[slot]; n = t.nodes[n].next {
		node := &t.nodes[n]
		if l := c.listOf(node.session, slot); l != nil && node.epoch == epoch {
			raiseSeen(t.mw, slot, &l.writes, node)
			raiseSeen(t.wfr, slot, &l.reads, node)
		}
	}
	if t.caught[slot] == 0 {
		t.touched = append(t.touched, slot)
	}
	t.caught[slot] = t.version
}

// raiseSeen raises m[slot] to the heaviest entry of p that returned
// before the write seen in node was called, if it is heavier.
func raiseSeen(m []seenWrite, slot int32, p *prefixMax, node *seenNode) {
	w, op := p.before(node.call)
	if op < 0 {
		return
	}
	if cur := m[slot]; cur.op < 0 || w > cur.weight {
		m[slot] = seenWrite{weight: w, op: op, w2: node.w2, rb: node.rb}
	}
}

// judge checks observation r against what its session did and learnt
// before it.
func (c *sessionCheck) judge(r *sessionObs, t *sessionLearnt, f *sessionFindings) {
	hi := r.from.hi
	if r.from.n == 0 || hi == timeMax {
		return
	}
	if w, op := r.list.writes.before(r.call); op >= 0 && hi < w {
		f.add(0, r, op, r.op)
	}
	if lo, op := r.list.reads.before(r.call); op >= 0 && hi < lo {
		f.add(1, r, op, r.op)
	}
	c.catchUp(r.slot, t)
	if s := t.mw[r.slot]; s.op >= 0 && hi < s.weight {
		f.add(2, r, s.op, s.w2, s.rb, r.op)
	}
	if s := t.wfr[r.slot]; s.op >= 0 && hi < s.weight {
		f.add(3, r, s.op, s.w2, s.rb, r.op)
	}
}

// sessionFindings collects the violations found, as the indexes of
// their operations.
type sessionFindings struct {
	found []sessionFinding
}

// sessionFinding is one violation of check. Its last observation read a
// value older than it may have: stale is pair(slot, value) of what it
// read, and slot the key (in an epoch).
type sessionFinding struct {
	check       int
	slot        int32
	stale       uint64
	ops         []int32
	worker, val int32
}

func (f *sessionFindings) add(check int, r *sessionObs, ops ...int32) {
	f.found = append(f.found, sessionFinding{check: check, slot: r.slot, stale: pair(r.slot, r.val), val: r.val, ops: ops})
}

// causes groups the findings by cause, each group in the findings'
// order. Two findings have one cause when they read the same stale
// value (one write lost, or applied twice, leaves one value behind that
// every later read meets), or when the same worker read the same key
// stale (a stale cache in a client serves stale values, one after
// another); the links are followed through (union-find).
func (f *sessionFindings) causes(c *sessionCheck) [][]int {
	parent := make([]int, len(f.found))
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	workers := map[string]int32{}
	firstByStale, firstByReader := map[uint64]int{}, map[uint64]int{}
	link := func(m map[uint64]int, k uint64, i int) {
		if j, ok := m[k]; ok {
			if a, b := find(i), find(j); a != b {
				parent[max(a, b)] = min(a, b)
			}
			return
		}
		m[k] = i
	}
	for i := range f.found {
		parent[i] = i
		fd := &f.found[i]
		name := c.h.Ops[fd.ops[len(fd.ops)-1]].Worker
		w, ok := workers[name]
		if !ok {
			w = int32(len(workers))
			workers[name] = w
		}
		fd.worker = w
		link(firstByStale, fd.stale, i)
		link(firstByReader, pair(w, fd.slot), i)
	}
	var groups [][]int
	at := map[int]int{}
	for i := range f.found {
		root := find(i)
		g, ok := at[root]
		if !ok {
			g = len(groups)
			at[root] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// violations returns the violations grouped by cause (causes), one per
// cause: its earliest finding, explained, counting the others (More).
// The earliest causes are listed (by the call of their earliest
// finding's last operation), at most maxShownPerCheck; the last listed
// counts the findings of those left out.
func (f *sessionFindings) violations(c *sessionCheck) []Violation {
	last := func(ops []int32) *history.Op { return &c.h.Ops[ops[len(ops)-1]] }
	slices.SortStableFunc(f.found, func(a, b sessionFinding) int {
		return cmp.Or(cmp.Compare(last(a.ops).Call, last(b.ops).Call), cmp.Compare(last(a.ops).ID, last(b.ops).ID), cmp.Compare(a.check, b.check))
	})
	causes := f.causes(c)
	var vs []Violation
	for _, g := range causes[:min(len(causes), maxShownPerCheck)] {
		first := f.found[g[0]]
		v := c.explain(first.check, first.ops)
		if len(g) > 1 {
			v.More = len(g) - 1
			v.Text += c.consequences(f, g)
		}
		vs = append(vs, v)
	}
	if len(causes) > maxShownPerCheck {
		n := 0
		for _, g := range causes[maxShownPerCheck:] {
			n += len(g)
		}
		v := &vs[len(vs)-1]
		v.More += n
		v.Text += fmt.Sprintf(" (%d more causes, with %s, not shown)", len(causes)-maxShownPerCheck, plural(n, "violation"))
	}
	return vs
}

// consequences says how many more findings than its first the cause g
// has, of which checks, by how many readers, of how many stale values.
func (c *sessionCheck) consequences(f *sessionFindings, g []int) string {
	per := make([]int, len(sessionChecks))
	readers, values := map[int32]bool{}, map[uint64]bool{}
	for _, i := range g {
		fd := &f.found[i]
		readers[fd.worker], values[fd.stale] = true, true
		if i != g[0] {
			per[fd.check]++
		}
	}
	var parts []string
	for check, n := range per {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sessionChecks[check]))
		}
	}
	return fmt.Sprintf(" The same cause (%s read stale by %s) made %d more: %s.",
		plural(len(values), "value"), plural(len(readers), "worker"), len(g)-1, strings.Join(parts, ", "))
}

// explain makes a violation of check out of its operations.
func (c *sessionCheck) explain(check int, ops []int32) Violation {
	v := Violation{Check: sessionChecks[check], Key: c.h.Ops[ops[0]].Key}
	for _, i := range ops {
		v.Ops = append(v.Ops, c.h.Ops[i])
	}
	first, r := &v.Ops[0], &v.Ops[len(v.Ops)-1]
	read, from := valueText(r), c.mayHaveRead(r)
	switch check {
	case 0:
		v.Text = fmt.Sprintf("%s, after %s in the same session, read %s, which is older: "+
			"every write it may have read (%s) returned before that write was called.", r, first, read, from)
	case 1:
		v.Text = fmt.Sprintf("%s, after %s in the same session, read %s, which is older: "+
			"every write it may have read (%s) returned before any write the first read may have read (%s) was called.",
			r, first, read, from, c.mayHaveRead(first))
	case 2:
		v.Text = fmt.Sprintf("%s came before %s in their session, and %s saw the second write; "+
			"yet %s, later in that session, read %s, which is older than the first write: "+
			"every write it may have read (%s) returned before the first write was called.",
			first, &v.Ops[1], &v.Ops[2], r, read, from)
	case 3:
		v.Text = fmt.Sprintf("%s came before %s in their session, and %s saw that write; "+
			"yet %s, later in that session, read %s, which is older than what the first read saw: "+
			"every write it may have read (%s) returned before any write the first read may have read (%s) was called.",
			first, &v.Ops[1], &v.Ops[2], r, read, from, c.mayHaveRead(first))
	}
	return v
}

// valueText is what observation op saw, as JSON text or "absent".
func valueText(op *history.Op) string {
	v, _ := saw(op)
	if v == nil {
		return "absent"
	}
	return string(v)
}

// mayHaveRead describes the writes observation op may have read from.
func (c *sessionCheck) mayHaveRead(op *history.Op) string {
	slot := c.slots[pair(c.keyIDs[op.Key], epochOf(c.bounds, op.Call))]
	v, _ := saw(op)
	val := c.vals.id(v)
	var ws []string
	if val == absentID {
		ws = append(ws, "the initial state")
	}
	n := 0
	if src, ok := c.srcs.number(slot, val, false); ok {
		e, _ := c.writers.of(src)
		n = calledBy(e, op.Return)
		for _, w := range e[:min(n, 3)] {
			ws = append(ws, c.h.Ops[w.op].String())
		}
	}
	if n > 3 {
		ws = append(ws, fmt.Sprintf("and %d more", n-3))
	}
	return strings.Join(ws, ", ")
}
