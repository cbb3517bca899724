package linearizability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// drawConfig draws a small simulated run: a few workers, a few keys
// (odd ones among them), every method, and sometimes workers that give
// up, definite failures, master restarts that lose the state, eviction
// and TTLs.
func drawConfig(t *rapid.T) simConfig {
	return simConfig{
		model:    rapid.SampledFrom([]Model{ModelKV, ModelKVEvict}).Draw(t, "model"),
		workers:  rapid.IntRange(1, 4).Draw(t, "workers"),
		keys:     []string{"a", "", "0", "__proto__"}[:rapid.IntRange(1, 3).Draw(t, "keys")],
		ops:      rapid.IntRange(2, 40).Draw(t, "ops"),
		unknown:  rapid.Bool().Draw(t, "unknown"),
		fail:     rapid.Bool().Draw(t, "fail"),
		restarts: rapid.IntRange(0, 2).Draw(t, "restarts"),
		ttl:      rapid.Bool().Draw(t, "ttl"),
		gap:      rapid.IntRange(1, 3).Draw(t, "gap"),
	}
}

// roundTrip writes h and reads it back, so that every history a property
// checks is one the reader accepts.
func roundTrip(t *rapid.T, h *History) *History {
	var b bytes.Buffer
	if err := h.Write(&b); err != nil {
		t.Fatal(err)
	}
	h2, err := Read(bytes.NewReader(b.Bytes()), "sim.jsonl")
	if err != nil {
		t.Fatalf("the reader rejects a simulated history: %v\n%s", err, b.String())
	}
	return h2
}

// text is h as a file holds it, for messages.
func text(h *History) string {
	var b strings.Builder
	h.Write(&b)
	return b.String()
}

// TestCheckAcceptsSimulated: histories produced by running random
// concurrent operations against a sequential store are always accepted,
// whatever the model, unknown outcomes, failures, restarts and
// evictions.
func TestCheckAcceptsSimulated(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := roundTrip(t, simulate(rapidChooser{t}, drawConfig(t)))
		if r := Check(h, Options{}); r.Linearizable != Ok {
			t.Fatalf("a simulated history is %s:\n%s\n%s", r.Linearizable, explanations(r), text(h))
		}
	})
}

// TestCheckRejectsStaleRead: in a history with no concurrency, a get
// made to return an older value of its key than the one it returned is
// always rejected, and named as the operation at fault.
func TestCheckRejectsStaleRead(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := rapidChooser{t}
		h := drawSequential(c)
		cands := staleReads(h)
		pick := cands[c.intn(len(cands))]
		op := &h.Ops[pick.op]
		op.Output.Value = nil
		if old := pick.older[c.intn(len(pick.older))]; old != "" {
			op.Output.Value = json.RawMessage(old)
		}
		r := Check(roundTrip(t, h), Options{})
		if r.Linearizable != Illegal {
			t.Fatalf("%s made to return an older value is not rejected:\n%s", op, text(h))
		}
		if got := r.Keys[0].Ops; len(got) == 0 || got[0].ID != op.ID {
			t.Fatalf("the stale read is %s; the explanation is:\n%s", op, r.Keys[0].Explanation)
		}
	})
}

// TestCheckRejectsDroppedWrite: in a history with no concurrency, leaving
// out a write whose value a later get returned, and nobody else wrote, is
// always rejected.
func TestCheckRejectsDroppedWrite(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := rapidChooser{t}
		h := drawSequential(c)
		cands := observedWrites(h)
		i := cands[c.intn(len(cands))]
		dropped := h.Ops[i]
		h.Ops = slices.Delete(h.Ops, i, i+1)
		if r := Check(roundTrip(t, h), Options{}); r.Linearizable != Illegal {
			t.Fatalf("the history without %s is not rejected:\n%s", &dropped, text(h))
		}
	})
}

// drawSequential draws a history with no concurrency on one or two keys,
// ending with a write of a value nobody else wrote and a get of it, so
// that it has a read to make stale and a write to drop.
func drawSequential(c chooser) *History {
	keys := []string{"a", "b"}[:1+c.intn(2)]
	h := sequential(c, keys, c.intn(16))
	appendWriteRead(h, keys[c.intn(len(keys))])
	return h
}

// stale is a get, and the values its key held before other than the one
// it returned ("" for absent).
type stale struct {
	op    int
	older []string
}

// staleReads returns the gets of h, a history with no concurrency, that
// could return an older value.
func staleReads(h *History) []stale {
	var cands []stale
	replay(h, func(i int, cur string, seen []string) {
		if h.Ops[i].Method != Get {
			return
		}
		var older []string
		for _, v := range seen {
			if v != cur {
				older = append(older, v)
			}
		}
		if len(older) > 0 {
			cands = append(cands, stale{i, older})
		}
	})
	return cands
}

// observedWrites returns the sets and successful cas of h whose value no
// other operation could have written and a later get returned.
func observedWrites(h *History) []int {
	writers := map[string]int{} // value -> how many operations could write it
	for i := range h.Ops {
		for _, v := range written(&h.Ops[i]) {
			writers[v]++
		}
	}
	var cands []int
	for i := range h.Ops {
		w := &h.Ops[i]
		wrote := w.Status == StatusOK && (w.Method == Set || (w.Method == CAS && string(w.Output.Value) == "true"))
		if !wrote || writers[string(w.Input.Value)] != 1 {
			continue
		}
		if slices.ContainsFunc(h.Ops[i+1:], func(g Op) bool {
			return g.Method == Get && g.Key == w.Key && g.Status == StatusOK && string(g.Output.Value) == string(w.Input.Value)
		}) {
			cands = append(cands, i)
		}
	}
	return cands
}

// TestCheckEvictRejectsFromTheDead: where keys may vanish (the evicting
// model, or keys written with a TTL), a get in a history with no
// concurrency may return the last value written or nothing, and nothing
// else: made to return a value written before the last, one that had
// surely gone (deleted, or seen absent), or one nobody wrote, it is
// rejected.
func TestCheckEvictRejectsFromTheDead(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := rapidChooser{t}
		cfg := simConfig{model: ModelKVEvict, workers: 1 + c.intn(3), keys: []string{"a", "b"}[:1+c.intn(2)], ops: 1 + c.intn(16), oneAtATime: true}
		if c.intn(2) == 0 {
			cfg.model, cfg.ttl = ModelKV, true
		}
		h := simulate(c, cfg)
		var cands []stale
		replayEvict(h, func(i int, live string, written []string) {
			op := &h.Ops[i]
			if got := string(op.Output.Value); got != live && got != "" {
				t.Fatalf("%s returned neither %s nor absent", op, live)
			}
			dead := []string{`"nowhere"`}
			for _, v := range written {
				if v != live {
					dead = append(dead, v)
				}
			}
			cands = append(cands, stale{i, dead})
		})
		if len(cands) == 0 {
			return
		}
		pick := cands[c.intn(len(cands))]
		op := &h.Ops[pick.op]
		op.Output.Value = json.RawMessage(pick.older[c.intn(len(pick.older))])
		if r := Check(roundTrip(t, h), Options{}); r.Linearizable != Illegal {
			t.Fatalf("%s is not rejected:\n%s", op, text(h))
		}
	})
}

// replayEvict runs the ok operations of h, a history with no concurrency
// where keys may vanish, in the order of their calls, and calls f at each
// get with the value its key may still hold ("" if it has surely gone)
// and the values written to it before.
func replayEvict(h *History, f func(i int, live string, written []string)) {
	live := map[string]string{}
	wrote := map[string][]string{}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status != StatusOK {
			continue
		}
		k, out := op.Key, string(op.Output.Value)
		switch {
		case op.Method == Get:
			f(i, live[k], wrote[k])
			if op.Output.Value == nil {
				live[k] = "" // seen absent: it vanished
			}
		case op.Method == Delete:
			live[k] = ""
		case op.Method == CAS && out == "false" && op.Input.Old != nil && string(op.Input.Old) == live[k]:
			live[k] = "" // it did not hold the value it may have held
		}
		for _, v := range written(op) {
			if op.Method != CAS || out == "true" {
				live[k] = v
				wrote[k] = append(wrote[k], v)
			}
		}
	}
}

// TestCheckUnknownNeverRejects: turning operations of a linearizable
// history into ones with unknown outcome, and adding unknown operations
// that never took effect, never makes it rejected.
func TestCheckUnknownNeverRejects(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := rapidChooser{t}
		h := simulate(c, drawConfig(t))
		for i := range h.Ops {
			if op := &h.Ops[i]; op.Status == StatusOK && c.intn(2) == 0 {
				op.Status, op.Output = StatusUnknown, Output{}
			}
		}
		end := infinity(h)
		for n := c.intn(3); n > 0; n-- {
			op := Op{ID: int64(len(h.Ops) + 1), Worker: fmt.Sprintf("u%d", n), Call: int64(c.intn(int(end))), Status: StatusUnknown}
			op.Method = []Method{Get, Set, Delete, CAS, Add}[c.intn(5)]
			op.Key = []string{"a", "", "0"}[c.intn(3)]
			switch op.Method {
			case Set, CAS:
				op.Input.Value = json.RawMessage(fmt.Sprint(c.intn(3)))
			case Add:
				op.Input.Delta = 1
			}
			h.Ops = append(h.Ops, op)
		}
		restream(h)
		h = roundTrip(t, h)
		if r := Check(h, Options{}); r.Linearizable != Ok {
			t.Fatalf("made unknown, a linearizable history is %s:\n%s\n%s", r.Linearizable, explanations(r), text(h))
		}
	})
}

// appendWriteRead appends to h a set of key to a value nobody wrote and
// a get that returns it, one after the other after everything else.
func appendWriteRead(h *History, key string) {
	t := infinity(h)
	n := int64(len(h.Ops))
	h.Ops = append(h.Ops,
		Op{ID: n + 1, Worker: "w1", Method: Set, Key: key, Input: Input{Value: json.RawMessage(`"last"`)}, Output: Output{Value: json.RawMessage(`"OK"`)}, Call: t, Return: t + 1, Status: StatusOK},
		Op{ID: n + 2, Worker: "w1", Method: Get, Key: key, Output: Output{Value: json.RawMessage(`"last"`)}, Call: t + 2, Return: t + 3, Status: StatusOK})
}

// written returns the values op could have stored.
func written(op *Op) []string {
	switch op.Method {
	case Set, CAS:
		return []string{string(op.Input.Value)}
	case Add:
		if op.Status == StatusOK {
			return []string{string(op.Output.Value)}
		}
	}
	return nil
}

// replay runs the ok operations of h, a history with no concurrency, on
// a sequential store in the order of their calls, and calls f before
// each with the value its key holds and the values the key held before
// ("" for absent, first).
func replay(h *History, f func(i int, cur string, seen []string)) {
	store := map[string]string{}
	seen := map[string][]string{}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status != StatusOK {
			continue
		}
		if seen[op.Key] == nil {
			seen[op.Key] = []string{""}
		}
		f(i, store[op.Key], seen[op.Key])
		applyTo(store, op)
		if v := store[op.Key]; !slices.Contains(seen[op.Key], v) {
			seen[op.Key] = append(seen[op.Key], v)
		}
	}
}

// A simulated run: workers call operations on a sequential store, each
// taking effect at one moment between its call and its return. What it
// records is linearizable by construction, so the checker must accept
// it. The properties (check_rapid_test.go), the reader's round trip
// (read_test.go) and the benchmark (check_bench_test.go) use it.

// chooser makes the run's random choices.
type chooser interface {
	// intn returns a number in [0, n), n > 0.
	intn(n int) int
}

// rapidChooser draws choices from rapid, which can then shrink them.
type rapidChooser struct{ t *rapid.T }

func (c rapidChooser) intn(n int) int { return rapid.IntRange(0, n-1).Draw(c.t, "choice") }

// seededChooser draws choices from a seeded generator.
type seededChooser struct{ r *rand.Rand }

func newSeededChooser(seed uint64) seededChooser {
	return seededChooser{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (c seededChooser) intn(n int) int { return c.r.IntN(n) }

// simConfig says what a simulated run does.
type simConfig struct {
	model   Model
	workers int
	keys    []string
	ops     int
	// methods are the methods drawn from, a method as often as it is
	// listed.
	methods []Method
	// unknown lets a worker give up waiting (status unknown): its
	// operation may take effect later, or never. fail lets an operation
	// fail with a definite error, before taking effect.
	unknown, fail bool
	// restarts is how many master restarts that lose the state may
	// happen.
	restarts int
	// ttl makes sets of the first key carry a TTL, so that it may vanish.
	ttl bool
	// oneAtATime has no operation called before the last one returned.
	oneAtATime bool
	// gap is how many nanoseconds pass between steps at most (at least 1).
	gap int
}

// defaultMethods is an even mix.
var defaultMethods = []Method{Get, Get, Set, Set, CAS, Delete, Add, Add}

// simWorker is a worker and its operation in flight.
type simWorker struct {
	name    string
	stream  int
	op      int // index in the history of the operation in flight; -1: none
	applied bool
	err     *ErrorInfo // the definite error the operation met, if any
}

// sim runs one simulation.
type sim struct {
	c        chooser
	cfg      simConfig
	h        *History
	now      int64
	store    map[string]string
	fresh    int
	ttlKeys  map[string]bool // keys a set with a TTL took effect on
	workers  []simWorker
	orphans  []int // unknown operations not applied yet
	restarts int
}

// simulate runs cfg with choices from c and returns the history.
func simulate(c chooser, cfg simConfig) *History {
	s := &sim{c: c, cfg: cfg, store: map[string]string{}, ttlKeys: map[string]bool{}, h: &History{Header: NewHeader(cfg.model, "sim", 0)}}
	if len(s.cfg.methods) == 0 {
		s.cfg.methods = defaultMethods
	}
	for i := range cfg.workers {
		s.workers = append(s.workers, simWorker{name: fmt.Sprintf("w%d", i+1), op: -1})
	}
	s.h.Ops = make([]Op, 0, cfg.ops)
	for s.step() {
		s.now += 1 + int64(s.c.intn(max(s.cfg.gap, 1)))
	}
	return s.h
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
	acts[s.c.intn(len(acts))]()
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
		case len(s.h.Ops) < s.cfg.ops && !(s.cfg.oneAtATime && s.busy()):
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
		if w.op >= 0 && s.cfg.unknown {
			acts = append(acts, func() { s.giveUp(w) })
		}
		if w.op >= 0 && !w.applied && s.cfg.fail {
			acts = append(acts, func() { w.err = &ErrorInfo{Code: "overloaded"}; s.finish(w) })
		}
	}
	for i, o := range s.orphans {
		acts = append(acts, func() { s.applyOrphan(i, o) })
	}
	if s.restarts < s.cfg.restarts {
		acts = append(acts, s.restart)
	}
	for _, k := range s.cfg.keys {
		if _, ok := s.store[k]; ok && (s.cfg.model == ModelKVEvict || s.ttlKeys[k]) {
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
	op := Op{ID: int64(len(s.h.Ops) + 1), Worker: w.name, Stream: w.stream, Call: s.now}
	op.Method = s.cfg.methods[s.c.intn(len(s.cfg.methods))]
	op.Key = s.cfg.keys[s.c.intn(len(s.cfg.keys))]
	switch op.Method {
	case Set:
		op.Input.Value = s.value()
		if s.cfg.ttl && op.Key == s.cfg.keys[0] {
			op.Input.TTL = 1000
		}
	case CAS:
		op.Input.Value = s.value()
		switch s.c.intn(3) {
		case 0:
			if v, ok := s.store[op.Key]; ok {
				op.Input.Old = json.RawMessage(v)
			}
		case 1:
			op.Input.Old = s.value()
		}
	case Add:
		op.Input.Delta = []int64{1, 2, -1}[s.c.intn(3)]
	}
	s.h.Ops = append(s.h.Ops, op)
	w.op, w.applied, w.err = len(s.h.Ops)-1, false, nil
}

// value returns a value to store: a small integer, often written again,
// or a fresh one (a string, or an integer beyond 2^53).
func (s *sim) value() json.RawMessage {
	switch s.c.intn(4) {
	case 0, 1:
		return json.RawMessage(strconv.Itoa(s.c.intn(3)))
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
	op.Output, w.err = applyTo(s.store, op)
	w.applied = true
	s.took(op)
}

// took notes that op took effect: a set with a TTL makes its key one
// that may vanish. (Only then: the checker leaves failed sets out.)
func (s *sim) took(op *Op) {
	if op.Input.TTL > 0 {
		s.ttlKeys[op.Key] = true
	}
}

// finish returns w's operation: ok, or failed with w.err.
func (s *sim) finish(w *simWorker) {
	op := &s.h.Ops[w.op]
	op.Return, op.Status = s.now, StatusOK
	if w.err != nil {
		op.Status, op.Output = StatusFail, Output{Error: w.err}
	}
	w.op = -1
}

// giveUp ends w's wait for its operation: its outcome is unknown, and w
// goes on as a new stream.
func (s *sim) giveUp(w *simWorker) {
	op := &s.h.Ops[w.op]
	op.Status, op.Output = StatusUnknown, Output{}
	if s.c.intn(2) == 0 {
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
	applyTo(s.store, &s.h.Ops[o])
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
	s.h.Events = append(s.h.Events, Event{Kind: EventMasterRestart, Time: s.now, Reset: true})
	for i := range s.workers {
		w := &s.workers[i]
		switch {
		case w.op < 0 || w.applied:
		case s.cfg.unknown:
			s.h.Ops[w.op].Return = s.now
			s.h.Ops[w.op].Status = StatusUnknown
			w.op = -1
			w.stream++
		default:
			w.err = &ErrorInfo{Code: "connection_lost"}
			s.finish(w)
		}
	}
	s.orphans = nil
}

// applyTo applies op to store, a sequential key-value store, and returns
// its output, or the definite error it met, changing nothing.
func applyTo(store map[string]string, op *Op) (Output, *ErrorInfo) {
	cur, present := store[op.Key]
	switch op.Method {
	case Get:
		if !present {
			return Output{}, nil
		}
		return Output{Value: json.RawMessage(cur)}, nil
	case Set:
		store[op.Key] = string(op.Input.Value)
		return Output{Value: json.RawMessage(`"OK"`)}, nil
	case Delete:
		delete(store, op.Key)
		return Output{Value: json.RawMessage(strconv.FormatBool(present))}, nil
	case CAS:
		match := !present
		if op.Input.Old != nil {
			match = present && cur == string(op.Input.Old)
		}
		if match {
			store[op.Key] = string(op.Input.Value)
		}
		return Output{Value: json.RawMessage(strconv.FormatBool(match))}, nil
	case Add:
		var n int64
		if present {
			var ok bool
			if n, ok = parseInt(json.RawMessage(cur)); !ok {
				return Output{}, &ErrorInfo{Code: "not_integer"}
			}
		}
		v := strconv.FormatInt(n+op.Input.Delta, 10)
		store[op.Key] = v
		return Output{Value: json.RawMessage(v)}, nil
	}
	panic("applyTo: " + op.Method)
}

// sequential returns a history of n operations one after another, each
// returning before the next is called, all ok, by random workers.
func sequential(c chooser, keys []string, n int) *History {
	return simulate(c, simConfig{model: ModelKV, workers: 1 + c.intn(3), keys: keys, ops: n, oneAtATime: true})
}

// restream renumbers each worker's streams so that an unknown operation
// ends its stream, as the format requires.
func restream(h *History) {
	byWorker := map[string][]int{}
	for i := range h.Ops {
		byWorker[h.Ops[i].Worker] = append(byWorker[h.Ops[i].Worker], i)
	}
	for _, idx := range byWorker {
		sort.Slice(idx, func(a, b int) bool { return h.Ops[idx[a]].Call < h.Ops[idx[b]].Call })
		stream := 0
		for _, i := range idx {
			h.Ops[i].Stream = stream
			if h.Ops[i].Status == StatusUnknown {
				stream++
			}
		}
	}
}
