package harness_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/spec"
)

// TestPoison: a worker sends the poison frames at its planned time (or
// point of progress), raw on its real channel; the reference master
// answers each with an error, counts the bad frames, and keeps serving
// every worker: the run passes, every call returns, and the history
// holds one poison event per fault saying what was sent.
func TestPoison(t *testing.T) {
	pauseMaster := faultinject.ProcessFault{Kind: faultinject.Pause, Target: faultinject.MasterTarget, At: 5 * time.Millisecond, For: 5 * time.Millisecond}
	for _, tc := range []struct {
		name   string
		f      faultinject.ProcessFault
		master bool // the master paused too: it runs as a process of its own
	}{
		{"at", faultinject.ProcessFault{Kind: faultinject.Poison, Target: "w2", At: 20 * time.Millisecond}, false},
		{"after", faultinject.ProcessFault{Kind: faultinject.Poison, Target: "w1", After: &faultinject.Progress{Worker: "w1", Ops: 15}}, false},
		{"master process", faultinject.ProcessFault{Kind: faultinject.Poison, Target: "w3", At: 20 * time.Millisecond}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{tc.f}}
			if tc.master {
				plan.Processes = append(plan.Processes, pauseMaster)
			}
			res := run(t, harness.Config{Run: spec.Run{Scenario: "poison-" + tc.name, Workers: 3, Ops: 40, Seed: 7, Think: time.Millisecond,
				CallTimeout: patience.Bound(time.Second), Plan: plan}})
			requireSound(t, res)
			if n := len(plan.Processes); res.FaultsPlanned != n || res.FaultsHappened != n {
				t.Fatalf("%d faults planned, %d happened; want %d and %d", res.FaultsPlanned, res.FaultsHappened, n, n)
			}
			var poison []history.Event
			for _, e := range res.History.Events {
				if e.Kind == history.EventPoison {
					poison = append(poison, e)
				}
			}
			if len(poison) != 1 || poison[0].Worker != tc.f.Target || !strings.Contains(poison[0].Text, `{"isSharedMemoryMessage":true,"method":"get","key":"__proto__"}`) {
				t.Fatalf("poison events %+v: want one, by %s, listing the frames", poison, tc.f.Target)
			}
			for _, w := range []string{"w1", "w2", "w3"} {
				ops := res.History.WorkerOps(w)
				if len(ops) != 40 {
					t.Errorf("%s made %d calls, want 40", w, len(ops))
				}
				for _, o := range ops {
					if o.Status != history.StatusOK {
						t.Errorf("%s: call %d (%s %q) ended %s: the poison hurt a call", w, o.ID, o.Method, o.Key, o.Status)
					}
				}
			}
			st := res.Masters[0].Stats
			t.Logf("master: %d bad frames, %d requests", st.BadFrames, st.Requests)
			if !res.Masters[0].Alive || st.Disconnected != 0 || st.BadFrames < 5 {
				t.Errorf("master alive %v, %d disconnected, %d bad frames; want alive, 0, and the 5 frames that are no request at least",
					res.Masters[0].Alive, st.Disconnected, st.BadFrames)
			}
		})
	}
}
