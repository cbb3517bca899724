package harness_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// TestNodeLockReleasedAtEnd: with increments alone and an odd number of
// operations, each worker's last operation is an increment's read, made
// under the lock, whose write never comes. A correct lock library
// (tinystore, the fixtures' control) must still pass: the first worker
// to finish lets its lock go, or the others' next increments of the key
// are never answered.
func TestNodeLockReleasedAtEnd(t *testing.T) {
	adapter := filepath.Join("..", "node", "testdata", "fixtures", "tinystore-control.js")
	res := runNode(t, harness.Config{Run: spec.Run{Workers: 3, Ops: 41, Seed: 1, Keys: []string{"visits"},
		Mix: workload.Mix{Incr: 1}, CallTimeout: time.Second}}, spec.NodeTarget{Adapter: adapter})
	if err := res.Problems(); err != nil {
		t.Fatal(err)
	}
	r := linearizability.Check(res.History, linearizability.Options{Timeout: 20 * time.Second})
	if r.Verdict != linearizability.Ok {
		t.Fatalf("%v\n%s", r, r.Details())
	}
	for _, w := range res.Workers {
		if w.Ops != 41 {
			t.Errorf("worker %s made %d calls, want 41", w.Name, w.Ops)
		}
	}
}
