// Package harness runs a workload on real processes and returns its
// history, checked or not: a master owning the store, worker processes
// re-executed from the current binary (shm.Main) that get and set it over
// their sockets, each recording every call into a crash-proof journal,
// and a fault plan (faultinject) applied to their messages, to the bytes
// under the codec, and to their processes; or message decisions replayed
// from an earlier run's fault log (Config.Replay).
//
// A binary that uses it calls shm.Main first thing in main (or TestMain):
// the harness registers its worker bodies in init. Workers are named
// "w1".."wN". The master runs in the harness's own process, unless the
// plan has faults on the master ("master" target): then it runs in a
// child process of its own, started again after a restart, so that the
// process that checks is never the one that gets killed.
package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
)

// Config describes a run: a run spec (spec.Run, whose fields are
// Config's: cfg.Workers) and what only real processes have.
//
// On real processes, spec.Run's fields mean this: Ops is how many
// operations each worker process makes (a worker started again, a
// restart, makes Ops more under the same name), Duration counts from
// when the workload began, Bugs are the client's bugs (shm.BugWrapIDs,
// shm.BugReadCache; the store's go in Store.Bugs). Plan, if set, is the
// fault plan: message faults on every worker's connection (on the
// master's side), byte faults under the codec of the master's end of
// each worker's connection (its number counts the worker's processes
// under one master, from 1), process faults at their times since the
// workload began (every worker of the first master ready to make its
// first call) or at a worker's progress; each must happen: Result.Missed
// names those that did not. Replay, if set, decides the message faults
// instead of the plan's seed: the records of an earlier run (its
// Result.Records, or its fault logs read with faultinject.ReadLog), each
// master generation replaying its own (Record.Gen; 0 counts as 1); byte
// and process faults still come from the Plan. Target says what runs:
// the reference, or a Node target (see runNode).
type Config struct {
	spec.Run
	// Dir holds the journals and fault logs; it must hold none of an
	// earlier run. If empty, a temporary directory is made and removed
	// when Run returns.
	Dir string
	// Logf, if set, receives the masters' log lines as they come (they
	// are in the Result too).
	Logf func(format string, args ...any)
}

// Result is what a run did.
type Result struct {
	// History is the merged history: every worker's journal, the fault
	// log as fault events with their ground truth, and the process
	// events (kill, pause, resume, restart, master_kill, master_restart).
	History *history.History
	// Records are the fault log's records, every master generation's.
	Records []faultinject.Record
	// Workers has one entry per worker process, in start order.
	Workers []WorkerResult
	// Masters has one entry per master generation.
	Masters []MasterResult
	// Faults holds the errors of process faults that could not be
	// applied (nil if none).
	Faults error
	// Missed names each planned process fault that did not happen, with
	// why: its target was not running, its time or its point of progress
	// did not come before the workload was over, or no master ran then.
	Missed []error
	// FaultsPlanned is how many process faults the plan has, and
	// FaultsHappened how many of them happened (their first action took
	// effect: the kill, the pause, a restart's kill).
	FaultsPlanned, FaultsHappened int
	// Exits are the exits of a Node target's processes, planned or not,
	// with their status and last lines of standard error (a reference
	// run's are in Workers and Masters).
	Exits []ProcessExit
	// LeftOut names the methods a Node target's adapter lacks: they were
	// left out of the workload's mix.
	LeftOut []string

	ops      int // per worker process, as configured
	duration bool
}

// DurationOps caps each worker's operations in a run with a Duration and
// no Ops.
const DurationOps = spec.DurationOps

// WorkerResult is one worker process (one incarnation of a name).
type WorkerResult struct {
	Name string `json:"name"`
	Gen  int    `json:"gen"` // its master's generation
	Inc  uint64 `json:"inc"` // its incarnation under that master
	Pid  int    `json:"pid"`
	// Exit is how it ended: "" for status 0, else the wait error
	// ("signal: killed"), or "died with its master".
	Exit string `json:"exit"`
	// Killed says it died by SIGKILL (a kill, a restart, its master's death).
	Killed bool `json:"killed"`
	// Cut names the planned byte faults (joined by "+") that ended its
	// connection, when it exited for that: with status 3, its master
	// lost.
	Cut string `json:"cut,omitempty"`
	// Crashed says its exit was recorded in the history as a crash: no
	// planned fault explains it (the liveness check reports it).
	Crashed bool `json:"crashed,omitempty"`
	// Codec is the codec its connection spoke as the master read it
	// ("json" or "compact"; a connection speaks JSON lines until its
	// worker's first line switches it to compact).
	Codec string `json:"codec,omitempty"`
	// Ops is how many calls its journal holds, Unreturned how many of
	// them have no return (pending when it died).
	Ops        int `json:"ops"`
	Unreturned int `json:"unreturned"`
}

// MasterResult is one master generation.
type MasterResult struct {
	Gen int `json:"gen"`
	// Pid is the master process's (0: the harness's own process).
	Pid int `json:"pid"`
	// Alive says the master answered Stats at the end of its run;
	// Killed that it was killed first; Crashed that it exited with no
	// planned fault to explain it, which the history records as a crash.
	Alive   bool            `json:"alive"`
	Killed  bool            `json:"killed"`
	Crashed bool            `json:"crashed,omitempty"`
	Stats   shm.MasterStats `json:"stats"`
	// Logs are its log lines.
	Logs []string `json:"logs,omitempty"`
}

// runSpec is the part of a Config that every process of a run is told.
type runSpec struct {
	spec.Run
	Dir string `json:"dir,omitempty"`
	// Replay names the file in Dir holding the records to replay (the
	// records themselves, Run.Replay, are not sent).
	Replay string `json:"replay,omitempty"`
	// Start is when the workload began, on history.Now's clock
	// (a worker's, once it is let go).
	Start int64 `json:"start,omitempty"`
}

// isTarget reports whether name is the master or one of the workers.
func (sp *runSpec) isTarget(name string) bool { return faultinject.IsTarget(name, sp.Workers) }

// newSpec checks c and fills in its defaults.
func newSpec(c *Config) (*runSpec, error) {
	sp := &runSpec{Run: c.Run, Dir: c.Dir}
	sp.Run.Replay = nil // written to a file in Dir, which sp.Replay names
	sp.Workers = max(c.Workers, 1)
	if sp.Scenario == "" {
		sp.Scenario = "harness"
	}
	if len(sp.Keys) == 0 {
		sp.Keys = []string{"a", "b", "c"}
	}
	if sp.CallTimeout <= 0 {
		sp.CallTimeout = 200 * time.Millisecond
	}
	if sp.Duration > 0 && sp.Ops == 0 {
		sp.Ops = DurationOps
	}
	var errs []error
	if c.Ops < 0 || c.Duration < 0 || c.Think < 0 || c.RetryAfter < 0 || c.Mix.Validate() != nil {
		errs = append(errs, errors.New("negative ops, think time, retry time or mix weight"))
	}
	errs = append(errs, c.Shape.Validate(), spec.CheckCodec(c.Codec, c.Target))
	if sp.Plan != nil {
		errs = append(errs, sp.Plan.Validate())
		for i, f := range sp.Plan.Processes {
			if !sp.isTarget(f.Target) {
				errs = append(errs, fmt.Errorf("processes[%d]: target %q is neither master nor a worker w1..w%d", i, f.Target, sp.Workers))
			}
			if a := f.After; a != nil && (a.Worker == faultinject.MasterTarget || !sp.isTarget(a.Worker)) {
				errs = append(errs, fmt.Errorf("processes[%d]: after: worker %q is not a worker w1..w%d", i, a.Worker, sp.Workers))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("harness: bad config: %w", err)
	}
	return sp, nil
}

// codec returns the codec the run gives worker name (spec.Run.WorkerCodec):
// with no codec, compact, which the master offers a Go worker.
func (sp *runSpec) codec(name string) string {
	n, _ := faultinject.WorkerNumber(name)
	return sp.WorkerCodec(n-1, false)
}

// faults are the plan's process faults.
func (sp *runSpec) faults() []faultinject.ProcessFault {
	if sp.Plan == nil {
		return nil
	}
	return sp.Plan.Processes
}

// masterProcess reports whether the master runs in a process of its
// own: when the plan has faults on it, or when a bug may make it exit
// (shm.MasterExitBugs), which would end the harness's own process.
func (sp *runSpec) masterProcess() bool {
	return len(sp.masterFaults()) > 0 || sp.Store.Bugs&shm.MasterExitBugs != 0
}

// masterFaults are the plan's process faults on the master.
func (sp *runSpec) masterFaults() []faultinject.ProcessFault { return sp.processFaults(true) }

func (sp *runSpec) processFaults(master bool) []faultinject.ProcessFault {
	var out []faultinject.ProcessFault
	if sp.Plan == nil {
		return nil
	}
	for _, f := range sp.Plan.Processes {
		if (f.Target == faultinject.MasterTarget) == master {
			out = append(out, f)
		}
	}
	return out
}

// model is the history's model: evicting if the store may evict.
func (sp *runSpec) model() history.Model {
	if sp.Store.MaxEntries > 0 || sp.Store.MaxBytes > 0 {
		return history.ModelKVEvict
	}
	return history.ModelKV
}

// Run runs the workload of c with its faults, waits for every worker,
// and returns what happened, the merged history included. It returns an
// error when the run could not be made, its journals not read, or ctx
// ended before the run did: then the processes are killed, and the
// Result returned with the error, if not nil, holds what their journals
// recorded up to then and the faults that had happened, for a person to
// look at (a history cut short is no verdict). A run that went wrong is
// in the Result (see Result.Problems), and its history is for
// linearizability.Check to judge.
func Run(ctx context.Context, c Config) (*Result, error) {
	if err := c.Target.Validate(); err != nil {
		return nil, fmt.Errorf("harness: bad config: %w", err)
	}
	if c.Target.Kind != spec.Reference {
		return runTarget(ctx, c)
	}
	sp, err := newSpec(&c)
	if err != nil {
		return nil, err
	}
	if sp.Dir == "" {
		if sp.Dir, err = os.MkdirTemp("", "shmlab-harness-"); err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		defer os.RemoveAll(sp.Dir)
	}
	if err := sp.writeReplay(c.Replay); err != nil {
		return nil, err
	}
	var reports []masterReport
	var faults error
	missed := map[int]string{}
	if sp.masterProcess() {
		reports, missed, faults, err = runMasterProcesses(ctx, sp, c.Logf)
	} else {
		var rep masterReport
		rep, err = newMasterRun(sp, 1, c.Logf).run(ctx)
		reports, faults = []masterReport{rep}, rep.faultErr()
	}
	if err != nil {
		// The journals survive their processes: what they hold is kept.
		res, cerr := collect(sp, reports)
		if cerr != nil {
			return nil, err
		}
		res.ops, res.duration = sp.Ops, sp.Duration > 0
		res.FaultsPlanned, res.FaultsHappened, _ = sp.tally(reports, missed)
		return res, err
	}
	res, err := collect(sp, reports)
	if err != nil {
		return nil, err
	}
	res.ops, res.duration = sp.Ops, sp.Duration > 0
	res.Faults = faults
	res.FaultsPlanned, res.FaultsHappened, res.Missed = sp.tally(reports, missed)
	return res, nil
}

// tally counts the process faults planned and happened, and says of
// each that did not happen why: what the generation that had to apply
// it said (missed, or its report), or that no master did it.
func (sp *runSpec) tally(reports []masterReport, missed map[int]string) (planned, done int, errs []error) {
	why := maps.Clone(missed)
	for _, rep := range reports {
		for i, w := range rep.Missed {
			why[i] = w
		}
	}
	for i, f := range sp.faults() {
		if happened(sp.Dir, i) {
			done++
			continue
		}
		w := why[i]
		if w == "" {
			w = "no master was running to apply it"
		}
		errs = append(errs, fmt.Errorf("processes[%d] (%v) did not happen: %s", i, &f, w))
	}
	return len(sp.faults()), done, errs
}

// writeReplay writes the records to replay, if any, into the run's
// directory, where every master generation reads them.
func (sp *runSpec) writeReplay(recs []faultinject.Record) error {
	if len(recs) == 0 {
		return nil
	}
	sp.Replay = replayLog
	f, err := os.OpenFile(filepath.Join(sp.Dir, replayLog), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	err = faultinject.WriteLog(f, recs)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// Problems reports what went wrong in the run beside the history's
// verdict, all of it, joined: a worker process that was not killed but
// exited with an error (other than the end of a connection that a
// planned byte fault cut: see WorkerResult.Cut), or whose calls did not
// all return, or that made fewer calls than asked; a master that was
// not killed but did not answer at the end; a process fault that could
// not be applied. A process that crashed (its exit is a crash event in
// the history, which the liveness check reports) is the verdict's, not
// a problem, and so are the calls it left.
func (r *Result) Problems() error {
	var errs []error
	crashed := false
	for _, m := range r.Masters {
		crashed = crashed || m.Crashed
	}
	for _, w := range r.Workers {
		switch {
		case w.Killed, w.Cut != "", w.Crashed, crashed:
		case w.Exit != "":
			errs = append(errs, fmt.Errorf("worker %s (master %d, incarnation %d, pid %d) exited: %s", w.Name, w.Gen, w.Inc, w.Pid, w.Exit))
		case w.Unreturned > 0 || w.Ops > r.ops || (!r.duration && w.Ops != r.ops):
			errs = append(errs, fmt.Errorf("worker %s (master %d, incarnation %d, pid %d): %d calls of %d, %d without a return", w.Name, w.Gen, w.Inc, w.Pid, w.Ops, r.ops, w.Unreturned))
		}
	}
	for _, m := range r.Masters {
		if !m.Killed && !m.Alive && !m.Crashed {
			errs = append(errs, fmt.Errorf("master %d (pid %d) did not answer at the end of its run", m.Gen, m.Pid))
		}
	}
	if r.Faults != nil {
		errs = append(errs, r.Faults)
	}
	return errors.Join(append(errs, r.Missed...)...)
}
