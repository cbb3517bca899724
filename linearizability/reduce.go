package linearizability

import (
	"fmt"
	"math"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
)

// Reductions: an operation with unknown outcome returns at infinity, so
// porcupine must consider it at every point after its call, and K of them
// on one key make the search 2^K. reduce takes out of a key's history, or
// bounds, the unknown operations that provably cannot change the verdict.
//
// Every reduction below keeps the verdict: the reduced history is
// linearizable if and only if the recorded one is. One direction holds
// for every unknown operation: the model lets an unknown operation step
// in any state of its epoch, and do nothing in a later one, so a
// linearization of the history without it extends by putting it last
// (where every restart of the key's history has happened). So leaving one out
// can only lose a linearization that needed it: each reduction shows
// that none does. The proofs are in the comments of each; the rapid
// properties in reduce_test.go check them against porcupine on random
// histories, linearizable and not.
//
// They rely on two properties of the model (model.go), which a new
// method must keep: an unknown operation steps in every state of its
// epoch and does nothing after it, and a returned operation steps only
// in its epoch. What a method observes and writes is in observers.
//
// The reductions run in phases, each on what the last left: a condition
// is always evaluated on the history it reduces.

// Reduced counts, by reduction, the unknown operations that were left
// out of the linearizability search, given a return time, or ordered
// after an identical one.
type Reduced struct {
	// NotApplied: unknown, but a fault event says their request never
	// reached the master (truth not_applied, and no event says more of
	// them): checked as failed.
	NotApplied int `json:"not_applied"`
	// Gets: unknown gets, which observe nothing.
	Gets int `json:"gets"`
	// Late: called after every operation of their epoch that returned
	// had returned: nothing that returned can observe them.
	Late int `json:"late"`
	// Unobserved: writes whose effect no operation can tell from their
	// not having happened (no read of their value, no operation whose
	// answer depends on it).
	Unobserved int `json:"unobserved"`
	// Bounded: writes of a value no other operation writes, given the
	// return of the first operation that saw that value.
	Bounded int `json:"bounded"`
	// Ordered: kept, but identical to one called before them (the same
	// method, input and return, such as many unknown "add +1"): the
	// search takes them after it (searcher.twin).
	Ordered int `json:"ordered"`
}

// Total is how many operations the reductions left out, bounded or
// ordered.
func (r Reduced) Total() int {
	return r.NotApplied + r.Gets + r.Late + r.Unobserved + r.Bounded + r.Ordered
}

// String says what was reduced, for people: "1000 unknown operations
// reduced: 520 unobserved, 480 bounded by their first observer".
func (r Reduced) String() string {
	parts := []struct {
		n    int
		what string
	}{{r.NotApplied, "not applied (fault log)"}, {r.Gets, "unknown gets"}, {r.Late, "called after every return"},
		{r.Unobserved, "unobserved"}, {r.Bounded, "bounded by their first observer"},
		{r.Ordered, "ordered after an identical one"}}
	s := fmt.Sprintf("%d unknown operations reduced", r.Total())
	if r.Total() == 1 {
		s = "1 unknown operation reduced"
	}
	sep := ": "
	for _, p := range parts {
		if p.n > 0 {
			s += fmt.Sprintf("%s%d %s", sep, p.n, p.what)
			sep = ", "
		}
	}
	return s
}

func (r *Reduced) add(o Reduced) {
	r.NotApplied += o.NotApplied
	r.Gets += o.Gets
	r.Late += o.Late
	r.Unobserved += o.Unobserved
	r.Bounded += o.Bounded
	r.Ordered += o.Ordered
}

// reduceKeys reduces each key's history, and sums what was done.
func reduceKeys(keys []*keyHistory) Reduced {
	var r Reduced
	for _, kh := range keys {
		r.add(reduce(kh))
	}
	return r
}

// reduce reduces one key's history in place (see above) and counts what
// it did. It keeps the recorded operation (kvOp.op) of every operation it
// keeps, so that explanations name what the history holds.
func reduce(kh *keyHistory) Reduced {
	var r Reduced
	r.Gets = kh.dropGets()
	r.Late = kh.dropLate()
	r.Unobserved = kh.dropUnobserved()
	r.Bounded = kh.bound()
	r.Ordered = kh.ordered()
	return r
}

// ordered counts the unknown operations the search will take after an
// identical one called before them (searcher.twin).
func (kh *keyHistory) ordered() int {
	in := make([]*kvOp, len(kh.ops))
	for i := range kh.ops {
		in[i] = kh.ops[i].Input.(*kvOp)
	}
	_, n := twins(in, func(i int) int64 { return kh.ops[i].Return })
	return n
}

// filter removes the operations drop says to, and counts them.
func (kh *keyHistory) filter(drop func(*porcupine.Operation, *kvOp) bool) int {
	kept := kh.ops[:0]
	for i := range kh.ops {
		if o := kh.ops[i].Input.(*kvOp); o.reset || !drop(&kh.ops[i], o) {
			kept = append(kept, kh.ops[i])
		}
	}
	n := len(kh.ops) - len(kept)
	clear(kh.ops[len(kept):])
	kh.ops = kept
	return n
}

// dropGets removes the unknown gets. Proof: an unknown get steps in
// every state of its epoch and changes none, so a linearization without
// it is one with it.
func (kh *keyHistory) dropGets() int {
	return kh.filter(func(_ *porcupine.Operation, o *kvOp) bool { return o.unknown && o.method == history.Get })
}

// dropLate removes the unknown operations called after every operation
// of their epoch that returned had returned.
//
// Proof. Let w be such an operation of epoch e, and L a linearization.
// Every returned operation of epoch e returned before w's call, so comes
// before w in L. w comes after the restart that begins e (the model
// refuses an operation of a later epoch than the state's), and a
// returned operation of a later epoch comes after the restart that ends
// e. So between w and that restart (or the end of L) there are only
// unknown operations, which step in any state: L without w is a
// linearization too.
func (kh *keyHistory) dropLate() int {
	last := map[uint32]int64{} // per epoch, the latest return of an operation that returned
	for i := range kh.ops {
		if o := kh.ops[i].Input.(*kvOp); !o.unknown && !o.reset {
			if t, ok := last[o.epoch]; !ok || kh.ops[i].Return > t {
				last[o.epoch] = kh.ops[i].Return
			}
		}
	}
	return kh.filter(func(op *porcupine.Operation, o *kvOp) bool {
		t, ok := last[o.epoch]
		return o.unknown && (!ok || op.Call > t)
	})
}

// observers summarises, for one key, the operations that could tell an
// unknown write's effect from its absence: for each kind, the latest
// return among them (an operation that returned before a write was
// called comes before it in every linearization, and cannot).
// A kind with no operation has math.MinInt64.
type observers struct {
	getValue  map[uint32]int64 // ok gets, by the value they returned
	getAbsent int64            // ok gets that found the key absent
	getInt    int64            // ok gets that returned an integer
	casOld    map[uint32]int64 // cas of any outcome, by the value they expected
	casAbsent int64            // cas of any outcome expecting the key absent
	casOldInt int64            // cas of any outcome expecting an integer
	casFalse  int64            // ok cas answering false whose answer may depend on the state (see below)
	delTrue   int64            // ok deletes answering true
	delFalse  int64            // ok deletes answering false
	notInt    int64            // adds failed as not_integer: they hold in any value but an integer
	adds      []int64          // every add's return, any outcome
	writes    map[uint32]int   // how many sets and cas may write each value
	hasAdd    bool
	// appends is the latest return of an append, any outcome. For the
	// writes of the other methods an append is as a method the
	// reductions do not know (below): it extends the value it finds, and
	// writes strings no set writes (hasOther is set). Unknown appends
	// themselves are left out by their own rule (unobserved).
	appends int64
	// other is the latest return of an operation of a method the
	// reductions do not know (a new one, before its case is written): it
	// may observe anything, and write any value. To add a method, say
	// what it observes and writes here, in observe, and what its unknown
	// operations leave in unobserved.
	other    int64
	hasOther bool
}

// observe gathers kh's observers.
func (kh *keyHistory) observe() *observers {
	never := int64(math.MinInt64)
	ob := &observers{getValue: map[uint32]int64{}, casOld: map[uint32]int64{}, writes: map[uint32]int{},
		getAbsent: never, getInt: never, casAbsent: never, casOldInt: never, casFalse: never, delTrue: never, delFalse: never,
		notInt: never, appends: never, other: never}
	isInt := kh.model.in.isInt
	for i := range kh.ops {
		o := kh.ops[i].Input.(*kvOp)
		switch o.method {
		case history.Set, history.CAS:
			ob.writes[o.value]++
		case history.Add:
			ob.hasAdd = true
		case history.Get, history.Delete:
		default:
			ob.hasOther = ob.hasOther || !o.reset
		}
	}
	late := func(t *int64, ret int64) { *t = max(*t, ret) }
	lateIn := func(m map[uint32]int64, id uint32, ret int64) {
		if t, ok := m[id]; !ok || ret > t {
			m[id] = ret
		}
	}
	for i := range kh.ops {
		o, ret := kh.ops[i].Input.(*kvOp), kh.ops[i].Return
		if o.reset {
			continue
		}
		switch o.method {
		case history.Get:
			switch {
			case o.unknown:
			case !o.present:
				late(&ob.getAbsent, ret)
			default:
				lateIn(ob.getValue, o.value, ret)
				if isInt[o.value] {
					late(&ob.getInt, ret)
				}
			}
		case history.CAS:
			if !o.hasOld {
				late(&ob.casAbsent, ret)
			} else {
				lateIn(ob.casOld, o.old, ret)
				if isInt[o.old] {
					late(&ob.casOldInt, ret)
				}
			}
			// An ok cas answering false holds in a state other than the
			// one it expects. In the state before an unknown write, it
			// may not: if it expects absence, or a value some operation
			// writes. A value nobody writes the key never holds.
			if !o.unknown && !o.flag && (!o.hasOld || ob.written(o.old, isInt)) {
				late(&ob.casFalse, ret)
			}
		case history.Delete:
			switch {
			case o.unknown:
			case o.flag:
				late(&ob.delTrue, ret)
			default:
				late(&ob.delFalse, ret)
			}
		case history.Add:
			ob.adds = append(ob.adds, ret)
			if o.fail == failNotInt {
				late(&ob.notInt, ret)
			}
		case history.Set: // observes nothing
		case history.Append:
			late(&ob.appends, ret)
		default:
			late(&ob.other, ret)
		}
	}
	return ob
}

// written reports whether the key may ever hold the value id: a set or
// cas writes it, or an add may make it, or an append or an operation of a
// method the reductions do not know may.
func (ob *observers) written(id uint32, isInt []bool) bool {
	return ob.writes[id] > 0 || (ob.hasAdd && isInt[id]) || ob.hasOther
}

// addsAfter counts the adds that returned at or after t.
func (ob *observers) addsAfter(t int64) int {
	n := 0
	for _, r := range ob.adds {
		if r >= t {
			n++
		}
	}
	return n
}

// unobserved reports whether the unknown write o, called at call, can be
// left out: no operation that can come after it tells its effect from
// its absence.
//
// Proof. Let L be a linearization with o at position p, the state before
// it u and after it v (if o changes nothing, L without o is one).
// Consider the operations after p up to the first, E, that changes the
// state (or the key's vanishing, in the evicting model). Each can come
// after o, so returned at or after call: by the conditions below none of
// them is a returned operation that holds in v, changing nothing (a get
// of v, a cas answering false), so they are unknown ones that change
// nothing in v; moved to the end of L (where an unknown operation steps
// in any state) they change nothing either. E holds in v; by the
// conditions it is one that holds in every state and leaves the same
// state whatever it found (a set, an unknown delete, a restart, a
// vanishing), so in u too. So L without o, those unknown operations
// moved last, is a linearization. The conditions, by what o leaves:
//   - a value v (set, cas): no get returning v, no cas expecting v (a
//     returned one would hold in v, an unknown one change it), no ok cas
//     answering false that may not hold in u (observers.casFalse), no ok
//     delete answering true (it needs the key present, u may not have
//     it), and, if v is an integer, no add (it would change v into a
//     value that depends on v, or fail with overflow on v alone), else no
//     add failed with not_integer (it holds in v, and not where the key
//     is absent or holds an integer);
//   - absence (delete): no get finding it absent, no delete answering
//     false, no cas expecting absence, no ok cas answering false that may
//     not hold in u, no add;
//   - some integer (add): as a value v for every integer v, and no other
//     add.
//
// An unknown cas expecting a value the key never holds (observers.written)
// never changes it either. For these, an append is an operation of a
// method the reductions do not know (observers.other).
//
// An unknown append of a string a is left out by its own rule. Let u be
// the state before it in L. If u holds no string, it does nothing. Else
// the states after it, up to the first E that leaves a state whatever
// it found, are x+a+y with it and x+y without it (x the string u holds,
// "" if u is absent; y what the appends after it add), or absent without
// it where x and y are both "" (absent, and only appends of "" since).
// Each operation of that stretch holds, with it, in a string that
// contains a: so it is no get of a value without a in it, no add that
// returned a value or overflowed (it fails on a string as not_integer),
// and no delete answering false. The conditions: no
// get returning, and no cas expecting, a string that contains a (for an
// a of "", the states differ only where the key without it is absent: a
// string equal to ""), no ok delete answering true (it needs the key
// present), no ok cas answering false that may not hold (casFalse), no
// add failed with not_integer (it holds with a, and not where the key
// without it is absent), no method unknown to the reductions. Then in
// that stretch the appends
// hold in either state and keep the relation (an append's answer is not
// checked); an unknown cas, add or delete changes nothing with it or is
// an E, or is moved last as above; and E is a set, an unknown delete, a
// restart or a vanishing.
//
// The return times of unknown operations are infinite here: dropUnobserved
// runs before bound.
func (ob *observers) unobserved(o *kvOp, call int64, in *interner) bool {
	isInt := in.isInt
	after := func(t int64) bool { return t >= call }
	afterIn := func(m map[uint32]int64, id uint32) bool {
		t, ok := m[id]
		return ok && after(t)
	}
	if o.method == history.Append {
		return in.isStr(o.value) && !after(ob.casFalse) && !after(ob.other) && !after(ob.delTrue) &&
			!after(ob.notInt) && !ob.seesString(o.value, call, in)
	}
	common := after(ob.casFalse) || after(ob.other) || after(ob.appends)
	switch o.method {
	case history.Set, history.CAS:
		if o.method == history.CAS && o.hasOld && (o.old == o.value || !ob.written(o.old, isInt)) {
			return true // it never changes the state, or never finds it as it expects
		}
		return !common && !after(ob.delTrue) && !afterIn(ob.getValue, o.value) && !afterIn(ob.casOld, o.value) &&
			!(isInt[o.value] && ob.addsAfter(call) > 0) && !(!isInt[o.value] && after(ob.notInt))
	case history.Delete:
		return !common && !after(ob.getAbsent) && !after(ob.delFalse) && !after(ob.casAbsent) && ob.addsAfter(call) == 0
	case history.Add:
		return !common && !after(ob.delTrue) && !after(ob.getInt) && !after(ob.casOldInt) && ob.addsAfter(call) == 1
	}
	return false
}

// seesString reports whether an ok get returning, or a cas expecting, a
// string that contains the string a (that equals it, if a is "") returned
// at or after call.
func (ob *observers) seesString(a uint32, call int64, in *interner) bool {
	inner := func(id uint32) string { v := in.vals[id]; return v[1 : len(v)-1] }
	part := inner(a)
	for _, m := range []map[uint32]int64{ob.getValue, ob.casOld} {
		for id, t := range m {
			if t >= call && in.isStr(id) && (id == a || part != "" && strings.Contains(inner(id), part)) {
				return true
			}
		}
	}
	return false
}

// dropUnobserved removes the unknown writes no operation can observe
// (observers.unobserved). The observers are gathered once: leaving an
// operation out only takes observers away, so what held for each when
// they were gathered still holds after the others went.
func (kh *keyHistory) dropUnobserved() int {
	ob := kh.observe()
	return kh.filter(func(op *porcupine.Operation, o *kvOp) bool {
		return o.unknown && ob.unobserved(o, op.Call, kh.model.in)
	})
}

// bound gives an unknown set or cas whose value no other operation may
// write the return time of the first operation that needs the key to
// hold that value: an ok get returning it, an ok cas that expected it
// and answered true.
//
// Proof. In any linearization that operation comes after one that wrote
// the value, and only this one can have (an add writes integers: an
// integer value of a key with adds is not bounded). So it comes before
// the observer, and so before every operation called after the
// observer returned: it is a linearization of the history with the
// write returning where the observer did. The converse holds as the
// new return only adds an order.
func (kh *keyHistory) bound() int {
	ob := kh.observe()
	isInt := kh.model.in.isInt
	first := map[uint32]int64{} // per value, the earliest return of an operation that needs it
	need := func(id uint32, ret int64) {
		if t, ok := first[id]; !ok || ret < t {
			first[id] = ret
		}
	}
	for i := range kh.ops {
		o := kh.ops[i].Input.(*kvOp)
		switch {
		case o.reset || o.unknown:
		case o.method == history.Get && o.present:
			need(o.value, kh.ops[i].Return)
		case o.method == history.CAS && o.flag && o.hasOld:
			need(o.old, kh.ops[i].Return)
		}
	}
	n := 0
	for i := range kh.ops {
		op := &kh.ops[i]
		o := op.Input.(*kvOp)
		if !o.unknown || (o.method != history.Set && o.method != history.CAS) || ob.writes[o.value] != 1 || (ob.hasAdd && isInt[o.value]) || ob.hasOther {
			continue
		}
		if t, ok := first[o.value]; ok && t < op.Return {
			op.Return = max(t, op.Call)
			n++
		}
	}
	return n
}

// notAppliedWriters says, of a get that read a value from nowhere, which
// operations left out as not applied (notApplied) would have written it.
func (kh *keyHistory) notAppliedWriters(b *strings.Builder, stuck *kvOp) {
	got := history.OutputText(stuck.op)
	for _, op := range kh.notApplied {
		if (op.Method == history.Set || op.Method == history.CAS) && string(op.Input.Value) == got {
			fmt.Fprintf(b, "  %s would have, but a fault event says its request never reached the master (truth not_applied).\n", op)
		}
	}
}
