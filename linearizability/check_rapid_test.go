package linearizability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"github.com/shmlab/shmlab/internal/race"
	"pgregory.net/rapid"
)

// roundTrip writes h and reads it back, so that every history a property
// checks is one the reader accepts.
func roundTrip(t *rapid.T, h *history.History) *history.History {
	var b bytes.Buffer
	if err := h.Write(&b); err != nil {
		t.Fatal(err)
	}
	h2, err := history.Read(bytes.NewReader(b.Bytes()), "sim.jsonl")
	if err != nil {
		t.Fatalf("the reader rejects a simulated history: %v\n%s", err, b.String())
	}
	return h2
}

// text is h as a file holds it, for messages.
func text(h *history.History) string {
	var b strings.Builder
	h.Write(&b)
	return b.String()
}

// TestNoRaceCheckAcceptsSimulated: histories produced by running random
// concurrent operations against a sequential store are always accepted,
// whatever the model, unknown outcomes, failures, restarts and
// evictions.
func TestNoRaceCheckAcceptsSimulated(t *testing.T) {
	race.Skip(t)
	rapid.Check(t, func(t *rapid.T) {
		h := roundTrip(t, historytest.Simulate(historytest.RapidChooser{T: t}, historytest.DrawConfig(t)))
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
		c := historytest.RapidChooser{T: t}
		h := drawSequential(c)
		cands := staleReads(h)
		pick := cands[c.Intn(len(cands))]
		op := &h.Ops[pick.op]
		op.Output.Value = nil
		if old := pick.older[c.Intn(len(pick.older))]; old != "" {
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
		c := historytest.RapidChooser{T: t}
		h := drawSequential(c)
		cands := observedWrites(h)
		i := cands[c.Intn(len(cands))]
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
func drawSequential(c historytest.Chooser) *history.History {
	keys := []string{"a", "b"}[:1+c.Intn(2)]
	h := historytest.Sequential(c, keys, c.Intn(16))
	appendWriteRead(h, keys[c.Intn(len(keys))])
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
func staleReads(h *history.History) []stale {
	var cands []stale
	replay(h, func(i int, cur string, seen []string) {
		if h.Ops[i].Method != history.Get {
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
func observedWrites(h *history.History) []int {
	writers := map[string]int{} // value -> how many operations could write it
	for i := range h.Ops {
		for _, v := range written(&h.Ops[i]) {
			writers[v]++
		}
	}
	var cands []int
	for i := range h.Ops {
		w := &h.Ops[i]
		wrote := w.Status == history.StatusOK && (w.Method == history.Set || (w.Method == history.CAS && string(w.Output.Value) == "true"))
		if !wrote || writers[string(w.Input.Value)] != 1 {
			continue
		}
		if slices.ContainsFunc(h.Ops[i+1:], func(g history.Op) bool {
			return g.Method == history.Get && g.Key == w.Key && g.Status == history.StatusOK && string(g.Output.Value) == string(w.Input.Value)
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
		c := historytest.RapidChooser{T: t}
		cfg := historytest.Config{Model: history.ModelKVEvict, Workers: 1 + c.Intn(3), Keys: []string{"a", "b"}[:1+c.Intn(2)], Ops: 1 + c.Intn(16), OneAtATime: true}
		if c.Intn(2) == 0 {
			cfg.Model, cfg.TTL = history.ModelKV, true
		}
		h := historytest.Simulate(c, cfg)
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
		pick := cands[c.Intn(len(cands))]
		op := &h.Ops[pick.op]
		op.Output.Value = json.RawMessage(pick.older[c.Intn(len(pick.older))])
		if r := Check(roundTrip(t, h), Options{}); r.Linearizable != Illegal {
			t.Fatalf("%s is not rejected:\n%s", op, text(h))
		}
	})
}

// replayEvict runs the ok operations of h, a history with no concurrency
// where keys may vanish, in the order of their calls, and calls f at each
// get with the value its key may still hold ("" if it has surely gone)
// and the values written to it before.
func replayEvict(h *history.History, f func(i int, live string, written []string)) {
	live := map[string]string{}
	wrote := map[string][]string{}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status != history.StatusOK {
			continue
		}
		k, out := op.Key, string(op.Output.Value)
		switch {
		case op.Method == history.Get:
			f(i, live[k], wrote[k])
			if op.Output.Value == nil {
				live[k] = "" // seen absent: it vanished
			}
		case op.Method == history.Delete:
			live[k] = ""
		case op.Method == history.CAS && out == "false" && op.Input.Old != nil && string(op.Input.Old) == live[k]:
			live[k] = "" // it did not hold the value it may have held
		}
		for _, v := range written(op) {
			if op.Method != history.CAS || out == "true" {
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
		c := historytest.RapidChooser{T: t}
		h := historytest.Simulate(c, historytest.DrawConfig(t))
		for i := range h.Ops {
			if op := &h.Ops[i]; op.Status == history.StatusOK && c.Intn(2) == 0 {
				op.Status, op.Output = history.StatusUnknown, history.Output{}
			}
		}
		end := infinity(h)
		for n := c.Intn(3); n > 0; n-- {
			op := history.Op{ID: int64(len(h.Ops) + 1), Worker: fmt.Sprintf("u%d", n), Call: int64(c.Intn(int(end))), Status: history.StatusUnknown}
			op.Method = []history.Method{history.Get, history.Set, history.Delete, history.CAS, history.Add}[c.Intn(5)]
			op.Key = []string{"a", "", "0"}[c.Intn(3)]
			switch op.Method {
			case history.Set, history.CAS:
				op.Input.Value = json.RawMessage(fmt.Sprint(c.Intn(3)))
			case history.Add:
				op.Input.Delta = 1
			}
			h.Ops = append(h.Ops, op)
		}
		historytest.Restream(h)
		h = roundTrip(t, h)
		if r := Check(h, Options{}); r.Linearizable != Ok {
			t.Fatalf("made unknown, a linearizable history is %s:\n%s\n%s", r.Linearizable, explanations(r), text(h))
		}
	})
}

// appendWriteRead appends to h a set of key to a value nobody wrote and
// a get that returns it, one after the other after everything else.
func appendWriteRead(h *history.History, key string) {
	t := infinity(h)
	n := int64(len(h.Ops))
	h.Ops = append(h.Ops,
		history.Op{ID: n + 1, Worker: "w1", Method: history.Set, Key: key, Input: history.Input{Value: json.RawMessage(`"last"`)}, Output: history.Output{Value: json.RawMessage(`"OK"`)}, Call: t, Return: t + 1, Status: history.StatusOK},
		history.Op{ID: n + 2, Worker: "w1", Method: history.Get, Key: key, Output: history.Output{Value: json.RawMessage(`"last"`)}, Call: t + 2, Return: t + 3, Status: history.StatusOK})
}

// written returns the values op could have stored.
func written(op *history.Op) []string {
	switch op.Method {
	case history.Set, history.CAS:
		return []string{string(op.Input.Value)}
	case history.Add:
		if op.Status == history.StatusOK {
			return []string{string(op.Output.Value)}
		}
	}
	return nil
}

// replay runs the ok operations of h, a history with no concurrency, on
// a sequential store in the order of their calls, and calls f before
// each with the value its key holds and the values the key held before
// ("" for absent, first).
func replay(h *history.History, f func(i int, cur string, seen []string)) {
	store := map[string]string{}
	seen := map[string][]string{}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status != history.StatusOK {
			continue
		}
		if seen[op.Key] == nil {
			seen[op.Key] = []string{""}
		}
		f(i, store[op.Key], seen[op.Key])
		historytest.Apply(store, op)
		if v := store[op.Key]; !slices.Contains(seen[op.Key], v) {
			seen[op.Key] = append(seen[op.Key], v)
		}
	}
}
