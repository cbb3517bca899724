package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/shmlab/shmlab/linearizability"
)

// Options change how a suite runs.
type Options struct {
	// Mode, if set, runs every scenario in that mode (process, sim or
	// both) instead of its own; a scenario that cannot run there (byte
	// faults in sim) is skipped in it.
	Mode Mode
	// Seeds, if set, replaces every scenario's seeds.
	Seeds []uint64
	// Timeout bounds each run, checking included (0: none).
	Timeout time.Duration
}

// Result is one scenario in one mode: its runs, and whether they met
// what the scenario expects.
type Result struct {
	Scenario *Scenario
	Mode     Mode
	Outcomes []*Outcome
	// Met says the expectation was met: every seed passed (pass), or one
	// did not (violation). Inconclusive says that a check ran out of
	// time, so it could not be decided; Errors counts the runs that
	// failed to run at all (Outcome.Err).
	Met, Inconclusive bool
	Errors            int
	// Violations counts the seeds with a violation; FirstViolation is
	// the first of them.
	Violations     int
	FirstViolation uint64
	// Ops, Wall and CheckTime sum the runs'.
	Ops             int
	Wall, CheckTime time.Duration
}

// Verdict says in a word how it went: "pass", "caught", "FAILED",
// "MISSED" (a violation expected and not found), "ERROR" (a run failed)
// or "unknown".
func (r *Result) Verdict() string {
	switch {
	case r.Errors > 0 && !r.Met:
		return "ERROR"
	case r.Inconclusive && !r.Met:
		return "unknown"
	case r.Met && r.Scenario.Expect == ExpectViolation:
		return "caught"
	case r.Met:
		return "pass"
	case r.Scenario.Expect == ExpectViolation:
		return "MISSED"
	}
	return "FAILED"
}

// Failures returns the outcomes against the expectation: the violations
// of a scenario that expects none (and runs that failed).
func (r *Result) Failures() []*Outcome {
	var out []*Outcome
	for _, o := range r.Outcomes {
		if o.Err != nil || (r.Scenario.Expect != ExpectViolation && o.Verdict() == linearizability.Illegal) {
			out = append(out, o)
		}
	}
	return out
}

// Progress is told when a run starts (Outcome nil) and ends.
type Progress func(sc *Scenario, mode Mode, seed uint64, done *Outcome)

// RunSuite runs each scenario in its modes, seed after seed, and returns
// one Result per scenario and mode, in order. A scenario that expects a
// violation stops at its first one.
func RunSuite(ctx context.Context, scs []*Scenario, opts Options, progress Progress) []*Result {
	var out []*Result
	for _, sc := range scs {
		for _, m := range opts.modes(sc) {
			out = append(out, runOne(ctx, sc, m, opts, progress))
		}
	}
	return out
}

// modes returns the modes sc runs in under opts.
func (o Options) modes(sc *Scenario) []Mode {
	want := sc.Mode
	if o.Mode != "" {
		want = o.Mode
	}
	var out []Mode
	for _, m := range want.Modes() {
		if m == Sim && len(sc.Faults.Bytes) > 0 {
			continue // byte faults need real streams
		}
		out = append(out, m)
	}
	return out
}

func runOne(ctx context.Context, sc *Scenario, m Mode, opts Options, progress Progress) *Result {
	r := &Result{Scenario: sc, Mode: m}
	seeds := sc.Seeds.All()
	if len(opts.Seeds) > 0 {
		seeds = opts.Seeds
	}
	for _, seed := range seeds {
		if progress != nil {
			progress(sc, m, seed, nil)
		}
		o := runSeed(ctx, sc, m, seed, opts.Timeout)
		if progress != nil {
			progress(sc, m, seed, o)
		}
		r.add(o)
		if r.Violations > 0 && sc.Expect == ExpectViolation {
			break
		}
	}
	r.Met = r.met()
	return r
}

func runSeed(ctx context.Context, sc *Scenario, m Mode, seed uint64, timeout time.Duration) *Outcome {
	if timeout <= 0 {
		return sc.Run(ctx, m, seed)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	o := sc.Run(ctx, m, seed)
	if o.Err != nil && ctx.Err() != nil {
		o.Err = fmt.Errorf("the run took longer than --timeout %v: %w", timeout, o.Err)
	}
	return o
}

func (r *Result) add(o *Outcome) {
	r.Outcomes = append(r.Outcomes, o)
	r.Ops += o.Ops
	r.Wall += o.Wall
	r.CheckTime += o.CheckTime
	switch {
	case o.Err != nil:
		r.Errors++
	case o.Verdict() == linearizability.Illegal:
		if r.Violations++; r.Violations == 1 {
			r.FirstViolation = o.Seed
		}
	case o.Verdict() == linearizability.Unknown:
		r.Inconclusive = true
	}
}

func (r *Result) met() bool {
	if r.Scenario.Expect == ExpectViolation {
		return r.Violations > 0
	}
	return r.Violations == 0 && !r.Inconclusive && r.Errors == 0
}
