package sim

import (
	"testing"
	"time"

	"github.com/shmlab/shmlab/shm"
)

func TestShrinkBugs(t *testing.T) {
	for _, bug := range []shm.Bugs{shm.BugNoDedup, shm.BugAddGetSet, shm.BugWrapIDs, shm.BugReadCache} {
		t.Run(bug.String(), func(t *testing.T) {
			began := time.Now()
			var found *Config
			for seed := uint64(1); seed < 200 && found == nil; seed++ {
				cfg := Swarm(Config{Seed: seed, Workers: 3, Ops: 50, Bugs: bug, RetryAfter: 20 * time.Millisecond, CallTimeout: 100 * time.Millisecond})
				r, err := Run(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if r.Failed() {
					found = &cfg
					t.Logf("found at seed %d after %v", seed, time.Since(began))
				}
			}
			if found == nil {
				t.Fatal("not found")
			}
			c, r, err := Shrink(*found, 2000)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("shrunk in %v to %d ops, plan %+v\n%s", time.Since(began), len(r.History.Ops), c.Plan, r.Check.Details())
		})
	}
}
