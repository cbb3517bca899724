package sim

import (
	"testing"

	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// TestIncrementsLoseUpdates: increments done as get then set lose updates
// under contention, and the check says so; add does not.
func TestIncrementsLoseUpdates(t *testing.T) {
	lost := 0
	for seed := range uint64(10) {
		r := mustRun(t, Config{Run: spec.Run{Seed: seed, Workers: 4, Ops: 100, Keys: []string{"n"}, Mix: workload.Mix{Incr: 1}}})
		if r.Failed() {
			lost++
		}
		if a := mustRun(t, Config{Run: spec.Run{Seed: seed, Workers: 4, Ops: 100, Keys: []string{"n"}, Mix: workload.Mix{Add: 1}}}); a.Failed() {
			t.Fatalf("seed %d: add failed: %v", seed, a.Check)
		}
	}
	if lost == 0 {
		t.Error("no seed of 10 reported a lost update")
	}
}
