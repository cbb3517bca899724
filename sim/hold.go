package sim

import "github.com/shmlab/shmlab/faultinject"

// byReq is what one direction of a link holds until its worker has sent
// more requests (faultinject's MessageFault.Hold), as faultinject's
// connections hold it: the requests the worker sent on its connection
// (counted on its requests link, each copy and resend too, as each is
// decided), and the messages waiting for a count.
type byReq struct {
	sent uint64
	held []heldByReq
}

type heldByReq struct {
	msg   int32
	conn  uint32
	until uint64 // the count of requests that lets it go
}

// holdByRequests holds message i until the worker has sent n more
// requests.
func (l *link) holdByRequests(w *world, conn uint32, i int32, n int) {
	sent := w.workers[l.worker].links[toMaster].byReq.sent
	l.byReq.held = append(l.byReq.held, heldByReq{msg: i, conn: conn, until: sent + uint64(n)})
}

// sentRequest lets go, right after the request the worker has just sent,
// the requests and replies whose hold that request ends.
func (wk *worker) sentRequest(w *world) {
	sent := wk.links[toMaster].byReq.sent
	for d := range wk.links {
		if l := &wk.links[d]; len(l.byReq.held) > 0 {
			l.releaseByRequests(w, sent)
		}
	}
}

// releaseByRequests lets go, in order, the held messages whose count has
// come.
func (l *link) releaseByRequests(w *world, sent uint64) {
	kept := l.byReq.held[:0]
	for _, h := range l.byReq.held {
		if h.until > sent {
			kept = append(kept, h)
			continue
		}
		at := max(w.now+w.latency(), l.last)
		l.last = at
		w.q.push(event{at: at, kind: l.arrival(), node: l.worker, conn: h.conn, msg: h.msg, held: true})
	}
	l.byReq.held = kept
}

// reset logs the messages still held as discarded with their connection,
// as faultinject's connections do, and forgets the count.
func (b *byReq) reset(w *world, l *link) {
	for _, h := range b.held {
		m := w.slab.take(h.msg)
		info := w.infoOf(&m) // the record keeps the key; the slot's bytes are reused
		if l.dir == toWorker {
			info = faultinject.Message{Seq: m.Seq}
		}
		w.sending.worker, w.sending.conn = l.worker, h.conn
		l.discard(w, info)
	}
	b.held, b.sent = b.held[:0], 0
}
