package harness_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/linearizability"
)

// nodeBin finds node, skipping the test without it, except under CI.
func nodeBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("node not found on PATH, and CI=true: %v", err)
	}
	t.Skipf("node not found on PATH: %v", err)
	return ""
}

// fixture is the path of a Node test fixture.
func fixture(t *testing.T, name string) string {
	p, err := filepath.Abs(filepath.Join("..", "node", "test", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runNode runs cfg on a Node target, failing t if the run could not be made.
func runNode(t *testing.T, cfg harness.Config, target harness.NodeTarget) *harness.Result {
	t.Helper()
	target.Node = nodeBin(t)
	cfg.Target = harness.Target{Node: &target}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 2 * time.Second // node processes on a busy machine
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
	res := runNode(t, harness.Config{Workers: workers, Ops: ops, Seed: 7}, harness.NodeTarget{Adapter: fixture(t, "memstore-adapter.js")})
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
	res := runNode(t, harness.Config{Workers: 4, Ops: 150, Seed: 3, Keys: []string{"n"}},
		harness.NodeTarget{Adapter: fixture(t, "memstore-incr-bug.js")})
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
