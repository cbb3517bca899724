package harness

import (
	"sync"
	"time"

	"github.com/shmlab/shmlab/history"
)

// LateReplyWait is the least a worker keeps listening, once its workload
// is done, for the reply to a call that gave up at the call timeout
// (lateWait): long beside any call timeout, so that a reply slowed by a
// busy machine comes in time and is recorded as a late_reply event, and a
// call never answered is one that got no reply for that long after its
// worker gave up (or until the worker was killed).
const LateReplyWait = 5 * time.Second

// lateWait is how long after giving up on a call a worker waits for its
// late reply at the end of its workload: LateReplyWait, or ten call
// timeouts if that is longer.
func lateWait(callTimeout time.Duration) time.Duration {
	return max(LateReplyWait, 10*callTimeout)
}

// lateWatch records, as late_reply events, the replies that come after
// their call gave up, and waits for the missing ones at the end of the
// workload, so that the liveness check can tell a reply that was slow
// from one that never came.
type lateWatch struct {
	name string

	mu      sync.Mutex
	rec     *history.Recorder
	waiting map[uint64]watched // the calls that gave up with no reply yet, by request id
	seen    map[uint64]int64   // the ids of unmatched replies, with when they came
	changed chan struct{}      // closed and replaced when a reply comes for a call waiting
}

// watched is a call that gave up, waiting for its reply.
type watched struct {
	op     int64 // its Pending ID
	gaveUp int64 // when, on history.Now's clock
}

func newLateWatch(name string) *lateWatch {
	return &lateWatch{name: name, waiting: make(map[uint64]watched), seen: make(map[uint64]int64), changed: make(chan struct{})}
}

// start records into rec from now on.
func (lw *lateWatch) start(rec *history.Recorder) {
	lw.mu.Lock()
	lw.rec = rec
	lw.mu.Unlock()
}

// unmatched notes a reply that answers no pending call (the client's
// OnUnmatched): the late reply of a call that gave up, or a duplicate.
func (lw *lateWatch) unmatched(seq uint64) {
	now := history.Now()
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if w, ok := lw.waiting[seq]; ok {
		lw.answered(seq, w, now)
		return
	}
	if _, ok := lw.seen[seq]; !ok {
		lw.seen[seq] = now // its call may be about to give up
	}
}

// gaveUp notes that p, whose request had id seq, got no reply within the
// call timeout. A reply that came between the timeout and this call
// counts.
func (lw *lateWatch) gaveUp(seq uint64, p *history.Pending) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	w := watched{op: p.ID(), gaveUp: history.Now()}
	if t, ok := lw.seen[seq]; ok {
		lw.answered(seq, w, t)
		return
	}
	lw.waiting[seq] = w
}

// answered records the late reply of w at time t. lw.mu is held.
func (lw *lateWatch) answered(seq uint64, w watched, t int64) {
	delete(lw.waiting, seq)
	delete(lw.seen, seq)
	if lw.rec != nil {
		lw.rec.Event(history.Event{Kind: history.EventLateReply, Time: t, Worker: lw.name, Op: w.op})
	}
	close(lw.changed)
	lw.changed = make(chan struct{})
}

// wait returns once every call that gave up has its late reply, or d has
// passed since the latest of those still without one gave up.
func (lw *lateWatch) wait(d time.Duration) {
	for {
		lw.mu.Lock()
		var last int64
		for _, w := range lw.waiting {
			last = max(last, w.gaveUp)
		}
		changed := lw.changed
		lw.mu.Unlock()
		if last == 0 {
			return
		}
		left := time.Duration(last + int64(d) - history.Now())
		if left <= 0 {
			return
		}
		select {
		case <-changed:
		case <-time.After(left):
			return
		}
	}
}
