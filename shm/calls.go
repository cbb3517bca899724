package shm

import "time"

// CallsOptions configure Calls. The zero value is usable.
type CallsOptions struct {
	// Identity is stamped into every request, as a Client does.
	Identity Identity
	// RetryAfter, if positive, makes Due resend a request with the same id
	// when no reply came in that long.
	RetryAfter time.Duration
	// Bugs are the client-side bugs (BugWrapIDs, BugReadCache), for
	// testing the testers only.
	Bugs Bugs
}

// Calls is the pure core of a Client, for drivers that step it by hand
// instead of running it in goroutines (the simulator): it stamps requests
// with the client's identity, ids and ack watermark, keeps the pending
// table with deadlines and resend times, and settles replies exactly as a
// Client does (a definite error to a resent request becomes indefinite, a
// reply that cannot answer its method becomes bad_reply). It does no I/O
// and reads no clock: times are arguments, in nanoseconds on the driver's
// clock. It is not safe for concurrent use.
type Calls struct {
	core
	free []*call
}

// NewCalls returns an empty Calls.
func NewCalls(opts CallsOptions) *Calls {
	return &Calls{core: newCore(opts.Identity, int64(opts.RetryAfter), opts.Bugs)}
}

// Start registers a call of req, due to end at deadline, and stamps req
// (kind, worker, inc, uuid, ack) ready to send. It returns the call's id,
// which Finish, Due and Lost report. If local is true the call is already
// answered, with the answer in rep (BugReadCache or BugAckBeforeApply
// answered it), and nothing is to be sent now; its id is 0. rep is not
// touched otherwise. Start keeps req's slices until the call ends.
func (c *Calls) Start(req *Message, now, deadline int64, rep *Message) (id uint64, local bool) {
	if c.cached(req, rep) || c.behind(req, now, rep) {
		return 0, true
	}
	cl := c.alloc()
	c.start(cl, req, now, deadline)
	return cl.seq, false
}

func (c *Calls) alloc() *call {
	if n := len(c.free); n > 0 {
		cl := c.free[n-1]
		c.free = c.free[:n-1]
		return cl
	}
	return new(call)
}

func (c *Calls) release(cl *call) {
	cl.batch[0] = Message{}
	c.free = append(c.free, cl)
}

// Finish settles reply m, received from the master: it returns the id of
// the call m ends, with m rewritten as that call's result (see Calls). ok
// is false when m answers no pending call (a duplicate or late reply, or
// a message that is not a reply); it is then to be ignored.
func (c *Calls) Finish(m *Message) (id uint64, ok bool) {
	if m.Kind != KindReply || m.Has&HasSeq == 0 {
		return 0, false
	}
	cl, ok := c.answer(m)
	if !ok {
		return 0, false
	}
	id = cl.seq
	c.release(cl)
	return id, true
}

// Due ends the calls whose deadline has passed at now, passing each id
// to expired (the call's result is an indefinite timeout), and passes the
// requests due for a resend to resend, to be sent again as they are but
// for their ack, moved up to the watermark (PROTOCOL.md, "Request
// identity and duplicates").
func (c *Calls) Due(now int64, expired func(id uint64), resend func(req *Message)) {
	gone, again := c.tr.due(now, c.retryAfter, nil, nil)
	for _, cl := range again {
		c.restamp(cl)
		resend(&cl.batch[0])
	}
	for _, cl := range gone {
		id := cl.seq
		c.release(cl)
		expired(id)
	}
}

// Next returns the earliest time at which Due has something to do, and
// false if no call is pending.
func (c *Calls) Next() (int64, bool) {
	at, any := int64(0), false
	for _, cl := range c.tr.all() {
		t := cl.deadline
		if cl.resendAt != 0 && cl.resendAt < t {
			t = cl.resendAt
		}
		if !any || t < at {
			at, any = t, true
		}
	}
	return at, any
}

// Lost ends every pending call, as when the connection fails: each id is
// passed to each (the call's result is an indefinite connection_lost).
func (c *Calls) Lost(each func(id uint64)) {
	for _, cl := range c.tr.drain() {
		id := cl.seq
		c.release(cl)
		each(id)
	}
}

// Pending returns how many calls are waiting for a reply.
func (c *Calls) Pending() int { return c.tr.len() }

// TakeDeferred returns the requests to send before the next one, and
// forgets them: the writes BugAckBeforeApply answered at once (none
// without it).
func (c *Calls) TakeDeferred() []Message { return c.takeDeferred() }

// TimeoutReply is the reply a call gets when its deadline passes: an
// indefinite timeout, as a Client returns it.
func TimeoutReply(id uint64) Message {
	return Message{Kind: KindReply, Seq: id, Has: HasSeq, Err: errorf(ErrTimeout, "no reply before the deadline")}
}

// LostReply is the reply a call gets when its connection fails: an
// indefinite connection_lost.
func LostReply(id uint64, cause string) Message {
	return Message{Kind: KindReply, Seq: id, Has: HasSeq, Err: errorf(ErrConnLost, "%s", cause)}
}
