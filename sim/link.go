package sim

import (
	"time"
	"unsafe"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// The directions of a worker's link, as indices.
const (
	toMaster = 0 // requests
	toWorker = 1 // replies
)

// holdLimit is the longest a reordered message waits for the next one on
// its link, as faultinject's connections wait by default.
const holdLimit = int64(50 * time.Millisecond)

// idShift is how far a corrupt-id fault moves an id, as faultinject's
// connections move it by default (history.CorruptIDShift, which the
// availability check counts on).
const idShift = history.CorruptIDShift

// link is one direction of one worker's connection: in order, but for the
// faults that its decisions make.
type link struct {
	name   faultinject.Link
	dec    faultinject.Decisions    // the link's own, nil without message faults
	ld     *faultinject.LinkDecider // dec, when it is a plan's
	d      faultinject.Decision     // the decision of the message being sent
	worker int32
	dir    uint8
	codec  shm.Codec // its connection's
	last   int64     // when the last message in order arrives
	held   []held    // reordered messages waiting for the next one
	byReq  byReq     // messages held until more requests have gone (hold.go)
}

type held struct {
	msg   int32
	conn  uint32
	until int64 // when its hold ends
}

// send carries message i of the slab, which it now owns, on the link of
// connection conn, deciding its fate from info (the request's method, key
// and id). The message crosses in its connection's codec (wire) where a
// real one is encoded and decoded: a request before its faults are
// decided, as the master's connection decodes it before the faults that
// wrap it see it; a reply after, as they act before it is encoded.
func (l *link) send(w *world, conn uint32, i int32, info faultinject.Message) {
	if l.dir == toMaster {
		l.byReq.sent++
		defer w.workers[l.worker].sentRequest(w)
	}
	at := w.now + w.latency()
	if l.dec == nil {
		w.slab.wire(i, l.codec)
		l.left(w, conn, &info)
		l.deliver(w, conn, i, max(at, l.last), true)
		return
	}
	if l.dir == toMaster {
		w.slab.wire(i, l.codec)
	}
	w.sending.worker, w.sending.conn = l.worker, conn
	m := w.slab.at(i)
	dec := l.decide(w, &info, m)
	if !dec.Drop {
		l.left(w, conn, &info)
	}
	switch {
	case dec.Drop:
		w.slab.free(i)
		return
	case dec.Corruption != "":
		faultinject.CorruptMessage(m, l.name.Dir, dec.Corruption, idShift) // a copy: the sender's stays whole
	}
	if l.dir == toWorker {
		w.slab.wire(i, l.codec)
	}
	inOrder := dec.Delay == 0 && !dec.Reorder
	if inOrder {
		at = max(at, l.last)
	}
	at += int64(dec.Delay)
	for k := range 1 + dec.Copies {
		j := i
		if k > 0 {
			j = w.slab.dup(i)
		}
		if dec.Hold > 0 && (k > 0 || dec.Reorder) {
			l.holdByRequests(w, conn, j, dec.Hold)
			continue
		}
		if dec.Reorder {
			l.hold(w, conn, j)
			continue
		}
		l.deliver(w, conn, j, at, inOrder)
	}
}

// left notes that a request went undropped (worker.left).
func (l *link) left(w *world, conn uint32, info *faultinject.Message) {
	if l.dir == toMaster {
		w.workers[l.worker].left(conn, info.Seq)
	}
}

// sendCopy sends a copy of m, which stays the sender's.
func (l *link) sendCopy(w *world, conn uint32, m *shm.Message) {
	l.send(w, conn, w.slab.put(m), infoOf(m))
}

// decide decides the fate of message m, described by info: in place
// through the link's view of a plan's Decider, or by a replay.
func (l *link) decide(w *world, info *faultinject.Message, m *shm.Message) *faultinject.Decision {
	if l.ld != nil {
		l.ld.DecideMessage(w.log, info, m, w.elapsed(), w.now, &l.d)
	} else {
		l.d = faultinject.DecideMessage(l.dec, w.log, l.name, *info, m, w.elapsed(), w.now)
	}
	return &l.d
}

// setDecisions sets what decides the link's messages: its own view of a
// plan's Decider, a replay, or nothing.
func (l *link) setDecisions(d faultinject.Decisions) {
	l.dec = d
	if dd, ok := d.(*faultinject.Decider); ok {
		l.ld = dd.On(l.name)
		l.dec = l.ld
	}
}

// infoOf is what a decision may look at of request m, as
// faultinject.MessageInfo says, without copying its key: the simulator's
// keys are never written to.
func infoOf(m *shm.Message) faultinject.Message {
	return faultinject.Message{Method: m.Method.String(), Key: unsafe.String(unsafe.SliceData(m.Key), len(m.Key)), Seq: m.Seq}
}

// deliver schedules the arrival of message i at at; if it goes in order,
// the messages held for a reorder arrive just after it.
func (l *link) deliver(w *world, conn uint32, i int32, at int64, inOrder bool) {
	if inOrder {
		l.last = at
	}
	w.q.push(event{at: at, kind: l.arrival(), node: l.worker, conn: conn, msg: i, held: !inOrder})
	if !inOrder {
		return // a delayed message has not gone yet: the held ones wait on
	}
	for _, h := range l.held {
		w.q.push(event{at: at, kind: l.arrival(), node: l.worker, conn: h.conn, msg: h.msg, held: true})
	}
	l.held = l.held[:0]
}

func (l *link) arrival() kind {
	if l.dir == toMaster {
		return evRequest
	}
	return evReply
}

// hold keeps message i until the next message on the link goes, or
// holdLimit.
func (l *link) hold(w *world, conn uint32, i int32) {
	until := w.now + holdLimit
	l.held = append(l.held, held{msg: i, conn: conn, until: until})
	w.q.push(event{at: until, kind: evRelease, dir: l.dir, node: l.worker, conn: conn, msg: i})
}

// release lets a held message go when its hold ends, if no later message
// took it along.
func (l *link) release(w *world, e *event) {
	for i, h := range l.held {
		if h.msg == e.msg && h.until == e.at {
			l.held = append(l.held[:i], l.held[i+1:]...)
			w.q.push(event{at: w.now, kind: l.arrival(), node: l.worker, conn: h.conn, msg: h.msg, held: true})
			return
		}
	}
}

// discard logs that a message a fault delayed or held back was thrown
// away with its connection (as faultinject's connections log it): a
// request never applied, a reply lost.
func (l *link) discard(w *world, info faultinject.Message) {
	w.log.Add(faultinject.Record{Time: w.now, Link: l.name, Msg: info, Decision: faultinject.Decision{Discarded: true}})
}

// reset forgets what the link held: its connection is gone.
func (l *link) reset(w *world) {
	for _, h := range l.held {
		w.slab.free(h.msg)
	}
	l.held = l.held[:0]
	l.last = 0
	l.byReq.reset(w, l)
}
