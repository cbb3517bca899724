package shm

// tracker is the client's pure request-tracking core: it hands out request
// ids, keeps the table of calls in flight with their deadlines, and says
// which are due for a retry or past their deadline. It does no I/O and
// reads no clock; its owner serialises calls.
type tracker struct {
	next    uint64
	low     uint64 // every id below low is answered or abandoned
	pending map[uint64]*call
}

type call struct {
	seq      uint64
	deadline int64 // nanoseconds on the client's clock
	resendAt int64 // 0: never
	req      Message
	want     bool // copy the reply's value
	cb       func(Message, error)
	done     chan Message
	batch    [1]Message
}

func newTracker() tracker { return tracker{next: 1, low: 1, pending: make(map[uint64]*call)} }

// begin assigns the next request id to cl and records it as pending.
func (t *tracker) begin(cl *call) uint64 {
	cl.seq = t.next
	t.next++
	t.pending[cl.seq] = cl
	return cl.seq
}

// ack returns the lowest id still pending (or the next id if none is):
// the master may forget every request below it. Amortised O(1).
func (t *tracker) ack() uint64 {
	for t.low < t.next && t.pending[t.low] == nil {
		t.low++
	}
	return t.low
}

// complete removes and returns the pending call with the given id. It
// returns false for an id that is not pending (a duplicate or late reply,
// or a call that already gave up).
func (t *tracker) complete(seq uint64) (*call, bool) {
	cl, ok := t.pending[seq]
	if ok {
		delete(t.pending, seq)
	}
	return cl, ok
}

// due removes the calls whose deadline has passed at now, appending them to
// expired, and appends to resend the calls to send again (their next
// resend time moved on by every).
func (t *tracker) due(now, every int64, expired, resend []*call) ([]*call, []*call) {
	for seq, cl := range t.pending {
		switch {
		case cl.deadline <= now:
			delete(t.pending, seq)
			expired = append(expired, cl)
		case cl.resendAt != 0 && cl.resendAt <= now:
			cl.resendAt = now + every
			resend = append(resend, cl)
		}
	}
	return expired, resend
}

// drain removes and returns every pending call.
func (t *tracker) drain() []*call {
	all := make([]*call, 0, len(t.pending))
	for seq, cl := range t.pending {
		delete(t.pending, seq)
		all = append(all, cl)
	}
	return all
}

// len returns how many calls are pending.
func (t *tracker) len() int { return len(t.pending) }
