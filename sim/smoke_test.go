package sim

import (
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
)

func TestSmoke(t *testing.T) {
	plan := &faultinject.Plan{Messages: []faultinject.MessageFault{
		{Kind: faultinject.Drop, P: 0.02}, {Kind: faultinject.Duplicate, P: 0.02},
		{Kind: faultinject.Delay, P: 0.02, Delay: faultinject.Dist{Kind: faultinject.Fixed, Min: 300 * time.Millisecond}},
		{Kind: faultinject.Reorder, P: 0.02},
		{Kind: faultinject.Corrupt, P: 0.01, Corruption: faultinject.CorruptFrame},
	}, Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Restart, Target: "w1", At: 5 * time.Millisecond, For: time.Millisecond},
		{Kind: faultinject.Pause, Target: "master", At: 8 * time.Millisecond, For: 300 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "master", At: 20 * time.Millisecond, For: time.Millisecond},
	}}
	for _, bugs := range []shm.Bugs{0, shm.BugNoDedup, shm.BugAddGetSet, shm.BugWrapIDs, shm.BugReadCache} {
		for seed := range uint64(5) {
			p := *plan
			r, err := Run(Config{Seed: seed, Workers: 4, Ops: 250, Plan: &p, Bugs: bugs, RetryAfter: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v seed %d: ops %d events %d virtual %v wall %v verdict %v faults %d hash %s", bugs, seed, r.Ops, r.Events, r.Virtual, r.Wall, r.Check.Verdict, len(r.Records), r.Hash())
		}
	}
}
