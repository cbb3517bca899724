package sim

import (
	"fmt"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
)

// process does one step. A step on a process that is not running does
// nothing and records nothing; so does a pause of a process already
// paused, and the resume of a pause that did not take (the process stays
// paused until the pause that took ends), as faultinject.ApplyProcesses
// does with real processes.
func (w *world) process(s faultinject.Step) {
	f := w.cfg.Plan.Processes[s.Fault]
	if f.Kind == faultinject.Pause {
		w.pause(s)
		return
	}
	if f.Target == faultinject.MasterTarget {
		w.processMaster(s.Second)
		return
	}
	i, _ := workerIndex(f.Target)
	wk := w.workers[i]
	switch {
	case !s.Second && wk.up: // the kill of a kill or a restart
		op := wk.pendingOp()
		wk.kill()
		w.rec.event(linearizability.Event{Kind: linearizability.EventKill, Worker: wk.name, Op: op, Text: wk.name + " killed"}, w.now)
	case s.Second && !wk.up && w.master.up:
		wk.connect()
		wk.next(false)
		w.event(linearizability.EventRestart, wk.name, fmt.Sprintf("%s restarted as incarnation %d", wk.name, wk.inc))
	}
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
		w.event(linearizability.EventPause, workerOf(wk), fmt.Sprintf("%s paused for %v", name, f.For))
	case s.Second && *up && *paused && w.pausedBy[f.Target] == s.Fault:
		delete(w.pausedBy, f.Target)
		if wk != nil {
			wk.resume()
		} else {
			w.master.resume(w)
		}
		w.event(linearizability.EventResume, workerOf(wk), name+" resumed")
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
func (w *world) processMaster(again bool) {
	switch m := &w.master; {
	case !again && m.up:
		w.killMaster()
	case again && !m.up:
		w.restartMaster()
	}
}

func (w *world) killMaster() {
	m := &w.master
	m.up, m.paused = false, false
	m.backlog = w.freeAll(m.backlog)
	delete(w.pausedBy, faultinject.MasterTarget)
	for _, wk := range w.workers {
		wk.up, wk.busy = false, false
		wk.backlog = w.freeAll(wk.backlog)
		delete(w.pausedBy, wk.name)
	}
	w.event(linearizability.EventMasterKill, "", fmt.Sprintf("master (generation %d) killed with its workers", m.gen))
}

func (w *world) restartMaster() {
	m := &w.master
	m.up, m.gen = true, m.gen+1
	m.store = newStore(w.cfg)
	w.rec.event(linearizability.Event{Kind: linearizability.EventMasterRestart, Reset: true,
		Text: fmt.Sprintf("master restarted as generation %d, with an empty store and its workers", m.gen)}, w.now)
	for _, wk := range w.workers {
		wk.connect()
		wk.opened = uint32(wk.inc)
		wk.next(false)
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
func (w *world) event(k linearizability.EventKind, worker, text string) {
	w.rec.event(linearizability.Event{Kind: k, Worker: worker, Text: text}, w.now)
}
