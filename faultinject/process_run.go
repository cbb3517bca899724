package faultinject

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shmlab/shmlab/history"
)

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Faults are the plan's process faults, indexed as in the plan.
	Faults []ProcessFault
	// Skip, if set, leaves out the faults it reports true for (another
	// runner's, or done already): they are neither applied nor missed.
	Skip func(i int) bool
	// Start is when the workload began: At counts from it.
	Start time.Time
	// Targets are the processes.
	Targets Targets
	// Record receives every change made, as a history event.
	Record func(history.Event)
	// Happened, if set, is told of each fault whose first action took
	// effect, as soon as it did.
	Happened func(i int)
	// Over, if set, returns a channel that is closed once every target's
	// current process has exited: the workload is over, and the faults
	// still to come will not happen. It is called again after each
	// action (a restart starts a process).
	Over func() <-chan struct{}
	// Lossy says the plan's message faults may lose requests
	// (Plan.MayLoseRequests): a fault aimed by progress that missed its
	// point says so.
	Lossy bool
}

// A Runner applies a plan's process faults to real processes: those
// aimed by time at their times since the start of the workload, those
// aimed by progress (ProcessFault.After) when Trigger says their point
// is reached. A fault happens when its first action (the kill, the
// pause, a restart's kill) takes effect; one whose target is not
// running then, or whose time or progress never comes before the
// workload is over, does not happen, and Run says so.
type Runner struct {
	o        RunnerOptions
	mu       sync.Mutex
	trig     []trigger
	wake     chan struct{} // a trigger is waiting
	finished chan struct{} // Run has returned
	paused   map[int]Process
	started  map[int]bool   // first actions that took effect
	missed   map[int]string // why a fault did not happen
	down     map[string]*Down
	received map[string]int // the most requests of a worker received on one connection, under mu
	errs     []error
}

type trigger struct {
	i    int
	done chan struct{}
}

// NewRunner returns a Runner of o; Run runs it.
func NewRunner(o RunnerOptions) *Runner {
	return &Runner{o: o, wake: make(chan struct{}, 1), finished: make(chan struct{}),
		paused: make(map[int]Process), started: make(map[int]bool), missed: make(map[int]string),
		down: make(map[string]*Down), received: make(map[string]int)}
}

// Received says that the master has received n distinct requests of
// worker on one of its connections, for the reason a fault aimed at its
// progress gives if it misses its point.
func (r *Runner) Received(worker string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received[worker] = max(r.received[worker], n)
}

// Trigger says that the point of fault i, aimed by progress, is reached:
// Run does its first action now. The channel returned is closed once
// that is done, or at once if Run has returned. A fault that is not
// waiting for its point (aimed by time, skipped, or triggered already)
// is left alone.
func (r *Runner) Trigger(i int) <-chan struct{} {
	done := make(chan struct{})
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.finished:
		close(done)
		return done
	default:
	}
	r.trig = append(r.trig, trigger{i, done})
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return done
}

// SetStart sets when the workload began, for a Runner made before it
// was known; call it before Run.
func (r *Runner) SetStart(t time.Time) { r.o.Start = t }

// timedStep is a step due at a time.
type timedStep struct {
	at time.Time
	s  Step
}

// Run applies the faults until each has happened or cannot any more
// (the workload is over, or ctx ended), and then until the second
// actions of those that happened are done. No process it paused is left
// stopped. It returns the faults that did not happen, by index, with
// why, and the errors of the actions that failed, joined (the run goes
// on after them).
func (r *Runner) Run(ctx context.Context) (missed map[int]string, err error) {
	var queue []timedStep
	push := func(t timedStep) {
		i, _ := slices.BinarySearchFunc(queue, t.at, func(a timedStep, at time.Time) int {
			if a.at.After(at) {
				return 1
			}
			return -1 // equal times keep their order
		})
		queue = slices.Insert(queue, i, t)
	}
	waiting := map[int]bool{} // aimed by progress, not yet triggered
	for i, f := range r.o.Faults {
		switch {
		case r.o.Skip != nil && r.o.Skip(i):
		case f.After != nil:
			waiting[i] = true
		default:
			push(timedStep{r.o.Start.Add(f.At), Step{At: f.At, Fault: i}})
		}
	}
	defer r.finish()
	for len(queue) > 0 || len(waiting) > 0 {
		var timer <-chan time.Time
		var tm *time.Timer
		if len(queue) > 0 {
			tm = time.NewTimer(time.Until(queue[0].at))
			timer = tm.C
		}
		var over <-chan struct{}
		if r.o.Over != nil && !slices.ContainsFunc(queue, func(t timedStep) bool { return t.s.Second }) {
			over = r.o.Over()
		}
		fired := r.wait(ctx, timer, over)
		if tm != nil {
			tm.Stop()
		}
		if fired == firedOver && len(queue) > 0 && !queue[0].at.After(time.Now()) {
			fired = firedTimer // its time came before the end was seen
		}
		switch fired {
		case firedTimer:
			t := queue[0]
			queue = queue[1:]
			if next, ok := r.step(t.s); ok {
				push(timedStep{t.at.Add(r.o.Faults[t.s.Fault].For), next})
			}
		case firedTrigger:
			for _, tr := range r.takeTriggers() {
				if waiting[tr.i] {
					delete(waiting, tr.i)
					if next, ok := r.step(Step{Fault: tr.i}); ok {
						push(timedStep{time.Now().Add(r.o.Faults[tr.i].For), next})
					}
				}
				close(tr.done)
			}
		case firedOver:
			r.give(queue, waiting, "the workload was over before it came")
			return r.missed, errors.Join(r.errs...)
		case firedCtx:
			r.give(queue, waiting, "the run ended before it came")
			return r.missed, errors.Join(append(r.errs, ctx.Err())...)
		}
	}
	return r.missed, errors.Join(r.errs...)
}

type firing int

const (
	firedTimer firing = iota
	firedTrigger
	firedOver
	firedCtx
)

// wait waits for the next thing that makes Run act. A trigger comes
// before the end of the workload: a request that reached its point
// arrived before the processes exited.
func (r *Runner) wait(ctx context.Context, timer <-chan time.Time, over <-chan struct{}) firing {
	select {
	case <-timer:
		return firedTimer
	case <-r.wake:
		return firedTrigger
	case <-over:
		select {
		case <-r.wake:
			return firedTrigger
		default:
			return firedOver
		}
	case <-ctx.Done():
		return firedCtx
	}
}

// give records the first actions left in queue, and the faults still
// waiting for their point, as missed for why.
func (r *Runner) give(queue []timedStep, waiting map[int]bool, why string) {
	for _, t := range queue {
		if !t.s.Second {
			r.missed[t.s.Fault] = why
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range waiting {
		a := r.o.Faults[i].After
		r.missed[i] = ProgressMissed(a, r.received[a.Worker], r.down[a.Worker], r.o.Lossy, why)
	}
}

func (r *Runner) takeTriggers() []trigger {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.trig
	r.trig = nil
	return t
}

// finish resumes what is still paused, and lets go the triggers left.
func (r *Runner) finish() {
	for i, p := range r.paused {
		if e, err := Resume(r.o.Faults[i].Target, p); err == nil {
			r.o.Record(e)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.finished)
	for _, t := range r.trig {
		close(t.done)
	}
	r.trig = nil
}

// step does one action; for a first action that took effect it returns
// the second, if the fault has one.
func (r *Runner) step(s Step) (next Step, ok bool) {
	f := &r.o.Faults[s.Fault]
	if s.Second && !r.started[s.Fault] {
		return Step{}, false
	}
	err := apply(f, s, r.o.Targets, r.paused, r.o.Record)
	switch {
	case errors.Is(err, ErrNotRunning) && !s.Second:
		r.missed[s.Fault] = NotRunning(f.Target, r.down[f.Target])
		return Step{}, false
	case errors.Is(err, ErrNotRunning):
		return Step{}, false
	case err != nil:
		r.errs = append(r.errs, fmt.Errorf("processes[%d] (%v): %w", s.Fault, f, err))
		if !s.Second {
			r.missed[s.Fault] = "its action failed: " + err.Error()
		}
		return Step{}, false
	case s.Second:
		if f.Kind == Restart {
			delete(r.down, f.Target)
		}
		return Step{}, false
	}
	if f.Kind == Kill || f.Kind == Restart {
		r.down[f.Target] = &Down{Fault: s.Fault, Kind: f.Kind}
	}
	r.started[s.Fault] = true
	if r.o.Happened != nil {
		r.o.Happened(s.Fault)
	}
	return Step{At: s.At + f.For, Fault: s.Fault, Second: true}, f.HasSecond()
}
