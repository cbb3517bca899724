package harness_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/spec"
)

// TestKillAfterProgress: a kill aimed at w2's 50th request kills it with
// that request in flight, whatever the machine's load: w2 made exactly 50
// calls, the 50th unknown, and the others went on to their end.
func TestKillAfterProgress(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
			{Kind: faultinject.Kill, Target: "w2", After: &faultinject.Progress{Worker: "w2", Ops: 50}},
		}}
		res := run(t, harness.Config{Run: spec.Run{Scenario: "kill-after", Workers: 3, Ops: 80, Seed: seed, Plan: plan}})
		requireSound(t, res)
		ops := res.History.WorkerOps("w2")
		if len(ops) != 50 || ops[49].Status != history.StatusUnknown {
			var last history.Status
			if len(ops) > 0 {
				last = ops[len(ops)-1].Status
			}
			t.Fatalf("seed %d: w2 made %d calls, the last %q; want 50, the last unknown", seed, len(ops), last)
		}
		for _, w := range []string{"w1", "w3"} {
			if n := len(res.History.WorkerOps(w)); n != 80 {
				t.Errorf("seed %d: %s made %d calls, want 80", seed, w, n)
			}
		}
		if ev := events(res.History); ev[history.EventKill] != 1 || res.FaultsPlanned != 1 || res.FaultsHappened != 1 {
			t.Fatalf("seed %d: events %v, %d faults planned, %d happened; want a kill, 1 and 1", seed, ev, res.FaultsPlanned, res.FaultsHappened)
		}
	}
}

// TestPauseAndRestartAfterProgress: a pause of w1 after w2's 10th request
// and a restart of w2 after its 30th both happen, and the restarted w2
// makes its calls again.
func TestPauseAndRestartAfterProgress(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Pause, Target: "w1", For: 20 * time.Millisecond, After: &faultinject.Progress{Worker: "w2", Ops: 10}},
		{Kind: faultinject.Restart, Target: "w2", For: 5 * time.Millisecond, After: &faultinject.Progress{Worker: "w2", Ops: 30}},
	}}
	res := run(t, harness.Config{Run: spec.Run{Scenario: "after", Workers: 2, Ops: 40, Seed: 4, Think: time.Millisecond, CallTimeout: time.Second, Plan: plan}})
	requireSound(t, res)
	want := map[history.EventKind]int{history.EventPause: 1, history.EventResume: 1,
		history.EventKill: 1, history.EventRestart: 1}
	if diff := cmp.Diff(want, events(res.History)); diff != "" {
		t.Fatalf("events mismatch (-want +got):\n%s", diff)
	}
	if n := len(res.History.WorkerOps("w2")); n != 30+40 {
		t.Errorf("w2 made %d calls, want 30, then 40 after its restart", n)
	}
}

// TestFaultsFromTheWorkloadStart: a fault at 50ms happens in every run,
// however long the workers take to start: times count from the start of
// the workload.
func TestFaultsFromTheWorkloadStart(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		plan := &faultinject.Plan{Seed: seed,
			Messages:  []faultinject.MessageFault{{Kind: faultinject.Drop, P: 0.05}},
			Processes: []faultinject.ProcessFault{{Kind: faultinject.Kill, Target: "w2", At: 50 * time.Millisecond}},
		}
		res := run(t, harness.Config{
			Run: spec.Run{
				Scenario:   "kill-at",
				Workers:    4,
				Ops:        50,
				Seed:       seed,
				Think:      2 * time.Millisecond,
				RetryAfter: 20 * time.Millisecond,
				Plan:       plan,
			},
		})
		requireSound(t, res)
		if ev := events(res.History); ev[history.EventKill] != 1 || res.FaultsHappened != 1 {
			t.Fatalf("seed %d: events %v, %d faults happened; want the kill", seed, ev, res.FaultsHappened)
		}
		if n := len(res.History.WorkerOps("w2")); n >= 50 {
			t.Errorf("seed %d: w2 made all its %d calls, killed at 50ms with 2ms between them", seed, n)
		}
	}
}

// TestMissedFaults: a fault whose target has exited, or whose time or
// point never comes before the workload is over, does not happen; the
// result names it, with why, and the run does not wait for its time.
// (w2 thinks 2ms between its 20 calls: it runs at 20ms.)
func TestMissedFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults []faultinject.ProcessFault
		want   string
	}{
		{"target gone", []faultinject.ProcessFault{
			{Kind: faultinject.Kill, Target: "w1", At: 0},
			{Kind: faultinject.Pause, Target: "w1", At: 20 * time.Millisecond, For: time.Millisecond},
		}, "processes[1] (pause w1 at 20ms for 1ms) did not happen: w1 was not running: killed by processes[0] and not restarted"},
		{"too late", []faultinject.ProcessFault{{Kind: faultinject.Kill, Target: "w2", At: 10 * time.Hour}},
			"processes[0] (kill w2 at 10h0m0s) did not happen: the workload was over before it came"},
		{"master too late", []faultinject.ProcessFault{{Kind: faultinject.Restart, Target: "master", At: 10 * time.Hour}},
			"processes[0] (restart master at 10h0m0s) did not happen: the workload was over before it came"},
		{"never reached", []faultinject.ProcessFault{{Kind: faultinject.Kill, Target: "w1", After: &faultinject.Progress{Worker: "w2", Ops: 21}}},
			"processes[0] (kill w1 after request 21 of w2) did not happen: the master received only 20 of w2's requests on any one connection, never request 21 (the workload was over before it came)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, harness.Config{
				Run: spec.Run{
					Scenario: "missed",
					Workers:  2,
					Ops:      20,
					Seed:     1,
					Think:    2 * time.Millisecond,
					Plan:     &faultinject.Plan{Processes: tc.faults},
				},
			})
			err := errors.Join(res.Missed...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || len(res.Missed) != 1 {
				t.Fatalf("missed: %v; want one, saying %q", err, tc.want)
			}
			if res.FaultsPlanned != len(tc.faults) || res.FaultsHappened != len(tc.faults)-1 {
				t.Errorf("%d faults planned, %d happened; want %d and %d", res.FaultsPlanned, res.FaultsHappened, len(tc.faults), len(tc.faults)-1)
			}
			if p := res.Problems(); p == nil || !strings.Contains(p.Error(), tc.want) {
				t.Errorf("problems %v lack the missed fault", p)
			}
		})
	}
}

// TestFaultsAcrossMasterGenerations: with the master in a process of its
// own and restarted, a worker fault aimed by progress happens once, under
// whichever master w2 reaches its point, and a worker fault timed after
// the restart is done by the new master.
func TestFaultsAcrossMasterGenerations(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Restart, Target: faultinject.MasterTarget, At: 30 * time.Millisecond, For: 10 * time.Millisecond},
		{Kind: faultinject.Kill, Target: "w2", After: &faultinject.Progress{Worker: "w2", Ops: 20}},
		// Late enough for the new master to be up on a busy machine (a
		// restart re-executes the test binary); w1's 60 calls, 20ms
		// apart, last past it.
		{Kind: faultinject.Pause, Target: "w1", At: patience.Bound(60 * time.Millisecond), For: 10 * time.Millisecond},
	}}
	res := run(t, harness.Config{
		Run: spec.Run{
			Scenario:    "generations",
			Workers:     2,
			Ops:         60,
			Seed:        5,
			Think:       20 * time.Millisecond,
			CallTimeout: time.Second,
			Plan:        plan,
		},
	})
	requireSound(t, res)
	want := map[history.EventKind]int{history.EventMasterKill: 1, history.EventMasterRestart: 1,
		history.EventKill: 1, history.EventPause: 1, history.EventResume: 1}
	if diff := cmp.Diff(want, events(res.History)); diff != "" {
		t.Fatalf("events mismatch (-want +got):\n%s", diff)
	}
	if res.FaultsPlanned != 3 || res.FaultsHappened != 3 || len(res.Masters) != 2 {
		t.Fatalf("%d faults planned, %d happened, %d masters; want 3, 3 and 2", res.FaultsPlanned, res.FaultsHappened, len(res.Masters))
	}
}
