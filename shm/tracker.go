package shm

// tracker is the client's pure request-tracking core: it hands out request
// ids, keeps the table of calls in flight with their deadlines, and says
// which are due for a retry or past their deadline. It does no I/O and
// reads no clock; its owner serialises calls.
//
// Ids are handed out in order and most calls finish soon, so the table is
// a ring indexed by id: a slot holds the call with that id modulo the
// ring's size. When a new id finds its slot taken, the ring doubles if it
// is half full; otherwise the old call (one that is taking long) moves to
// a map, so one stuck call does not make the ring grow with the id span.
type tracker struct {
	next  uint64
	low   uint64 // every id below low is answered or abandoned
	ring  []*call
	far   map[uint64]*call
	count int
	wrap  uint64 // BugWrapIDs: ids on the wire count 1..wrap, then start again
}

type call struct {
	seq      uint64 // the tracker's id, never reused
	wire     uint64 // the id on the wire: seq, unless the ids wrap (BugWrapIDs)
	deadline int64  // nanoseconds on the client's clock
	resendAt int64  // 0: never
	resent   bool   // sent more than once: an earlier copy may have been applied
	want     bool   // copy the reply's value
	cb       func(Message, error)
	done     chan Message
	batch    [1]Message
}

func newTracker() tracker { return tracker{next: 1, low: 1, ring: make([]*call, 64)} }

func (t *tracker) slot(seq uint64) **call { return &t.ring[seq&uint64(len(t.ring)-1)] }

// begin assigns the next request id to cl, records it as pending and
// returns the id to send.
func (t *tracker) begin(cl *call) uint64 {
	cl.seq, cl.wire = t.next, t.next
	if t.wrap != 0 {
		cl.wire = (t.next-1)%t.wrap + 1
	}
	t.next++
	for *t.slot(cl.seq) != nil && 2*t.count >= len(t.ring) {
		t.grow()
	}
	if old := *t.slot(cl.seq); old != nil {
		if t.far == nil {
			t.far = make(map[uint64]*call)
		}
		t.far[old.seq] = old
	}
	*t.slot(cl.seq) = cl
	t.count++
	return cl.wire
}

func (t *tracker) grow() {
	old := t.ring
	t.ring = make([]*call, 2*len(old))
	for _, cl := range old {
		if cl != nil {
			*t.slot(cl.seq) = cl
		}
	}
}

// ack returns the lowest id still pending (or the next id if none is):
// the master may forget every request below it. Amortised O(1).
func (t *tracker) ack() uint64 {
	for t.low < t.next {
		if cl := *t.slot(t.low); cl != nil && cl.seq == t.low {
			break
		}
		if _, ok := t.far[t.low]; ok {
			break
		}
		t.low++
	}
	return t.low
}

// complete removes and returns the pending call that a reply carrying
// the id wire answers. It returns false for an id that is not pending (a
// duplicate or late reply, or a call that already gave up). When ids
// wrap, it is the oldest call sent with that id: maybe not the one the
// reply answers.
func (t *tracker) complete(wire uint64) (*call, bool) {
	if t.wrap == 0 {
		return t.take(wire)
	}
	var oldest *call
	for _, cl := range t.all() {
		if cl.wire == wire && (oldest == nil || cl.seq < oldest.seq) {
			oldest = cl
		}
	}
	if oldest == nil {
		return nil, false
	}
	return t.take(oldest.seq)
}

// take removes and returns the pending call with the tracker's id seq.
func (t *tracker) take(seq uint64) (*call, bool) {
	s := t.slot(seq)
	cl := *s
	if cl != nil && cl.seq == seq {
		*s = nil
		t.count--
		return cl, true
	}
	if cl, ok := t.far[seq]; ok {
		delete(t.far, seq)
		t.count--
		return cl, true
	}
	return nil, false
}

// due removes the calls whose deadline has passed at now, appending them to
// expired, and appends to resend the calls to send again (their next
// resend time moved on by every).
func (t *tracker) due(now, every int64, expired, resend []*call) ([]*call, []*call) {
	for _, cl := range t.all() {
		switch {
		case cl.deadline <= now:
			t.take(cl.seq)
			expired = append(expired, cl)
		case cl.resendAt != 0 && cl.resendAt <= now:
			cl.resendAt = now + every
			cl.resent = true
			resend = append(resend, cl)
		}
	}
	return expired, resend
}

// all returns the pending calls in no particular order.
func (t *tracker) all() []*call {
	all := make([]*call, 0, t.count)
	for _, cl := range t.ring {
		if cl != nil {
			all = append(all, cl)
		}
	}
	for _, cl := range t.far {
		all = append(all, cl)
	}
	return all
}

// drain removes and returns every pending call.
func (t *tracker) drain() []*call {
	all := t.all()
	clear(t.ring)
	clear(t.far)
	t.count = 0
	return all
}

// len returns how many calls are pending.
func (t *tracker) len() int { return t.count }
