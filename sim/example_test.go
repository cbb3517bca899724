package sim_test

import (
	"fmt"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
)

// A run with lost and duplicated messages: the reference stays
// linearizable, and the same seed gives the same history.
func ExampleRun() {
	cfg := sim.Config{
		Run: spec.Run{Seed: 42, Workers: 3, Ops: 100, RetryAfter: 20 * time.Millisecond, Plan: &faultinject.Plan{Messages: []faultinject.MessageFault{
			{Kind: faultinject.Drop, P: 0.05},
			{Kind: faultinject.Duplicate, P: 0.05},
		}}},
	}
	a, _ := sim.Run(cfg)
	b, _ := sim.Run(cfg)
	fmt.Println(a.Check.Verdict, a.Ops, a.Hash() == b.Hash())
	// Output: ok 300 true
}

// Hunting a broken variant: the first failing swarm seed, shrunk to a
// small counterexample.
func ExampleShrink() {
	for seed := uint64(1); ; seed++ {
		cfg := sim.Swarm(sim.Config{Run: spec.Run{Seed: seed, Workers: 3, Ops: 50, Bugs: shm.BugNoDedup, RetryAfter: 20 * time.Millisecond}})
		r, _ := sim.Run(cfg)
		if !r.Failed() {
			continue
		}
		_, small, _ := sim.Shrink(cfg, 2000)
		fmt.Println(sim.Ops(small.History) <= 10, small.Check.Verdict)
		return
	}
	// Output: true illegal
}
