package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/race"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// edgeBase is a run with edges on, varied by seed: a bounded store, a
// TTL, sized values, or a counter workload (adds and gets only) on a
// quarter of the seeds each.
func edgeBase(seed uint64) Config {
	cfg := base(seed)
	cfg.Ops = 80
	cfg.Mix = workload.Mix{Get: 4, Set: 3, Add: 3, CAS: 2, Delete: 1, Incr: 1}
	cfg.Shape.Edges = 0.3
	switch seed % 4 {
	case 1:
		cfg.Store.MaxEntries = 3
	case 2:
		cfg.Shape.TTL = 5 * time.Millisecond
	case 3:
		cfg.Mix = workload.Mix{Add: 3, Get: 1}
	default:
		cfg.Shape.ValueMin, cfg.Shape.ValueMax = 4, 30
	}
	return cfg
}

// TestNoRaceEdgesNoFalseAlarm: the reference passes every check, with edges
// drawn in a third of the operations, under swarm-drawn faults, on many
// seeds: the checkers' models agree with the reference on every edge,
// and no check relies on values being unique where edges repeat them.
func TestNoRaceEdgesNoFalseAlarm(t *testing.T) {
	race.Skip(t)
	n := uint64(400)
	if testing.Short() {
		n = 80
	}
	var runs, ops, counters int
	err := Sweep(edgeBase(0), n, 0, func(c Config) Config { return Swarm(edgeBase(c.Seed)) }, func(cfg Config, r *Result) bool {
		runs++
		ops += r.Ops
		counters += len(r.Check.Counters.Checked)
		if r.Check.Linearizable != linearizability.Ok || len(r.Check.Sessions)+len(r.Check.Liveness) > 0 || !onlyArticleLosses(r) {
			t.Errorf("seed %d: %v (repro: Swarm(edgeBase(%d))):\n%s", cfg.Seed, r.Check.Verdict, cfg.Seed, r.Check.Details())
			return false
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d seeds, %d operations, %d counters checked", runs, ops, counters)
	if counters == 0 {
		t.Error("no counter was checked: the counter check saw no edge")
	}
}

// onlyArticleLosses reports whether every counter violation of r is on
// a key an increment done the article's way (a get, then a set of Incr;
// workload.Mix.Incr) wrote: those lose updates under contention by
// design, which the counter check reports of any store; an add alone
// never does.
func onlyArticleLosses(r *Result) bool {
	for _, v := range r.Check.Invariants {
		if !slices.ContainsFunc(r.History.Ops, func(op history.Op) bool {
			return op.Key == v.Key && op.Method == history.Set && op.Input.Incr != 0 && op.Status == history.StatusOK
		}) {
			return false
		}
	}
	return true
}

// historyEdges names the edge classes op belongs to, as its history
// shows them.
func historyEdges(op *history.Op) []string {
	var cs []string
	if slices.Contains(workload.SpecialKeys, op.Key) {
		cs = append(cs, "key "+op.Key)
	}
	in, out := op.Input, op.Output
	if op.Method == history.Set || op.Method == history.CAS {
		cs = append(cs, valueEdges(string(in.Value))...)
	}
	if op.Method == history.Add {
		switch {
		case in.Delta < 0:
			cs = append(cs, "negative delta")
		case in.Delta == 0:
			cs = append(cs, "zero delta")
		}
		if in.Delta > 1<<52 || in.Delta < -1<<52 {
			cs = append(cs, "huge delta")
		}
		if op.Status == history.StatusFail && out.Error != nil {
			cs = append(cs, "add failed "+out.Error.Code)
		}
	}
	if op.Method == history.CAS && op.Status == history.StatusOK && string(out.Value) == "false" &&
		(strings.HasSuffix(string(in.Old), ".0") || strings.HasPrefix(string(in.Old), `"\u00`)) {
		cs = append(cs, "cas of a respelled value answered false")
	}
	if op.Method == history.Get && op.Status == history.StatusOK {
		for _, c := range valueEdges(string(out.Value)) {
			cs = append(cs, "read "+c)
		}
	}
	return cs
}

// valueEdges names the edge classes of a value's text.
func valueEdges(v string) []string {
	var cs []string
	switch v {
	case "9007199254740993", "-9007199254740993":
		cs = append(cs, "past 2^53")
	case "9223372036854775807", "-9223372036854775808":
		cs = append(cs, "int64 bound")
	case "9223372036854775808", "-9223372036854775809":
		cs = append(cs, "past int64")
	case "1.0", "1e2", "10E1", "-0":
		cs = append(cs, "number "+v)
	case `""`:
		cs = append(cs, "empty string")
	}
	if strings.HasPrefix(v, `{"id":`) && strings.Contains(v, `"\r":`) {
		cs = append(cs, `object of names \r and \n`)
	}
	for _, f := range []string{`\n`, `\"`, `\\`, `\u0041`, `\u00e9`, `\ud800`, "<", ">", "&", "é", "😀"} {
		if strings.HasPrefix(v, `"`) && strings.Contains(v, f) {
			cs = append(cs, "string "+f)
		}
	}
	return cs
}

// TestEdgesDrawn: a run with edges on has each edge class in its
// history: the special keys, big integers, other texts of numbers,
// strings with escapes, negative, zero and huge deltas, adds the
// reference refused with overflow and not_integer, cas expecting a value
// written differently; reads of them give them back as written.
func TestEdgesDrawn(t *testing.T) {
	got := map[string]int{}
	for seed := range uint64(4) {
		cfg := base(seed)
		cfg.Ops, cfg.Workers, cfg.Shape.Edges = 400, 4, 0.5
		cfg.Mix = workload.Mix{Get: 3, Set: 3, Add: 3, CAS: 2, Delete: 1}
		r := mustRun(t, cfg)
		if r.Failed() {
			t.Fatalf("seed %d failed:\n%s", seed, r.Check.Details())
		}
		for i := range r.History.Ops {
			for _, c := range historyEdges(&r.History.Ops[i]) {
				got[c]++
			}
		}
	}
	var want []string
	for _, k := range workload.SpecialKeys {
		want = append(want, "key "+k)
	}
	values := []string{"past 2^53", "int64 bound", "past int64", "number 1.0", "number 1e2", "number 10E1", "number -0", "empty string", `object of names \r and \n`}
	for _, f := range []string{`\n`, `\"`, `\\`, `\u0041`, `\u00e9`, `\ud800`, "<", ">", "&", "é", "😀"} {
		values = append(values, "string "+f)
	}
	for _, v := range values {
		want = append(want, v, "read "+v)
	}
	want = append(want, "negative delta", "zero delta", "huge delta", "add failed "+shm.CodeOverflow, "add failed "+shm.CodeNotInteger,
		"cas of a respelled value answered false")
	var missing []string
	for _, c := range want {
		if got[c] == 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		b, _ := json.Marshal(got)
		t.Errorf("edge classes never in the histories: %q (drawn: %s)", missing, b)
	}
	t.Log(fmt.Sprint(got))
}
