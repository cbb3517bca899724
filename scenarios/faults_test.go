package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
)

// TestMain lets the test binary be the workers of process-mode runs.
func TestMain(m *testing.M) {
	shm.Main()
	os.Exit(m.Run())
}

// runCtx bounds one run of a test: room for a busy machine.
func runCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// processEvents returns the history's process events, as "kind worker".
func processEvents(h *history.History) []string {
	var out []string
	for _, e := range h.Events {
		if e.Kind != history.EventFault {
			out = append(out, string(e.Kind)+" "+e.Worker)
		}
	}
	return out
}

// TestWorkerRestartHappens: the bundled worker-restart really restarts
// w1 (with its 40th request in flight) and kills w3, in every seed, in
// both modes.
func TestWorkerRestartHappens(t *testing.T) {
	scs, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(scs, func(sc *Scenario) bool { return sc.Name == "worker-restart" })
	if i < 0 {
		t.Fatal("no bundled worker-restart")
	}
	sc := scs[i]
	for _, mode := range []Mode{Sim, Process} {
		for seed := uint64(1); seed <= 4; seed++ {
			o := Run(runCtx(t), sc, mode, seed)
			if o.Err != nil {
				t.Fatalf("%s seed %d: %v", mode, seed, o.Err)
			}
			want := []string{"kill w1", "kill w3", "restart w1"} // the kill of w3 may come first
			if diff := cmp.Diff(want, processEvents(o.History), cmpopts.SortSlices(strings.Compare)); diff != "" {
				t.Errorf("%s seed %d: process events mismatch (-want +got):\n%s", mode, seed, diff)
			}
			w1 := o.History.WorkerOps("w1")
			if len(w1) != 190 || w1[39].Status != history.StatusUnknown {
				t.Errorf("%s seed %d: w1 made %d calls; want 40, the last unknown, then 150", mode, seed, len(w1))
			}
			if o.FaultsPlanned != 2 || o.FaultsHappened != 2 {
				t.Errorf("%s seed %d: %d faults planned, %d happened; want 2 and 2", mode, seed, o.FaultsPlanned, o.FaultsHappened)
			}
		}
	}
}

// TestKillAt50ms: among four workers under 5% drops, a kill of w2 at
// 50ms happens in every seed, in both modes, and w2 makes fewer calls.
func TestKillAt50ms(t *testing.T) {
	sc := mustParse(t, `workers: 4
ops: 200
think: 1ms
retry: 20ms
faults:
  messages:
    - {kind: drop, p: 0.05}
  processes:
    - {kind: kill, target: w2, at: 50ms}
`)
	for _, mode := range []Mode{Sim, Process} {
		for seed := uint64(1); seed <= 3; seed++ {
			o := Run(runCtx(t), sc, mode, seed)
			if o.Err != nil {
				t.Fatalf("%s seed %d: %v", mode, seed, o.Err)
			}
			if got := processEvents(o.History); !cmp.Equal([]string{"kill w2"}, got) || o.FaultsHappened != 2 || o.FaultsPlanned != 2 {
				t.Fatalf("%s seed %d: process events %q, %d of %d faults happened; want the kill of w2, and both faults", mode, seed, got, o.FaultsHappened, o.FaultsPlanned)
			}
			if o.Verdict() != linearizability.Ok {
				t.Fatalf("%s seed %d: %v", mode, seed, o.Check)
			}
		}
	}
}

// TestKillAfterProgressInFlight: a kill aimed at w2's 50th request leaves
// that call unknown, w2's last, in both modes.
func TestKillAfterProgressInFlight(t *testing.T) {
	sc := mustParse(t, `workers: 3
ops: 80
faults:
  processes:
    - {kind: kill, target: w2, after: {worker: w2, ops: 50}}
`)
	for _, mode := range []Mode{Sim, Process} {
		for seed := uint64(1); seed <= 3; seed++ {
			o := Run(runCtx(t), sc, mode, seed)
			if o.Err != nil {
				t.Fatalf("%s seed %d: %v", mode, seed, o.Err)
			}
			w2 := o.History.WorkerOps("w2")
			if len(w2) != 50 || w2[49].Status != history.StatusUnknown {
				t.Fatalf("%s seed %d: w2 made %d calls; want 50, the last unknown", mode, seed, len(w2))
			}
			if o.Verdict() != linearizability.Ok || o.FaultsHappened != 1 {
				t.Fatalf("%s seed %d: %v, %d faults happened", mode, seed, o.Check, o.FaultsHappened)
			}
		}
	}
}

// TestMissedFaultIsError: a planned fault that does not happen makes the
// run an ERROR that names it and says why, the same in both modes: its
// target killed by an earlier fault, or finished with its operations; its
// time past the workload (without waiting for it); its point of progress
// never reached, as its worker was killed, or as message faults lost
// requests (after counts what the master received). The JSON row and the
// folder's run.json count the faults, and the folder keeps the history.
func TestMissedFaultIsError(t *testing.T) {
	for _, tc := range []struct{ name, faults, want string }{
		// Each case orders its faults so that a busy machine cannot change
		// which comes first: a kill at the workload's start, before the
		// other worker's tenth request; a restart whose down time (scaled
		// by the patience factor) outlasts the other worker's 50 calls.
		{"target gone", "  processes: [{kind: kill, target: w1, at: 0s}, {kind: pause, target: w1, after: {worker: w2, ops: 10}, for: 1ms}]",
			"processes[1] (pause w1 after request 10 of w2 for 1ms) did not happen: w1 was not running: killed by processes[0] and not restarted"},
		{"target finished", fmt.Sprintf("  processes: [{kind: restart, target: w1, at: 3ms, for: %v}, {kind: kill, target: w2, after: {worker: w1, ops: 20}}]", patience.Bound(300*time.Millisecond)),
			"processes[1] (kill w2 after request 20 of w1) did not happen: w2 was not running: it had finished its operations"},
		{"too late", "  processes: [{kind: kill, target: w1, at: 10h}]",
			"processes[0] (kill w1 at 10h0m0s) did not happen: the workload was over before it came"},
		{"worker killed first", "  processes: [{kind: kill, target: w2, at: 0s}, {kind: pause, target: w1, after: {worker: w2, ops: 40}, for: 1ms}]",
			"processes[1] (pause w1 after request 40 of w2 for 1ms) did not happen: the master received only"},
		{"poison too late", "  processes: [{kind: poison, target: w1, at: 10h}]\nmode: process",
			"processes[0] (poison w1 at 10h0m0s) did not happen: the workload was over before it came"},
		{"poisoner killed", "  processes: [{kind: kill, target: w2, at: 0s}, {kind: poison, target: w2, after: {worker: w1, ops: 10}}]\nmode: process",
			"processes[1] (poison w2 after request 10 of w1) did not happen: w2 was not running: killed by processes[0] and not restarted"},
		{"requests lost", "  messages: [{kind: drop, p: 0.2, dir: requests}]\n  processes: [{kind: kill, target: w2, after: {worker: w2, ops: 50}}]",
			"processes[0] (kill w2 after request 50 of w2) did not happen: the master received only"},
		{"message fault never fired", "  messages: [{kind: drop, p: 0.05}, {kind: delay, p: 0.000001, delay: {kind: fixed, min: 1ms}}]",
			"messages[1] (delay p 1e-06) never fired: no message it aims at came, or none drew a hit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := mustParse(t, fmt.Sprintf("workers: 2\nops: 50\nthink: 1ms\ntimeout: 20ms\nseeds: 1\nfaults:\n%s\n", tc.faults))
			for _, r := range RunSuite(runCtx(t), []*Scenario{sc}, Options{}, nil) {
				o := r.Outcomes[0]
				if r.Verdict() != "ERROR" || !errors.Is(o.Err, ErrFaultMissed) || !strings.Contains(o.Err.Error(), tc.want) {
					t.Fatalf("%s: verdict %s, error %v; want ERROR saying %q", r.Mode, r.Verdict(), o.Err, tc.want)
				}
				switch tc.name {
				case "worker killed first":
					if !strings.Contains(o.Err.Error(), "; w2 was killed by processes[0] and not restarted") {
						t.Errorf("%s: %v; want it to say w2 was killed by processes[0]", r.Mode, o.Err)
					}
				case "requests lost":
					if !strings.Contains(o.Err.Error(), "(the plan's message faults lost some of its requests; after counts the requests the master received)") {
						t.Errorf("%s: %v; want it to say the message faults lost requests", r.Mode, o.Err)
					}
				}
				if row := RowOf(r); row.FaultsPlanned != o.FaultsPlanned || row.FaultsHappened != o.FaultsHappened || row.FaultsHappened >= row.FaultsPlanned {
					t.Errorf("%s: row says %d of %d faults happened", r.Mode, row.FaultsHappened, row.FaultsPlanned)
				}
				dir := filepath.Join(t.TempDir(), FolderName(o))
				if err := writeRunFolder(dir, o); err != nil {
					t.Fatal(err)
				}
				ri, err := readRun(dir)
				if err != nil {
					t.Fatal(err)
				}
				if got := [2]int{ri.FaultsPlanned, ri.FaultsHappened}; got != [2]int{o.FaultsPlanned, o.FaultsHappened} {
					t.Errorf("%s: run.json says %d of %d faults happened, want %d of %d", r.Mode, got[1], got[0], o.FaultsHappened, o.FaultsPlanned)
				}
				if _, err := os.Stat(filepath.Join(dir, spec.HistoryFile)); err != nil {
					t.Errorf("%s: the history of a run whose fault did not happen is not kept: %v", r.Mode, err)
				}
			}
		})
	}
}

// TestViolationStandsWhenFaultMissed: a violation found in a run where
// a planned fault did not happen is still the run's verdict (the faults
// that did happen were enough to find it: the repro of a swarm seed
// shows the violation, not an error), while a pass there is an ERROR
// (TestMissedFaultIsError). The no-dedup store applies duplicated
// requests again; the delay fault never fires.
func TestViolationStandsWhenFaultMissed(t *testing.T) {
	sc := mustParse(t, "workers: 2\nops: 100\nkeys: {count: 1}\nmix: {add: 1}\nvariant: no-dedup\nseeds: 1\nexpect: violation\n"+
		"faults:\n  messages: [{kind: duplicate, p: 0.2, dir: requests}, {kind: delay, p: 0.000001, delay: {kind: fixed, min: 1ms}}]\n")
	for _, r := range RunSuite(runCtx(t), []*Scenario{sc}, Options{}, nil) {
		o := r.Outcomes[0]
		if o.Err != nil || o.Verdict() != linearizability.Illegal || o.Failed() {
			t.Errorf("%s: verdict %v, error %v; want the violation to stand", r.Mode, o.Verdict(), o.Err)
		}
		if o.FaultsHappened >= o.FaultsPlanned {
			t.Errorf("%s: %d of %d faults happened; want the delay counted as missed", r.Mode, o.FaultsHappened, o.FaultsPlanned)
		}
	}
}

// TestAfterCountsPerIncarnation: after counts the requests of one
// incarnation (one connection), in both modes: a kill after request 15
// of w1, restarted at its request 10, comes at the new incarnation's
// 15th request, and each leaves its request in flight.
func TestAfterCountsPerIncarnation(t *testing.T) {
	sc := mustParse(t, `workers: 2
ops: 40
think: 1ms
faults:
  processes:
    - {kind: restart, target: w1, after: {worker: w1, ops: 10}, for: 5ms}
    - {kind: kill, target: w1, after: {worker: w1, ops: 15}}
`)
	for _, mode := range []Mode{Sim, Process} {
		for seed := uint64(1); seed <= 2; seed++ {
			o := Run(runCtx(t), sc, mode, seed)
			if o.Err != nil {
				t.Fatalf("%s seed %d: %v", mode, seed, o.Err)
			}
			if diff := cmp.Diff([]string{"kill w1", "restart w1", "kill w1"}, processEvents(o.History)); diff != "" {
				t.Errorf("%s seed %d: process events mismatch (-want +got):\n%s", mode, seed, diff)
			}
			w1 := o.History.WorkerOps("w1")
			if len(w1) != 25 || w1[9].Status != history.StatusUnknown || w1[24].Status != history.StatusUnknown {
				t.Errorf("%s seed %d: w1 made %d calls; want 10 then 15, the last of each unknown", mode, seed, len(w1))
			}
			if o.FaultsHappened != 2 {
				t.Errorf("%s seed %d: %d of 2 faults happened", mode, seed, o.FaultsHappened)
			}
		}
	}
}

// TestCutShortKeepsWhatHappened: a process run whose pause outlasts its
// time is an error that keeps the history its journals hold (the pause
// in it, counted as happened) and says what was still going on.
func TestCutShortKeepsWhatHappened(t *testing.T) {
	t.Parallel() // mostly a wait
	sc := mustParse(t, "workers: 2\nops: 40\nthink: 1ms\nseeds: 1\nfaults:\n  processes: [{kind: pause, target: w1, at: 0s, for: 10h}]\n")
	ctx, cancel := context.WithTimeout(context.Background(), patience.Bound(500*time.Millisecond))
	defer cancel()
	o := Run(ctx, sc, Process, 1)
	if o.Err == nil || o.History == nil {
		t.Fatalf("error %v, history %v; want an error and the history so far", o.Err, o.History != nil)
	}
	// The pause, and the resume its end of run sent before the kill.
	if got := processEvents(o.History); len(got) == 0 || got[0] != "pause w1" || o.FaultsHappened != 1 {
		t.Errorf("process events %q, %d of %d faults happened; want the pause of w1 first, 1 of 1", got, o.FaultsHappened, o.FaultsPlanned)
	}
	if want := "(cut short while pause: SIGSTOP to w1"; !strings.Contains(o.Err.Error(), want) {
		t.Errorf("error %q, want it to say %q", o.Err, want)
	}
	if o.Ops == 0 || len(o.History.WorkerOps("w2")) == 0 {
		t.Errorf("%d operations kept, none of w2's; want what w2 did while w1 was stopped", o.Ops)
	}
}
