package faultinject

import (
	"sync"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// flow is one direction of a wrapped connection. It applies each
// message's decision (one file per fault: drop.go, delay.go,
// duplicate.go, reorder.go, corrupt.go) and gathers the messages that go
// on, in their new order, in out; its side hands them on with flush.
type flow struct {
	link Link
	c    *conn

	mu    sync.Mutex
	cond  sync.Cond     // broadcast when messages move or the flow stops
	out   []shm.Message // messages ready to go on, in order
	held  int           // messages in delay timers and the reorder slot
	shut  bool          // stopped: timers are off, nothing moves
	own   bool          // messages must be copied before they go to out
	flush func() error  // hands out on; called with mu held

	timers map[uint64]delayed // delays under way (delay.go)
	timerN uint64             // timers started so far

	counted    []byCount     // held until more requests have come (hold.go)
	reordered  []shm.Message // held until the next message has gone (reorder.go)
	holdTimer  *time.Timer   // releases them at the hold limit
	holdRounds uint64        // hold timers started so far
}

func (f *flow) init(c *conn, l Link, own bool, flush func() error) {
	f.c, f.link, f.own, f.flush = c, l, own, flush
	f.cond.L = &f.mu
	f.timers = make(map[uint64]delayed)
}

// admit decides message m's fate and applies it; called with mu held.
func (f *flow) admit(m *shm.Message) {
	dec, ok := f.c.decide(f.link, m)
	if !ok {
		f.pass(f.keep(m))
		return
	}
	if f.link.Dir == Requests {
		f.c.requests.Add(1)
		defer f.passedRequest()
	}
	if dropped(&dec) {
		return
	}
	msg := f.keep(m)
	if !f.own && (dec.Delay > 0 || dec.Reorder || dec.Hold > 0) {
		msg = ownMessage(m) // it outlives the caller's buffer
	}
	if dec.Corruption != "" {
		CorruptMessage(&msg, f.link.Dir, dec.Corruption, f.c.opts.IDShift)
	}
	if f.link.Dir == Requests && f.c.inflight != nil {
		f.c.inflight.add(&msg, 1+dec.Copies)
	}
	switch {
	case dec.Hold > 0 && dec.Reorder: // a delay drawn with it adds nothing
		f.holdFor(duplicates(msg, dec.Copies), dec.Hold)
	case dec.Hold > 0: // the copies wait, the message goes on
		f.holdFor(duplicates(msg, dec.Copies)[1:], dec.Hold)
		f.goOn(msg, 0, dec.Delay, false)
	default:
		f.goOn(msg, dec.Copies, dec.Delay, dec.Reorder)
	}
}

// goOn lets msg and extra copies of it go on: after delay d if not 0,
// then held for a reorder if reorder is set.
func (f *flow) goOn(msg shm.Message, extra int, d time.Duration, reorder bool) {
	switch {
	case d > 0:
		f.delay(duplicates(msg, extra), d, reorder)
	case reorder:
		f.hold(duplicates(msg, extra))
	default:
		f.passCopies(msg, extra)
	}
}

// keep returns m as the flow may keep it.
func (f *flow) keep(m *shm.Message) shm.Message {
	if f.own {
		return ownMessage(m)
	}
	return *m
}

// pass lets ms go on, and the reordered messages after them.
func (f *flow) pass(ms ...shm.Message) {
	f.out = append(f.out, ms...)
	f.releaseHeld()
}

// flushLater hands on what a timer released, for want of a caller to
// report an error to.
func (f *flow) flushLater() {
	if err := f.flush(); err != nil {
		f.c.logf("faultinject: %s: sending held messages: %v", f.link, err)
	}
	f.cond.Broadcast()
}

// stop turns the timers off and drops what they hold, logging each
// message it drops: a request discarded so is one the master never saw.
func (f *flow) stop() {
	f.mu.Lock()
	f.shut = true
	var lost []shm.Message
	for id, d := range f.timers {
		d.t.Stop()
		lost = append(lost, d.ms...)
		delete(f.timers, id)
	}
	if f.holdTimer != nil {
		f.holdTimer.Stop()
		f.holdTimer = nil
	}
	lost = append(append(lost, f.reordered...), f.out...)
	for _, h := range f.counted {
		lost = append(lost, h.m)
	}
	f.reordered, f.out, f.held, f.counted = nil, nil, 0, nil
	f.cond.Broadcast()
	f.mu.Unlock()
	f.logDiscarded(lost)
}

// logDiscarded logs the requests and replies of ms as discarded.
func (f *flow) logDiscarded(ms []shm.Message) {
	if f.c.log == nil {
		return
	}
	for i := range ms {
		m := &ms[i]
		if m.Kind != shm.KindRequest && m.Kind != shm.KindReply {
			continue
		}
		f.c.log.Add(Record{Time: f.c.opts.Now(), Link: f.link, Msg: MessageInfo(m), Decision: Decision{Discarded: true}})
	}
}

// ownMessage returns a copy of m that shares no memory with it: a
// message received is valid only until the next receive.
func ownMessage(m *shm.Message) shm.Message {
	c := *m
	n := len(m.Key) + len(m.Value) + len(m.Old) + len(m.Raw) + len(m.UUID)
	if n == 0 {
		return c
	}
	buf := make([]byte, 0, n)
	c.Key, buf = keepBytes(buf, m.Key)
	var v []byte
	v, buf = keepBytes(buf, m.Value)
	c.Value = v
	v, buf = keepBytes(buf, m.Old)
	c.Old = v
	v, buf = keepBytes(buf, m.UUID)
	c.UUID = v
	c.Raw, _ = keepBytes(buf, m.Raw)
	return c
}

// keepBytes appends b to buf and returns the copy, keeping a nil b nil.
func keepBytes(buf, b []byte) ([]byte, []byte) {
	if b == nil {
		return nil, buf
	}
	start := len(buf)
	buf = append(buf, b...)
	return buf[start:len(buf):len(buf)], buf
}
