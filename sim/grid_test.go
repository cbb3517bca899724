package sim

import (
	"testing"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// TestGrid: on a grid, every worker's operation is called and answered
// at one instant, a whole number of steps (the final reads come after); reads land on the very instant a
// TTL'd write of their key expires; and the reference passes there.
func TestGrid(t *testing.T) {
	const step = time.Millisecond
	cfg := Config{Run: spec.Run{Seed: 3, Workers: 2, Ops: 120, Think: 2 * step, Keys: []string{"a", "b"},
		Mix: workload.Mix{Get: 6, Set: 2, CAS: 1}, Shape: workload.Shape{TTL: 2 * step}}, Grid: step}
	r := mustRun(t, cfg)
	if r.Failed() {
		t.Fatalf("%v\n%s", r.Check, r.Check.Details())
	}
	expiries := map[string]map[int64]bool{} // key: the instants its TTL'd writes expire at
	landed := 0
	for _, op := range r.History.Ops {
		if op.Worker == FinalReader {
			continue
		}
		if op.Call != op.Return || op.Call%int64(step) != 0 {
			t.Fatalf("op %d (%s %s %s) called at %d and answered at %d: want one instant on the grid of %v", op.ID, op.Worker, op.Method, op.Key, op.Call, op.Return, step)
		}
		switch {
		case op.Method == history.Get && expiries[op.Key][op.Call]:
			landed++
		case op.Input.TTL > 0:
			if expiries[op.Key] == nil {
				expiries[op.Key] = map[int64]bool{}
			}
			expiries[op.Key][op.Call+op.Input.TTL*int64(time.Millisecond)] = true
		}
	}
	if landed == 0 {
		t.Errorf("no read of %d operations landed on an expiry instant", len(r.History.Ops))
	}
}
