package sim

import (
	"fmt"
	"time"

	"github.com/shmlab/shmlab/shm"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
)

// process does one step. A first step on a process that is not running
// (a worker that has made its last operation counts as exited, as its
// process would have), or once the workload is over, does nothing and
// records nothing, and the fault did not happen; so does a pause of a
// process already paused. A second step follows only a first that took
// effect, and the resume of a pause that did not take leaves the process
// paused until the pause that took ends, as faultinject.Runner does with
// real processes.
func (w *world) process(s faultinject.Step) {
	f := w.cfg.Plan.Processes[s.Fault]
	if !s.Second {
		if why := w.notRunning(&f); why != "" {
			w.faults.missed[s.Fault] = why
			return
		}
		w.faults.happened[s.Fault] = true
		if f.Kind != faultinject.Kill {
			w.faults.open++
		}
	} else {
		if !w.faults.happened[s.Fault] {
			return
		}
		w.faults.open--
	}
	if f.Kind == faultinject.Pause {
		w.pause(s)
		return
	}
	if f.Target == faultinject.MasterTarget {
		w.processMaster(s.Second, s.Fault, f.Kind)
		return
	}
	i, _ := workerIndex(f.Target)
	wk := w.workers[i]
	switch {
	case !s.Second && wk.up: // the kill of a kill or a restart
		op := wk.pendingOp()
		wk.kill()
		w.downBy[wk.name] = &faultinject.Down{Fault: s.Fault, Kind: f.Kind}
		w.rec.event(history.Event{Kind: history.EventKill, Worker: wk.name, Op: op, Text: wk.name + " killed"}, w.now)
	case s.Second && !wk.up && w.master.up:
		delete(w.downBy, wk.name)
		wk.connect()
		wk.next()
		w.event(history.EventRestart, wk.name, fmt.Sprintf("%s restarted as incarnation %d", wk.name, wk.inc))
	}
}

// faultState is what became of the plan's process faults.
type faultState struct {
	happened []bool
	missed   map[int]string
	open     int // faults whose first step was done and second is to come
}

// notRunning says why f's first step cannot be done now, or "".
func (w *world) notRunning(f *faultinject.ProcessFault) string {
	switch {
	case w.over():
		return "the workload was over before it came"
	case f.Target == faultinject.MasterTarget && !w.master.up:
		return faultinject.NotRunning(f.Target, w.downBy[f.Target])
	case f.Target == faultinject.MasterTarget:
		if f.Kind == faultinject.Pause && w.master.paused {
			return "master was paused already"
		}
		return ""
	}
	i, _ := workerIndex(f.Target)
	wk := w.workers[i]
	switch {
	case !wk.up:
		return faultinject.NotRunning(f.Target, w.downBy[f.Target])
	case wk.finished:
		return faultinject.NotRunning(f.Target, nil)
	case f.Kind == faultinject.Pause && wk.paused:
		return f.Target + " was paused already"
	}
	return ""
}

// over reports whether the workload is over: no fault is between its
// two steps, and every worker has exited (made its last operation, or
// been killed).
func (w *world) over() bool {
	if w.faults.open > 0 {
		return false
	}
	for _, wk := range w.workers {
		if wk.up && !wk.finished {
			return false
		}
	}
	return true
}

// progress counts a distinct request the master received from wk on
// connection conn, and does the first step of each fault aimed at that
// point (the request is not answered yet), scheduling its second.
func (w *world) progress(wk *worker, conn uint32, req *shm.Message) {
	if req.Has&shm.HasSeq == 0 {
		return
	}
	c := wk.counts[conn]
	if c == nil {
		c = &progress{seen: map[uint64]bool{}}
		wk.counts[conn] = c
	}
	if c.seen[req.Seq] {
		return
	}
	c.seen[req.Seq] = true
	c.n++
	for _, i := range w.aimed[wk.idx] {
		f := w.cfg.Plan.Processes[i]
		if f.After.Ops != c.n || w.faults.happened[i] || w.faults.missed[i] != "" {
			continue // the first incarnation to get there has it, as on processes
		}
		w.process(faultinject.Step{Fault: i})
		if w.faults.happened[i] && f.Kind != faultinject.Kill {
			w.steps = append(w.steps, faultinject.Step{At: time.Duration(w.now-w.t0) + f.For, Fault: i, Second: true})
			w.q.push(event{at: w.now + int64(f.For), kind: evProcess, node: int32(len(w.steps) - 1), msg: -1})
		}
	}
}

// received is the most distinct requests of the worker named name the
// master received on one connection.
func (w *world) received(name string) int {
	n := 0
	if i, ok := workerIndex(name); ok {
		for _, c := range w.workers[i].counts {
			n = max(n, c.n)
		}
	}
	return n
}

// progress is the distinct requests received on one connection.
type progress struct {
	seen map[uint64]bool
	n    int
}

// missedFaults says, in the plan's order, which process faults did not
// happen and why.
func (w *world) missedFaults() []string {
	var out []string
	for i, f := range w.processFaults() {
		if w.faults.happened[i] {
			continue
		}
		why := w.faults.missed[i]
		if why == "" && f.After != nil {
			why = faultinject.ProgressMissed(f.After, w.received(f.After.Worker), w.downBy[f.After.Worker],
				w.cfg.Plan.MayLoseRequests(), "the workload was over before it came")
		}
		out = append(out, fmt.Sprintf("processes[%d] (%v) did not happen: %s", i, &f, why))
	}
	return out
}

func (w *world) processFaults() []faultinject.ProcessFault {
	if w.cfg.Plan == nil {
		return nil
	}
	return w.cfg.Plan.Processes
}

// pause does a pause's step: stop the process, or let it go on if this
// pause is the one that stopped it.
func (w *world) pause(s faultinject.Step) {
	f := w.cfg.Plan.Processes[s.Fault]
	name, up, paused := "master", &w.master.up, &w.master.paused
	var wk *worker
	if f.Target != faultinject.MasterTarget {
		i, _ := workerIndex(f.Target)
		wk = w.workers[i]
		name, up, paused = wk.name, &wk.up, &wk.paused
	}
	switch {
	case !s.Second && *up && !*paused:
		*paused, w.pausedBy[f.Target] = true, s.Fault
		w.event(history.EventPause, workerOf(wk), fmt.Sprintf("%s paused for %v", name, f.For))
	case s.Second && *up && *paused && w.pausedBy[f.Target] == s.Fault:
		delete(w.pausedBy, f.Target)
		if wk != nil {
			wk.resume()
		} else {
			w.master.resume(w)
		}
		w.event(history.EventResume, workerOf(wk), name+" resumed")
	}
}

func workerOf(wk *worker) string {
	if wk == nil {
		return ""
	}
	return wk.name
}

// processMaster does a kill or restart step on the master. Its workers
// die with it; a restarted master has an empty store (an epoch boundary)
// and starts every worker again.
func (w *world) processMaster(again bool, fault int, kind faultinject.ProcessKind) {
	switch m := &w.master; {
	case !again && m.up:
		w.killMaster()
		w.downBy[faultinject.MasterTarget] = &faultinject.Down{Fault: fault, Kind: kind}
		for _, wk := range w.workers {
			w.downBy[wk.name] = &faultinject.Down{Fault: fault, Kind: kind, Master: true}
		}
	case again && !m.up:
		clear(w.downBy)
		w.restartMaster()
	}
}

func (w *world) killMaster() {
	w.stopMaster()
	w.event(history.EventMasterKill, "", fmt.Sprintf("master (generation %d) killed with its workers", w.master.gen))
}

// crashMaster stops the master as a crash would (shm.BugCrashKey, on
// request req): its workers die with it, and the history records a crash,
// as the harness does of a master process that panicked.
func (w *world) crashMaster(req *shm.Message) {
	w.stopMaster()
	w.rec.event(history.Event{Kind: history.EventCrash, Worker: faultinject.MasterTarget, Exit: "exit status 2",
		Text: fmt.Sprintf("master (generation %d) panicked on a %s of key %q (shm.BugCrashKey)", w.master.gen, req.Method, req.Key)}, w.now)
}

// stopMaster stops the master and its workers.
func (w *world) stopMaster() {
	m := &w.master
	m.up, m.paused = false, false
	m.backlog = w.freeAll(m.backlog)
	delete(w.pausedBy, faultinject.MasterTarget)
	for _, wk := range w.workers {
		wk.up = false
		wk.idle()
		wk.backlog = w.freeAll(wk.backlog)
		delete(w.pausedBy, wk.name)
	}
}

func (w *world) restartMaster() {
	m := &w.master
	m.up, m.gen = true, m.gen+1
	m.store = newStore(w.cfg)
	w.rec.event(history.Event{Kind: history.EventMasterRestart, Reset: true,
		Text: fmt.Sprintf("master restarted as generation %d, with an empty store and its workers", m.gen)}, w.now)
	for _, wk := range w.workers {
		wk.connect()
		wk.opened = uint32(wk.inc)
		wk.next()
	}
}

// freeAll frees the messages of the events in es, which will not happen,
// and returns es emptied.
func (w *world) freeAll(es []event) []event {
	for i := range es {
		w.drop(&es[i])
	}
	return es[:0]
}

// event records a process event.
func (w *world) event(k history.EventKind, worker, text string) {
	w.rec.event(history.Event{Kind: k, Worker: worker, Text: text}, w.now)
}
