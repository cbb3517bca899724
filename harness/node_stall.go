package harness

import (
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/history"
)

// A Node target's run never waits without a bound for a worker process:
// what shmlab waits for a current worker to do (its hello, the answer to
// an operation) is noted on it (nodeProc.expect), and a watchdog
// (nodeRun.watch) ends the run with an error naming the process and
// what it was waiting for once that is overdue: a worker whose event
// loop is stuck, or that stopped reading its control socket, answers
// nothing, not even the "unknown" its own call timeout gives, and never
// exits. A planned pause stops the clock while it lasts.

// nodeStallMin is the least time a worker may make no progress before
// the run ends with ErrNodeTarget.
const nodeStallMin = 20 * time.Second

// stallWait bounds how long a worker may leave an operation unanswered:
// its own call timeout answers "unknown" after callTimeout, so this is
// generous room for a busy machine.
func stallWait(callTimeout time.Duration) time.Duration {
	return max(nodeStallMin, lateWait(callTimeout)+10*callTimeout)
}

// stallTick is how often the watchdog looks.
const stallTick = time.Second

// expect notes that shmlab now waits for p to do what, for at most bound.
func (p *nodeProc) expect(what string, bound time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expectLocked(what, bound)
}

func (p *nodeProc) expectLocked(what string, bound time.Duration) {
	p.waitFor, p.waitSince, p.waitBound = what, time.Now(), bound
}

// progressed notes that p did what it was waited for.
func (p *nodeProc) progressed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waitFor = ""
}

// setPaused notes a planned pause of p (SIGSTOP) or its end; the wait's
// clock starts again at the end.
func (p *nodeProc) setPaused(paused bool, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = paused
	if !paused && now.After(p.waitSince) {
		p.waitSince = now
	}
}

// stalled returns what p has been waited for past its bound at now, and
// for how long; "" if nothing is overdue.
func (p *nodeProc) stalled(now time.Time) (string, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return "", 0
	default:
	}
	if p.waitFor == "" || p.paused {
		return "", 0
	}
	if d := now.Sub(p.waitSince); d > p.waitBound {
		return p.waitFor, d
	}
	return "", 0
}

// notePause follows the planned pauses, from the events of the process
// faults: a paused worker, or the master of a worker, stops the worker's
// clock. Called under r.mu.
func (r *nodeRun) notePause(e history.Event, now time.Time) {
	if e.Kind != history.EventPause && e.Kind != history.EventResume {
		return
	}
	paused := e.Kind == history.EventPause
	if isMaster(e.Worker) {
		if len(r.masters) > 0 {
			r.masters[len(r.masters)-1].paused = paused
		}
		if !paused {
			for _, m := range r.masters {
				m.paused = false
			}
			for _, p := range r.all {
				p.setPaused(false, now)
			}
		}
		return
	}
	if paused {
		if p := r.current[e.Worker]; p != nil {
			p.setPaused(true, now)
		}
		return
	}
	for _, p := range r.all {
		if p.name == e.Worker {
			p.setPaused(false, now)
		}
	}
}

// watch looks for a stuck worker every stallTick until stop is closed,
// and ends the run (fail) at the first one.
func (r *nodeRun) watch(stop <-chan struct{}) {
	tick := time.NewTicker(stallTick)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if p, err := r.stuckWorker(time.Now()); err != nil {
			r.fail(p, err)
			return
		}
	}
}

// stuckWorker returns a current worker process that made no progress
// for longer than its bound, if there is one, and the error naming it.
func (r *nodeRun) stuckWorker(now time.Time) (*nodeProc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	paused := map[int]bool{}
	for _, m := range r.masters {
		if m.paused {
			paused[m.gen] = true
		}
	}
	names := make([]string, 0, len(r.current))
	for name := range r.current {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := r.current[name]
		if paused[p.gen] {
			continue
		}
		if what, d := p.stalled(now); what != "" {
			return p, fmt.Errorf("%w: worker %s (master %d, incarnation %d, pid %d) made no progress for %v: shmlab was waiting for %s",
				ErrNodeTarget, p.name, p.gen, p.inc, p.Pid(), d.Round(time.Second), what)
		}
	}
	return nil, nil
}

// fail ends the run with err, the first time, p being stuck: the run's
// context is cancelled, run returns err (cause), and shutdown kills p.
func (r *nodeRun) fail(p *nodeProc, err error) {
	r.mu.Lock()
	if r.stuck == nil {
		r.stuck, r.stuckProc = err, p
		r.logLocked("%v", err)
	}
	r.mu.Unlock()
	r.cancel()
}

// cause returns the error that ended the run: the stuck worker's, if one
// was, else err.
func (r *nodeRun) cause(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stuck != nil {
		return r.stuck
	}
	return err
}

// closedAfter returns a channel closed after d: a deadline shared by
// several selects in turn (a time.After channel is received from once).
func closedAfter(d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	time.AfterFunc(d, func() { close(ch) })
	return ch
}

// killLeft kills worker process p if it still runs at the end of the
// run (stuck, or its primary did not end it), so that no process
// outlives the run; why says why, in the run's log.
func (r *nodeRun) killLeft(p *nodeProc, why string) {
	pid := p.Pid()
	if pid <= 0 || gone(pid) {
		return
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
		r.log("worker %s (master %d, incarnation %d, pid %d) %s: killed", p.name, p.gen, p.inc, pid, why)
	}
}
