package harness_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/linearizability/checktest"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"pgregory.net/rapid"
)

func TestMain(m *testing.M) {
	shm.Main()
	os.Exit(m.Run())
}

// run runs cfg in a temporary directory, failing t if the run could
// not be made.
func run(t *testing.T, cfg harness.Config) *harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Logf = t.Logf
	start := time.Now()
	res, err := harness.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("seed %d: %v", cfg.Seed, err)
	}
	if os.Getenv("SHMLAB_KEEP_HISTORIES") != "" {
		saveHistory(t, res.History)
	}
	t.Logf("seed %d: %d operations, %d events, %d fault records, in %v", cfg.Seed,
		len(res.History.Ops), len(res.History.Events), len(res.Records), time.Since(start).Round(time.Millisecond))
	return res
}

// saveHistory writes h for shmlab check and for people: into
// $SHMLAB_REPORT_DIR if set, else the test's temporary directory (with
// $SHMLAB_KEEP_HISTORIES set, run saves every history).
func saveHistory(t *testing.T, h *history.History) {
	dir := os.Getenv(checktest.ReportDirEnv)
	if dir == "" {
		dir = t.TempDir()
	}
	name := fmt.Sprintf("%s-seed%d-*.jsonl", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), h.Header.Seed)
	f, err := os.CreateTemp(dir, name)
	if err != nil {
		t.Logf("cannot save the history: %v", err)
		return
	}
	defer f.Close()
	w := history.NewWriter(f, h.Header)
	for i := range h.Ops {
		w.Op(&h.Ops[i])
	}
	for i := range h.Events {
		w.Event(&h.Events[i])
	}
	if err := w.Flush(); err != nil {
		t.Logf("cannot save the history: %v", err)
		return
	}
	t.Logf("history: %s", f.Name())
}

// requireSound fails t unless res's history is linearizable, every call
// of a worker that was not killed returned, and every master that was
// not killed answered at the end.
func requireSound(t *testing.T, res *harness.Result) {
	t.Helper()
	if r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second}); r.Verdict != linearizability.Ok {
		saveHistory(t, res.History)
	}
	checktest.Require(t, res.History, linearizability.Options{Timeout: 20 * time.Second})
	if err := res.Problems(); err != nil {
		t.Fatal(err)
	}
}

// events counts the history's events by kind.
func events(h *history.History) map[history.EventKind]int {
	n := make(map[history.EventKind]int)
	for _, e := range h.Events {
		n[e.Kind]++
	}
	return n
}

func TestNoFaults(t *testing.T) {
	// Without faults every call returns ok or fail: the calls' timeout is
	// the default scaled for a busy machine, on which a call may wait for
	// the CPU far longer than the default 200ms.
	res := run(t, harness.Config{Run: spec.Run{Scenario: "no-faults", Workers: 3, Ops: 60, Seed: 1, CallTimeout: patience.Bound(200 * time.Millisecond)}})
	requireSound(t, res)
	if f := res.History.Header.Faults; f == nil || *f != 0 {
		t.Errorf("header's faults %v, want 0: the check then holds every unknown outcome against the system", f)
	}
	if got := len(res.History.Ops); got != 180+3 {
		t.Fatalf("%d operations, want 180 and a final read of each of the 3 keys", got)
	}
	finals := 0
	for _, op := range res.History.Ops {
		if op.Worker == harness.FinalReader {
			finals++
		}
	}
	if finals != 3 {
		t.Fatalf("%d final reads, want 3", finals)
	}
	for _, op := range res.History.Ops {
		if op.Status != history.StatusOK && op.Status != history.StatusFail {
			t.Fatalf("without faults: %v", &op)
		}
	}
	if len(res.Masters) != 1 || !res.Masters[0].Alive || res.Masters[0].Stats.Requests < 180 {
		t.Fatalf("masters: %+v", res.Masters)
	}
}

func TestWorkerKillAndRestart(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Kill, Target: "w1", At: 250 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "w2", At: 250 * time.Millisecond, For: 20 * time.Millisecond},
	}}
	res := run(t, harness.Config{
		Run: spec.Run{
			Scenario: "kill-restart",
			Workers:  3,
			Ops:      80,
			Seed:     2,
			Think:    5 * time.Millisecond,
			Plan:     plan,
		},
	})
	requireSound(t, res)
	if f := res.History.Header.Faults; f == nil || *f != 2 {
		t.Errorf("header's faults %v, want the 2 planned", f)
	}
	ev := events(res.History)
	if ev[history.EventKill] != 2 || ev[history.EventRestart] != 1 {
		t.Fatalf("events %v, want 2 kills and a restart", ev)
	}
	var w1, w2 []harness.WorkerResult
	for _, w := range res.Workers {
		switch w.Name {
		case "w1":
			w1 = append(w1, w)
		case "w2":
			w2 = append(w2, w)
		}
	}
	if len(w1) != 1 || !w1[0].Killed || w1[0].Ops >= 80 {
		t.Errorf("w1: %+v, want one process, killed before its 80 calls", w1)
	}
	if len(w2) != 2 || !w2[0].Killed || w2[1].Killed || w2[1].Ops != 80 {
		t.Errorf("w2: %+v, want a killed process, then one that made its 80 calls", w2)
	}
}

func TestWorkerPause(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Pause, Target: "w1", At: 200 * time.Millisecond, For: 150 * time.Millisecond},
	}}
	res := run(t, harness.Config{
		Run: spec.Run{
			Scenario:    "pause",
			Workers:     2,
			Ops:         60,
			Seed:        3,
			Think:       5 * time.Millisecond,
			CallTimeout: 100 * time.Millisecond,
			Plan:        plan,
		},
	})
	requireSound(t, res)
	if ev := events(res.History); ev[history.EventPause] != 1 || ev[history.EventResume] != 1 {
		t.Fatalf("events %v, want a pause and a resume", ev)
	}
}

func TestMasterRestart(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Pause, Target: "master", At: 200 * time.Millisecond, For: 100 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "master", At: 400 * time.Millisecond, For: 10 * time.Millisecond},
	}}
	res := run(t, harness.Config{
		Run: spec.Run{
			Scenario:    "master-restart",
			Workers:     2,
			Ops:         100,
			Seed:        4,
			Think:       5 * time.Millisecond,
			CallTimeout: 100 * time.Millisecond,
			Plan:        plan,
		},
	})
	requireSound(t, res)
	ev := events(res.History)
	if ev[history.EventMasterKill] != 1 || ev[history.EventMasterRestart] != 1 {
		t.Fatalf("events %v, want a master kill and restart", ev)
	}
	if len(res.Masters) != 2 || !res.Masters[0].Killed || !res.Masters[1].Alive {
		t.Fatalf("masters %+v, want a killed one, then one alive", res.Masters)
	}
	var restarted int
	for _, w := range res.Workers {
		if w.Gen == 2 && !w.Killed && w.Ops == 100 {
			restarted++
		}
	}
	if restarted != 2 {
		t.Fatalf("workers %+v, want both workers again under the second master", res.Workers)
	}
}

// messageKinds are the message faults that keep a correct store
// linearizable, by name.
var messageKinds = map[string]faultinject.MessageFault{
	"drop":          {Kind: faultinject.Drop},
	"delay":         {Kind: faultinject.Delay, Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: time.Millisecond, Max: 20 * time.Millisecond}},
	"duplicate":     {Kind: faultinject.Duplicate},
	"reorder":       {Kind: faultinject.Reorder},
	"corrupt-frame": {Kind: faultinject.Corrupt, Corruption: faultinject.CorruptFrame},
	"corrupt-id":    {Kind: faultinject.Corrupt, Corruption: faultinject.CorruptID},
}

// fired counts the fault log's records by what they did.
func fired(res *harness.Result) map[string]int {
	n := make(map[string]int)
	for _, r := range res.Records {
		e := r.Event()
		n[e.Fault]++
	}
	return n
}

func TestEachMessageFault(t *testing.T) {
	for name, f := range messageKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f.P = 0.15
			plan := &faultinject.Plan{Seed: 7, Messages: []faultinject.MessageFault{f}}
			res := run(t, harness.Config{
				Run: spec.Run{
					Scenario:    "message-" + name,
					Workers:     2,
					Ops:         30,
					Seed:        5,
					CallTimeout: 100 * time.Millisecond,
					Plan:        plan,
				},
			})
			requireSound(t, res)
			got := fired(res)
			if got[name] == 0 {
				t.Fatalf("no %s fault fired (%v): the fault did not reach the connection", name, got)
			}
			t.Logf("fired: %v", got)
		})
	}
}

// fewChecks makes rapid run n checks in t, unless -rapid.checks or
// $RAPID_CHECKS says how many: each check here runs real processes.
func fewChecks(t *testing.T, n int) {
	f := flag.Lookup("rapid.checks")
	if f == nil || f.Value.String() != f.DefValue || os.Getenv("RAPID_CHECKS") != "" {
		return
	}
	old := f.Value.String()
	f.Value.Set(strconv.Itoa(n))
	t.Cleanup(func() { f.Value.Set(old) })
}

// drawMessageFault draws one message fault of any kind that keeps a
// correct store linearizable (all but CorruptValue).
func drawMessageFault(t *rapid.T, i int) faultinject.MessageFault {
	names := slices.Sorted(maps.Keys(messageKinds))
	f := messageKinds[rapid.SampledFrom(names).Draw(t, fmt.Sprintf("kind%d", i))]
	f.Dir = rapid.SampledFrom([]faultinject.Direction{faultinject.Requests, faultinject.Replies, faultinject.Both}).Draw(t, fmt.Sprintf("dir%d", i))
	f.P = rapid.Float64Range(0.02, 0.2).Draw(t, fmt.Sprintf("p%d", i))
	f.Target.Method = rapid.SampledFrom([]string{"", "", "get", "set", "add", "cas"}).Draw(t, fmt.Sprintf("method%d", i))
	switch f.Kind {
	case faultinject.Delay:
		f.Delay = rapid.SampledFrom([]faultinject.Dist{
			{Kind: faultinject.Fixed, Min: 5 * time.Millisecond},
			{Kind: faultinject.Uniform, Max: 30 * time.Millisecond},
			{Kind: faultinject.Exponential, Mean: 10 * time.Millisecond, Cap: 50 * time.Millisecond},
		}).Draw(t, fmt.Sprintf("delay%d", i))
	case faultinject.Duplicate:
		f.Copies = rapid.IntRange(1, 3).Draw(t, fmt.Sprintf("copies%d", i))
	}
	return f
}

// TestMessageFaultMixes: under any mix of message faults, a run of the
// reference is linearizable, every call returns, and the master lives.
func TestMessageFaultMixes(t *testing.T) {
	t.Parallel()
	fewChecks(t, 10)
	rapid.Check(t, func(rt *rapid.T) {
		plan := &faultinject.Plan{Seed: rapid.Uint64().Draw(rt, "plan seed")}
		for i := range rapid.IntRange(1, 4).Draw(rt, "faults") {
			plan.Messages = append(plan.Messages, drawMessageFault(rt, i))
		}
		cfg := harness.Config{
			Run: spec.Run{
				Scenario:    "message-mix",
				Workers:     2,
				Ops:         25,
				Seed:        rapid.Uint64().Draw(rt, "seed"),
				CallTimeout: 100 * time.Millisecond,
				Plan:        plan,
			},
		}
		if !slices.ContainsFunc(plan.Messages, isCorruptID) {
			// A retry of a request whose id was corrupted is a second
			// request to the master, applied again: at-most-once rests
			// on ids arriving intact.
			cfg.RetryAfter = rapid.SampledFrom([]time.Duration{0, 30 * time.Millisecond}).Draw(rt, "retry after")
		}
		res := run(t, cfg)
		if r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second}); r.Verdict != linearizability.Ok {
			saveHistory(t, res.History)
			rt.Fatalf("plan %s: %v\n%s", planJSON(plan), r, r.Details())
		}
		if err := res.Problems(); err != nil {
			rt.Fatalf("plan %s: %v", planJSON(plan), err)
		}
		if m := res.Masters[len(res.Masters)-1]; !m.Alive {
			rt.Fatalf("plan %s: the master did not answer at the end", planJSON(plan))
		}
	})
}

// drawProcessFault draws a fault on a worker or the master; the master
// is paused or restarted, not killed, so that one answers at the end.
func drawProcessFault(t *rapid.T, i int) faultinject.ProcessFault {
	f := faultinject.ProcessFault{
		Target: rapid.SampledFrom([]string{"w1", "w2", "master"}).Draw(t, fmt.Sprintf("target%d", i)),
		// Before 60ms: a worker thinks 2ms between its 40 calls.
		At: time.Duration(rapid.IntRange(0, 60).Draw(t, fmt.Sprintf("at%d", i))) * time.Millisecond,
	}
	kinds := []faultinject.ProcessKind{faultinject.Kill, faultinject.Pause, faultinject.Restart}
	if f.Target == faultinject.MasterTarget {
		kinds = kinds[1:]
	}
	f.Kind = rapid.SampledFrom(kinds).Draw(t, fmt.Sprintf("process%d", i))
	switch f.Kind {
	case faultinject.Pause:
		f.For = time.Duration(rapid.IntRange(20, 120).Draw(t, fmt.Sprintf("for%d", i))) * time.Millisecond
	case faultinject.Restart:
		f.For = time.Duration(rapid.IntRange(0, 30).Draw(t, fmt.Sprintf("for%d", i))) * time.Millisecond
	}
	return f
}

// TestProcessAndMessageFaults: process faults on workers and the master,
// with message faults or without, keep the reference linearizable, and
// every call of a process that was not killed returns. A lone fault
// happens; of two, the second may find its target gone (killed, paused,
// or down with its master) and be reported as missed, nothing else.
func TestProcessAndMessageFaults(t *testing.T) {
	t.Parallel()
	fewChecks(t, 8)
	rapid.Check(t, func(rt *rapid.T) {
		plan := &faultinject.Plan{Seed: rapid.Uint64().Draw(rt, "plan seed")}
		for i := range rapid.IntRange(0, 2).Draw(rt, "message faults") {
			plan.Messages = append(plan.Messages, drawMessageFault(rt, i))
		}
		for i := range rapid.IntRange(1, 2).Draw(rt, "process faults") {
			plan.Processes = append(plan.Processes, drawProcessFault(rt, i))
		}
		res := run(t, harness.Config{
			Run: spec.Run{
				Scenario:    "process-mix",
				Workers:     2,
				Ops:         40,
				Seed:        rapid.Uint64().Draw(rt, "seed"),
				Think:       2 * time.Millisecond,
				CallTimeout: 100 * time.Millisecond,
				Plan:        plan,
			},
		})
		if r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second}); r.Verdict != linearizability.Ok {
			saveHistory(t, res.History)
			rt.Fatalf("plan %s: %v\n%s", planJSON(plan), r, r.Details())
		}
		missed := res.Missed
		res.Missed = nil
		if err := res.Problems(); err != nil {
			rt.Fatalf("plan %s: %v", planJSON(plan), err)
		}
		if res.FaultsPlanned != len(plan.Processes) || res.FaultsHappened+len(missed) != res.FaultsPlanned {
			rt.Fatalf("plan %s: %d faults planned, %d happened, %d missed", planJSON(plan), res.FaultsPlanned, res.FaultsHappened, len(missed))
		}
		if len(plan.Processes) == 1 && len(missed) > 0 {
			rt.Fatalf("plan %s: a lone fault did not happen: %v", planJSON(plan), errors.Join(missed...))
		}
		if m := res.Masters[len(res.Masters)-1]; !m.Alive {
			rt.Fatalf("plan %s: the master did not answer at the end", planJSON(plan))
		}
	})
}

func isCorruptID(f faultinject.MessageFault) bool { return f.Corruption == faultinject.CorruptID }

func planJSON(p *faultinject.Plan) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// caught runs cfg with seeds 1..10 until the checker finds a violation,
// and fails t if it never does.
func caught(t *testing.T, cfg harness.Config) {
	t.Helper()
	for seed := uint64(1); seed <= 10; seed++ {
		cfg.Seed, cfg.Plan.Seed = seed, seed
		res := run(t, cfg)
		r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second})
		if r.Verdict == linearizability.Illegal {
			t.Logf("caught with seed %d after %v: %v\n%s", seed, fired(res), r, r.Details())
			return
		}
		if r.Invalid != nil {
			t.Fatalf("seed %d: invalid history: %v", seed, r.Invalid)
		}
	}
	t.Fatalf("no violation found in 10 seeds: the faults did not reach the store, or the checker missed them")
}

// TestCorruptValueCaught: a value changed in transit breaks
// linearizability by design; the checker must say so.
func TestCorruptValueCaught(t *testing.T) {
	caught(t, harness.Config{
		Run: spec.Run{Scenario: "corrupt-value", Workers: 2, Ops: 30, CallTimeout: 100 * time.Millisecond, Plan: &faultinject.Plan{Messages: []faultinject.MessageFault{
			{Kind: faultinject.Corrupt, Corruption: faultinject.CorruptValue, P: 0.1},
		}}},
	})
}

// noDedupPlan duplicates adds at once and delays sets past their
// clients' retries, so that a store without duplicate suppression
// applies an add twice, or a set again after it returned.
func noDedupPlan() *faultinject.Plan {
	return &faultinject.Plan{Messages: []faultinject.MessageFault{
		{Kind: faultinject.Duplicate, Dir: faultinject.Requests, P: 0.3, Target: faultinject.Target{Method: "add"}},
		{Kind: faultinject.Delay, Dir: faultinject.Requests, P: 0.5, Target: faultinject.Target{Method: "set"},
			Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: 30 * time.Millisecond, Max: 90 * time.Millisecond}},
	}}
}

func noDedupConfig(bugs shm.Bugs) harness.Config {
	return harness.Config{
		Run: spec.Run{
			Scenario:    "no-dedup",
			Workers:     3,
			Ops:         30,
			Plan:        noDedupPlan(),
			Store:       shm.StoreOptions{Bugs: bugs},
			CallTimeout: 300 * time.Millisecond,
			RetryAfter:  20 * time.Millisecond,
		},
	}
}

// TestNoDedupCaught: with the master's duplicate suppression off, the
// duplicated adds and late retried sets that the faults make must show
// as a violation; with it on, the same runs are linearizable.
func TestNoDedupCaught(t *testing.T) {
	t.Run("dedup", func(t *testing.T) {
		cfg := noDedupConfig(0)
		cfg.Seed, cfg.Plan.Seed = 1, 1
		res := run(t, cfg)
		requireSound(t, res)
		if got := fired(res); got["duplicate"] == 0 || got["delay"] == 0 {
			t.Fatalf("fired %v, want duplicates and delays", got)
		}
		if res.Masters[0].Stats.Store.Duplicates == 0 {
			t.Fatalf("the store suppressed no duplicate: %+v", res.Masters[0].Stats)
		}
	})
	t.Run("no-dedup", func(t *testing.T) {
		caught(t, noDedupConfig(shm.BugNoDedup))
	})
}
