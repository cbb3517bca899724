package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// worker is one simulated worker process: the real client core
// (shm.Calls) with one call in flight per lane (Config.Pipeline; one
// unless pipelined), each lane's operations recorded as a session.
type worker struct {
	w       *world
	idx     int32
	name    string
	inc     uint64 // its incarnation, which is also its connection's number
	opened  uint32 // the first connection the current master accepts
	closed  uint32 // the last connection the master saw end
	up      bool
	paused  bool
	backlog []event
	links   [2]link
	calls   *shm.Calls
	lanes   []lane
	// finished says the incarnation has made its last operation on every
	// lane (their quotas, or the run's time is up): its process would
	// have exited.
	finished bool
	// counts are the distinct requests the master received on each of
	// its connections, for the faults aimed at its progress (nil if none).
	counts map[uint32]*progress
	pos    int   // the next operation of its script, across incarnations
	tick   int64 // when its scheduled tick is due, 0 if none
}

// lane is one sequence of a worker's calls, one at a time, with a
// workload stream of its own; a pipelined worker's lanes share its one
// client, so that several of its calls are in flight at once.
type lane struct {
	wk    *worker
	n     uint8 // its number in its worker
	name  int32 // its name's index in the recorder
	gen   *workload.Generator
	think *rand.Rand // its think times: a stream of its own, so that a
	// draw an incarnation makes, or does not make, before it dies changes
	// nothing else (a shrunk script then replays the same schedule)
	stream   int  // its stream in the history, noStream before the next call
	made     int  // operations this incarnation made on it
	finished bool // its quota is made, or the run's time is up

	then    workload.Op // the second half of an increment, to make next...
	hasThen bool        // ...if there is one

	// The current operation.
	busy bool
	op   workload.Op
	rec  int    // its index in the history
	call uint64 // its call's id
	wire uint64 // its request's id on the wire
	// deadline is when the call times out; reached counts the copies of
	// its request (the first, resends) that left the link undropped and
	// were not discarded since: they may reach the master.
	deadline int64
	reached  int
}

func newWorker(w *world, i int) *worker {
	wk := &worker{w: w, idx: int32(i), name: workerName(i), lanes: make([]lane, w.cfg.lanes())}
	for l := range wk.lanes {
		wk.lanes[l] = lane{wk: wk, n: uint8(l), name: int32(i*len(wk.lanes) + l)}
	}
	codec := shm.CodecJSON
	if w.cfg.WorkerCodec(i, true) == spec.CodecCompact {
		codec = shm.CodecCompact
	}
	for d := range wk.links {
		dir := faultinject.Requests
		if d == toWorker {
			dir = faultinject.Replies
		}
		name := faultinject.Link{Worker: wk.name, Dir: dir}
		wk.links[d] = link{name: name, worker: int32(i), dir: uint8(d), codec: codec}
		wk.links[d].setDecisions(w.dec)
	}
	return wk
}

// id is the worker's number in its requests.
func (wk *worker) id() int64 { return int64(wk.idx) + 1 }

// connect starts a new incarnation with a new connection to the master.
func (wk *worker) connect() {
	w := wk.w
	wk.inc++
	wk.up, wk.paused, wk.tick, wk.finished = true, false, 0, false
	wk.backlog = w.freeAll(wk.backlog)
	for d := range wk.links {
		wk.links[d].reset(w)
	}
	wk.calls = shm.NewCalls(shm.CallsOptions{Identity: shm.Identity{Worker: wk.id(), Inc: wk.inc},
		RetryAfter: w.cfg.RetryAfter, Bugs: w.cfg.Bugs})
	for l := range wk.lanes {
		wk.lanes[l].connect()
	}
}

// connect starts the lane anew for its worker's new incarnation. Lane 0
// draws as an unpipelined worker does; another lane's workload is named
// after it ("w1.1"), and its think times have a stream of their own.
func (ln *lane) connect() {
	wk, w := ln.wk, ln.wk.w
	ln.made, ln.busy, ln.hasThen, ln.finished = 0, false, false, false
	w.incs++ // the run's count, so that no two incarnations write the same values
	name := wk.name
	if ln.n > 0 {
		name = fmt.Sprintf("%s.%d", wk.name, ln.n)
	}
	ln.gen = workload.NewShaped(w.cfg.Seed, name, w.master.gen, w.incs, w.cfg.Keys, w.cfg.Mix, w.cfg.Shape)
	ln.think = rand.New(rand.NewPCG(w.cfg.Seed^0x7468696e6b, uint64(wk.idx)<<32|wk.inc^uint64(ln.n)<<56))
	ln.stream = noStream
}

// next schedules each lane's next operation.
func (wk *worker) next() {
	for l := range wk.lanes {
		wk.lanes[l].next(false)
	}
}

// next schedules the lane's next operation, if it has one to make. With
// no think time, a reply's arrival begins it at once (inline), saving the
// event.
func (ln *lane) next(inline bool) {
	w := ln.wk.w
	if ln.made >= ln.quota() {
		ln.finish()
		return
	}
	at := w.now
	t := int64(w.cfg.Think)
	switch g := int64(w.cfg.Grid); {
	case t == 0 || ln.made == 0:
	case g > 0:
		at += g * (1 + ln.think.Int64N(t/g)) // never 0: one instant per operation
	default:
		at += ln.think.Int64N(t + 1)
	}
	if d := int64(w.cfg.Duration); d > 0 && at-w.t0 >= d {
		ln.finish()
		return // the run's time is up
	}
	if t == 0 && inline {
		ln.begin()
		return
	}
	w.q.push(event{at: at, kind: evStart, node: ln.wk.idx, conn: uint32(ln.wk.inc), dir: ln.n, msg: -1})
}

// finish marks the lane finished, and its worker once every lane is.
func (ln *lane) finish() {
	ln.finished = true
	wk := ln.wk
	for l := range wk.lanes {
		if !wk.lanes[l].finished {
			return
		}
	}
	wk.finished = true
}

// quota is how many operations the lane makes in this incarnation: Ops,
// or what is left of its worker's script (a script has one lane).
func (ln *lane) quota() int {
	wk := ln.wk
	if s := wk.w.cfg.Script; s != nil {
		if int(wk.idx) < len(s) {
			return ln.made + len(s[wk.idx]) - wk.pos
		}
		return 0
	}
	return wk.w.cfg.Ops
}

func (wk *worker) handle(e *event) {
	switch {
	case !wk.up || e.conn != uint32(wk.inc):
		if e.kind == evReply && e.held {
			m := wk.w.slab.ms[e.msg]
			wk.w.sending.worker, wk.w.sending.conn = wk.idx, e.conn
			wk.links[toWorker].discard(wk.w, faultinject.Message{Seq: m.Seq})
		}
		wk.w.drop(e) // for an incarnation that is gone
	case wk.paused:
		wk.backlog = append(wk.backlog, *e)
	case e.kind == evStart:
		wk.lanes[e.dir].begin()
	case e.kind == evReply:
		wk.reply(wk.w.slab.at(e.msg))
		wk.w.slab.free(e.msg)
	case e.at == wk.tick:
		wk.tick = 0
		wk.due()
	}
}

// begin makes the lane's next operation: recorded, then sent.
func (ln *lane) begin() {
	wk := ln.wk
	w := wk.w
	ln.draw(&ln.op)
	ln.rec = w.rec.call(ln, w.now)
	ln.busy = true
	w.ops++
	for _, d := range wk.calls.TakeDeferred() { // BugAckBeforeApply's held writes
		wk.links[toMaster].sendCopy(w, uint32(wk.inc), &d)
	}
	i := w.slab.alloc() // the request is made in its slot
	req := w.slab.at(i)
	ln.op.RequestInto(req)
	var rep shm.Message
	id, local := wk.calls.Start(req, w.now, w.now+int64(w.cfg.CallTimeout), &rep)
	if local {
		w.slab.free(i)
		ln.end(&rep)
		ln.next(false)
		return
	}
	ln.call, ln.wire = id, req.Seq
	ln.deadline, ln.reached = w.now+int64(w.cfg.CallTimeout), 0
	wk.links[toMaster].send(w, uint32(wk.inc), i, infoOf(req))
	wk.arm()
}

// draw makes o the next operation of the script or the workload.
func (ln *lane) draw(o *workload.Op) {
	wk := ln.wk
	switch {
	case wk.w.cfg.Script != nil:
		wk.pos++
		*o = wk.w.cfg.Script[wk.idx][wk.pos-1]
	case ln.hasThen:
		ln.hasThen = false
		*o = ln.then
	default:
		ln.gen.NextInto(o)
	}
}

// reply settles a reply from the master (in place).
func (wk *worker) reply(m *shm.Message) {
	id, ok := wk.calls.Finish(m)
	if !ok {
		return
	}
	if ln := wk.laneOf(id); ln != nil {
		ln.end(m)
		ln.next(true)
	}
}

// laneOf returns the lane whose current call has the id id, nil if none.
func (wk *worker) laneOf(id uint64) *lane {
	for l := range wk.lanes {
		if ln := &wk.lanes[l]; ln.busy && ln.call == id {
			return ln
		}
	}
	return nil
}

// end returns the lane's current operation with the result rep.
func (ln *lane) end(rep *shm.Message) {
	w := ln.wk.w
	st, out := workload.Outcome(rep, nil)
	out.Value = w.keep(out.Value) // the generator keeps it; rep's bytes are the slab's
	w.rec.ret(ln, ln.rec, w.now, st, out)
	ln.gen.Observe(&ln.op, st, out)
	if st == history.StatusOK && ln.op.Incr != 0 {
		ln.then, ln.hasThen = ln.op.Then(out)
	}
	ln.busy = false
	ln.made++
}

// arm schedules a tick for the client's next deadline or resend. A tick
// already scheduled comes first: deadlines and resend times only grow.
func (wk *worker) arm() {
	if wk.tick != 0 {
		return
	}
	at, ok := wk.calls.Next()
	if !ok {
		return
	}
	wk.tick = max(at, wk.w.now)
	wk.w.q.push(event{at: wk.tick, kind: evTick, node: wk.idx, conn: uint32(wk.inc), msg: -1})
}

// due ends the calls past their deadline and resends what is due.
func (wk *worker) due() {
	w := wk.w
	wk.calls.Due(w.now, func(id uint64) {
		if ln := wk.laneOf(id); ln != nil {
			rep := shm.TimeoutReply(id)
			ln.end(&rep)
			ln.next(true)
		}
	}, func(req *shm.Message) {
		wk.links[toMaster].sendCopy(w, uint32(wk.inc), req)
	})
	wk.arm()
}

// laneFor returns the lane whose current operation's request went on
// connection conn with the wire id seq, for a fault event to name; nil
// if none.
func (wk *worker) laneFor(conn uint32, seq uint64) *lane {
	if conn != uint32(wk.inc) {
		return nil
	}
	for l := range wk.lanes {
		if ln := &wk.lanes[l]; ln.busy && ln.wire == seq {
			return ln
		}
	}
	return nil
}

// left notes that a copy of a request went on connection conn with the
// wire id seq, undropped: if it is a current call's, it may reach the
// master.
func (wk *worker) left(conn uint32, seq uint64) {
	if ln := wk.laneFor(conn, seq); ln != nil {
		ln.reached++
	}
}

// surelyLost reports, when a fault has just kept a copy of the lane's
// current call's request from the master (record r, truth not_applied),
// whether no copy of it ever reaches the master: none before it did (a
// discarded copy left the link first, and is counted out here), and the
// client sends none after it, as a resend comes RetryAfter after the
// last copy, unless the call's deadline comes first (shm's tracker). Only
// then is not_applied the truth about the operation, not just about one
// copy of its request (HISTORY.md, "Ground truth").
func (ln *lane) surelyLost(r *faultinject.Record) bool {
	if r.Decision.Discarded && ln.reached > 0 {
		ln.reached--
	}
	retry := int64(ln.wk.w.cfg.RetryAfter)
	return ln.reached == 0 && (retry == 0 || ln.wk.w.now+retry >= ln.deadline)
}

// pendingOp returns the id of the operation the lane waits for, 0 if
// none.
func (ln *lane) pendingOp() int64 {
	if !ln.busy {
		return 0
	}
	return int64(ln.rec) + 1
}

// pendingOp returns the id of an operation the worker waits for (its
// first lane's that waits), 0 if none.
func (wk *worker) pendingOp() int64 {
	for l := range wk.lanes {
		if op := wk.lanes[l].pendingOp(); op != 0 {
			return op
		}
	}
	return 0
}

// idle forgets the lanes' current operations, which stay pending in the
// history (their outcomes unknown).
func (wk *worker) idle() {
	for l := range wk.lanes {
		wk.lanes[l].busy = false
	}
}

// kill ends the incarnation: its pending operations stay pending (their
// outcomes unknown), and the master sees its connection end after what
// it had sent.
func (wk *worker) kill() {
	w := wk.w
	wk.up, wk.paused = false, false
	wk.idle()
	wk.backlog = w.freeAll(wk.backlog)
	delete(w.pausedBy, wk.name)
	l := &wk.links[toMaster]
	at := max(w.now+w.latency(), l.last)
	w.q.push(event{at: at, kind: evHangup, node: wk.idx, conn: uint32(wk.inc), msg: -1})
}

// resume lets what arrived during a pause happen now.
func (wk *worker) resume() {
	w := wk.w
	wk.paused = false
	for _, e := range wk.backlog {
		if e.kind == evTick {
			continue
		}
		e.at = w.now
		w.q.push(e)
	}
	wk.backlog = wk.backlog[:0]
	wk.tick = 0
	wk.arm()
}
