package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/workload"
)

// accept serves the control socket: each node process connects once.
func (r *nodeRun) accept(ctx context.Context) {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go r.serve(ctx, newCtlConn(c))
	}
}

// serve reads one process's control connection: its hello, then its
// reports (a primary) or its answers (a worker).
func (r *nodeRun) serve(ctx context.Context, c *ctlConn) {
	defer c.close()
	m, err := c.recv()
	if err != nil || m.T != "hello" {
		r.log("control: a connection without hello: %v", err)
		return
	}
	switch m.Role {
	case "primary":
		r.servePrimary(c, m)
	case "worker":
		r.serveWorker(ctx, c, m)
	default:
		r.log("control: hello with role %q", m.Role)
	}
}

func (r *nodeRun) servePrimary(c *ctlConn, hello *ctlMsg) {
	r.mu.Lock()
	var m *nodeMaster
	for _, x := range r.masters {
		if x.gen == hello.Gen {
			m = x
		}
	}
	if m == nil || m.ctl != nil {
		r.mu.Unlock()
		r.log("control: hello of an unknown primary, generation %d", hello.Gen)
		return
	}
	m.ctl, m.finalRead = c, hello.FinalRead
	start := r.start
	r.mu.Unlock()
	if start != 0 {
		c.send(&ctlMsg{T: "start", At: strconv.FormatInt(start, 10)})
	}
	close(m.hello)
	defer r.unforked(m)
	for {
		msg, err := c.recv()
		if err != nil {
			return
		}
		switch msg.T {
		case "fork":
			r.proc(m.gen, msg.Inc, msg.Worker).setPid(msg.Pid)
		case "exit":
			p := r.proc(m.gen, msg.Inc, msg.Worker)
			p.setPid(msg.Pid)
			e := ProcessExit{Exit: Exit{Stderr: msg.Stderr}}
			if msg.Code != nil {
				e.Code = *msg.Code
			}
			if msg.Signal != nil {
				e.Signal = *msg.Signal
			}
			p.exited(e)
		case "final":
			select {
			case m.final <- msg:
			default:
			}
		}
	}
}

// unforked ends the workers primary m was to fork and did not, once its
// control connection ended (it reported every fork it made before it
// went): they will never run, and must not be waited for as current
// workers.
func (r *nodeRun) unforked(m *nodeMaster) {
	r.mu.Lock()
	var ps []*nodeProc
	for _, p := range r.all {
		if p.gen == m.gen && p.Pid() == 0 {
			ps = append(ps, p)
		}
	}
	r.mu.Unlock()
	for _, p := range ps {
		p.exited(ProcessExit{Planned: true, Why: "never forked: its primary's control connection ended first"})
	}
}

// sigKill is SIGKILL's name: a process fault's kill, or the end of a run.
const sigKill = "SIGKILL"

func (r *nodeRun) serveWorker(ctx context.Context, c *ctlConn, hello *ctlMsg) {
	r.mu.Lock()
	p := r.procLocked(hello.Gen, hello.Inc, hello.Worker)
	if p.ctl != nil {
		r.mu.Unlock()
		r.log("control: a second hello of %s (master %d, incarnation %d)", hello.Worker, hello.Gen, hello.Inc)
		return
	}
	p.ctl = c
	if r.methods == nil {
		r.methods = hello.Methods
	}
	start := r.start
	r.mu.Unlock()
	p.setPid(hello.Pid)
	if start != 0 {
		c.send(&ctlMsg{T: "start", At: strconv.FormatInt(start, 10)})
	}
	close(p.hello)
	p.progressed()
	go r.drive(ctx, p)
	defer close(p.ctlGone)
	for {
		msg, err := c.recv()
		if err != nil {
			return
		}
		switch msg.T {
		case "done":
			select {
			case p.replies <- msg:
			default: // one answer per operation: call has not read the last
				r.log("worker %s: an answer no operation waits for: %+v", p.name, msg)
			}
		case "called":
			select {
			case p.called <- msg:
			default:
			}
		case "poisoned":
			select {
			case p.poisoned <- msg:
			default:
			}
		}
	}
}

// errGone is returned by call when the worker went away.
var errGone = errors.New("the worker process went away")

// call has worker p run operation o (the nth of its process; record
// false keeps it out of its journal) and returns how it ended. The
// process faults aimed at this point of p's progress (faults, by index)
// happen once the worker has called its library, before the answer.
func (r *nodeRun) call(ctx context.Context, p *nodeProc, n int, o *workload.Op, record bool, faults []int) (history.Status, history.Output, error) {
	in := o.Input()
	msg := &ctlMsg{T: "op", N: n, Op: o, Input: &in, Notify: len(faults) > 0}
	if !record {
		msg.Record = &record
	}
	if r.locking && o.Incr != 0 {
		msg.Lock, msg.Unlock = o.Method == history.Get, o.Method == history.Set
	}
	what := fmt.Sprintf("its answer to operation %d (%s %q)", n, o.Method, o.Key)
	p.expect(what, stallWait(r.sp.CallTimeout))
	defer p.progressed()
	if err := p.ctl.send(msg); err != nil {
		return "", history.Output{}, errGone
	}
	// The worker says "called" before its answer if it called its library
	// (not if the call timed out before: the faults' point was not reached).
	called := p.called
	if len(faults) == 0 {
		called = nil
	}
	trigger := func() {
		called = nil
		p.progressed() // the faults' actions take their time, not the worker's
		for _, i := range faults {
			<-r.runner.Trigger(i)
		}
		p.expect(what, stallWait(r.sp.CallTimeout))
	}
	for {
		select {
		case <-called:
			trigger()
		case rep := <-p.replies:
			select {
			case <-called:
				trigger()
			default:
			}
			if rep.N != n || rep.Out == nil {
				return "", history.Output{}, fmt.Errorf("worker %s answered %+v to operation %d", p.name, rep, n)
			}
			return rep.Status, *rep.Out, nil
		case <-p.ctlGone:
			return "", history.Output{}, errGone
		case <-ctx.Done():
			return "", history.Output{}, ctx.Err()
		}
	}
}

// drive runs worker process p's operations, as harness/worker.go's
// runWorker does for a Go worker: the operations workload draws for
// (seed, name, generation, incarnation), each next one seeing the last
// one's answer.
func (r *nodeRun) drive(ctx context.Context, p *nodeProc) {
	defer close(p.finished)
	select {
	case <-r.started:
	case <-p.ctlGone:
		return
	case <-ctx.Done():
		return
	}
	sp := r.sp
	shape := sp.Shape
	shape.JS = true // a JavaScript library: only the edges it keeps as written
	w := workload.NewShaped(sp.Seed, p.name, p.gen, p.inc, sp.Keys, r.mix, shape)
	runOps(w, sp, r.start, func(n int, o *workload.Op) (history.Status, history.Output, bool) {
		r.runner.Received(p.name, n)
		st, out, err := r.call(ctx, p, n, o, true, r.aimedAt(p.name, n))
		if err != nil && !errors.Is(err, errGone) && !errors.Is(err, context.Canceled) {
			r.log("worker %s: %v", p.name, err)
		}
		return st, out, err == nil
	})
	if r.locking && p.ctl != nil {
		// Its operations may have ended between an increment's read and
		// write (ops or duration spent): the lock the read took must go,
		// or the other workers' increments of the key wait forever.
		p.ctl.send(&ctlMsg{T: "release"})
	}
}

// aimedAt returns the process faults aimed at worker name's nth
// operation (ProcessFault.After): on a Node target, a worker's nth call
// of its library stands for the master's nth request received from it.
func (r *nodeRun) aimedAt(name string, n int) []int {
	var out []int
	for i, f := range r.sp.faults() {
		if a := f.After; a != nil && a.Worker == name && a.Ops == n {
			out = append(out, i)
		}
	}
	return out
}

// finalReads records the final value of every key, read once the
// workers are done: by the adapter's finalRead in the primary, by the
// Go master's own read, or else through a worker still running; as
// worker FinalReader, between a time taken before the request and one
// after the answer.
func (r *nodeRun) finalReads(ctx context.Context) {
	r.mu.Lock()
	m := r.masters[len(r.masters)-1]
	r.mu.Unlock()
	if r.ref != nil {
		r.mu.Lock()
		s := r.events.Session(FinalReader)
		for _, k := range r.sp.Keys {
			p := s.Call(history.Get, k, history.Input{})
			v, _ := r.ref.Get(k)
			p.Return(history.StatusOK, history.Output{Value: json.RawMessage(v)})
		}
		r.mu.Unlock()
		return
	}
	if m.finalRead && m.ctl != nil && alive(m) {
		r.finalByPrimary(ctx, m)
		return
	}
	r.finalByWorker(ctx)
}

// alive reports whether m has not exited.
func alive(m *nodeMaster) bool {
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

func (r *nodeRun) finalByPrimary(ctx context.Context, m *nodeMaster) {
	t0 := history.Now()
	if m.ctl.send(&ctlMsg{T: "final", Keys: r.sp.Keys}) != nil {
		return
	}
	var msg *ctlMsg
	select {
	case msg = <-m.final:
	case <-m.done:
	case <-time.After(nodeStartWait):
	case <-ctx.Done():
	}
	t1 := history.Now()
	if msg == nil || msg.Error != "" || msg.Values == nil {
		why := "no answer"
		if msg != nil {
			why = msg.Error
		}
		r.log("final read by the adapter: %s", why)
		if msg != nil && msg.Values == nil && msg.Error == "" {
			r.finalByWorker(ctx)
		}
		return
	}
	for _, k := range r.sp.Keys {
		var out history.Output
		if v := msg.Values[k]; v != nil {
			out.Value = json.RawMessage(*v)
		}
		r.recordFinal(k, t0, t1, out)
	}
}

// finalByWorker reads every key through a worker process still running.
func (r *nodeRun) finalByWorker(ctx context.Context) {
	r.mu.Lock()
	var p *nodeProc
	for _, name := range workerNames(r.sp.Workers) {
		if c := r.current[name]; c != nil && c.ctl != nil {
			select {
			case <-c.done:
			case <-c.ctlGone:
			default:
				if p == nil {
					p = c
				}
			}
		}
	}
	r.mu.Unlock()
	if p == nil {
		r.log("no final reads: no worker process is left to make them")
		return
	}
	for i, k := range r.sp.Keys {
		o := workload.Op{Method: history.Get, Key: k}
		t0 := history.Now()
		st, out, err := r.call(ctx, p, -1-i, &o, false, nil)
		t1 := history.Now()
		if err != nil || st != history.StatusOK {
			r.log("final read of %q through %s: %v %v", k, p.name, st, err)
			return
		}
		r.recordFinal(k, t0, t1, out)
	}
}

// recordFinal records a final read of key between t0 and t1.
func (r *nodeRun) recordFinal(key string, t0, t1 int64, out history.Output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finals = append(r.finals, history.Op{Worker: FinalReader, Method: history.Get, Key: key,
		Call: t0, Return: t1, Status: history.StatusOK, Output: out})
}

func workerNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("w%d", i+1)
	}
	return out
}

// shutdown ends every worker process and the primary: the workers are
// told to end (their exit is planned), the primary to stop; what does
// not exit in time is killed.
func (r *nodeRun) shutdown() {
	r.mu.Lock()
	ps := append([]*nodeProc(nil), r.all...)
	ms := append([]*nodeMaster(nil), r.masters...)
	stuck := r.stuckProc
	r.mu.Unlock()
	if stuck != nil {
		stuck.mu.Lock()
		stuck.ended = true
		stuck.mu.Unlock()
		r.killLeft(stuck, "was stuck") // it reads no "end"
	}
	for _, p := range ps {
		p.mu.Lock()
		p.ended = true
		p.mu.Unlock()
		if p.ctl != nil {
			p.ctl.send(&ctlMsg{T: "end", Wait: lateWait(r.sp.CallTimeout).Milliseconds()})
		}
	}
	close(r.stop)
	wait := closedAfter(aliveWait + lateWait(r.sp.CallTimeout))
	for _, p := range ps {
		select {
		case <-p.done: // its exit reported, before the primary stops
		case <-wait:
		}
	}
	for _, m := range ms {
		r.mu.Lock()
		m.stopping = alive(m)
		r.mu.Unlock()
		if m.ctl != nil && m.stopping {
			m.ctl.send(&ctlMsg{T: "stop"})
		}
		if m.cmd == nil {
			continue
		}
		select {
		case <-m.done:
		case <-time.After(aliveWait):
			m.cmd.Process.Kill()
			<-m.done
		}
	}
	if r.ref != nil {
		r.ref.Close()
	}
	wait = closedAfter(aliveWait)
	for _, p := range ps {
		select {
		case <-p.done:
		case <-wait:
			r.killLeft(p, "still ran at the end of the run")
			p.exited(ProcessExit{Why: "no exit seen at the end of the run"})
		}
	}
}
