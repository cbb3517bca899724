package harness_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/spec"
)

// fixture is the path of a Node test fixture.
func fixture(name string) string { return filepath.Join("..", "node", "testdata", "fixtures", name) }

// runNode runs cfg on a Node target, failing t if the run could not be made.
func runNode(t *testing.T, cfg harness.Config, target spec.NodeTarget) *harness.Result {
	t.Helper()
	nodetest.Node(t)
	if target.Adapter == "" {
		target.Adapter = "../node/adapters/reference.js"
	}
	target.Path = filepath.Join(".", target.Adapter)
	cfg.Target = spec.Target{Kind: spec.Node, Node: target}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = patience.Bound(time.Second) // node processes on a busy machine
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg.Dir = t.TempDir()
	cfg.Logf = t.Logf
	res, err := harness.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("seed %d: %v", cfg.Seed, err)
	}
	t.Logf("seed %d: %d operations, %d events, %d fault records", cfg.Seed, len(res.History.Ops), len(res.History.Events), len(res.Records))
	return res
}

// TestNodeAdapterPasses runs a correct library of our own (a Map in the
// cluster primary) through the Node package: every operation the
// workload drew is in the history, with the final reads, and it checks.
func TestNodeAdapterPasses(t *testing.T) {
	const workers, ops = 3, 150
	res := runNode(t, harness.Config{Run: spec.Run{Workers: workers, Ops: ops, Seed: 7}}, spec.NodeTarget{Adapter: fixture("tinystore-control.js")})
	requireSound(t, res)
	final := len(res.History.WorkerOps(harness.FinalReader))
	if got := len(res.History.Ops) - final; got != workers*ops || final != 3 {
		t.Errorf("%d operations and %d final reads; want %d and 3", got, final, workers*ops)
	}
	if len(res.LeftOut) != 0 {
		t.Errorf("left out %v; the adapter has every method", res.LeftOut)
	}
}

// TestNodeIncrementBugCaught runs the same library with an add done as
// a get, then a set, in the worker: the checker must catch the lost
// updates.
func TestNodeIncrementBugCaught(t *testing.T) {
	res := runNode(t, harness.Config{Run: spec.Run{Workers: 4, Ops: 150, Seed: 3, Keys: []string{"n"}}},
		spec.NodeTarget{Adapter: fixture("tinystore-add-get-set.js")})
	if err := res.Problems(); err != nil {
		t.Fatal(err)
	}
	r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second})
	if r.Verdict != linearizability.Illegal {
		t.Fatalf("verdict %v, want illegal: lost updates of a get-then-set add", r.Verdict)
	}
	want := []string{"cas", "delete"}
	if len(res.LeftOut) != 2 || res.LeftOut[0] != want[1] || res.LeftOut[1] != want[0] {
		t.Errorf("left out %v, want delete and cas", res.LeftOut)
	}
}

// TestNodeMessageFaults runs the correct library under message faults
// decided in the primary by the shim: no false alarm, and each decision
// is in the history as a fault event with its ground truth.
func TestNodeMessageFaults(t *testing.T) {
	plan := &faultinject.Plan{Seed: 11, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Delay, P: 0.1, Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: time.Millisecond, Max: 5 * time.Millisecond}},
		{Kind: faultinject.Reorder, P: 0.05},
		{Kind: faultinject.Drop, P: 0.01},
	}}
	res := runNode(t, harness.Config{Run: spec.Run{Workers: 3, Ops: 150, Seed: 5, Plan: plan, CallTimeout: 300 * time.Millisecond}},
		spec.NodeTarget{Adapter: fixture("tinystore-control.js")})
	requireSound(t, res)
	n := events(res.History)[history.EventFault]
	if n == 0 || n != len(res.Records) {
		t.Errorf("%d fault events, %d fault records; want as many, and some", n, len(res.Records))
	}
	truths := map[history.Truth]int{}
	for _, rec := range res.Records {
		truths[rec.Truth]++
	}
	if truths[history.TruthDelayed] == 0 || truths[history.TruthNotApplied]+truths[history.TruthApplied] == 0 {
		t.Errorf("truths %v: want delays and drops", truths)
	}
}

// TestNodeProcessFaults kills, pauses and restarts workers of a Node
// target and restarts its primary: an epoch boundary, no false alarm,
// every fault happened and every exit is a planned one.
func TestNodeProcessFaults(t *testing.T) {
	plan := &faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Kill, Target: "w1", At: 150 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "w2", At: 200 * time.Millisecond, For: 50 * time.Millisecond},
		{Kind: faultinject.Pause, Target: "w3", At: 100 * time.Millisecond, For: 100 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "master", At: 500 * time.Millisecond},
	}}
	res := runNode(t, harness.Config{Run: spec.Run{Workers: 3, Ops: 400, Seed: 9, Plan: plan, Think: time.Millisecond}},
		spec.NodeTarget{Adapter: fixture("tinystore-control.js")})
	requireSound(t, res)
	if res.FaultsHappened != 4 {
		t.Errorf("%d of 4 faults happened: %v", res.FaultsHappened, res.Missed)
	}
	ev := events(res.History)
	if ev[history.EventMasterRestart] != 1 || ev[history.EventKill] < 2 || ev[history.EventPause] != 1 {
		t.Errorf("events %v: want a master restart, two kills or more, a pause", ev)
	}
	if len(res.Masters) != 2 {
		t.Errorf("%d master generations, want 2", len(res.Masters))
	}
}

// TestNodeReferenceRow runs Node workers (shmlab's own client in the
// article's wire format) against the Go reference master under message
// and process faults: the Node path must raise no false alarm.
func TestNodeReferenceRow(t *testing.T) {
	plan := &faultinject.Plan{Seed: 4, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Delay, P: 0.05, Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: time.Millisecond, Max: 5 * time.Millisecond}},
		{Kind: faultinject.Duplicate, P: 0.05, Copies: 1},
		{Kind: faultinject.Reorder, P: 0.05},
		{Kind: faultinject.Drop, P: 0.01},
	}, Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Kill, Target: "w1", At: 150 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "w2", At: 100 * time.Millisecond},
		{Kind: faultinject.Pause, Target: "w3", At: 50 * time.Millisecond, For: 100 * time.Millisecond},
	}}
	res := runNode(t, harness.Config{Run: spec.Run{Workers: 3, Ops: 300, Seed: 2, Plan: plan, Think: time.Millisecond, CallTimeout: 300 * time.Millisecond}},
		spec.NodeTarget{Master: spec.ReferenceMaster})
	requireSound(t, res)
	if res.FaultsHappened != 3 || len(res.Records) == 0 {
		t.Errorf("%d of 3 process faults happened (%v), %d message fault records", res.FaultsHappened, res.Missed, len(res.Records))
	}
	if len(res.LeftOut) != 0 {
		t.Errorf("left out %v: the reference client has every method", res.LeftOut)
	}
}

// TestNodeLivenessCaught runs flawed adapters: a callback that never
// fires is a call never answered, a primary that throws is a crash,
// each by the liveness check, naming the call or the exit.
func TestNodeLivenessCaught(t *testing.T) {
	for _, tc := range []struct{ flaw, adapter, check, want string }{
		{"never-fires", "tinystore-drop-gets.js", linearizability.LivenessNeverAnswered, "was never answered"},
		{"crash", "tinystore-crash-at-40.js", linearizability.LivenessCrashed, "crashed on purpose at message 40"},
	} {
		t.Run(tc.flaw, func(t *testing.T) {
			t.Parallel()
			res := runNode(t, harness.Config{Run: spec.Run{Workers: 2, Ops: 60, Seed: 1, CallTimeout: 500 * time.Millisecond}},
				spec.NodeTarget{Adapter: fixture(tc.adapter)})
			r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second})
			var texts []string
			for _, v := range r.Liveness {
				if v.Check == tc.check {
					texts = append(texts, v.Text)
				}
			}
			if len(texts) == 0 || !strings.Contains(strings.Join(texts, "\n"), tc.want) {
				t.Fatalf("liveness %+v: want a %s violation saying %q", r.Liveness, tc.check, tc.want)
			}
		})
	}
}

// TestNodeBadAdapter: an adapter whose worker hook throws, or that is
// missing, makes the run fail with a clear error (the thrown message, the
// missing file), not a hang or a verdict.
func TestNodeBadAdapter(t *testing.T) {
	nodetest.Node(t)
	for _, tc := range []struct{ adapter, want string }{
		{fixture("throws-adapter.js"), "no client here: the adapter is broken"},
		{fixture("no-such-adapter.js"), "no-such-adapter.js: no such file"},
	} {
		cfg := harness.Config{Run: spec.Run{Workers: 2, Ops: 5, Target: spec.Target{Kind: spec.Node,
			Node: spec.NodeTarget{Adapter: tc.adapter, Path: tc.adapter}}}, Dir: t.TempDir()}
		_, err := harness.Run(t.Context(), cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, harness.ErrNodeTarget) {
			t.Errorf("adapter %s: error %v, want ErrNodeTarget saying %q", tc.adapter, err, tc.want)
		}
	}
}
