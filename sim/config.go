package sim

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// Config is one simulated run: a run spec (spec.Run, whose fields are
// Config's: cfg.Workers) and what only the simulator has. The zero value
// (with a seed) is usable: one worker making 100 operations on three
// keys, no faults. Its Plan's byte faults need real streams (a plan with
// some is refused); its Target must be the reference.
type Config struct {
	spec.Run
	// Script, if set, replaces the drawn workload: worker i (named
	// "w<i+1>") makes the operations of Script[i] in order, a restarted
	// incarnation going on where the last one stopped. A shrunk
	// counterexample is a script.
	Script [][]workload.Op `json:"script,omitempty"`
	// Latency is the one-way latency of a message (20µs if 0); each
	// message draws from Latency to twice Latency, a link staying in
	// order.
	Latency time.Duration `json:"latency,omitempty"`
	// Grid, if set, puts the run on a grid of that step: a message takes
	// no time (Latency must be 0), and each think time is drawn in whole
	// steps, from 1 to Think (which must be a whole number of them, 1 or
	// more). An operation is then called, applied by the store and
	// answered at one instant of the grid, its worker's own (a worker's
	// operations at one instant would all be concurrent to the check,
	// which cannot tell their order), and its history records it: the
	// checker knows to the nanosecond when the store applied it, so that
	// a read lands on an entry's very instant of expiry (a TTL of whole
	// milliseconds on a grid of 1ms). A fault's delay is drawn as ever.
	Grid time.Duration `json:"grid,omitempty"`
	// Pipeline is how many calls each worker keeps in flight on its one
	// client (0 or 1: one at a time, as the workers of process mode): it
	// has that many lanes, each making Ops operations of a workload
	// stream of its own, one at a time, and recorded as a worker of its
	// own in the history ("w1.0", "w1.1", … for w1). A pipelined run
	// reaches what one call at a time cannot: a call still pending while
	// its worker's later calls go round the client's table of ids, and
	// acks that move while a call is resent. It takes no Script.
	Pipeline int `json:"pipeline,omitempty"`
	// NoCheck skips the check: Result.Check is nil. CheckTimeout bounds
	// the linearizability search (none if 0): past it the verdict is
	// Unknown.
	NoCheck      bool          `json:"-"`
	CheckTimeout time.Duration `json:"-"`
}

// MaxPipeline bounds Config.Pipeline.
const MaxPipeline = spec.MaxPipeline

// lanes is how many calls each worker keeps in flight.
func (c *Config) lanes() int { return max(c.Pipeline, 1) }

// withDefaults returns c with its defaults filled in.
func (c Config) withDefaults() Config {
	if c.Scenario == "" {
		c.Scenario = "sim"
	}
	c.Workers = max(c.Workers, 1, len(c.Script))
	switch {
	case c.Ops == 0 && c.Duration > 0:
		c.Ops = DurationOps
	case c.Ops == 0:
		c.Ops = 100
	}
	if len(c.Keys) == 0 {
		c.Keys = []string{"a", "b", "c"}
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 200 * time.Millisecond
	}
	if c.Latency <= 0 && c.Grid <= 0 {
		c.Latency = 20 * time.Microsecond
	}
	c.Store.Bugs |= c.Bugs & shm.StoreBugs
	return c
}

// Validate reports what is wrong with c.
func (c *Config) Validate() error {
	var errs []error
	if c.Workers < 0 || c.Ops < 0 || c.Duration < 0 || c.Think < 0 || c.RetryAfter < 0 || c.CallTimeout < 0 || c.Latency < 0 || c.Grid < 0 {
		errs = append(errs, errors.New("negative workers, ops or duration"))
	}
	errs = append(errs, checkGrid(c.Grid, c.Latency, c.Think))
	if max(c.Think, c.RetryAfter, c.CallTimeout, c.Latency) > MaxWait {
		errs = append(errs, fmt.Errorf("think, retry, call timeout and latency are at most %v each", MaxWait))
	}
	errs = append(errs, checkKeys(c.Keys))
	if err := c.Mix.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Shape.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch {
	case c.Pipeline < 0 || c.Pipeline > MaxPipeline:
		errs = append(errs, fmt.Errorf("pipeline %d: want 1 to %d calls in flight per worker", c.Pipeline, MaxPipeline))
	case c.Pipeline > 1 && c.Script != nil:
		errs = append(errs, errors.New("a script makes one call at a time: it takes no pipeline"))
	}
	if c.Workers > MaxWorkers {
		errs = append(errs, fmt.Errorf("%d workers (at most %d)", c.Workers, MaxWorkers))
	}
	if n := int64(max(c.Workers, 1, len(c.Script))) * int64(max(c.Pipeline, 1)) * int64(max(c.Ops, longestScript(c.Script))); n > MaxOps {
		errs = append(errs, fmt.Errorf("%d operations in all (workers × ops; at most %d)", n, MaxOps))
	}
	if err := c.Store.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, checkScript(c.Script), spec.CheckCodec(c.Codec, c.Target))
	if !c.Target.IsReference() {
		errs = append(errs, fmt.Errorf("target %v: the simulator runs the reference only", c.Target))
	}
	if c.MaxFrame != 0 {
		errs = append(errs, errors.New("a frame limit (max_frame) is the master's, and the simulator has no master (run it in process mode)"))
	}
	if p := c.Plan; p != nil {
		errs = append(errs, p.Validate())
		if len(p.Bytes) > 0 {
			errs = append(errs, errors.New("byte faults need real streams (run them in process mode)"))
		}
		if slices.ContainsFunc(p.Processes, func(f faultinject.ProcessFault) bool { return f.Kind == faultinject.Poison }) {
			errs = append(errs, errors.New("poison faults need real processes: their frames are raw bytes no simulated worker sends (run them in process mode)"))
		}
		errs = append(errs, c.checkTargets())
	}
	return errors.Join(errs...)
}

// DurationOps caps each worker's operations in a run with a Duration and
// no Ops.
const DurationOps = spec.DurationOps

// MaxWorkers, MaxOps and MaxWait are spec's bounds of a run
// (spec.MaxRunWorkers, spec.MaxRunOps, spec.MaxWait).
const (
	MaxWorkers = spec.MaxRunWorkers
	MaxOps     = spec.MaxRunOps
	MaxWait    = spec.MaxWait
)

// checkKeys reports a key named twice: the workload draws keys by their
// place, and a history could not tell the two apart.
func checkKeys(keys []string) error {
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			return fmt.Errorf("key %q is named twice", k)
		}
		seen[k] = true
	}
	return nil
}

// checkScript checks that each operation of a script can be sent.
func checkScript(script [][]workload.Op) error {
	for w, ops := range script {
		for i := range ops {
			if err := ops[i].Validate(); err != nil {
				return fmt.Errorf("script[%d][%d]: %w", w, i, err)
			}
		}
	}
	return nil
}

// checkTargets checks that the process faults name the master or a worker.
func (c *Config) checkTargets() error {
	workers := max(c.Workers, 1, len(c.Script))
	for i, f := range c.Plan.Processes {
		if !faultinject.IsTarget(f.Target, workers) {
			return fmt.Errorf("processes[%d]: target %q is neither master nor a worker w1..w%d", i, f.Target, workers)
		}
	}
	return nil
}

// workerName is the name of worker i (from 0): "w1", "w2", …
func workerName(i int) string { return fmt.Sprintf("w%d", i+1) }

// workerIndex is the index of the worker named name.
func workerIndex(name string) (int, bool) {
	n, ok := faultinject.WorkerNumber(name)
	return n - 1, ok
}

// checkGrid reports a grid that cannot hold: one with a latency (its
// messages take no time), or a think time that is not a whole number of
// its steps, or none (a worker's operations would share one instant).
func checkGrid(grid, latency, think time.Duration) error {
	switch {
	case grid <= 0:
		return nil
	case latency != 0:
		return fmt.Errorf("a grid of %v and a latency of %v: on a grid, messages take no time", grid, latency)
	case think == 0 || think%grid != 0:
		return fmt.Errorf("think %v is not a whole number of grid steps of %v, 1 or more", think, grid)
	}
	return nil
}
