package sim

import (
	"fmt"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// MarshalScenario returns cfg as a scenario file (spec.Marshal), which
// `shmlab run` and `shmlab sim` run. In the simulator the file makes the
// same run as cfg, bit for bit (the same Result.Hash): it names
// everything the run depends on, the defaults filled in, each operation
// of a Script and each fault as it is, in mode sim with cfg's seed as
// its one seed and expecting a pass. Replay, NoCheck and CheckTimeout
// are not written.
//
// It fails on a config that is not valid (Config.Validate), and on what
// the format cannot hold: an operation with a field its method does not
// use, text that is not UTF-8.
func MarshalScenario(cfg Config) ([]byte, error) {
	c := cfg.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	text, err := spec.Marshal(Scenario(c))
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return text, nil
}

// Scenario returns the scenario of a config whose defaults are filled
// in: what MarshalScenario writes.
func Scenario(c Config) *spec.Scenario {
	drawn := c.Script == nil
	sc := &spec.Scenario{
		Name:        c.Scenario,
		Description: describe(c),
		Mode:        spec.Sim,
		Duration:    c.Duration,
		Keys:        spec.Keys{Names: c.Keys},
		Store:       spec.Store{Entries: c.Store.MaxEntries, Bytes: c.Store.MaxBytes, DedupWindow: c.Store.DedupWindow},
		Timeout:     c.CallTimeout,
		Retry:       c.RetryAfter,
		Latency:     c.Latency,
		Grid:        c.Grid,
		Pipeline:    c.Pipeline,
		Think:       c.Think,
		Codec:       c.Codec,
		Seeds:       spec.Seeds{List: []uint64{c.Seed}},
		Expect:      spec.ExpectPass,
	}
	if bugs := c.Bugs | c.Store.Bugs; bugs != 0 {
		sc.Variant = bugs.String()
	}
	if drawn {
		sc.Workers, sc.Ops, sc.Mix = c.Workers, c.Ops, c.Mix
		sc.Values = spec.Values{Min: c.Shape.ValueMin, Max: c.Shape.ValueMax, Falsy: c.Shape.Falsy, Edges: c.Shape.Edges}
		sc.Store.TTL, sc.Store.TTLShare = c.Shape.TTL, c.Shape.TTLShare
		if c.Shape.Hot > 0 {
			sc.Keys.Distribution, sc.Keys.Hot = "hot", c.Shape.Hot
		}
	} else {
		sc.Script = make(spec.Script, c.Workers)
		for w := range sc.Script {
			sc.Script[w] = []workload.Op{}
			if w < len(c.Script) && len(c.Script[w]) > 0 {
				sc.Script[w] = c.Script[w]
			}
		}
	}
	if p := c.Plan; p != nil && len(p.Messages)+len(p.Processes) > 0 {
		sc.Faults = faultinject.Plan{Seed: p.Seed, Messages: p.Messages, Processes: p.Processes}
	}
	return sc
}

// describe says in a sentence what the run is made of.
func describe(c Config) string {
	faults := 0
	if c.Plan != nil {
		faults = len(c.Plan.Messages) + len(c.Plan.Processes)
	}
	if c.Script == nil {
		return fmt.Sprintf("A simulator run: %s of %s each, %s.", count(c.Workers, "worker"), count(c.Ops, "operation"), count(faults, "fault"))
	}
	return fmt.Sprintf("A simulator run: %s by %s (a script), %s.", count(scriptLen(c.Script), "operation"), count(c.Workers, "worker"), count(faults, "fault"))
}

// count says "no faults", "1 fault", "2 faults".
func count(n int, noun string) string {
	switch n {
	case 0:
		return "no " + noun + "s"
	case 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func scriptLen(s [][]workload.Op) int {
	n := 0
	for _, ops := range s {
		n += len(ops)
	}
	return n
}
