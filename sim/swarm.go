package sim

import (
	"math/rand/v2"
	"time"

	"github.com/shmlab/shmlab/faultinject"
)

// Swarm returns cfg with a fault plan drawn from its seed, as swarm
// testing does: each seed turns on a different subset of the fault kinds
// (drop, delay, duplicate, reorder, damaged frames and reply ids, worker
// and master kills, restarts and pauses), each at a strength of its own, so
// that runs explore different mixes rather than one average. The plan's
// faults are aimed at the run's expected span. Some seeds also get the
// aimed combinations of aimedFaults (late and duplicated messages a ring
// of ids later, a retry after a damaged first copy). cfg's own plan, if
// any, is replaced. A config without an edge share (Shape.Edges) gets one
// drawn from the seed too: none on a quarter of the seeds, else 0.02 to
// 0.3.
func Swarm(cfg Config) Config {
	if cfg.Shape.Edges == 0 {
		cfg.Shape.Edges = swarmEdges(cfg.Seed)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5a4a43))
	c := cfg.withDefaults()
	plan := &faultinject.Plan{Seed: cfg.Seed}
	for _, k := range messageKinds {
		if rng.IntN(2) == 0 {
			continue
		}
		f := faultinject.MessageFault{Kind: k.kind, Dir: k.dir, Corruption: k.corruption, P: 0.002 + 0.05*rng.Float64()*rng.Float64()}
		if k.kind == faultinject.Delay {
			f.Delay = faultinject.Dist{Kind: faultinject.Uniform, Max: time.Duration(1 + rng.Int64N(int64(2*c.CallTimeout)))}
		}
		plan.Messages = append(plan.Messages, f)
	}
	plan.Messages = append(plan.Messages, aimedFaults(cfg.Seed, c)...)
	span := time.Duration(c.Ops) * (3*c.Latency + c.Think/2)
	for range rng.IntN(4) {
		plan.Processes = append(plan.Processes, processFault(rng, c, span))
		if len(faultinject.Conflicts(plan.Processes)) > 0 {
			plan.Processes = plan.Processes[:len(plan.Processes)-1] // a scenario file would refuse it
		}
	}
	cfg.Plan = plan
	return cfg
}

// messageKinds are the message faults Swarm draws from: those a correct
// implementation must survive. A changed value (CorruptValue) and a
// request applied under another id (CorruptID on requests, a duplicate
// that at-most-once cannot see) are damage that only an integrity check
// could notice, which the protocol does not have: the checker must notice
// them instead, and swarms of them would fail every implementation.
var messageKinds = []struct {
	kind       faultinject.Kind
	dir        faultinject.Direction
	corruption faultinject.Corruption
}{
	{faultinject.Drop, "", ""}, {faultinject.Delay, "", ""}, {faultinject.Duplicate, "", ""},
	{faultinject.Reorder, "", ""}, {faultinject.Corrupt, "", faultinject.CorruptFrame},
	{faultinject.Corrupt, faultinject.Replies, faultinject.CorruptID},
}

// SwarmFaults returns the message faults Swarm draws from, those a
// correct implementation must survive, as faults of each kind, direction
// and corruption with nothing else set (no probability, no target).
func SwarmFaults() []faultinject.MessageFault {
	fs := make([]faultinject.MessageFault, len(messageKinds))
	for i, k := range messageKinds {
		fs[i] = faultinject.MessageFault{Kind: k.kind, Dir: k.dir, Corruption: k.corruption}
	}
	return fs
}

// processFault draws a kill, restart or pause of a worker or the master
// within span.
func processFault(rng *rand.Rand, c Config, span time.Duration) faultinject.ProcessFault {
	f := faultinject.ProcessFault{Target: faultinject.MasterTarget, At: time.Duration(rng.Int64N(int64(span) + 1))}
	if rng.IntN(3) > 0 {
		f.Target = workerName(rng.IntN(c.Workers))
	}
	switch rng.IntN(5) {
	case 0:
		f.Kind = faultinject.Kill
	case 1, 2:
		f.Kind, f.For = faultinject.Restart, time.Duration(rng.Int64N(int64(span)/4+1))
	default:
		f.Kind, f.For = faultinject.Pause, time.Duration(1+rng.Int64N(int64(2*c.CallTimeout)))
	}
	return f
}

// swarmEdges draws an edge share for seed, from a generator of its own
// so that the fault plan drawn for a seed stays what it was.
func swarmEdges(seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, 0xed9e5))
	if rng.IntN(4) == 0 {
		return 0
	}
	return 0.02 + 0.28*rng.Float64()
}
