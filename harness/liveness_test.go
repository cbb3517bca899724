package harness_test

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// liveness checks res's history and returns its liveness violations.
func liveness(t *testing.T, res *harness.Result) *linearizability.Result {
	t.Helper()
	r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second})
	if r.Invalid != nil {
		t.Fatal(r.Invalid)
	}
	return r
}

// TestLiveNeverAnswered: a master that never answers a delete
// (shm.BugNoReply) is caught "never answered", each violation naming a
// delete, and nothing else is.
func TestLiveNeverAnswered(t *testing.T) {
	t.Parallel()
	res := run(t, harness.Config{Run: spec.Run{Scenario: "no-reply", Workers: 2, Ops: 30, Seed: 1, CallTimeout: 50 * time.Millisecond,
		Mix: workload.Mix{Get: 2, Set: 2, Delete: 1}, Store: shm.StoreOptions{Bugs: shm.BugNoReply}}})
	r := liveness(t, res)
	if r.NeverAnswered() == 0 || r.Crashes() != 0 {
		t.Fatalf("%d never answered, %d crashes; want some never answered, no crash\n%s", r.NeverAnswered(), r.Crashes(), r.Details())
	}
	for _, v := range r.Liveness {
		if v.Check != linearizability.LivenessNeverAnswered || v.Ops[0].Method != history.Delete {
			t.Errorf("%s: %s, want only deletes never answered", v.Check, v.Text)
		}
	}
	if err := res.Problems(); err != nil {
		t.Errorf("problems: %v", err)
	}
}

// TestLiveCrash: a master that exits on the key crash (shm.BugCrashKey)
// runs in a process of its own, and is caught "crashed", with its exit
// status and its stderr's last lines; the run has no other problem.
func TestLiveCrash(t *testing.T) {
	res := run(t, harness.Config{Run: spec.Run{Scenario: "crash-key", Workers: 2, Ops: 30, Seed: 1, Keys: []string{"a", shm.CrashKey},
		Store: shm.StoreOptions{Bugs: shm.BugCrashKey}}})
	r := liveness(t, res)
	if r.Crashes() != 1 {
		t.Fatalf("%d crashes, want 1\n%s", r.Crashes(), r.Details())
	}
	e := r.Liveness[0].Event
	if e.Worker != "master" || e.Exit != "exit status 2" || !strings.Contains(e.Stderr, "BugCrashKey") {
		t.Errorf("crash %+v: want the master, exit status 2, a stderr naming BugCrashKey", e)
	}
	if len(res.Masters) != 1 || !res.Masters[0].Crashed || res.Masters[0].Killed {
		t.Errorf("masters %+v, want one crashed, not killed", res.Masters)
	}
	if err := res.Problems(); err != nil {
		t.Errorf("problems beside the crash: %v", err)
	}
}

// TestLivePlannedExits: a worker killed and restarted, and the master
// restarted, by planned faults, are no crashes, and their calls cut short
// are not "never answered".
func TestLivePlannedExits(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Kill, Target: "w1", After: &faultinject.Progress{Worker: "w1", Ops: 10}},
		{Kind: faultinject.Restart, Target: "w2", After: &faultinject.Progress{Worker: "w2", Ops: 10}, For: 5 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "master", At: 150 * time.Millisecond, For: 10 * time.Millisecond},
	}}
	res := run(t, harness.Config{Run: spec.Run{Scenario: "planned", Workers: 3, Ops: 60, Seed: 2, Think: 2 * time.Millisecond,
		CallTimeout: 100 * time.Millisecond, Plan: plan}})
	if res.FaultsHappened != 3 {
		t.Fatalf("%d of 3 faults happened: %v", res.FaultsHappened, res.Missed)
	}
	r := liveness(t, res)
	if len(r.Liveness) > 0 {
		t.Fatalf("liveness violations:\n%s", r.Details())
	}
	requireSound(t, res)
	for _, w := range res.Workers {
		if w.Crashed {
			t.Errorf("worker %+v recorded as crashed", w)
		}
	}
}

// TestLivePause: the master paused far longer than the call timeout, with
// no retries: calls time out, their replies come after it resumes and are
// recorded late, and none is "never answered".
func TestLivePause(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Pause, Target: "master", At: 50 * time.Millisecond, For: 300 * time.Millisecond},
	}}
	res := run(t, harness.Config{Run: spec.Run{Scenario: "pause", Workers: 2, Ops: 40, Seed: 3, Think: 5 * time.Millisecond,
		CallTimeout: 50 * time.Millisecond, Plan: plan}})
	timedOut := 0
	for _, op := range res.History.Ops {
		if op.Status == history.StatusUnknown && op.Output.Error != nil && op.Output.Error.Code == linearizability.ErrorTimeout {
			timedOut++
		}
	}
	if timedOut == 0 || events(res.History)[history.EventLateReply] == 0 {
		t.Fatalf("%d calls timed out, %d late replies; want some of each (a pause of 300ms, calls of 50ms)", timedOut, events(res.History)[history.EventLateReply])
	}
	requireSound(t, res)
}

// TestLiveExitOf: a process ended by a signal is named by it; one that
// exits with a status by that.
func TestLiveExitOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		signal syscall.Signal
		want   string
	}{
		{"status", "echo one >&2; echo two >&2; exit 3", 0, "exit status 3"},
		{"signal", "echo one >&2; echo two >&2; kill -SEGV $$", 0, "signal SIGSEGV"},
		{"killed", "echo one >&2; echo two >&2; exec sleep 60", syscall.SIGKILL, "signal SIGKILL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tail := harness.NewTail(1)
			cmd := exec.Command("sh", "-c", tc.script)
			cmd.Stderr = tail
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.signal != 0 {
				for len(tail.Lines()) == 0 || tail.Lines()[0] != "two" {
					time.Sleep(time.Millisecond)
				}
				cmd.Process.Signal(tc.signal)
			}
			cmd.Wait()
			e := harness.ExitOf("w1", cmd.Process.Pid, cmd.ProcessState, tail.Lines())
			if got := e.Status(); got != tc.want {
				t.Errorf("status %q, want %q", got, tc.want)
			}
			ev := e.Crash()
			want := history.Event{Kind: history.EventCrash, Time: e.Time, Worker: "w1", Exit: tc.want, Stderr: "two",
				Text: fmt.Sprintf("pid %d", cmd.Process.Pid)}
			if diff := cmp.Diff(want, ev); diff != "" {
				t.Errorf("crash event mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLiveTail: a Tail keeps the last lines, a line not ended included,
// and cuts a line too long.
func TestLiveTail(t *testing.T) {
	tail := harness.NewTail(2)
	fmt.Fprint(tail, "a\nb\nc")
	if diff := cmp.Diff([]string{"b", "c"}, tail.Lines()); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
	fmt.Fprint(tail, "d\n"+strings.Repeat("x", 5000)+"\n")
	got := tail.Lines()
	if len(got) != 2 || got[0] != "cd" || len(got[1]) > 1100 || !strings.HasPrefix(got[1], "xxx") {
		t.Errorf("lines %.80q, want cd and a long line cut", got)
	}
}

// A driver reports an exit that no planned fault explains as a crash
// event, which the liveness check reports.
func ExampleExit_Crash() {
	e := harness.Exit{Process: "master", Pid: 4242, Time: 9100, Code: 2, Stderr: []string{"panic: boom", "goroutine 7 [running]:"}}
	ev := e.Crash()
	h := &history.History{Header: history.NewHeader(history.ModelKV, "crash", 1), Events: []history.Event{ev}}
	fmt.Print(linearizability.Check(h, linearizability.Options{}).Details())
	// Output:
	// crashed:
	//     master crashed (exit status 2) with no planned fault to explain it: pid 4242; the last lines of its stderr:
	//       panic: boom
	//       goroutine 7 [running]:
}
