package sim

import (
	"math/rand/v2"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// worker is one simulated worker process: the real client core
// (shm.Calls) making one operation at a time, recorded in a session.
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
	gen     *workload.Generator
	think   *rand.Rand // its think times: a stream of its own, so that a
	// draw an incarnation makes, or does not make, before it dies changes
	// nothing else (a shrunk script then replays the same schedule)
	stream int // its stream in the history, noStream before the next call
	made   int // operations this incarnation made
	// finished says the incarnation has made its last operation (its
	// quota, or the run's time is up): its process would have exited.
	finished bool
	// counts are the distinct requests the master received on each of
	// its connections, for the faults aimed at its progress (nil if none).
	counts map[uint32]*progress
	pos    int   // the next operation of its script, across incarnations
	tick   int64 // when its scheduled tick is due, 0 if none

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
	wk := &worker{w: w, idx: int32(i), name: w.rec.names[i]}
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
	wk.up, wk.paused, wk.made, wk.tick, wk.busy, wk.hasThen, wk.finished = true, false, 0, 0, false, false, false
	wk.backlog = w.freeAll(wk.backlog)
	for d := range wk.links {
		wk.links[d].reset(w)
	}
	wk.calls = shm.NewCalls(shm.CallsOptions{Identity: shm.Identity{Worker: wk.id(), Inc: wk.inc},
		RetryAfter: w.cfg.RetryAfter, Bugs: w.cfg.Bugs})
	w.incs++ // the run's count, so that no two incarnations write the same values
	wk.gen = workload.NewShaped(w.cfg.Seed, wk.name, w.master.gen, w.incs, w.cfg.Keys, w.cfg.Mix, w.cfg.Shape)
	wk.think = rand.New(rand.NewPCG(w.cfg.Seed^0x7468696e6b, uint64(wk.idx)<<32|wk.inc))
	wk.stream = noStream
}

// next schedules the worker's next operation, if it has one to make. With
// no think time, a reply's arrival begins it at once (inline), saving the
// event.
func (wk *worker) next(inline bool) {
	if wk.made >= wk.quota() {
		wk.finished = true
		return
	}
	at := wk.w.now
	t := int64(wk.w.cfg.Think)
	switch g := int64(wk.w.cfg.Grid); {
	case t == 0 || wk.made == 0:
	case g > 0:
		at += g * (1 + wk.think.Int64N(t/g)) // never 0: one instant per operation
	default:
		at += wk.think.Int64N(t + 1)
	}
	if d := int64(wk.w.cfg.Duration); d > 0 && at-wk.w.t0 >= d {
		wk.finished = true
		return // the run's time is up
	}
	if t == 0 && inline {
		wk.begin()
		return
	}
	wk.w.q.push(event{at: at, kind: evStart, node: wk.idx, conn: uint32(wk.inc), msg: -1})
}

// quota is how many operations the incarnation makes: Ops, or what is
// left of the worker's script.
func (wk *worker) quota() int {
	if s := wk.w.cfg.Script; s != nil {
		if int(wk.idx) < len(s) {
			return wk.made + len(s[wk.idx]) - wk.pos
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
		wk.begin()
	case e.kind == evReply:
		wk.reply(wk.w.slab.at(e.msg))
		wk.w.slab.free(e.msg)
	case e.at == wk.tick:
		wk.tick = 0
		wk.due()
	}
}

// begin makes the next operation: recorded, then sent.
func (wk *worker) begin() {
	w := wk.w
	wk.draw(&wk.op)
	wk.rec = w.rec.call(wk, w.now)
	wk.busy = true
	w.ops++
	for _, d := range wk.calls.TakeDeferred() { // BugAckBeforeApply's held writes
		wk.links[toMaster].sendCopy(w, uint32(wk.inc), &d)
	}
	i := w.slab.alloc() // the request is made in its slot
	req := w.slab.at(i)
	wk.op.RequestInto(req)
	var rep shm.Message
	id, local := wk.calls.Start(req, w.now, w.now+int64(w.cfg.CallTimeout), &rep)
	if local {
		w.slab.free(i)
		wk.end(&rep)
		wk.next(false)
		return
	}
	wk.call, wk.wire = id, req.Seq
	wk.deadline, wk.reached = w.now+int64(w.cfg.CallTimeout), 0
	wk.links[toMaster].send(w, uint32(wk.inc), i, infoOf(req))
	wk.arm()
}

// draw makes o the next operation of the script or the workload.
func (wk *worker) draw(o *workload.Op) {
	switch {
	case wk.w.cfg.Script != nil:
		wk.pos++
		*o = wk.w.cfg.Script[wk.idx][wk.pos-1]
	case wk.hasThen:
		wk.hasThen = false
		*o = wk.then
	default:
		wk.gen.NextInto(o)
	}
}

// reply settles a reply from the master (in place).
func (wk *worker) reply(m *shm.Message) {
	id, ok := wk.calls.Finish(m)
	if ok && wk.busy && id == wk.call {
		wk.end(m)
		wk.next(true)
	}
}

// end returns the current operation with the result rep.
func (wk *worker) end(rep *shm.Message) {
	st, out := workload.Outcome(rep, nil)
	out.Value = wk.w.keep(out.Value) // the generator keeps it; rep's bytes are the slab's
	wk.w.rec.ret(wk, wk.rec, wk.w.now, st, out)
	wk.gen.Observe(&wk.op, st, out)
	if st == history.StatusOK && wk.op.Incr != 0 {
		wk.then, wk.hasThen = wk.op.Then(out)
	}
	wk.busy = false
	wk.made++
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
		if wk.busy && id == wk.call {
			rep := shm.TimeoutReply(id)
			wk.end(&rep)
			wk.next(true)
		}
	}, func(req *shm.Message) {
		wk.links[toMaster].sendCopy(w, uint32(wk.inc), req)
	})
	wk.arm()
}

// opFor returns the id of the worker's current operation if its request
// went on connection conn with the wire id seq, for a fault event to
// name; 0 otherwise.
func (wk *worker) opFor(conn uint32, seq uint64) int64 {
	if conn != uint32(wk.inc) || seq != wk.wire {
		return 0
	}
	return wk.pendingOp()
}

// left notes that a copy of a request went on connection conn with the
// wire id seq, undropped: if it is the current call's, it may reach the
// master.
func (wk *worker) left(conn uint32, seq uint64) {
	if wk.opFor(conn, seq) != 0 {
		wk.reached++
	}
}

// surelyLost reports, when a fault has just kept a copy of the current
// call's request from the master (record r, truth not_applied), whether
// no copy of it ever reaches the master: none before it did (a
// discarded copy left the link first, and is counted out here), and the
// client sends none after it, as a resend comes RetryAfter after the
// last copy, unless the call's deadline comes first (shm's tracker). Only
// then is not_applied the truth about the operation, not just about one
// copy of its request (HISTORY.md, "Ground truth").
func (wk *worker) surelyLost(r *faultinject.Record) bool {
	if r.Decision.Discarded && wk.reached > 0 {
		wk.reached--
	}
	retry := int64(wk.w.cfg.RetryAfter)
	return wk.reached == 0 && (retry == 0 || wk.w.now+retry >= wk.deadline)
}

// pendingOp returns the id of the operation the worker waits for, 0 if
// none.
func (wk *worker) pendingOp() int64 {
	if !wk.busy {
		return 0
	}
	return int64(wk.rec) + 1
}

// kill ends the incarnation: its pending operation stays pending (its
// outcome unknown), and the master sees its connection end after what it
// had sent.
func (wk *worker) kill() {
	w := wk.w
	wk.up, wk.busy, wk.paused = false, false, false
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
