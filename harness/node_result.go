package harness

import (
	"cmp"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/node"
	"github.com/shmlab/shmlab/shm"
)

// startReference starts shmlab's Go master (MasterReference) in this
// process and spawns the Node workers itself, the channel on fd 3; the
// plan's message faults act on the master's side of each connection, as
// on a reference run.
func (r *nodeRun) startReference(m *nodeMaster) error {
	opts := shm.MasterOptions{Store: r.sp.Store, JSONOnly: true, Logf: func(f string, a ...any) { r.log("master: "+f, a...) }}
	if p := r.sp.Plan; p != nil && len(p.Messages) > 0 {
		d := faultinject.NewDecider(p)
		flog := &faultinject.Log{OnRecord: r.onRecord}
		opts.WrapConn = func(w *shm.Worker, c shm.Conn) shm.Conn {
			return faultinject.Messages(c, workerName(w), d, flog, faultinject.ConnOptions{Since: r.since, Logf: r.log})
		}
	}
	r.ref = shm.NewMaster(opts)
	for i := 1; i <= r.sp.Workers; i++ {
		if _, err := r.spawnReference(fmt.Sprintf("w%d", i), nil); err != nil {
			return err
		}
	}
	return nil
}

// onRecord keeps a fault decision of the Go master's message faults, and
// records it as an event.
func (r *nodeRun) onRecord(rec faultinject.Record) {
	rec.Gen = 1
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refRecords = append(r.refRecords, rec)
	if !r.closed {
		r.events.Event(rec.Event())
	}
}

// since is the time since the workload began (0 before).
func (r *nodeRun) since() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.start == 0 {
		return 0
	}
	return time.Duration(history.Now() - r.start)
}

// spawnReference starts worker name under the Go master: the first
// process (old nil) or a new incarnation of old.
func (r *nodeRun) spawnReference(name string, old *shm.Worker) (*nodeProc, error) {
	var w *shm.Worker
	var err error
	if old == nil {
		tw := newTailEmit(0, func(s string) { r.log("worker %s: %s", name, s) })
		w, err = r.ref.Spawn(shm.WorkerSpec{Command: func() *exec.Cmd {
			cmd := exec.Command(r.node, filepath.Join(r.pkg, "lib", "worker.js"))
			cmd.Env = append(cmd.Environ(), r.env(1)...)
			return cmd
		}, Stdout: tw, Stderr: tw})
	} else {
		w, err = r.ref.Restart(old)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: spawn %s: %w", ErrNodeTarget, name, err)
	}
	r.mu.Lock()
	p := r.procLocked(1, w.Inc, name)
	p.shm = w
	r.mu.Unlock()
	p.setPid(w.Pid())
	go func() {
		werr := w.Wait()
		e := exitOf(name, 1, w.Inc, w.Pid(), w.ProcessState(), werr)
		if tw, ok := w.Spec.Stderr.(*Tail); ok {
			e.Stderr = tw.Lines()
		}
		p.exited(e)
	}()
	return p, nil
}

// restartReference restarts name's worker under the Go master.
func (r *nodeRun) restartReference(name string) (*nodeProc, error) {
	p := r.currentProc(name)
	if p == nil || p.shm == nil {
		return nil, fmt.Errorf("%w: no worker %s", ErrNodeTarget, name)
	}
	return r.spawnReference(name, p.shm)
}

// result merges the journals into the history and says what the run did.
func (r *nodeRun) result() (*Result, error) {
	sp := r.sp
	paths, err := filepath.Glob(filepath.Join(sp.Dir, "*.njournal"))
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	res := &Result{ops: sp.Ops, duration: sp.Duration > 0}
	var cs []*history.JournalContents
	counts := make(map[procKey]*history.JournalContents)
	for _, p := range paths {
		j, err := node.ReadJournal(p)
		if err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		cs = append(cs, j.Contents)
		res.Records = append(res.Records, j.Records...)
		if j.Role == "worker" {
			counts[procKey{j.Gen, j.Inc}] = j.Contents
		}
	}
	ev, err := history.ReadJournal(eventJournal(sp.Dir, 0))
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	cs = append(cs, ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	finals := &history.JournalContents{Path: "final reads"}
	for i, o := range r.finals {
		o.ID, o.Stream = int64(i+1), i // final reads by the primary share one interval
		finals.Ops = append(finals.Ops, o)
	}
	res.LeftOut = r.leftOut
	r.masterResults(res)
	r.workerResultsNode(res, counts)
	r.faultResults(res)
	for _, e := range res.Exits {
		if !e.Planned {
			finals.Events = append(finals.Events, e.crash())
		}
	}
	cs = append(cs, finals)
	if res.History, err = history.MergeJournalContents(sp.header(), cs...); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	res.Records = append(res.Records, r.refRecords...)
	slices.SortStableFunc(res.Records, func(a, b faultinject.Record) int { return cmp.Compare(a.Time, b.Time) })
	return res, nil
}

// masterResults fills in the masters and their exits. The run's log
// (shmlab's lines and every node process's output, which all go through
// one log) is the first master's, once.
func (r *nodeRun) masterResults(res *Result) {
	for i, m := range r.masters {
		mr := MasterResult{Gen: m.gen, Pid: m.Pid(), Alive: true}
		if m.cmd != nil {
			mr.Killed = m.exit.Signal == sigKill && !m.stopping
			mr.Alive = m.stopping && m.exit.Code == 0 && m.exit.Signal == ""
			mr.Crashed = !m.exit.Planned
			if !mr.Alive && !mr.Killed {
				mr.Logs = append(mr.Logs, m.exit.String())
			}
			res.Exits = append(res.Exits, m.exit)
		}
		if i == 0 {
			mr.Logs = append(slices.Clone(r.logs), mr.Logs...)
		}
		res.Masters = append(res.Masters, mr)
	}
}

// masterGone reports whether generation gen's primary had exited by
// time t, other than at the end of the run: its workers die with it (by
// a planned fault, or its crash, which is reported once).
func (r *nodeRun) masterGone(gen int, t int64) bool {
	for _, m := range r.masters {
		if m.gen == gen && m.cmd != nil && !m.stopping && m.exit.Time != 0 && m.exit.Time <= t {
			return true
		}
	}
	return false
}

// workerResultsNode fills in the worker processes and their exits.
func (r *nodeRun) workerResultsNode(res *Result, counts map[procKey]*history.JournalContents) {
	for _, p := range r.all {
		e := p.exitInfo()
		withMaster := r.masterGone(p.gen, e.Time)
		killed := e.Signal == sigKill || withMaster
		e.Planned = e.Planned || killed
		res.Exits = append(res.Exits, e)
		w := WorkerResult{Name: p.name, Gen: p.gen, Inc: p.inc, Pid: e.Pid, Killed: killed, Crashed: !e.Planned}
		switch {
		case withMaster && e.Signal != sigKill:
			w.Exit = "died with its master"
		case e.Signal != "":
			w.Exit = "signal: " + e.Signal
		case e.Code != 0:
			w.Exit = fmt.Sprintf("exit status %d", e.Code)
		}
		if c := counts[procKey{p.gen, p.inc}]; c != nil {
			w.Ops = len(c.Ops)
			for _, o := range c.Ops {
				if o.Return == 0 {
					w.Unreturned++
				}
			}
		}
		res.Workers = append(res.Workers, w)
	}
}

// faultResults fills in the process faults planned, happened and missed.
func (r *nodeRun) faultResults(res *Result) {
	res.Faults = r.faultErr
	faults := r.sp.faults()
	res.FaultsPlanned = len(faults)
	for i, f := range faults {
		w, ok := r.missed[i]
		if r.runner == nil {
			w, ok = "the workload did not begin", true
		}
		if ok {
			res.Missed = append(res.Missed, fmt.Errorf("processes[%d] (%v) did not happen: %s", i, &f, w))
			continue
		}
		res.FaultsHappened++
	}
}
