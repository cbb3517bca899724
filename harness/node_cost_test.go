package harness_test

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/spec"
)

// TestNodePackageCost measures what shmlab's Node package costs on a
// 10,000-operation run (4 workers of 2,500): the wall time of the same
// library and cluster with no shmlab around it (the floor), of a
// shmlab run without message faults, and of one whose fault wrappers
// decide every message (a plan whose one fault almost never fires),
// interleaved, SHMLAB_NODE_COST runs each; it prints medians and the
// spread. It is skipped unless SHMLAB_NODE_COST is set.
func TestNodePackageCost(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("SHMLAB_NODE_COST"))
	if runs <= 0 {
		t.Skip("set SHMLAB_NODE_COST=RUNS to measure the Node package's cost")
	}
	bin := nodetest.Node(t)
	const workers, ops = 4, 2500
	wrapped := &faultinject.Plan{Seed: 1, Messages: []faultinject.MessageFault{{Kind: faultinject.Drop, P: 1e-12}}}
	kinds := []string{"floor", "shmlab", "shmlab+faults"}
	times := map[string][]time.Duration{}
	for range runs {
		for _, k := range kinds {
			start := time.Now()
			switch k {
			case "floor":
				if out, err := exec.Command(bin, fixture("baseline.js"), strconv.Itoa(workers), strconv.Itoa(ops)).CombinedOutput(); err != nil {
					t.Fatalf("baseline: %v\n%s", err, out)
				}
			default:
				cfg := harness.Config{Run: spec.Run{Workers: workers, Ops: ops, Seed: 1}}
				if k == "shmlab+faults" {
					cfg.Plan = wrapped
				}
				res := runNodeQuiet(t, cfg)
				if n := len(res.History.Ops); n < workers*ops {
					t.Fatalf("%s: %d operations, want %d", k, n, workers*ops)
				}
			}
			times[k] = append(times[k], time.Since(start))
		}
	}
	for _, k := range kinds {
		d := slices.Clone(times[k])
		slices.Sort(d)
		med := d[len(d)/2]
		t.Logf("%-14s median %v (%.1f µs/op), spread %v..%v over %d runs", k, med.Round(time.Millisecond),
			float64(med.Microseconds())/(workers*ops), d[0].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond), len(d))
	}
}

// runNodeQuiet is runNode without the log lines.
func runNodeQuiet(t *testing.T, cfg harness.Config) *harness.Result {
	t.Helper()
	cfg.Target = spec.Target{Kind: spec.Node, Node: spec.NodeTarget{Adapter: "tinystore-control.js", Path: fixture("tinystore-control.js")}}
	cfg.Dir, cfg.CallTimeout = t.TempDir(), 5*time.Second
	res, err := harness.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Problems(); err != nil {
		t.Fatal(err)
	}
	return res
}
