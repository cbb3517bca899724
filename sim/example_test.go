package sim_test

import (
	"fmt"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
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

// A run on a grid of 1ms: messages take no time, so each operation is
// called, applied and answered at one instant of the grid, and the
// check knows when each entry written with a TTL expires, to the
// nanosecond: the read at 3ms is at the very instant the first write
// expires.
func ExampleConfig_grid() {
	r, _ := sim.Run(sim.Config{
		Run:  spec.Run{Seed: 1, Workers: 1, Ops: 4, Think: 2 * time.Millisecond, Keys: []string{"k"}, Mix: workload.Mix{Set: 1, Get: 1}, Shape: workload.Shape{TTL: 2 * time.Millisecond}},
		Grid: time.Millisecond,
	})
	for _, op := range r.History.Ops[:4] {
		fmt.Printf("%v to %v: %s, ttl %dms\n", time.Duration(op.Call), time.Duration(op.Return), op.Describe(), op.Input.TTL)
	}
	fmt.Println(r.Check.Verdict)
	// Output:
	// 1ms to 1ms: #1 w1/0 set("k", 100001000001) -> "OK", ttl 2ms
	// 3ms to 3ms: #2 w1/0 get("k") -> absent, ttl 0ms
	// 4ms to 4ms: #3 w1/0 get("k") -> absent, ttl 0ms
	// 5ms to 5ms: #4 w1/0 set("k", 100001000002) -> "OK", ttl 2ms
	// ok
}
