package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
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
	History *linearizability.History
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
}

// Failed reports whether o goes against its scenario's expectation, or
// decides nothing: the run could not be done, its check could not
// decide, or it found a violation where none was expected.
func (o *Outcome) Failed() bool {
	v := o.Verdict()
	return o.Err != nil || v == linearizability.Unknown || (o.Scenario.Expect != ExpectViolation && v == linearizability.Illegal)
}

// Verdict is the outcome's verdict: Unknown if the run failed.
func (o *Outcome) Verdict() linearizability.Verdict {
	if o.Err != nil || o.Check == nil {
		return linearizability.Unknown
	}
	return o.Check.Verdict
}

// Run runs one seed of sc in mode (Process or Sim).
func (sc *Scenario) Run(ctx context.Context, mode Mode, seed uint64) *Outcome {
	return sc.run(ctx, mode, seed, nil)
}

// run runs one seed, its message faults decided by replay if not nil.
func (sc *Scenario) run(ctx context.Context, mode Mode, seed uint64, replay []faultinject.Record) *Outcome {
	began := time.Now()
	o := &Outcome{Scenario: sc, Mode: mode, Seed: seed, Start: began}
	switch why := sc.cannotRun(mode); {
	case why != "":
		o.Err = fmt.Errorf("scenario %s cannot run in %s mode: %s", sc.Name, mode, why)
	case mode == Sim:
		cfg := sc.SimConfig(seed)
		cfg.CheckTimeout, cfg.Replay = checkTimeout(ctx), replay
		o.runSim(cfg)
	case mode == Process:
		cfg := sc.HarnessConfig(seed)
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
	if err := MissedError(r.Missed); err != nil {
		o.History, o.Ops, o.Records = r.History, len(r.History.Ops), r.Records // to look at
		o.Err = err
		return
	}
	o.Sim, o.History, o.Check, o.Ops, o.Records = r, r.History, r.Check, len(r.History.Ops), r.Records
	o.CheckTime = r.Check.Duration
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
func unfinished(h *linearizability.History) []string {
	var last int64
	for _, op := range h.Ops {
		last = max(last, op.Call, op.Return)
	}
	for _, e := range h.Events {
		last = max(last, e.Time)
	}
	var going []string
	for _, e := range h.Events {
		if e.End > last && (e.Kind == linearizability.EventPause || e.Kind == linearizability.EventRestart ||
			e.Kind == linearizability.EventMasterRestart) {
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
			for _, m := range r.Masters {
				o.Logs = append(o.Logs, m.Logs...)
			}
			if going := unfinished(r.History); len(going) > 0 {
				o.Err = fmt.Errorf("%w (cut short while %s)", err, strings.Join(going, "; "))
			}
		}
		return
	}
	o.FaultsHappened = r.FaultsHappened
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
	o.Check = linearizability.Check(r.History, linearizability.Options{Timeout: checkTimeout(ctx)})
	o.CheckTime = o.Check.Duration
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

// keys returns the scenario's keys.
func (sc *Scenario) keys() []string {
	if len(sc.Keys.Names) > 0 {
		return sc.Keys.Names
	}
	n := sc.Keys.Count
	if n == 0 {
		n = 3
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	return keys
}

func (sc *Scenario) shape() workload.Shape {
	return workload.Shape{Hot: sc.Keys.Hot, ValueMin: sc.Values.Min, ValueMax: sc.Values.Max, TTL: sc.Store.TTL}
}

func (sc *Scenario) ops() int {
	if sc.Ops == 0 && sc.Duration == 0 {
		return 100
	}
	return sc.Ops
}

// plan returns the fault plan of seed (nil if it has no fault).
func (sc *Scenario) plan(seed uint64) *faultinject.Plan {
	p := sc.simPlan()
	if p != nil && p.Seed == 0 {
		p.Seed = seed
	}
	return p
}

// simPlan returns the fault plan (nil if it has no fault), its seed left
// 0 if the file gives none: the simulator then seeds it with the run's
// seed, so that a config of one seed is that of another when its Seed
// alone is changed (shmlab sim's seeds).
func (sc *Scenario) simPlan() *faultinject.Plan {
	p := sc.Faults
	if len(p.Messages)+len(p.Bytes)+len(p.Processes) == 0 {
		return nil
	}
	return &p
}

// storeOptions returns the store's limits and bugs.
func (sc *Scenario) storeOptions() shm.StoreOptions {
	bugs, _ := sc.Bugs()
	return shm.StoreOptions{MaxEntries: sc.Store.Entries, MaxBytes: sc.Store.Bytes, DedupWindow: sc.Store.DedupWindow, Bugs: bugs & storeBugs}
}

// storeBugs are the bugs the master's options carry (the store's and the
// master's own); shm.ClientBugs go to the workers.
const storeBugs = shm.StoreBugs | shm.MasterBugs

// SimConfig returns seed's run in the simulator. Its plan's seed is the
// file's, or 0: the simulator then seeds the faults with the run's seed.
func (sc *Scenario) SimConfig(seed uint64) sim.Config {
	bugs, _ := sc.Bugs()
	return sim.Config{
		Run:     spec.Run{Scenario: sc.Name, Seed: seed, Workers: sc.workers(), Ops: sc.ops(), Duration: sc.Duration, Keys: sc.keys(), Mix: sc.Mix, Shape: sc.shape(), Store: sc.storeOptions(), Bugs: bugs, Plan: sc.simPlan(), CallTimeout: sc.Timeout, RetryAfter: sc.Retry, Think: sc.Think},
		Script:  sc.Script,
		Latency: sc.Latency,
	}
}

// HarnessConfig returns seed's run on real processes (a Script and
// Latency are the simulator's: they are not in it).
func (sc *Scenario) HarnessConfig(seed uint64) harness.Config {
	bugs, _ := sc.Bugs()
	return harness.Config{
		Run: spec.Run{
			Scenario:    sc.Name,
			Seed:        seed,
			Workers:     sc.workers(),
			Ops:         sc.ops(),
			Duration:    sc.Duration,
			Keys:        sc.keys(),
			Mix:         sc.Mix,
			Shape:       sc.shape(),
			Store:       sc.storeOptions(),
			Bugs:        bugs & shm.ClientBugs,
			Plan:        sc.plan(seed),
			CallTimeout: sc.Timeout,
			RetryAfter:  sc.Retry,
			Think:       sc.Think,
		},
	}
}
