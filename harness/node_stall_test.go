package harness_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// TestNodeStuckWorkerEndsRun runs an adapter whose client spins forever
// at its 20th call in w1 (25th in w2 and w3): each worker then answers nothing
// (its event loop is stuck, so not even its call timeout fires), reads
// nothing on its control socket, and never exits. The run must not wait
// for them forever (nor its shutdown, for the processes that ignore
// "end"): it ends with ErrNodeTarget naming w1, the first stuck, and the
// operation it was waiting for, and its process is gone afterwards.
func TestNodeStuckWorkerEndsRun(t *testing.T) {
	t.Parallel()
	nodetest.Node(t)
	adapter := fixture("tinystore-stuck.js")
	cfg := harness.Config{Run: spec.Run{Workers: 3, Ops: 100, Seed: 1, CallTimeout: 300 * time.Millisecond,
		Target: spec.Target{Kind: spec.Node, Node: spec.NodeTarget{Adapter: adapter, Path: adapter}}}, Dir: t.TempDir(), Logf: t.Logf}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	_, err := harness.Run(ctx, cfg)
	if err == nil || !errors.Is(err, harness.ErrNodeTarget) {
		t.Fatalf("error %v, want ErrNodeTarget: a stuck worker", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the run ended by the test's deadline, not by the bound on a stuck worker: %v", err)
	}
	m := regexp.MustCompile(`worker w1 \(master 1, incarnation 1, pid (\d+)\) made no progress for .*: shmlab was waiting for its answer to operation 20 `).
		FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error %q: want it to name w1 and its 20th operation", err)
	}
	pid, _ := strconv.Atoi(m[1])
	deadline := time.Now().Add(patience.Bound(2 * time.Second))
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the stuck worker (pid %d) still runs after the run", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether process pid runs (a zombie does not).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// TestNodeLostUnlockAnswered runs an adapter whose unlock lets the lock
// go but never calls back. A worker that must let a lock go before its
// next operation (an increment's read found no integer, as the sets
// write strings, so its write does not come) used to wait for that unlock forever, without its call
// timeout, and the run with it. Each such operation must now end as
// unknown at its call timeout, saying which unlock did not answer, and
// the run must end without error.
func TestNodeLostUnlockAnswered(t *testing.T) {
	t.Parallel()
	res := runNode(t, harness.Config{Run: spec.Run{Workers: 2, Ops: 80, Seed: 3, Keys: []string{"k"},
		Mix: workload.Mix{Incr: 2, Set: 1}, Shape: workload.Shape{ValueMin: 4, ValueMax: 8}, CallTimeout: 300 * time.Millisecond}},
		spec.NodeTarget{Adapter: fixture("tinystore-unlock-lost.js")})
	n := 0
	for _, o := range res.History.Ops {
		if o.Status == history.StatusUnknown && o.Output.Error != nil && strings.Contains(o.Output.Error.Message, "did not answer") {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no operation ended unknown for a lock let go that did not answer; want some (%d operations)", len(res.History.Ops))
	}
	t.Logf("%d operations waited for an unlock that never answered", n)
}

// TestNodeRestartAfterMasterDied restarts worker w1 after its master was
// killed (w1 is paused, so it outlives its master until the restart's
// kill): the fork asked of the dead primary never comes. The worker
// made for it must not be waited for as w1's current process, which
// kept the run waiting until its deadline; the run must end on its own,
// the failed restart said, and the worker recorded as never forked.
func TestNodeRestartAfterMasterDied(t *testing.T) {
	nodetest.Node(t)
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Pause, Target: "w1", At: 50 * time.Millisecond, For: time.Second},
		{Kind: faultinject.Kill, Target: "master", At: 100 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "w1", At: 150 * time.Millisecond},
	}}
	adapter := fixture("tinystore-control.js")
	cfg := harness.Config{Run: spec.Run{Workers: 2, Ops: 100000, Seed: 1, Plan: plan, Think: time.Millisecond,
		CallTimeout: patience.Bound(100 * time.Millisecond),
		Target:      spec.Target{Kind: spec.Node, Node: spec.NodeTarget{Adapter: adapter, Path: adapter}}}, Dir: t.TempDir(), Logf: t.Logf}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	res, err := harness.Run(ctx, cfg)
	if ctx.Err() != nil || res == nil {
		t.Fatalf("the run ended by its deadline (%v): it waited for a worker never forked", err)
	}
	if res.Faults == nil || !strings.Contains(res.Faults.Error(), "restart w1") {
		t.Errorf("fault errors %v, want the failed restart of w1", res.Faults)
	}
	var never []string
	for _, e := range res.Exits {
		if strings.Contains(e.Why, "never forked") {
			never = append(never, e.String())
		}
	}
	if len(never) != 1 || !strings.Contains(never[0], "w1 (master 1, incarnation 3") {
		t.Errorf("exits never forked %q, want w1's incarnation 3", never)
	}
}
