package historytest

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/shmlab/shmlab/history"
)

// Histories full of operations with unknown outcome, for the checker's
// reductions (linearizability/reduce.go): their benchmarks, and the
// fixtures that measure the command.

// UnknownSets returns the history "set 0, then k sets of unknown outcome,
// then 100 gets one after another, each reading 0", on key "k": the sets
// write 1..k, each by a worker of its own, all called before the first
// get. It is linearizable (no unknown set took effect before the last
// get), and without reductions its check takes time exponential in k.
func UnknownSets(k int) *history.History {
	reads := make([]json.RawMessage, 100)
	for i := range reads {
		reads[i] = json.RawMessage("0")
	}
	return unknownThenGets("unknown-sets", "0", k, func(i int) history.Op {
		return history.Op{Method: history.Set, Input: history.Input{Value: json.RawMessage(strconv.Itoa(i))}}
	}, reads)
}

// UnknownAppends returns "set "a", then k appends of unknown outcome,
// each of a string of its own ("x0;", "x1;", ...) that no get reads,
// then 5 gets reading "a"" on key "k", the unknown operations as in
// UnknownSets: linearizable, and without the checker's reductions
// exponential in k.
func UnknownAppends(k int) *history.History {
	reads := make([]json.RawMessage, 5)
	for i := range reads {
		reads[i] = json.RawMessage(`"a"`)
	}
	return unknownThenGets("unknown-appends", `"a"`, k, func(i int) history.Op {
		return history.Op{Method: history.Append, Input: history.Input{Value: json.RawMessage(fmt.Sprintf(`"x%d;"`, i-1))}}
	}, reads)
}

// UnknownAdds returns "set 0, then k adds of +1 of unknown outcome, then
// gets reading 0, 2, 2, 5 and k/2" on key "k", the unknown operations as
// in UnknownSets: linearizable for k >= 10 (the adds take effect one by
// one between the gets), and without the checker's symmetry between
// identical operations exponential in k.
func UnknownAdds(k int) *history.History {
	var reads []json.RawMessage
	for _, n := range []int{0, 2, 2, 5, k / 2} {
		reads = append(reads, json.RawMessage(strconv.Itoa(n)))
	}
	return unknownThenGets("unknown-adds", "0", k, func(int) history.Op {
		return history.Op{Method: history.Add, Input: history.Input{Delta: 1}}
	}, reads)
}

// unknownThenGets returns "set first, then k operations of unknown
// outcome, the i-th (from 1) made by unknown(i), by a worker of its own
// and all called before the first get, then gets one after another
// returning reads" on key "k".
func unknownThenGets(name, first string, k int, unknown func(i int) history.Op, reads []json.RawMessage) *history.History {
	h := &history.History{Header: history.NewHeader(history.ModelKV, name, 0)}
	add := func(op history.Op) {
		op.ID, op.Key = int64(len(h.Ops)+1), "k"
		h.Ops = append(h.Ops, op)
	}
	add(history.Op{Worker: "w0", Method: history.Set, Input: history.Input{Value: json.RawMessage(first)}, Output: okOutput, Call: 1, Return: 2, Status: history.StatusOK})
	for i := 1; i <= k; i++ {
		op := unknown(i)
		op.Worker, op.Call, op.Status = fmt.Sprintf("u%d", i), int64(2+i), history.StatusUnknown
		add(op)
	}
	t := int64(k + 3)
	for _, v := range reads {
		add(history.Op{Worker: "w0", Method: history.Get, Output: history.Output{Value: v}, Call: t, Return: t + 1, Status: history.StatusOK})
		t += 2
	}
	return h
}

var okOutput = history.Output{Value: json.RawMessage(`"OK"`)}

// UnknownWrites returns a linearizable history of n operations on key
// "k" by the given number of workers, half gets and half sets, each set
// writing a value of its own; unknown of the sets have an unknown
// outcome: their worker gave up on them, and each took effect at some
// moment after its call, or never (about half of them). Operations
// overlap as workers' do: each takes effect at one moment between its
// call and its return.
func UnknownWrites(c Chooser, n, unknown, workers int) *history.History {
	g := &unknownGen{c: c, h: &history.History{Header: history.NewHeader(history.ModelKV, "unknown-writes", 0)}}
	g.h.Ops = make([]history.Op, 0, n)
	g.plan(n, unknown)
	ws := make([]genWorker, workers)
	for i := range ws {
		ws[i] = genWorker{name: fmt.Sprintf("w%d", i+1), op: -1}
	}
	for g.now = 1; ; g.now++ {
		busy := false
		for i := range ws {
			busy = busy || ws[i].op >= 0
		}
		if !busy && len(g.h.Ops) == n {
			break
		}
		if len(g.orphans) > 0 && g.c.Intn(8) == 0 {
			i := g.c.Intn(len(g.orphans))
			if g.c.Intn(2) == 0 {
				g.apply(g.orphans[i]) // it lands late
			} // else it never does
			g.orphans = append(g.orphans[:i], g.orphans[i+1:]...)
		}
		g.step(&ws[g.c.Intn(len(ws))], n)
	}
	return g.h
}

// unknownGen makes an UnknownWrites history.
type unknownGen struct {
	c       Chooser
	h       *history.History
	now     int64
	kinds   []byte // per operation to make: 'g' get, 's' set, 'u' set of unknown outcome
	value   string // the key's value ("" absent)
	orphans []int  // unknown sets not applied yet
}

type genWorker struct {
	name    string
	stream  int
	op      int // in flight, -1: none
	applied bool
}

// plan draws which operations are gets, sets and unknown sets.
func (g *unknownGen) plan(n, unknown int) {
	g.kinds = make([]byte, n)
	var sets []int
	for i := range g.kinds {
		g.kinds[i] = 'g'
		if g.c.Intn(2) == 0 {
			g.kinds[i] = 's'
			sets = append(sets, i)
		}
	}
	for u := 0; u < unknown && len(sets) > 0; u++ {
		j := g.c.Intn(len(sets))
		g.kinds[sets[j]] = 'u'
		sets = append(sets[:j], sets[j+1:]...)
	}
}

// step moves worker w on: calls its next operation, applies it, or
// returns it (or, for an unknown set, gives up on it).
func (g *unknownGen) step(w *genWorker, n int) {
	switch {
	case w.op < 0 && len(g.h.Ops) < n:
		i := len(g.h.Ops)
		op := history.Op{ID: int64(i + 1), Worker: w.name, Stream: w.stream, Key: "k", Method: history.Get, Call: g.now}
		if g.kinds[i] != 'g' {
			op.Method, op.Input.Value = history.Set, json.RawMessage(strconv.Itoa(i+1))
		}
		g.h.Ops = append(g.h.Ops, op)
		w.op, w.applied = i, false
	case w.op < 0:
	case g.kinds[w.op] == 'u':
		if g.c.Intn(2) == 0 {
			g.apply(w.op)
		} else {
			g.orphans = append(g.orphans, w.op)
		}
		g.h.Ops[w.op].Status, g.h.Ops[w.op].Output = history.StatusUnknown, history.Output{}
		w.op = -1
		w.stream++
	case !w.applied:
		g.apply(w.op)
		w.applied = true
	default:
		op := &g.h.Ops[w.op]
		op.Return, op.Status = g.now, history.StatusOK
		w.op = -1
	}
}

// apply makes operation i take effect now.
func (g *unknownGen) apply(i int) {
	op := &g.h.Ops[i]
	if op.Method == history.Set {
		g.value = string(op.Input.Value)
		if op.Status != history.StatusUnknown {
			op.Output = okOutput
		}
		return
	}
	if g.value != "" {
		op.Output.Value = json.RawMessage(g.value)
	}
}

// StaleRead makes h, an UnknownWrites history, not linearizable: the get
// nearest the middle that can is made to return the value of a set that
// returned, and was overwritten by another set that returned, before the
// get was called. It returns the get's index, or -1 if none can be.
func StaleRead(h *history.History) int {
	for d := 0; d < len(h.Ops); d++ {
		for _, i := range []int{len(h.Ops)/2 + d, len(h.Ops)/2 - d} {
			if i < 0 || i >= len(h.Ops) {
				continue
			}
			if v := staleValue(h, i); v != nil {
				h.Ops[i].Output.Value = v
				return i
			}
		}
	}
	return -1
}

// staleValue returns a value get i cannot return, as StaleRead says, or
// nil: of the sets that returned before the get was called, the one that
// returned last before the latest call among them (that set overwrote it).
func staleValue(h *history.History, i int) json.RawMessage {
	g := &h.Ops[i]
	if g.Method != history.Get || g.Status != history.StatusOK {
		return nil
	}
	done := func(s *history.Op) bool {
		return s.Method == history.Set && s.Status == history.StatusOK && s.Return < g.Call
	}
	latest := int64(-1)
	for j := range h.Ops {
		if s := &h.Ops[j]; done(s) {
			latest = max(latest, s.Call)
		}
	}
	var stale *history.Op
	for j := range h.Ops {
		if s := &h.Ops[j]; done(s) && s.Return < latest && (stale == nil || s.Return > stale.Return) {
			stale = s
		}
	}
	if stale == nil || string(stale.Input.Value) == string(g.Output.Value) {
		return nil
	}
	return stale.Input.Value
}
