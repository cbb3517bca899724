package sim

import (
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
)

// master is the simulated master: the real shm.Store, answering each
// request as it arrives, on the connection it came from.
type master struct {
	up, paused bool
	gen        int // its generation: 1, then one more per restart
	store      *shm.Store
	backlog    []event // arrivals while paused
}

func (m *master) handle(w *world, e *event) {
	switch {
	case !m.up && e.kind == evRequest && e.held:
		wk := w.workers[e.node]
		req := w.slab.take(e.msg)
		w.sending.worker, w.sending.conn = wk.idx, e.conn
		wk.links[toMaster].discard(w, w.infoOf(&req))
	case !m.up:
		w.drop(e)
	case m.paused:
		m.backlog = append(m.backlog, *e)
	case e.kind == evHangup:
		wk := w.workers[e.node]
		m.store.Forget(shm.Identity{Worker: wk.id(), Inc: uint64(e.conn)})
		wk.closed = max(wk.closed, e.conn)
	default:
		m.request(w, e)
	}
}

// request answers one request, if its connection is still open.
func (m *master) request(w *world, e *event) {
	req := w.slab.at(e.msg)
	defer w.slab.free(e.msg)
	wk := w.workers[e.node]
	if e.conn <= wk.closed || e.conn < wk.opened {
		if e.held {
			w.sending.worker, w.sending.conn = wk.idx, e.conn
			wk.links[toMaster].discard(w, w.infoOf(req))
		}
		return // its connection is gone, or was made before this master
	}
	if wk.counts != nil {
		w.progress(wk, e.conn, req)
	}
	if w.cfg.Bugs.Has(shm.BugCrashKey) && string(req.Key) == shm.CrashKey {
		w.crashMaster(req)
		return
	}
	i := w.slab.alloc() // the reply is made in its slot
	req, rep := w.slab.at(e.msg), w.slab.at(i)
	if !m.store.Answer(w.now, shm.Identity{Worker: wk.id(), Inc: uint64(e.conn)}, req, rep) {
		w.slab.free(i)
		return
	}
	if to, conn, ok := m.route(w, wk, e.conn, req); ok {
		l := &to.links[toWorker]
		var info faultinject.Message // what decides a reply's fate, if anything does
		if l.dec != nil {
			info = w.infoOf(req)
		}
		l.send(w, conn, i, info)
		return
	}
	w.slab.free(i)
}

// route returns where the reply to req goes: back on its connection, or
// under shm.BugRouteByClaim, to the worker whose id it claims (ok is false
// if there is none).
func (m *master) route(w *world, from *worker, conn uint32, req *shm.Message) (*worker, uint32, bool) {
	if !w.cfg.Bugs.Has(shm.BugRouteByClaim) {
		return from, conn, true
	}
	i := req.Worker - 1
	if req.Has&shm.HasWorker == 0 || i < 0 || i >= int64(len(w.workers)) || !w.workers[i].up {
		return nil, 0, false
	}
	return w.workers[i], uint32(w.workers[i].inc), true
}

// resume lets the arrivals held during a pause happen now, in order.
func (m *master) resume(w *world) {
	m.paused = false
	for _, e := range m.backlog {
		e.at = w.now
		w.q.push(e)
	}
	m.backlog = m.backlog[:0]
}

// drop frees the message an event carried, which no one will receive.
func (w *world) drop(e *event) {
	if e.msg >= 0 {
		w.slab.free(e.msg)
	}
}
