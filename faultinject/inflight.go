package faultinject

import (
	"sync"

	"github.com/shmlab/shmlab/shm"
)

// inflight remembers the method and key of the requests on a link that
// await their replies, so that a reply is decided on as its request's.
// An entry goes when its last reply has been decided on; beyond max
// entries the oldest are forgotten (requests the master never answered,
// because a fault dropped them or the worker's connection ended), and
// their late replies are decided on by id alone.
type inflight struct {
	mu    sync.Mutex
	bySeq map[uint64]awaited
	ring  []ringSlot // entries in order of arrival, for forgetting the oldest
	gen   uint64     // entries added so far
	max   int
}

type awaited struct {
	method, key string
	replies     int    // replies still expected (more than one for a duplicate)
	gen         uint64 // when it was last added
}

type ringSlot struct {
	seq, gen uint64
}

func newInflight(max int) *inflight {
	return &inflight{bySeq: make(map[uint64]awaited), max: max}
}

// addAll remembers the requests among ms, each expecting one reply.
func (t *inflight) addAll(ms []shm.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range ms {
		if m := &ms[i]; m.Kind == shm.KindRequest {
			t.addLocked(m, 1)
		}
	}
}

// add remembers request m, which will be answered replies times.
func (t *inflight) add(m *shm.Message, replies int) {
	t.mu.Lock()
	t.addLocked(m, replies)
	t.mu.Unlock()
}

func (t *inflight) addLocked(m *shm.Message, replies int) {
	if m.Has&shm.HasSeq == 0 {
		return // its reply has no id to find it by
	}
	t.gen++
	slot := ringSlot{seq: m.Seq, gen: t.gen}
	if len(t.ring) < t.max {
		t.ring = append(t.ring, slot)
	} else {
		i := int((t.gen - 1) % uint64(t.max)) // the oldest slot
		if old := t.ring[i]; t.bySeq[old.seq].gen == old.gen {
			delete(t.bySeq, old.seq)
		}
		t.ring[i] = slot
	}
	a, ok := t.bySeq[m.Seq]
	if method, key := m.Method.String(), string(m.Key); !ok || a.method != method || a.key != key {
		a = awaited{method: method, key: key}
	}
	a.replies += replies
	a.gen = t.gen
	t.bySeq[m.Seq] = a
}

// take returns what a decision knows of reply m: its request's method
// and key, if remembered, and its id.
func (t *inflight) take(m *shm.Message) Message {
	if m.Has&shm.HasSeq == 0 {
		return Message{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.bySeq[m.Seq]
	if !ok {
		return Message{Seq: m.Seq}
	}
	if a.replies--; a.replies <= 0 {
		delete(t.bySeq, m.Seq)
	} else {
		t.bySeq[m.Seq] = a
	}
	return Message{Method: a.method, Key: a.key, Seq: m.Seq}
}
