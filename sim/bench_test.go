package sim

import (
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/spec"
)

// benchPlan has a fault of every message kind, each hitting a message
// with probability p.
func benchPlan(p float64) *faultinject.Plan {
	if p == 0 {
		return nil
	}
	return &faultinject.Plan{Messages: []faultinject.MessageFault{
		{Kind: faultinject.Drop, P: p}, {Kind: faultinject.Duplicate, P: p},
		{Kind: faultinject.Delay, P: p, Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: time.Millisecond, Max: 300 * time.Millisecond}},
		{Kind: faultinject.Reorder, P: p},
		{Kind: faultinject.Corrupt, P: p / 2, Corruption: faultinject.CorruptFrame},
	}}
}

var benchFaults = []struct {
	name string
	p    float64
}{{"none", 0}, {"light", 0.002}, {"heavy", 0.01}}

// BenchmarkSimOps: simulated operations per second on one core (run it
// with -cpu 1), with the history recorded and every message decided,
// without the check. light faults hit about 1% of messages, heavy 4.5%.
func BenchmarkSimOps(b *testing.B) {
	for _, f := range benchFaults {
		b.Run("faults="+f.name, func(b *testing.B) {
			ops := 0
			for i := 0; b.Loop(); i++ {
				r, err := Run(Config{Run: spec.Run{Seed: uint64(i), Workers: 8, Ops: 5000, Plan: benchPlan(f.p), RetryAfter: 50 * time.Millisecond}, NoCheck: true})
				if err != nil {
					b.Fatal(err)
				}
				ops += r.Ops
			}
			b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkSeeds: scenarios of 1000 operations (4 workers × 250) under
// swarm-drawn faults, checker included, as Sweep runs them: one per
// processor (-cpu 1,2 compares one core with the machine).
func BenchmarkSeeds(b *testing.B) {
	const batch = 64
	seeds, next := 0, uint64(1)
	for b.Loop() {
		base := Config{Run: spec.Run{Seed: next, Workers: 4, Ops: 250, RetryAfter: 50 * time.Millisecond}}
		err := Sweep(base, batch, 0, Swarm, func(cfg Config, r *Result) bool {
			if r.Failed() {
				b.Fatalf("seed %d: %v", cfg.Seed, r.Check)
			}
			seeds++
			return true
		})
		if err != nil {
			b.Fatal(err)
		}
		next += batch
	}
	b.ReportMetric(float64(seeds)/b.Elapsed().Minutes(), "seeds/min")
}
