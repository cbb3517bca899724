package scenarios

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/spec"
)

// Options change how a suite runs.
type Options struct {
	// Mode, if set, runs every scenario in that mode (process, sim or
	// both) instead of its own; a scenario that cannot run there (byte
	// faults in sim; on processes, a script, or more than MaxWorkers
	// workers, which mode: sim allows) is skipped in it.
	Mode Mode
	// Seeds, if set, replaces every scenario's seeds.
	Seeds []uint64
	// Timeout bounds each run, checking included (0: none).
	Timeout time.Duration
	// Shard, if set, runs only this shard's cells (Shard).
	Shard Shard
}

// Result is one scenario in one mode: its runs, and whether they met
// what the scenario expects.
type Result struct {
	Scenario *Scenario
	Mode     Mode
	Outcomes []*Outcome
	// Cells counts the seeds dealt to this result (Outcomes may stop
	// short: a scenario that expects a violation stops at its first).
	Cells int
	// Met says the expectation was met: every seed passed (pass), or one
	// did not (violation). Inconclusive says that a check ran out of
	// time, so it could not be decided; Errors counts the runs that
	// failed to run at all (Outcome.Err).
	Met, Inconclusive bool
	Errors            int
	// Skipped, if set, says why the scenario did not run in Mode at all
	// (byte faults in the simulator; a script, or more workers than
	// MaxWorkers, on processes).
	Skipped string
	// Violations counts the seeds with a violation; FirstViolation is
	// the first of them.
	Violations     int
	FirstViolation uint64
	// Ops, Wall and CheckTime sum the runs'.
	Ops             int
	Wall, CheckTime time.Duration
	// FaultsPlanned and FaultsHappened sum the runs' process faults:
	// planned, and happened.
	FaultsPlanned, FaultsHappened int
}

// Verdict says in a word how it went: "pass", "caught" (a violation
// expected and found), "FAILED" (a violation where none was expected),
// "ERROR" (a run failed), "unknown" (a check ran out of time), "MISSED"
// (a violation expected and not found) or "skipped". The first that
// applies of FAILED, ERROR, unknown and MISSED is the verdict.
func (r *Result) Verdict() string {
	undecided := 0
	if r.Inconclusive {
		undecided = 1
	}
	return verdictOf(r.Scenario.Expect, r.Skipped != "", r.Violations, r.Errors, undecided)
}

// Unmet reports whether the result goes against the expectation for
// sure (FAILED, ERROR, MISSED), rather than being undecided or skipped.
func (r *Result) Unmet() bool {
	switch r.Verdict() {
	case "FAILED", "ERROR", "MISSED":
		return true
	}
	return false
}

// Failures returns the outcomes worth a look: the violations of a
// scenario that expects none, runs that failed, and checks that could not
// decide.
func (r *Result) Failures() []*Outcome {
	var out []*Outcome
	for _, o := range r.Outcomes {
		if o.Failed() {
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
	var k uint64 // the next cell
	for _, sc := range scs {
		seeds := sc.Seeds.All()
		if len(opts.Seeds) > 0 {
			seeds = opts.Seeds
		}
		modes, skipped := opts.modes(sc)
		for _, m := range modes {
			if mine := opts.Shard.take(&k, seeds); len(mine) > 0 {
				out = append(out, runOne(ctx, sc, m, mine, opts, progress))
			}
		}
		for _, r := range skipped { // a shard with a cell of it says it is skipped
			if mine := opts.Shard.take(&k, seeds); len(mine) > 0 {
				r.Cells = len(mine)
				out = append(out, r)
			}
		}
	}
	return out
}

// Cells returns how many cells (scenario × mode × seed, skipped modes
// included) of scs under opts are opts.Shard's, and how many there are
// in all shards together, as RunSuite deals them.
func Cells(scs []*Scenario, opts Options) (mine, total int) {
	var k uint64
	for _, sc := range scs {
		seeds := sc.Seeds.All()
		if len(opts.Seeds) > 0 {
			seeds = opts.Seeds
		}
		modes, skipped := opts.modes(sc)
		for range len(modes) + len(skipped) {
			mine += len(opts.Shard.take(&k, seeds))
		}
	}
	return mine, int(k)
}

// modes returns the modes sc runs in under opts, and the results of the
// modes it skips (cannotRun).
func (o Options) modes(sc *Scenario) (modes []Mode, skipped []*Result) {
	want := sc.Mode
	if o.Mode != "" {
		want = o.Mode
	}
	for _, m := range want.Modes() {
		if why := cannotRun(sc, m); why != "" {
			skipped = append(skipped, &Result{Scenario: sc, Mode: m, Skipped: why})
		} else {
			modes = append(modes, m)
		}
	}
	return modes, skipped
}

// cannotRun says why sc cannot run in mode m, or "" if it can: the
// simulator runs the reference only, byte faults and a frame limit
// (max_frame) need real streams and a master, a
// script is the simulator's, and real processes are bounded by
// MaxWorkers whatever the file's mode allows.
func cannotRun(sc *Scenario, m Mode) string {
	switch {
	case m == Sim && !sc.Target.IsReference():
		return fmt.Sprintf("sim mode runs the reference only; target %v runs in process mode", sc.Target)
	case m == Sim && len(sc.Faults.Bytes) > 0:
		return "byte faults need real streams: it runs in process mode only"
	case m == Sim && slices.ContainsFunc(sc.Faults.Processes, func(f faultinject.ProcessFault) bool { return f.Kind == faultinject.Poison }):
		return "poison faults need real processes (their frames are raw bytes no simulated worker sends): it runs in process mode only"
	case m == Sim && sc.MaxFrame > 0:
		return "max_frame is the master's frame limit, and the simulator has no master: it runs in process mode only"
	case m == Process && sc.Script != nil:
		return "a script runs in the simulator only"
	case m == Process && sc.NumWorkers() > spec.MaxWorkers:
		return fmt.Sprintf("%d workers: real processes run at most %d (mode: sim allows %d in the simulator)", sc.NumWorkers(), spec.MaxWorkers, spec.MaxSimWorkers)
	}
	return ""
}

func runOne(ctx context.Context, sc *Scenario, m Mode, seeds []uint64, opts Options, progress Progress) *Result {
	r := &Result{Scenario: sc, Mode: m, Cells: len(seeds)}
	for _, seed := range seeds {
		if progress != nil {
			progress(sc, m, seed, nil)
		}
		o := runSeed(ctx, sc, m, seed, opts.Timeout)
		if progress != nil {
			progress(sc, m, seed, o)
		}
		r.Add(o)
		if r.Violations > 0 && sc.Expect == ExpectViolation {
			break
		}
	}
	r.Met = r.met()
	return r
}

// NewResult returns the Result of runs of sc in mode m that the caller
// makes itself (shmlab sim's sweep): Add each, then Done.
func NewResult(sc *Scenario, m Mode) *Result { return &Result{Scenario: sc, Mode: m} }

// Done decides whether the runs added met the expectation.
func (r *Result) Done() { r.Met = r.met() }

func runSeed(ctx context.Context, sc *Scenario, m Mode, seed uint64, timeout time.Duration) *Outcome {
	if timeout <= 0 {
		return Run(ctx, sc, m, seed)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	o := Run(ctx, sc, m, seed)
	if o.Err != nil && ctx.Err() != nil {
		o.Err = fmt.Errorf("the run took longer than --timeout %v: %w", timeout, o.Err)
	}
	return o
}

// Add counts the run o in r.
func (r *Result) Add(o *Outcome) {
	r.Outcomes = append(r.Outcomes, o)
	r.Ops += o.Ops
	r.FaultsPlanned += o.FaultsPlanned
	r.FaultsHappened += o.FaultsHappened
	r.Wall += o.Wall
	r.CheckTime += o.CheckTime
	switch {
	case o.Err != nil:
		r.Errors++
	case o.Verdict() == linearizability.Illegal && !o.Expected():
		// a violation, but not of the check the scenario names: it
		// neither counts nor fails the run
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
