package faultinject

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shmlab/shmlab/history"
)

// ProcessKind is what a process fault does.
type ProcessKind string

// The process fault kinds.
const (
	// Kill kills the process with SIGKILL; it stays dead (a worker's
	// remaining operations never run; the master's workers die with it).
	Kill ProcessKind = "kill"
	// Pause stops the process with SIGSTOP and resumes it with SIGCONT
	// after For.
	Pause ProcessKind = "pause"
	// Restart kills the process if it runs, waits For, and starts it
	// again: a worker as a new incarnation, the master with an empty
	// store (an epoch boundary).
	Restart ProcessKind = "restart"
	// Poison has a worker send the poison frames (PoisonFrames) into its
	// channel to the master, raw, between its own messages: the known
	// crashers of naive masters. The worker goes on; the master must
	// answer them with errors and keep serving every worker.
	Poison ProcessKind = "poison"
)

// MasterTarget is the target name of the master process.
const MasterTarget = "master"

// WorkerNumber returns n for the worker target "wn" (n from 1, written
// without leading zeros); ok is false for any other name.
func WorkerNumber(name string) (n int, ok bool) {
	if len(name) < 2 || name[0] != 'w' || name[1] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	if err != nil || n < 1 || strconv.Itoa(n) != name[1:] {
		return 0, false
	}
	return n, true
}

// IsTarget reports whether name is MasterTarget or one of workers
// workers, w1 to wN.
func IsTarget(name string, workers int) bool {
	n, ok := WorkerNumber(name)
	return name == MasterTarget || (ok && n <= workers)
}

// ProcessFault is one fault on one process, at a time of the run or at a
// point of a worker's progress.
type ProcessFault struct {
	Kind ProcessKind `json:"kind" yaml:"kind"`
	// Target names the process: a worker ("w2") or MasterTarget.
	Target string `json:"target" yaml:"target"`
	// At is when it happens, since the workload began (every worker
	// ready to make its first call), in both modes.
	At time.Duration `json:"at" yaml:"at"`
	// After, if set, aims the fault by progress instead of time (At is
	// then 0): it happens when the master has received a worker's
	// After.Ops-th request, before that request is answered, so that a
	// kill leaves it in flight.
	After *Progress `json:"after,omitempty" yaml:"after,omitempty"`
	// For is how long a pause lasts, or how long a restarted process
	// stays down (0: started again at once), from its first action.
	// Kill ignores it.
	For time.Duration `json:"for,omitempty" yaml:"for,omitempty"`
}

// Progress is a point of one worker's progress: the master has received
// Ops distinct requests (a resent or duplicated one counts once) on one
// connection of Worker (one incarnation: a restarted worker counts from
// 0 again). The first incarnation to get there has the fault; if its
// target is not running then, the fault did not happen, in both modes.
type Progress struct {
	Worker string `json:"worker" yaml:"worker"`
	Ops    int    `json:"ops" yaml:"ops"`
}

func (f *ProcessFault) String() string {
	s := fmt.Sprintf("%s %s at %v", f.Kind, f.Target, f.At)
	if f.After != nil {
		s = fmt.Sprintf("%s %s after request %d of %s", f.Kind, f.Target, f.After.Ops, f.After.Worker)
	}
	if f.For > 0 && f.Kind != Kill {
		s += fmt.Sprintf(" for %v", f.For)
	}
	return s
}

func (f *ProcessFault) validate() error {
	switch f.Kind {
	case Kill, Pause, Restart, Poison:
	default:
		return fmt.Errorf("unknown kind %q (want kill, pause, restart or poison)", f.Kind)
	}
	switch {
	case f.Target == "":
		return errors.New("no target (a worker's name, or master)")
	case f.At < 0:
		return fmt.Errorf("at %v is negative", f.At)
	case f.For < 0:
		return fmt.Errorf("for %v is negative", f.For)
	case f.Kind == Pause && f.For == 0:
		return errors.New("a pause needs for > 0: a process never resumed would stop the run")
	case f.Kind == Poison && f.Target == MasterTarget:
		return errors.New("a poison is sent by a worker to the master: target a worker (w1, w2, ...)")
	case f.Kind == Poison && f.For != 0:
		return errors.New("a poison has no for: its frames are sent at once")
	}
	if a := f.After; a != nil {
		n, ok := WorkerNumber(a.Worker)
		switch {
		case f.At != 0:
			return errors.New("give at or after, not both")
		case !ok || n < 1:
			return fmt.Errorf("after: worker %q is not a worker's name (w1, w2, ...)", a.Worker)
		case a.Ops < 1:
			return fmt.Errorf("after: ops %d: want 1 or more (the request the fault comes before the reply of)", a.Ops)
		case f.Target == MasterTarget:
			return errors.New("after aims a worker's fault: the master's faults go by time (at)")
		}
	}
	return nil
}

// Process is one running process a fault may act on. *shm.Worker is one.
type Process interface {
	// Pid is its process id.
	Pid() int
	// Done is closed once it has exited and been reaped.
	Done() <-chan struct{}
}

// Targets are the processes of a run, by name.
type Targets interface {
	// Process returns name's current process, or nil if it has none.
	Process(name string) Process
	// Start starts name's process again, its last one having exited,
	// and returns the new one.
	Start(name string) (Process, error)
}

// ErrNotRunning is returned by the functions that signal a process that
// has already exited: nothing was done.
var ErrNotRunning = errors.New("faultinject: the process is not running")

// exitWait bounds the wait for a killed process to be reaped.
const exitWait = 10 * time.Second

// running reports whether p is a process that has not exited.
func running(p Process) bool {
	if p == nil {
		return false
	}
	select {
	case <-p.Done():
		return false
	default:
		return true
	}
}

// Step is one action of a process fault at one time: most faults have
// two (pause and resume, kill and start).
type Step struct {
	At     time.Duration // since the run began
	Fault  int           // the fault's index in the plan
	Second bool          // the second action (resume, start)
}

// Schedule lists the actions of the faults aimed by time in time order
// (stable: equal times keep the faults' order, first actions first); a
// fault aimed by progress (After) is not in it. The simulator follows it.
func Schedule(faults []ProcessFault) []Step {
	var out []Step
	for i, f := range faults {
		if f.After != nil {
			continue
		}
		out = append(out, Step{At: f.At, Fault: i})
		if f.HasSecond() {
			out = append(out, Step{At: f.At + f.For, Fault: i, Second: true})
		}
	}
	slices.SortStableFunc(out, func(a, b Step) int { return cmp.Compare(a.At, b.At) })
	return out
}

// ApplyProcesses applies the faults aimed by time to the processes of
// ts at their times since start, one action at a time in time order,
// and passes every change it makes to record as a history event (on the
// clock of history.Now). An action on a process that is not
// running is skipped and records nothing (a fault whose first action is
// skipped has no second). It returns when the last action is done, or
// when ctx ends; either way no process it paused is left stopped. Errors
// of single actions are joined into the one it returns; the schedule
// goes on after them. A Runner says, besides, which faults did not
// happen, and takes faults aimed by progress.
func ApplyProcesses(ctx context.Context, faults []ProcessFault, start time.Time, ts Targets, record func(history.Event)) error {
	r := NewRunner(RunnerOptions{Faults: faults, Skip: func(i int) bool { return faults[i].After != nil },
		Start: start, Targets: ts, Record: record})
	_, err := r.Run(ctx)
	return err
}

// HasSecond reports whether f has a second action (a pause's resume, a
// restart's start); a kill and a poison have one action only.
func (f *ProcessFault) HasSecond() bool { return f.Kind == Pause || f.Kind == Restart }

// apply does one step.
func apply(f *ProcessFault, s Step, ts Targets, paused map[int]Process, record func(history.Event)) error {
	var e history.Event
	var err error
	switch {
	case f.Kind == Pause && !s.Second:
		p := ts.Process(f.Target)
		if e, err = PauseProcess(f.Target, p, f.For); err == nil {
			paused[s.Fault] = p
		}
	case f.Kind == Pause:
		p, ok := paused[s.Fault]
		if !ok {
			return ErrNotRunning
		}
		delete(paused, s.Fault)
		e, err = Resume(f.Target, p)
	case f.Kind == Poison:
		e, err = poison(f.Target, ts)
	case !s.Second: // Kill, and the kill of a Restart
		e, err = KillProcess(f.Target, ts.Process(f.Target))
	default:
		var es []history.Event
		_, es, err = RestartProcess(f.Target, ts)
		for _, e := range es {
			record(e)
		}
		return err
	}
	if err != nil {
		return err
	}
	record(e)
	return nil
}
