package shm

import (
	"strconv"
)

// The locks of cluster-shared-memory (npm), served by the master:
// getLock(key) is answered with a lock id once the caller holds the key's
// lock, waiting behind earlier callers in order; releaseLock(key, id),
// with the id as its value, releases it and answers "OK". A lock whose
// holder's connection ends is released (the package's own master never
// releases it), and the calls that connection had waiting are dropped.
// Locks are the master's, not the store's: they hold a reply back until
// another connection's request, which a store that answers each request
// at once cannot do, so the simulator does not model them.

// lockTable holds the master's locks. m.mu guards it.
type lockTable struct {
	held   map[string]*heldLock
	n      uint64  // lock ids issued
	grants []grant // replies to waiters granted a lock, to send after m.mu
}

type heldLock struct {
	id    string // the holder's lock id, as JSON text
	owner *lockOwner
	queue []grant // waiting getLock calls, first in first served
}

// grant is a reply held back for, or released to, a connection.
type grant struct {
	c   *lockOwner
	rep Message
}

// lockOwner stands for one connection a master serves (one per Serve),
// compared by pointer: a Conn's dynamic type may not be comparable.
type lockOwner struct{ c Conn }

// lock answers a getLock or releaseLock from c; ok is false for a getLock
// that waits (its reply goes out when the lock is granted).
func (t *lockTable) lock(c *lockOwner, req *Message) (Message, bool) {
	if t.held == nil {
		t.held = make(map[string]*heldLock)
	}
	if req.Method == MethodGetLock {
		return t.get(c, req)
	}
	return t.release(req), true
}

func (t *lockTable) get(c *lockOwner, req *Message) (Message, bool) {
	key := string(req.Key)
	h := t.held[key]
	if h == nil {
		h = &heldLock{owner: c, id: t.newID()}
		t.held[key] = h
		return valueReply(req, Value(h.id)), true
	}
	h.queue = append(h.queue, grant{c: c, rep: replyTo(req)})
	return Message{}, false
}

func (t *lockTable) release(req *Message) Message {
	key := string(req.Key)
	h := t.held[key]
	if req.Has&HasValue == 0 {
		return errorReply(req, errorf(ErrBadRequest, "releaseLock needs the lock id as its value"))
	}
	if h == nil || !req.Value.Equal(Value(h.id)) {
		return errorReply(req, errorf(ErrBadRequest, "lock id %.60s does not hold the lock of key %.40q", req.Value, req.Key))
	}
	t.handOn(key, h)
	return valueReply(req, replyOK)
}

// handOn gives the lock of key to the first waiter, or frees it.
func (t *lockTable) handOn(key string, h *heldLock) {
	if len(h.queue) == 0 {
		delete(t.held, key)
		return
	}
	next := h.queue[0]
	h.queue = h.queue[1:]
	h.owner, h.id = next.c, t.newID()
	next.rep.Value, next.rep.Has = Value(h.id), next.rep.Has|HasValue
	t.grants = append(t.grants, next)
}

// drop forgets connection c: its waiting calls, and the locks it holds,
// which go to their next waiters.
func (t *lockTable) drop(c *lockOwner) {
	for key, h := range t.held {
		kept := h.queue[:0]
		for _, g := range h.queue {
			if g.c != c {
				kept = append(kept, g)
			}
		}
		clear(h.queue[len(kept):])
		h.queue = kept
		if h.owner == c {
			t.handOn(key, h)
		}
	}
}

func (t *lockTable) newID() string {
	t.n++
	return strconv.Quote("shmlab-lock-" + strconv.FormatUint(t.n, 10))
}

// take returns the grants to send and forgets them.
func (t *lockTable) take() []grant {
	g := t.grants
	t.grants = nil
	return g
}

// sendGrants sends each granted lock's reply to its connection. A
// connection that ended meanwhile releases the lock when its Serve
// returns, so a failed send is left to that.
func sendGrants(gs []grant) {
	for _, g := range gs {
		g.c.c.Send([]Message{g.rep})
	}
}

// releaseConn drops c from the lock table when its Serve ends.
func (m *Master) releaseConn(c *lockOwner) {
	m.mu.Lock()
	m.locks.drop(c)
	gs := m.locks.take()
	m.mu.Unlock()
	sendGrants(gs)
}

// answerLock is Master.reply for the lock methods.
func (m *Master) answerLock(c *lockOwner, msg *Message) (Message, bool) {
	if err := validate(msg, false); err != nil {
		return errorReply(msg, err), true
	}
	if c == nil {
		return errorReply(msg, errorf(ErrUnknownMethod, "%s needs a connection", msg.Method)), true
	}
	return m.locks.lock(c, msg)
}
