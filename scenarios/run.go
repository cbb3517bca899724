package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
)

// Outcome is one run of a scenario: one seed in one mode.
type Outcome struct {
	Scenario *Scenario
	Mode     Mode
	Seed     uint64
	// Ops is how many operations the history holds.
	Ops int
	// Check is the checkers' verdict (nil if Err).
	Check *linearizability.Result
	// History is what the run recorded (nil if Err).
	History *history.History
	// Wall is how long the run took, checking included; CheckTime the
	// check's part.
	Wall, CheckTime time.Duration
	// Err is why the run could not be done or checked: it decides nothing.
	Err error
	// Sim is the simulator's result (sim mode), for shrinking.
	Sim *sim.Result
	// Records are the run's fault decisions, for a replay.
	Records []faultinject.Record
	// Logs are the masters' log lines (process mode): connections ended,
	// worker exits, and what the workers wrote to their output.
	Logs []string
	// Start is when the run began.
	Start time.Time
	// Folder and Repro, once the run is saved (RunStore.Save, WriteFailure),
	// are its folder and the command that runs it again.
	Folder, Repro string
	// FaultsPlanned is how many process faults the scenario plans, and
	// FaultsHappened how many of them happened in the run. One that did
	// not is an Err naming it: the run did not test what the file says.
	FaultsPlanned, FaultsHappened int
	// LeftOut names the methods a Node target's adapter lacks: the
	// workload made none of them.
	LeftOut []string
	// Threw counts the calls of a Node target's adapter that threw or
	// rejected with no code of their own, naming the first ("" if none);
	// when every call of a method did, the run is an ErrAdapterBroken.
	Threw string
}

// Failed reports whether o goes against its scenario's expectation, or
// decides nothing: the run could not be done, its check could not
// decide, or it found a violation where none was expected.
func (o *Outcome) Failed() bool {
	v := o.Verdict()
	return o.Err != nil || v == linearizability.Unknown || (o.Scenario.Expect != ExpectViolation && v == linearizability.Illegal)
}

// Expected reports whether o's violation is of the check its scenario
// names (Scenario.ExpectCheck), or the scenario names none: only such a
// violation counts as caught. It is true of a run without a violation.
func (o *Outcome) Expected() bool {
	c := o.Scenario.ExpectCheck
	return c == "" || o.Check == nil || o.Check.Verdict != linearizability.Illegal || o.Check.Violates(c)
}

// Verdict is the outcome's verdict: Unknown if the run failed.
func (o *Outcome) Verdict() linearizability.Verdict {
	if o.Err != nil || o.Check == nil {
		return linearizability.Unknown
	}
	return o.Check.Verdict
}

// Run runs one seed of sc in mode (Process or Sim).
func Run(ctx context.Context, sc *Scenario, mode Mode, seed uint64) *Outcome {
	return run(ctx, sc, mode, seed, nil)
}

// run runs one seed, its message faults decided by replay if not nil.
func run(ctx context.Context, sc *Scenario, mode Mode, seed uint64, replay []faultinject.Record) *Outcome {
	began := time.Now()
	o := &Outcome{Scenario: sc, Mode: mode, Seed: seed, Start: began}
	switch why := cannotRun(sc, mode); {
	case why != "":
		o.Err = fmt.Errorf("scenario %s cannot run in %s mode: %s", sc.Name, mode, why)
	case mode == Sim:
		cfg := SimConfig(sc, seed)
		cfg.CheckTimeout, cfg.Replay = checkTimeout(ctx), replay
		o.runSim(cfg)
	case mode == Process:
		cfg := HarnessConfig(sc, seed)
		cfg.Replay = replay
		o.runProcess(ctx, cfg)
	default:
		o.Err = fmt.Errorf("scenario %s: mode %q is not process or sim", sc.Name, mode)
	}
	o.Wall = time.Since(began)
	return o
}

func (o *Outcome) runSim(cfg sim.Config) {
	o.FaultsPlanned = len(cfg.Plan.GetProcesses())
	r, err := sim.Run(cfg)
	if err != nil {
		o.Err = err
		return
	}
	o.FaultsHappened = r.FaultsHappened
	if err := MissedError(append(r.Missed, o.TallyMessages(cfg.Plan, r.Records)...)); !Stands(err, r.Check) {
		o.History, o.Ops, o.Records = r.History, len(r.History.Ops), r.Records // to look at
		o.Err = err
		return
	}
	o.Sim, o.History, o.Check, o.Ops, o.Records = r, r.History, r.Check, len(r.History.Ops), r.Records
	o.CheckTime = r.Check.Duration
}

// TallyMessages adds the message faults of p to o's planned faults, and
// those that fired (by recs) to its happened ones, and says why each of
// the others did not happen.
func (o *Outcome) TallyMessages(p *faultinject.Plan, recs []faultinject.Record) []string {
	missed := faultinject.MissedMessages(p, recs)
	if p != nil {
		o.FaultsPlanned += len(p.Messages)
		o.FaultsHappened += len(p.Messages) - len(missed)
	}
	return missed
}

// MissedError is the error of a run whose planned faults named in missed
// (each with why) did not happen, wrapping ErrFaultMissed; nil if none
// was missed.
func MissedError(missed []string) error {
	if len(missed) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrFaultMissed, strings.Join(missed, "; "))
}

// unfinished describes the process faults of h still in progress when
// it ends (a pause or a restart whose end lies past everything else the
// history holds): why a run that ran out of time did.
func unfinished(h *history.History) []string {
	var last int64
	for _, op := range h.Ops {
		last = max(last, op.Call, op.Return)
	}
	for _, e := range h.Events {
		last = max(last, e.Time)
	}
	var going []string
	for _, e := range h.Events {
		if e.End > last && (e.Kind == history.EventPause || e.Kind == history.EventRestart ||
			e.Kind == history.EventMasterRestart) {
			going = append(going, fmt.Sprintf("%s: %s", e.Kind, e.Text))
		}
	}
	return going
}

// ErrFaultMissed is the error of a run in which a planned process fault
// did not happen (its target was not running, or its time or point of
// progress did not come before the workload was over): the run did not
// test what its file says, so it decides nothing.
var ErrFaultMissed = errors.New("a planned fault did not happen")

func (o *Outcome) runProcess(ctx context.Context, cfg harness.Config) {
	o.FaultsPlanned = len(cfg.Plan.GetProcesses())
	r, err := harness.Run(ctx, cfg)
	if err != nil {
		o.Err = err
		if r != nil { // cut short: what happened until then, to look at
			o.History, o.Ops, o.Records, o.FaultsHappened = r.History, len(r.History.Ops), r.Records, r.FaultsHappened
			o.LeftOut = r.LeftOut
			o.TallyMessages(cfg.Plan, r.Records)
			for _, m := range r.Masters {
				o.Logs = append(o.Logs, m.Logs...)
			}
			if going := unfinished(r.History); len(going) > 0 {
				o.Err = fmt.Errorf("%w (cut short while %s)", err, strings.Join(going, "; "))
			}
		}
		return
	}
	o.FaultsHappened, o.LeftOut = r.FaultsHappened, r.LeftOut
	for _, m := range r.Masters {
		o.Logs = append(o.Logs, m.Logs...)
	}
	if err := r.Problems(); err != nil && len(r.Missed) > 0 {
		o.History, o.Ops, o.Records = r.History, len(r.History.Ops), r.Records // to look at
		o.Err = fmt.Errorf("%w: %w", ErrFaultMissed, err)
		return
	}
	if err := r.Problems(); err != nil {
		o.Err = fmt.Errorf("the run went wrong: %w", err)
		return
	}
	o.History, o.Ops, o.Records = r.History, len(r.History.Ops), r.Records
	missed := MissedError(o.TallyMessages(cfg.Plan, r.Records))
	if cfg.Target.Kind == spec.Node {
		if o.Threw, o.Err = threw(r.History); o.Err != nil {
			return
		}
	}
	o.Check = linearizability.Check(r.History, linearizability.Options{Timeout: checkTimeout(ctx)})
	o.CheckTime = o.Check.Duration
	if !Stands(missed, o.Check) {
		o.Check, o.CheckTime, o.Err = nil, 0, missed // the history is kept, to look at
	}
}

// Stands reports whether a run's check stands although the planned
// faults named in missed (MissedError) did not all happen: when none was
// missed, or when the check found a violation, which the faults that did
// happen were enough to find. A pass, or a check that could not decide,
// must have had every fault the run planned: it did not test what its
// file says.
func Stands(missed error, check *linearizability.Result) bool {
	return missed == nil || (check != nil && check.Verdict == linearizability.Illegal)
}

// DefaultCheckTimeout bounds a run's check when its context has no
// deadline: a history full of unknown operations can make the search
// explode, and an Unknown verdict is better than a machine out of memory.
const DefaultCheckTimeout = time.Minute

// checkTimeout is what is left of ctx's time, or DefaultCheckTimeout.
func checkTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return DefaultCheckTimeout
}

// SimConfig returns seed's run of sc in the simulator (sc.Spec: its
// plan's seed is the file's, or 0: the simulator then seeds the faults
// with the run's seed).
func SimConfig(sc *Scenario, seed uint64) sim.Config {
	return sim.Config{Run: sc.Spec(seed), Script: sc.Script, Latency: sc.Latency, Grid: sc.Grid, Pipeline: sc.Pipeline}
}

// HarnessConfig returns seed's run of sc on real processes
// (sc.ProcessSpec; a Script and Latency are the simulator's: they are
// not in it).
func HarnessConfig(sc *Scenario, seed uint64) harness.Config {
	return harness.Config{Run: sc.ProcessSpec(seed)}
}
