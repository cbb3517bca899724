package linearizability

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"pgregory.net/rapid"
)

// A reduction under test: applied alone to a key's history as partition
// made it, it says how many operations it took out or bounded. The
// histories drawn for it have one of methods.
type reduction struct {
	name    string
	run     func(kh *keyHistory) int
	methods [][]history.Method
}

var (
	setsAndGets = []history.Method{history.Get, history.Get, history.Set, history.Set}
	noAppends   = [][]history.Method{setsAndGets, historytest.DefaultMethods}
	appends     = [][]history.Method{historytest.AppendMethods}
	anyMethods  = [][]history.Method{setsAndGets, historytest.DefaultMethods, historytest.AppendMethods}
)

var reductions = []reduction{
	{"gets", (*keyHistory).dropGets, anyMethods},
	{"late", (*keyHistory).dropLate, anyMethods},
	{"unobserved", (*keyHistory).dropUnobserved, noAppends},
	{"unobserved appends", dropUnobservedAppends, appends},
	{"bounded", (*keyHistory).bound, noAppends},
	{"all", func(kh *keyHistory) int { return reduce(kh).Total() }, anyMethods},
}

// dropUnobservedAppends runs dropUnobserved and counts the appends it
// left out.
func dropUnobservedAppends(kh *keyHistory) int {
	appends := func() int {
		n := 0
		for i := range kh.ops {
			if kh.ops[i].Input.(*kvOp).method == history.Append {
				n++
			}
		}
		return n
	}
	before := appends()
	kh.dropUnobserved()
	return before - appends()
}

// drawUnknownHistory draws a small simulated history full of operations
// with unknown outcome, values often unique, and, half of the time,
// damages it (a get made to return another value, a cas or delete made
// to give the other answer), so that it is often not linearizable. Its
// methods are one of those given.
func drawUnknownHistory(t *rapid.T, methods [][]history.Method) *history.History {
	c := historytest.RapidChooser{T: t}
	cfg := historytest.Config{
		Model:    rapid.SampledFrom([]history.Model{history.ModelKV, history.ModelKVEvict}).Draw(t, "model"),
		Workers:  rapid.IntRange(1, 4).Draw(t, "workers"),
		Keys:     []string{"a", "b"}[:rapid.IntRange(1, 2).Draw(t, "keys")],
		Ops:      rapid.IntRange(8, 20).Draw(t, "ops"),
		Methods:  rapid.SampledFrom(methods).Draw(t, "methods"),
		Unknown:  true,
		Fail:     rapid.Bool().Draw(t, "fail"),
		Restarts: rapid.IntRange(0, 1).Draw(t, "restarts"),
		TTL:      rapid.Bool().Draw(t, "ttl"),
		Gap:      rapid.IntRange(1, 3).Draw(t, "gap"),
		Edges:    rapid.Bool().Draw(t, "edges"),
	}
	h := historytest.Simulate(c, cfg)
	for _, k := range cfg.Keys {
		if c.Intn(3) != 2 { // rapid leans to 0: two thirds damaged, or more
			damage(c, h, k)
			damage(c, h, k)
		}
	}
	return h
}

// damage changes one answer on key k of h: a get's value (to another
// written to k, to absent, to one nobody wrote, or a string it read with
// a character more), a cas's or delete's boolean, or an add's outcome
// (an ok one made to fail with overflow or not_integer, a failed one's
// code swapped).
func damage(c historytest.Chooser, h *history.History, k string) {
	var cands []int
	var values []string
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Key != k {
			continue
		}
		values = append(values, written(op)...)
		if op.Status == history.StatusOK && (op.Method == history.Get || op.Method == history.CAS || op.Method == history.Delete || op.Method == history.Add) ||
			checkedFailure(op) != notFailed {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return
	}
	op := &h.Ops[cands[c.Intn(len(cands))]]
	switch op.Method {
	case history.Get:
		vals := append(values, "", `"nowhere"`)
		if v := string(op.Output.Value); len(v) >= 2 && v[0] == '"' {
			vals = append(vals, v[:len(v)-1]+`a"`, `"b`+v[1:])
		}
		if v := vals[c.Intn(len(vals))]; v == "" {
			op.Output.Value = nil
		} else {
			op.Output.Value = json.RawMessage(v)
		}
	case history.Add:
		code := []string{"overflow", "not_integer"}[c.Intn(2)]
		if checkedFailure(op) == failOverflow {
			code = "not_integer"
		} else if checkedFailure(op) == failNotInt {
			code = "overflow"
		}
		op.Status, op.Output = history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: code}}
	default:
		op.Output.Value = json.RawMessage(fmt.Sprint(string(op.Output.Value) != "true"))
	}
}

// porcupineKeyVerdict decides one key's history with porcupine.
func porcupineKeyVerdict(kh *keyHistory) porcupine.CheckResult {
	return porcupine.CheckOperationsTimeout(kh.model.porcupine(), kh.ops, 20*time.Second)
}

// tally counts, over a property's runs, the verdicts and the runs where
// the reduction did something.
type tally struct {
	keys, ok, illegal, fired int
	undecided                int // porcupine out of time (not counted in keys)
}

// TestNotAppliedNeverRejects: a simulated history whose unknown
// operations that never took effect are named by not_applied fault
// events is still accepted when the checker leaves them out.
func TestNotAppliedNeverRejects(t *testing.T) {
	var used, runs int
	rapid.Check(t, func(t *rapid.T) {
		cfg := historytest.DrawConfig(t)
		cfg.Unknown, cfg.NotApplied = true, true
		h := roundTrip(t, historytest.Simulate(historytest.RapidChooser{T: t}, cfg))
		r := Check(h, Options{})
		if r.Linearizable != Ok {
			t.Fatalf("with the operations never applied left out, a simulated history is %s:\n%s\n%s", r.Linearizable, explanations(r), text(h))
		}
		runs++
		if r.Reduced.NotApplied > 0 {
			used++
		}
	})
	if used*5 < runs {
		t.Errorf("operations not applied left out in %d of %d runs: want a fifth at least", used, runs)
	}
}

// TestNotApplied: an unknown set that a fault event says never reached
// the master cannot explain a later get of its value, unless another
// event says something else of it.
func TestNotApplied(t *testing.T) {
	ops := []history.Op{
		{ID: 1, Worker: "w1", Method: history.Set, Key: "k", Input: history.Input{Value: json.RawMessage("1")}, Output: history.Output{Value: json.RawMessage(`"OK"`)}, Call: 10, Return: 20, Status: history.StatusOK},
		{ID: 2, Worker: "w2", Method: history.Set, Key: "k", Input: history.Input{Value: json.RawMessage("2")}, Call: 30, Status: history.StatusUnknown},
		{ID: 3, Worker: "w1", Method: history.Get, Key: "k", Output: history.Output{Value: json.RawMessage("2")}, Call: 40, Return: 50, Status: history.StatusOK},
	}
	dropped := history.Event{Kind: history.EventFault, Time: 31, Fault: "drop", Truth: history.TruthNotApplied, Op: 2}
	for _, tc := range []struct {
		name       string
		events     []history.Event
		want       Verdict
		notApplied int
	}{
		{"no event", nil, Ok, 0},
		{"not applied", []history.Event{dropped}, Illegal, 1},
		{"dropped twice", []history.Event{dropped, dropped}, Illegal, 1},
		{"dropped, then applied", []history.Event{dropped, {Kind: history.EventFault, Time: 35, Fault: "delay", Truth: history.TruthDelayed, Op: 2}}, Ok, 0},
		{"dropped, then a late reply", []history.Event{dropped, {Kind: history.EventLateReply, Time: 60, Worker: "w2", Op: 2}}, Ok, 0},
		{"dropped, then killed", []history.Event{dropped, {Kind: history.EventKill, Time: 36, Worker: "w2", Op: 2}}, Ok, 0},
		{"another operation", []history.Event{{Kind: history.EventFault, Time: 31, Fault: "drop", Truth: history.TruthNotApplied, Op: 3}}, Ok, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &history.History{Header: history.NewHeader(history.ModelKV, "", 0), Ops: slices.Clone(ops), Events: tc.events}
			r := Check(h, Options{NoSessions: true})
			if r.Linearizable != tc.want || r.Reduced.NotApplied != tc.notApplied {
				t.Fatalf("verdict %s, %d not applied; want %s, %d\n%s", r.Linearizable, r.Reduced.NotApplied, tc.want, tc.notApplied, explanations(r))
			}
			if tc.want != Illegal {
				return
			}
			if r.Keys[0].Ops[0].ID != 3 {
				t.Errorf("the operation at fault is %s; want #3", &r.Keys[0].Ops[0])
			}
			if e := r.Keys[0].Explanation; !strings.Contains(e, "#2 w2/0 set") || !strings.Contains(e, "not_applied") {
				t.Errorf("the explanation does not say that #2 was not applied:\n%s", e)
			}
		})
	}
}

// TestReduceNewMethodObservesAll: an operation of a method the
// reductions do not know (a new one, before its case) is taken to
// observe and write anything, and so is an append for the writes of the
// other methods: no unknown set beside it is left out or bounded.
func TestReduceNewMethodObservesAll(t *testing.T) {
	for _, method := range []history.Method{history.Get, history.Append, "frob"} {
		t.Run(string(method), func(t *testing.T) {
			m := &kvModel{in: newInterner()}
			one := m.in.id("1")
			kh := &keyHistory{key: "k", model: m, ops: []porcupine.Operation{
				{ClientId: 0, Input: &kvOp{method: history.Set, unknown: true, value: one}, Call: 1, Return: 100},
				{ClientId: 1, Input: &kvOp{method: method, value: m.in.id(`"x"`), present: true}, Call: 2, Return: 3},
				{ClientId: 1, Input: &kvOp{method: history.Get, value: one, present: true}, Call: 4, Return: 5},
			}}
			got := kh.bound()
			if want := map[history.Method]int{history.Get: 1}[method]; got != want {
				t.Errorf("bounded %d; want %d", got, want)
			}
			kh.ops = slices.Delete(kh.ops, 2, 3)
			got = kh.dropUnobserved()
			if want := map[history.Method]int{history.Get: 1}[method]; got != want {
				t.Errorf("left out %d unobserved; want %d", got, want)
			}
		})
	}
}
