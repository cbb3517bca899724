package linearizability

import (
	"sort"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
)

// keyHistory is one key's operations, ready for porcupine.
type keyHistory struct {
	key   string
	model *kvModel
	ops   []porcupine.Operation
	// notApplied are the unknown operations left out as a fault event
	// says they never reached the master, for explanations.
	notApplied []*history.Op
}

// keySizes counts the operations partition takes, per key, so that each
// key's are allocated once.
func keySizes(h *history.History) map[string]int {
	sizes := make(map[string]int)
	for i := range h.Ops {
		if op := &h.Ops[i]; checked(op) {
			sizes[op.Key]++
		}
	}
	return sizes
}

// streams numbers each (worker, stream) pair, for porcupine's ClientId.
type streams struct {
	ids   map[streamKey]int
	names []streamKey
}

type streamKey struct {
	worker string
	stream int
}

// fewStreams is how many streams are looked up by a scan of names
// rather than in the map: comparing a few interned strings is quicker
// than hashing one.
const fewStreams = 8

// id returns the number of op's stream, numbering it if it is new.
func (s *streams) id(op *history.Op) int {
	k := streamKey{op.Worker, op.Stream}
	if len(s.names) <= fewStreams {
		for id, n := range s.names {
			if n == k {
				return id
			}
		}
	} else if id, ok := s.ids[k]; ok {
		return id
	}
	if s.ids == nil {
		s.ids = make(map[streamKey]int)
	}
	id := len(s.names)
	s.ids[k] = id
	s.names = append(s.names, k)
	return id
}

// epochs returns the times at which epochs begin, in order.
func epochs(h *history.History) []int64 {
	var ts []int64
	for i := range h.Events {
		if h.Events[i].EpochBoundary() {
			ts = append(ts, h.Events[i].Time)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// epochOf returns the epoch an operation called at t belongs to.
func epochOf(bounds []int64, t int64) uint32 {
	return uint32(sort.Search(len(bounds), func(i int) bool { return bounds[i] > t }))
}

// checkedOps counts the operations the search takes: those on one key
// that did not fail (or whose failure is checked), nor are in skip
// (notApplied).
func checkedOps(h *history.History, skip map[int64]bool) int {
	n := 0
	for i := range h.Ops {
		if checked(&h.Ops[i]) && !skip[h.Ops[i].ID] {
			n++
		}
	}
	return n
}

// notApplied returns the ids of the unknown operations that surely did
// nothing: a fault event says their request never reached the master
// (truth not_applied), and no event says anything else of them (another
// truth, a late reply, a kill). The fault injectors name an operation
// with not_applied only when no copy of its request can reach the master
// (HISTORY.md, "Ground truth"): a request dropped once may be resent.
func notApplied(h *history.History) map[int64]bool {
	named := map[int64]history.Truth{}
	for i := range h.Events {
		e := &h.Events[i]
		if e.Op == 0 {
			continue
		}
		if t, ok := named[e.Op]; ok && t != e.Truth {
			named[e.Op] = "" // said more than once, differently: not sure
			continue
		}
		if e.Kind == history.EventFault && e.Truth == history.TruthNotApplied {
			named[e.Op] = history.TruthNotApplied
		} else {
			named[e.Op] = ""
		}
	}
	var skip map[int64]bool
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status == history.StatusUnknown && op.Method.Keyed() && named[op.ID] == history.TruthNotApplied {
			if skip == nil {
				skip = map[int64]bool{}
			}
			skip[op.ID] = true
		}
	}
	return skip
}

// partition splits h into one history per key. Failed operations are
// left out (they surely did nothing), but for the adds whose failure
// says what the key held (checkedFailure: overflow, not_integer), which
// are checked as observations; so are the unknown ones that did nothing
// (notApplied), len and keys.
func partition(h *history.History, model history.Model, ss *streams) []*keyHistory {
	return partitionSkipping(h, model, ss, notApplied(h))
}

// partitionSkipping is partition, leaving out the operations of skip
// (notApplied(h), which its caller has at hand).
func partitionSkipping(h *history.History, model history.Model, ss *streams, skip map[int64]bool) []*keyHistory {
	inf := infinity(h)
	bounds := epochs(h)
	byKey := make(map[string]*keyHistory)
	var keys []*keyHistory
	sizes := keySizes(h)
	var lastReturn []streamReturn // of each stream's latest operation, by its id
	for i := range h.Ops {
		op := &h.Ops[i]
		id := ss.id(op)
		call := afterStream(op, id, &lastReturn)
		if !checked(op) {
			continue
		}
		kh := byKey[op.Key]
		if kh == nil {
			n := sizes[op.Key] + len(bounds)
			kh = &keyHistory{key: op.Key, ops: make([]porcupine.Operation, 0, n),
				model: &kvModel{in: newInterner(), evict: model == history.ModelKVEvict, slab: make([]kvOp, 0, sizes[op.Key])}}
			byKey[op.Key] = kh
			keys = append(keys, kh)
		}
		if skip[op.ID] {
			kh.notApplied = append(kh.notApplied, op)
			continue
		}
		if op.Input.TTL > 0 {
			kh.model.evict = true
		}
		o := kh.model.convert(op, epochOf(bounds, op.Call))
		ret := op.Return
		if o.unknown {
			ret = inf
		}
		kh.ops = append(kh.ops, porcupine.Operation{ClientId: id, Input: o, Call: call, Return: ret})
	}
	if len(bounds) > 0 {
		reset := ss.id(&history.Op{Worker: "master"})
		for _, kh := range keys {
			for e, t := range bounds {
				o := &kvOp{reset: true, epoch: uint32(e + 1)}
				kh.ops = append(kh.ops, porcupine.Operation{ClientId: reset, Input: o, Call: t, Return: t})
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
	return keys
}

// afterStream returns the call time op is checked with: its own, or one
// nanosecond later if it is the time its stream's previous operation
// returned at. A stream is sequential, but porcupine puts a call before a
// return of the same time, and would check the two as concurrent (the
// simulator begins a worker's next call at the instant its last one
// returned). Only a tie within a stream is broken: across streams,
// whose clocks may be coarse, the same time stays concurrent. An
// operation that returned at its call (answered on the spot) keeps it.
func afterStream(op *history.Op, stream int, lastReturn *[]streamReturn) int64 {
	for len(*lastReturn) <= stream {
		*lastReturn = append(*lastReturn, streamReturn{})
	}
	last := &(*lastReturn)[stream]
	call := op.Call
	if last.ok && last.t == call && (op.Status == history.StatusUnknown || call < op.Return) {
		call++
	}
	if op.Status != history.StatusUnknown {
		last.t, last.ok = op.Return, true
	}
	return call
}

// streamReturn is when a stream's latest operation returned, if one did.
type streamReturn struct {
	t  int64
	ok bool
}

// convert turns op into what the model steps on, made in the next place
// of m.slab (a new slab when it is full).
func (m *kvModel) convert(op *history.Op, epoch uint32) *kvOp {
	if len(m.slab) == cap(m.slab) {
		m.slab = make([]kvOp, 0, 64)
	}
	m.slab = append(m.slab, kvOp{op: op, method: op.Method, epoch: epoch, unknown: op.Status == history.StatusUnknown})
	o := &m.slab[len(m.slab)-1]
	in, out := &op.Input, &op.Output
	switch op.Method {
	case history.Set, history.Append:
		o.value = m.in.idOf(in.Value)
	case history.CAS:
		o.value = m.in.idOf(in.Value)
		if in.Old != nil {
			o.hasOld, o.old = true, m.in.idOf(in.Old)
		}
		o.flag = string(out.Value) == "true"
	case history.Delete:
		o.flag = string(out.Value) == "true"
	case history.Add:
		o.delta = in.Delta
		if o.fail = checkedFailure(op); o.fail == notFailed && !o.unknown {
			o.value = m.in.idOf(out.Value)
		}
	case history.Get:
		if !o.unknown && out.Value != nil {
			o.present, o.value = true, m.in.idOf(out.Value)
		}
	}
	return o
}
