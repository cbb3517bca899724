package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
)

// step is one action of a process fault: most faults have two (pause and
// resume, kill and start).
type step struct {
	at    time.Duration
	fault faultinject.ProcessFault
	again bool // the second action
}

// steps lists the actions of faults in time order (equal times keep the
// faults' order, first actions first).
func steps(faults []faultinject.ProcessFault) []step {
	var out []step
	for _, f := range faults {
		out = append(out, step{at: f.At, fault: f})
		if f.Kind != faultinject.Kill {
			out = append(out, step{at: f.At + f.For, fault: f, again: true})
		}
	}
	slices.SortStableFunc(out, func(a, b step) int { return cmp.Compare(a.at, b.at) })
	return out
}

// process does one step. A step on a process that is not running (or, for
// a resume, not paused) does nothing and records nothing.
func (w *world) process(s step) {
	f := s.fault
	if f.Target == faultinject.MasterTarget {
		w.processMaster(f.Kind, s.again)
		return
	}
	i, _ := workerIndex(f.Target)
	wk := w.workers[i]
	switch {
	case f.Kind == faultinject.Pause && !s.again && wk.up && !wk.paused:
		wk.pause()
		w.event(linearizability.EventPause, wk.name, fmt.Sprintf("%s paused for %v", wk.name, f.For))
	case f.Kind == faultinject.Pause && s.again && wk.up && wk.paused:
		wk.resume()
		w.event(linearizability.EventResume, wk.name, wk.name+" resumed")
	case !s.again && wk.up: // the kill of a kill or a restart
		wk.kill()
		w.event(linearizability.EventKill, wk.name, wk.name+" killed")
	case s.again && f.Kind == faultinject.Restart && !wk.up && w.master.up:
		wk.connect()
		wk.next(false)
		w.event(linearizability.EventRestart, wk.name, fmt.Sprintf("%s restarted as incarnation %d", wk.name, wk.inc))
	}
}

// processMaster does a step on the master. Its workers die with it; a
// restarted master has an empty store (an epoch boundary) and starts
// every worker again.
func (w *world) processMaster(k faultinject.ProcessKind, again bool) {
	m := &w.master
	switch {
	case k == faultinject.Pause && !again && m.up && !m.paused:
		m.paused = true
		w.event(linearizability.EventPause, "", "master paused")
	case k == faultinject.Pause && again && m.up && m.paused:
		m.resume(w)
		w.event(linearizability.EventResume, "", "master resumed")
	case !again && m.up:
		w.killMaster()
	case again && k == faultinject.Restart && !m.up:
		w.restartMaster()
	}
}

func (w *world) killMaster() {
	m := &w.master
	m.up, m.paused, m.backlog = false, false, nil
	for _, wk := range w.workers {
		wk.up, wk.busy = false, false
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

// event records a process event.
func (w *world) event(k linearizability.EventKind, worker, text string) {
	w.rec.event(linearizability.Event{Kind: k, Worker: worker, Text: text}, w.now)
}
