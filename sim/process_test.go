package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/spec"
)

// TestKillAfterProgress: a kill aimed at w2's 50th request kills it with
// that request received and unanswered: w2 made 50 operations, the last
// unknown, named by the kill event; in every seed.
func TestKillAfterProgress(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		cfg := Config{
			Run: spec.Run{Seed: seed, Workers: 3, Ops: 100, Think: time.Millisecond, Plan: &faultinject.Plan{Processes: []faultinject.ProcessFault{
				{Kind: faultinject.Kill, Target: "w2", After: &faultinject.Progress{Worker: "w2", Ops: 50}},
			}}},
		}
		r, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ops := r.History.WorkerOps("w2")
		if len(ops) != 50 || ops[49].Status != history.StatusUnknown {
			t.Fatalf("seed %d: w2 made %d operations, want 50 with the last unknown", seed, len(ops))
		}
		var kills []int64
		for _, e := range r.History.Events {
			if e.Kind == history.EventKill {
				kills = append(kills, e.Op)
			}
		}
		if diff := cmp.Diff([]int64{ops[49].ID}, kills); diff != "" {
			t.Fatalf("seed %d: kill events naming ops mismatch (-want +got):\n%s", seed, diff)
		}
		if r.FaultsPlanned != 1 || r.FaultsHappened != 1 || r.Missed != nil {
			t.Fatalf("seed %d: %d faults planned, %d happened, missed %q; want 1, 1, none", seed, r.FaultsPlanned, r.FaultsHappened, r.Missed)
		}
	}
}

// TestRestartAfterProgress: a restart of w1 after its request 10, and a
// pause of w2 after request 5 of w1 (for 100µs: over before w1 is five
// requests further), both happen, in that order, and the restarted w1
// makes its operations again.
func TestRestartAfterProgress(t *testing.T) {
	cfg := Config{
		Run: spec.Run{Seed: 7, Workers: 2, Ops: 20, Plan: &faultinject.Plan{Processes: []faultinject.ProcessFault{
			{Kind: faultinject.Restart, Target: "w1", For: time.Millisecond, After: &faultinject.Progress{Worker: "w1", Ops: 10}},
			{Kind: faultinject.Pause, Target: "w2", For: 100 * time.Microsecond, After: &faultinject.Progress{Worker: "w1", Ops: 5}},
		}}},
	}
	r, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []history.EventKind
	for _, e := range r.History.Events {
		kinds = append(kinds, e.Kind)
	}
	want := []history.EventKind{history.EventPause, history.EventResume, history.EventKill, history.EventRestart}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Fatalf("events mismatch (-want +got):\n%s", diff)
	}
	if n := len(r.History.WorkerOps("w1")); n != 30 {
		t.Errorf("w1 made %d operations, want 10 then 20 after its restart", n)
	}
	if r.FaultsHappened != 2 {
		t.Errorf("%d faults happened, want 2 (missed: %q)", r.FaultsHappened, r.Missed)
	}
}

// TestMissedFaults: a fault whose time comes after the workload, whose
// target has exited, or whose point of progress is never reached does
// not happen, and the result says which and why.
func TestMissedFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault faultinject.ProcessFault
		why   string
	}{
		{"late", faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", At: 10 * time.Hour}, "the workload was over before it came"},
		{"late master", faultinject.ProcessFault{Kind: faultinject.Restart, Target: "master", At: 10 * time.Hour}, "the workload was over before it came"},
		{"progress", faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", After: &faultinject.Progress{Worker: "w2", Ops: 31}}, "the master received only 30 of w2's requests on any one connection, never request 31 (the workload was over before it came)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(Config{Run: spec.Run{Seed: 1, Workers: 2, Ops: 30, Plan: &faultinject.Plan{Processes: []faultinject.ProcessFault{tc.fault}}}})
			if err != nil {
				t.Fatal(err)
			}
			if r.FaultsPlanned != 1 || r.FaultsHappened != 0 || len(r.Missed) != 1 || !strings.Contains(r.Missed[0], tc.why) {
				t.Fatalf("%d planned, %d happened, missed %q; want 1, 0 and one saying %q", r.FaultsPlanned, r.FaultsHappened, r.Missed, tc.why)
			}
			if len(r.History.Events) != 0 {
				t.Errorf("events %v, want none", r.History.Events)
			}
		})
	}
	// Its target gone: killed before, by a fault that happened.
	r, err := Run(Config{
		Run: spec.Run{Seed: 1, Workers: 2, Ops: 30, Think: time.Millisecond, Plan: &faultinject.Plan{Processes: []faultinject.ProcessFault{
			{Kind: faultinject.Kill, Target: "w1", At: time.Millisecond},
			{Kind: faultinject.Pause, Target: "w1", At: 2 * time.Millisecond, For: time.Millisecond},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.FaultsHappened != 1 || len(r.Missed) != 1 || !strings.Contains(r.Missed[0], "processes[1] (pause w1 at 2ms for 1ms) did not happen: w1 was not running") {
		t.Fatalf("%d happened, missed %q; want the pause missed, w1 not running", r.FaultsHappened, r.Missed)
	}
}

// TestAfterFirstIncarnationOnly: a fault aimed by progress is had by the
// first incarnation to reach its point, as on real processes: if its
// target is down then, it did not happen, and a later incarnation that
// reaches the same point does not make it happen.
func TestAfterFirstIncarnationOnly(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		cfg := Config{
			Run: spec.Run{Seed: seed, Workers: 2, Ops: 100, Think: time.Millisecond, Plan: &faultinject.Plan{Processes: []faultinject.ProcessFault{
				{Kind: faultinject.Restart, Target: "w2", At: 0, For: 30 * time.Millisecond},
				{Kind: faultinject.Restart, Target: "w1", For: 40 * time.Millisecond, After: &faultinject.Progress{Worker: "w1", Ops: 10}},
				{Kind: faultinject.Pause, Target: "w2", For: 100 * time.Microsecond, After: &faultinject.Progress{Worker: "w1", Ops: 10}},
			}}},
		}
		r, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"processes[2] (pause w2 after request 10 of w1 for 100µs) did not happen: w2 was not running: down, being restarted by processes[0]"}
		if diff := cmp.Diff(want, r.Missed); diff != "" || r.FaultsHappened != 2 {
			t.Fatalf("seed %d: %d faults happened; missed mismatch (-want +got):\n%s", seed, r.FaultsHappened, diff)
		}
	}
}
