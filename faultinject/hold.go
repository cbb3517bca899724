package faultinject

import (
	"github.com/shmlab/shmlab/shm"
)

// A message held by requests (a reorder or a duplicate with Hold) waits
// until its worker has sent Hold more requests, counted on the
// connection where the faults are decided (each copy and resend that
// reaches the wrapper counts, a dropped one too), and goes right after
// the last of them: a held request reaches the master after the Hold
// requests sent since, and a held reply reaches the worker before the
// answer to the last of them. It has no time limit: a worker that stops
// sending keeps it held, and the connection's end discards it (logged,
// as a delayed message is). A held request is applied late (truth
// delayed), or not at all if its connection ends first.
//
// This is how a late or duplicated reply is aimed at the client's pending
// ring (64 slots, indexed by request id): held 64 requests, the reply to
// id n arrives while the call n+64 waits in its slot.

// byCount is a message held until the request count reaches until.
type byCount struct {
	m     shm.Message
	until uint64
}

// holdFor holds ms until n more requests have been counted. Called with
// mu held.
func (f *flow) holdFor(ms []shm.Message, n int) {
	until := f.c.requests.Load() + uint64(n)
	for i := range ms {
		f.counted = append(f.counted, byCount{ms[i], until})
	}
	f.held += len(ms)
}

// waiting is how many held messages a timer will let go: those held by
// requests are left out, for only more requests end their hold, and a
// flow that stopped reading (or sending) to wait for room would wait for
// good. They are bounded by MaxHold each.
func (f *flow) waiting() int { return f.held - len(f.counted) }

// releaseCounted lets go, after what has passed, the messages held by
// requests whose count has come. Called with mu held.
func (f *flow) releaseCounted() bool {
	now := f.c.requests.Load()
	kept, released := f.counted[:0], false
	for _, h := range f.counted {
		if h.until > now {
			kept = append(kept, h)
			continue
		}
		f.out = append(f.out, h.m)
		f.held--
		released = true
	}
	clear(f.counted[len(kept):])
	f.counted = kept
	return released
}

// countRequests counts n requests received from the worker where they
// pass through (no request fault), and sends the replies whose hold that
// ends.
func (c *conn) countRequests(n int) {
	if n == 0 {
		return
	}
	c.requests.Add(uint64(n))
	c.releaseReplies()
}

// passedRequest lets go, after the request just admitted (and counted),
// the requests and replies whose hold it ends. Called with the requests'
// flow's mu held: the replies' is taken under it, never the other way.
func (f *flow) passedRequest() {
	if len(f.counted) > 0 {
		f.releaseCounted()
	}
	f.c.releaseReplies()
}

// releaseReplies sends the replies whose hold has ended.
func (c *conn) releaseReplies() {
	if c.out == nil {
		return
	}
	f := &c.out.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.shut && len(f.counted) > 0 && f.releaseCounted() {
		f.flushLater()
	}
}

// countedRequests returns how many of ms are requests.
func countedRequests(ms []shm.Message) int {
	n := 0
	for i := range ms {
		if ms[i].Kind == shm.KindRequest {
			n++
		}
	}
	return n
}
