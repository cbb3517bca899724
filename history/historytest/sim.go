// Package historytest helps test code that reads, writes or checks
// histories: simulated runs whose histories are linearizable by
// construction, drawn with rapid or from a seed, and a comparison of two
// histories as a file holds them.
package historytest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shmlab/shmlab/history"
	"pgregory.net/rapid"
)

// Diff compares two histories as a file holds them: not where each was
// read from, nor the line each operation was on. It returns "" when they
// are the same, else a cmp.Diff (-want +got).
func Diff(want, got *history.History) string {
	return cmp.Diff(want, got,
		cmpopts.IgnoreFields(history.History{}, "Name"),
		cmpopts.IgnoreFields(history.Op{}, "Line"),
		cmpopts.IgnoreFields(history.Event{}, "Line"),
		cmpopts.EquateEmpty())
}

// DrawConfig draws a small simulated run: a few workers, a few keys
// (odd ones among them), every method, and sometimes workers that give
// up, definite failures, master restarts that lose the state, eviction
// and TTLs.
func DrawConfig(t *rapid.T) Config {
	return Config{
		Model:    rapid.SampledFrom([]history.Model{history.ModelKV, history.ModelKVEvict}).Draw(t, "model"),
		Workers:  rapid.IntRange(1, 4).Draw(t, "workers"),
		Keys:     []string{"a", "", "0", "__proto__"}[:rapid.IntRange(1, 3).Draw(t, "keys")],
		Ops:      rapid.IntRange(2, 40).Draw(t, "ops"),
		Unknown:  rapid.Bool().Draw(t, "unknown"),
		Fail:     rapid.Bool().Draw(t, "fail"),
		Restarts: rapid.IntRange(0, 2).Draw(t, "restarts"),
		TTL:      rapid.Bool().Draw(t, "ttl"),
		Gap:      rapid.IntRange(1, 3).Draw(t, "gap"),
	}
}

// A simulated run: workers call operations on a Sequential store, each
// taking effect at one moment between its call and its return. What it
// records is linearizable by construction, so the checker must accept
// it. The properties (check_rapid_test.go), the reader's round trip
// (read_test.go) and the benchmark (check_bench_test.go) use it.

// Chooser makes the run's random choices.
type Chooser interface {
	// Intn returns a number in [0, n), n > 0.
	Intn(n int) int
}

// RapidChooser draws choices from rapid, which can then shrink them.
type RapidChooser struct{ T *rapid.T }

// Intn draws a number in [0, n).
func (c RapidChooser) Intn(n int) int { return rapid.IntRange(0, n-1).Draw(c.T, "choice") }

// SeededChooser draws choices from a seeded generator.
type SeededChooser struct{ r *rand.Rand }

func NewSeededChooser(seed uint64) SeededChooser {
	return SeededChooser{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (c SeededChooser) Intn(n int) int { return c.r.IntN(n) }

// Config says what a simulated run does.
type Config struct {
	Model   history.Model
	Workers int
	Keys    []string
	Ops     int
	// Methods are the methods drawn from, a method as often as it is
	// listed.
	Methods []history.Method
	// Unknown lets a worker give up waiting (status unknown): its
	// operation may take effect later, or never. Fail lets an operation
	// fail with a definite error, before taking effect.
	Unknown, Fail bool
	// Restarts is how many master restarts that lose the state may
	// happen.
	Restarts int
	// TTL makes sets of the first key carry a TTL, so that it may vanish.
	TTL bool
	// OneAtATime has no operation called before the last one returned.
	OneAtATime bool
	// Gap is how many nanoseconds pass between steps at most (at least 1).
	Gap int
	// NotApplied names each unknown operation that never took effect in
	// a fault event with truth not_applied, as a fault injector names a
	// request that never reached the master.
	NotApplied bool
	// Edges draws values and deltas at int64's bounds too, and values
	// that are numbers but not integers (1.0): adds then fail with
	// overflow and not_integer.
	Edges bool
}

// DefaultMethods is an even mix.
var DefaultMethods = []history.Method{history.Get, history.Get, history.Set, history.Set, history.CAS, history.Delete, history.Add, history.Add}

// AppendMethods mixes appends (of short strings, often the same) with
// gets, sets and deletes, as 6.824-style key-value histories do.
var AppendMethods = []history.Method{history.Get, history.Get, history.Set, history.Append, history.Append, history.Append, history.Delete, history.CAS}

// simWorker is a worker and its operation in flight.
type simWorker struct {
	name    string
	stream  int
	op      int // index in the history of the operation in flight; -1: none
	applied bool
	err     *history.ErrorInfo // the definite error the operation met, if any
}

// sim runs one simulation.
type sim struct {
	c        Chooser
	cfg      Config
	h        *history.History
	now      int64
	store    map[string]string
	fresh    int
	ttlKeys  map[string]bool // keys a set with a TTL took effect on
	workers  []simWorker
	orphans  []int // unknown operations not applied yet
	restarts int
}

// Simulate runs cfg with choices from c and returns the
func Simulate(c Chooser, cfg Config) *history.History {
	s := &sim{c: c, cfg: cfg, store: map[string]string{}, ttlKeys: map[string]bool{}, h: &history.History{Header: history.NewHeader(cfg.Model, "sim", 0)}}
	if len(s.cfg.Methods) == 0 {
		s.cfg.Methods = DefaultMethods
	}
	for i := range cfg.Workers {
		s.workers = append(s.workers, simWorker{name: fmt.Sprintf("w%d", i+1), op: -1})
	}
	s.h.Ops = make([]history.Op, 0, cfg.Ops)
	for s.step() {
		s.now += 1 + int64(s.c.Intn(max(s.cfg.Gap, 1)))
	}
	s.neverApplied()
	return s.h
}

// neverApplied names the unknown operations that will not take effect
// now, if the config says to, and forgets them.
func (s *sim) neverApplied() {
	if s.cfg.NotApplied {
		for _, o := range s.orphans {
			s.h.Events = append(s.h.Events, history.Event{Kind: history.EventFault, Time: s.now, Fault: "drop", Truth: history.TruthNotApplied, Op: s.h.Ops[o].ID})
		}
	}
	s.orphans = nil
}

// action is one thing that may happen next.
type action func()

// step does one thing, and reports whether there was anything to do.
// Progress comes first in the choices, so that rapid shrinks towards
// plain histories.
func (s *sim) step() bool {
	acts := s.progress()
	if len(acts) == 0 {
		return false
	}
	acts = append(acts, s.mishaps()...)
	acts[s.c.Intn(len(acts))]()
	return true
}

// progress returns what moves the run on: operations taking effect,
// returning and being called.
func (s *sim) progress() []action {
	var acts []action
	for i := range s.workers {
		w := &s.workers[i]
		switch {
		case w.op >= 0 && !w.applied:
			acts = append(acts, func() { s.applyInFlight(w) })
		case w.op >= 0:
			acts = append(acts, func() { s.finish(w) })
		case len(s.h.Ops) < s.cfg.Ops && !(s.cfg.OneAtATime && s.busy()):
			acts = append(acts, func() { s.call(w) })
		}
	}
	return acts
}

// mishaps returns what else may happen: workers giving up, definite
// failures, unknown operations landing late, restarts, evictions.
func (s *sim) mishaps() []action {
	var acts []action
	for i := range s.workers {
		w := &s.workers[i]
		if w.op >= 0 && s.cfg.Unknown {
			acts = append(acts, func() { s.giveUp(w) })
		}
		if w.op >= 0 && !w.applied && s.cfg.Fail {
			acts = append(acts, func() { w.err = &history.ErrorInfo{Code: "overloaded"}; s.finish(w) })
		}
	}
	for i, o := range s.orphans {
		acts = append(acts, func() { s.applyOrphan(i, o) })
	}
	if s.restarts < s.cfg.Restarts {
		acts = append(acts, s.restart)
	}
	for _, k := range s.cfg.Keys {
		if _, ok := s.store[k]; ok && (s.cfg.Model == history.ModelKVEvict || s.ttlKeys[k]) {
			acts = append(acts, func() { delete(s.store, k) })
		}
	}
	return acts
}

// busy reports whether an operation is in flight.
func (s *sim) busy() bool {
	for i := range s.workers {
		if s.workers[i].op >= 0 {
			return true
		}
	}
	return false
}

// call starts an operation on worker w.
func (s *sim) call(w *simWorker) {
	op := history.Op{ID: int64(len(s.h.Ops) + 1), Worker: w.name, Stream: w.stream, Call: s.now}
	op.Method = s.cfg.Methods[s.c.Intn(len(s.cfg.Methods))]
	op.Key = s.cfg.Keys[s.c.Intn(len(s.cfg.Keys))]
	switch op.Method {
	case history.Set:
		op.Input.Value = s.value()
		if s.cfg.TTL && op.Key == s.cfg.Keys[0] {
			op.Input.TTL = 1000
		}
	case history.CAS:
		op.Input.Value = s.value()
		switch s.c.Intn(3) {
		case 0:
			if v, ok := s.store[op.Key]; ok {
				op.Input.Old = json.RawMessage(v)
			}
		case 1:
			op.Input.Old = s.value()
		}
	case history.Add:
		deltas := []int64{1, 2, -1}
		if s.cfg.Edges {
			deltas = append(deltas, math.MaxInt64, math.MinInt64)
		}
		op.Input.Delta = deltas[s.c.Intn(len(deltas))]
	case history.Append:
		op.Input.Value = json.RawMessage([]string{`"a"`, `"b"`, `""`, `"\n"`}[s.c.Intn(4)])
	}
	s.h.Ops = append(s.h.Ops, op)
	w.op, w.applied, w.err = len(s.h.Ops)-1, false, nil
}

// value returns a value to store: a small integer, often written again,
// or a fresh one (a string, or an integer beyond 2^53).
func (s *sim) value() json.RawMessage {
	if s.cfg.Edges && s.c.Intn(3) == 0 {
		return json.RawMessage([]string{"9223372036854775807", "-9223372036854775808", "1.0"}[s.c.Intn(3)])
	}
	switch s.c.Intn(4) {
	case 0, 1:
		return json.RawMessage(strconv.Itoa(s.c.Intn(3)))
	case 2:
		s.fresh++
		return json.RawMessage(strconv.Quote(fmt.Sprintf("v%d", s.fresh)))
	}
	s.fresh++
	return json.RawMessage(strconv.FormatInt(1<<53+int64(s.fresh), 10))
}

// applyInFlight makes w's operation take effect now.
func (s *sim) applyInFlight(w *simWorker) {
	op := &s.h.Ops[w.op]
	op.Output, w.err = Apply(s.store, op)
	w.applied = true
	s.took(op)
}

// took notes that op took effect: a set with a TTL makes its key one
// that may vanish. (Only then: the checker leaves failed sets out.)
func (s *sim) took(op *history.Op) {
	if op.Input.TTL > 0 {
		s.ttlKeys[op.Key] = true
	}
}

// finish returns w's operation: ok, or failed with w.err.
func (s *sim) finish(w *simWorker) {
	op := &s.h.Ops[w.op]
	op.Return, op.Status = s.now, history.StatusOK
	if w.err != nil {
		op.Status, op.Output = history.StatusFail, history.Output{Error: w.err}
	}
	w.op = -1
}

// giveUp ends w's wait for its operation: its outcome is unknown, and w
// goes on as a new stream.
func (s *sim) giveUp(w *simWorker) {
	op := &s.h.Ops[w.op]
	op.Status, op.Output = history.StatusUnknown, history.Output{}
	if s.c.Intn(2) == 0 {
		op.Return = s.now // when the worker gave up
	}
	if !w.applied {
		s.orphans = append(s.orphans, w.op)
	}
	w.op = -1
	w.stream++
}

// applyOrphan makes the i'th unknown operation take effect now.
func (s *sim) applyOrphan(i, o int) {
	Apply(s.store, &s.h.Ops[o])
	s.took(&s.h.Ops[o])
	s.orphans = append(s.orphans[:i:i], s.orphans[i+1:]...)
}

// restart restarts the master, losing the state. As HISTORY.md has it,
// an operation takes effect in the epoch its call falls in or never: those
// in flight that have not taken effect end now, unknown (or failed, when
// workers do not give up), and the unknown ones pending never land.
func (s *sim) restart() {
	s.restarts++
	clear(s.store)
	s.h.Events = append(s.h.Events, history.Event{Kind: history.EventMasterRestart, Time: s.now, Reset: true})
	for i := range s.workers {
		w := &s.workers[i]
		switch {
		case w.op < 0 || w.applied:
		case s.cfg.Unknown:
			s.h.Ops[w.op].Return = s.now
			s.h.Ops[w.op].Status = history.StatusUnknown
			s.orphans = append(s.orphans, w.op) // it never lands
			w.op = -1
			w.stream++
		default:
			w.err = &history.ErrorInfo{Code: "connection_lost"}
			s.finish(w)
		}
	}
	s.neverApplied()
}

// Apply applies op to store, a Sequential key-value store, and returns
// its output, or the definite error it met, changing nothing.
func Apply(store map[string]string, op *history.Op) (history.Output, *history.ErrorInfo) {
	cur, present := store[op.Key]
	switch op.Method {
	case history.Get:
		if !present {
			return history.Output{}, nil
		}
		return history.Output{Value: json.RawMessage(cur)}, nil
	case history.Set:
		store[op.Key] = string(op.Input.Value)
		return history.Output{Value: json.RawMessage(`"OK"`)}, nil
	case history.Delete:
		delete(store, op.Key)
		return history.Output{Value: json.RawMessage(strconv.FormatBool(present))}, nil
	case history.CAS:
		match := !present
		if op.Input.Old != nil {
			match = present && cur == string(op.Input.Old)
		}
		if match {
			store[op.Key] = string(op.Input.Value)
		}
		return history.Output{Value: json.RawMessage(strconv.FormatBool(match))}, nil
	case history.Add:
		var n int64
		if present {
			var ok bool
			if n, ok = history.Int(json.RawMessage(cur)); !ok {
				return history.Output{}, &history.ErrorInfo{Code: "not_integer"}
			}
		}
		sum := n + op.Input.Delta
		if (op.Input.Delta > 0) != (sum > n) && op.Input.Delta != 0 {
			return history.Output{}, &history.ErrorInfo{Code: "overflow"}
		}
		v := strconv.FormatInt(sum, 10)
		store[op.Key] = v
		return history.Output{Value: json.RawMessage(v)}, nil
	case history.Append:
		if !present {
			cur = `""`
		} else if cur[0] != '"' {
			return history.Output{}, &history.ErrorInfo{Code: "not_string"}
		}
		store[op.Key] = cur[:len(cur)-1] + string(op.Input.Value[1:])
		return history.Output{}, nil // append answers nothing
	}
	panic("Apply: " + op.Method)
}

// Sequential returns a history of n operations one after another, each
// returning before the next is called, all ok, by random workers.
func Sequential(c Chooser, keys []string, n int) *history.History {
	return Simulate(c, Config{Model: history.ModelKV, Workers: 1 + c.Intn(3), Keys: keys, Ops: n, OneAtATime: true})
}

// Restream renumbers each worker's streams so that an unknown operation
// ends its stream, as the format requires.
func Restream(h *history.History) {
	byWorker := map[string][]int{}
	for i := range h.Ops {
		byWorker[h.Ops[i].Worker] = append(byWorker[h.Ops[i].Worker], i)
	}
	for _, idx := range byWorker {
		sort.Slice(idx, func(a, b int) bool { return h.Ops[idx[a]].Call < h.Ops[idx[b]].Call })
		stream := 0
		for _, i := range idx {
			h.Ops[i].Stream = stream
			if h.Ops[i].Status == history.StatusUnknown {
				stream++
			}
		}
	}
}

// BreakGet makes h not linearizable: the first get at or after index
// from that returned a value now returns one no operation wrote. It
// reports whether there was such a get.
func BreakGet(h *history.History, from int) bool {
	for i := max(from, 0); i < len(h.Ops); i++ {
		op := &h.Ops[i]
		if op.Method == history.Get && op.Status == history.StatusOK && op.Output.Value != nil {
			op.Output.Value = json.RawMessage(`"written by no one"`)
			return true
		}
	}
	return false
}
