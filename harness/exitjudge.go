package harness

import (
	"fmt"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// exitJudge tells, among the exits of a master generation's worker
// processes, those no planned fault explains (crashes, recorded in the
// history) from the others: a status of 0 (the workload done); SIGKILL
// from a planned kill or restart of that worker, or from the master
// closing at the end of the run; the end of its master connection
// (lostExit) when a planned fault acted on that connection. A SIGKILL
// seen before the kill's event is recorded (the runner records it once
// the process is reaped) waits for it until the workers are done.
type exitJudge struct {
	tails   map[string]*Tail // each worker name's output, for a crash's Stderr
	kills   map[string]int   // kill events of each name not yet matched to an exit
	killed  []Exit           // SIGKILL exits not yet matched to an event
	faulted map[string]bool  // names with a planned message or byte fault on their connection
	crashed map[int]bool     // the pids recorded as crashes
	closing bool             // the master is closing: its kills end the run
}

func newExitJudge() exitJudge {
	return exitJudge{tails: make(map[string]*Tail), kills: make(map[string]int), faulted: make(map[string]bool), crashed: make(map[int]bool)}
}

// planned notes a process event that explains a SIGKILL exit: the kill
// of a worker (a restart's first step records one too).
func (j *exitJudge) planned(e *history.Event) {
	if e.Kind != history.EventKill {
		return
	}
	for i, x := range j.killed {
		if x.Process == e.Worker {
			j.killed = append(j.killed[:i], j.killed[i+1:]...)
			return
		}
	}
	j.kills[e.Worker]++
}

// exited judges the exit of worker process w (MasterOptions.OnExit).
func (r *masterRun) exited(w *shm.Worker, err error) {
	if err == nil {
		return
	}
	name := workerName(w)
	r.mu.Lock()
	defer r.mu.Unlock()
	j := &r.exits
	if j.closing || r.closed {
		return
	}
	var tail []string
	if t := j.tails[name]; t != nil {
		tail = t.Lines()
	}
	e := ExitOf(name, w.Pid(), w.ProcessState(), tail)
	switch {
	case e.Signal == "SIGKILL" && j.kills[name] > 0:
		j.kills[name]--
	case e.Signal == "SIGKILL":
		j.killed = append(j.killed, e)
	case e.Code == lostExit && (len(r.cut[connKey{name, r.connOf[w]}]) > 0 || j.faulted[name]):
	default:
		r.crash(e)
	}
}

// judgeKills records as crashes the SIGKILL exits that no kill (of a
// kill fault or a restart) explained, once every worker is done.
func (r *masterRun) judgeKills() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.exits.killed {
		r.crash(e)
	}
	r.exits.killed = nil
}

// crash records e as a crash. r.mu is held.
func (r *masterRun) crash(e Exit) {
	r.exits.crashed[e.Pid] = true
	r.logs = append(r.logs, fmt.Sprintf("worker %s (pid %d) crashed: %s", e.Process, e.Pid, e.Status()))
	if !r.closed {
		r.events.Event(e.Crash())
	}
}

// close closes the master: the workers it kills then are the end of the
// run, not crashes.
func (r *masterRun) close() {
	r.mu.Lock()
	r.exits.closing = true
	r.mu.Unlock()
	r.m.Close()
}
