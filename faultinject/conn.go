package faultinject

import (
	"sync/atomic"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// ConnOptions tune a connection wrapped by Messages. The zero value is
// usable.
type ConnOptions struct {
	// Start is when the run began: Target.From and Until count from it
	// (the time Messages is called if zero).
	Start time.Time
	// Since, if set, is the time since the run began, instead of Start:
	// for a run whose start is known only after its connections are
	// made (the harness's workload begins once every worker is ready).
	Since func() time.Duration
	// Now is the clock of the log's records (history.Now if nil),
	// the clock of the run's history.
	Now func() int64
	// HoldLimit is the longest a reordered message waits for the next
	// message on its link (50ms if 0).
	HoldLimit time.Duration
	// IDShift is how far CorruptID moves a message's id
	// (history.CorruptIDShift, 2048, if 0: the availability check counts
	// on it, HISTORY.md). Keep it below the store's dedup window less the
	// requests in flight, so that the moved id is one the master accepts
	// and the worker has not used yet.
	IDShift uint64
	// MaxHeld bounds the messages each direction holds: delayed,
	// reordered, or received and not yet taken by Recv (4096 if 0). A
	// direction at the bound stops reading (requests) or blocks Send
	// (replies) until messages leave. Messages held by requests
	// (MessageFault.Hold) do not count: only more requests let them go.
	// It also bounds the requests remembered for deciding on their
	// replies.
	MaxHeld int
	// Logf, if set, receives a line for each delayed reply that could not
	// be sent.
	Logf func(format string, args ...any)
}

func (o ConnOptions) withDefaults() ConnOptions {
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	if o.Since == nil {
		start := o.Start
		o.Since = func() time.Duration { return time.Since(start) }
	}
	if o.Now == nil {
		o.Now = history.Now
	}
	if o.HoldLimit <= 0 {
		o.HoldLimit = 50 * time.Millisecond
	}
	if o.IDShift == 0 {
		o.IDShift = history.CorruptIDShift
	}
	if o.MaxHeld <= 0 {
		o.MaxHeld = 4096
	}
	return o
}

// Messages wraps the master's side of one worker's connection with the
// message faults that d decides: what Recv returns are the worker's
// requests (link {worker, Requests}), what Send takes are the master's
// replies (link {worker, Replies}). Each request and reply gets a
// decision; a reply is decided on with its request's method and key.
// Decisions that change something are added to log (which may be nil).
//
// A direction in which d can fire no fault (a Decider whose plan has
// none for it, a Replay with no record for it) passes straight through,
// adding no lock, allocation or goroutine. Otherwise received requests
// are read by a goroutine into a bounded queue, so that a delayed one is
// returned when its time comes even if nothing else arrives, and replies
// are sent under a lock, in the order they were decided. Close closes c,
// stops the timers, discards what they hold and waits for that goroutine.
func Messages(c shm.Conn, worker string, d Decisions, log *Log, opts ConnOptions) shm.Conn {
	w := &conn{inner: c, d: d, log: log, opts: opts.withDefaults()}
	if rep := (Link{Worker: worker, Dir: Replies}); !isQuiet(d, rep) {
		w.inflight = newInflight(w.opts.MaxHeld)
		w.out = newSender(w, rep)
	}
	if req := (Link{Worker: worker, Dir: Requests}); !isQuiet(d, req) {
		w.in = newReceiver(w, req)
	}
	if w.in == nil && w.out == nil {
		return c // no fault can fire either way
	}
	return w
}

// conn is a connection wrapped by Messages.
type conn struct {
	inner    shm.Conn
	d        Decisions
	log      *Log
	opts     ConnOptions
	in       *receiver     // nil: requests pass through
	out      *sender       // nil: replies pass through
	inflight *inflight     // requests awaiting replies, when replies are decided
	requests atomic.Uint64 // requests received, for the holds counted in requests (hold.go)
}

// Recv returns the requests the faults let through, in their new order.
func (c *conn) Recv(ms []shm.Message) (int, error) {
	if c.in != nil {
		return c.in.recv(ms)
	}
	n, err := c.inner.Recv(ms)
	if c.inflight != nil {
		c.inflight.addAll(ms[:n])
		c.countRequests(countedRequests(ms[:n]))
	}
	return n, err
}

// Send sends the replies the faults let through.
func (c *conn) Send(ms []shm.Message) error {
	if c.out == nil {
		return c.inner.Send(ms)
	}
	return c.out.send(ms)
}

// Close closes the wrapped connection, then stops the timers and the
// reading goroutine; messages still held are lost.
func (c *conn) Close() error {
	err := c.inner.Close()
	if c.in != nil {
		c.in.stop()
	}
	if c.out != nil {
		c.out.f.stop()
	}
	return err
}

// decide decides the fate of message m on link l, and logs a decision
// that changes something. ok is false for a message that is not a
// request (or, on the replies link, a reply): it gets no decision.
func (c *conn) decide(l Link, m *shm.Message) (dec Decision, ok bool) {
	var info Message
	switch {
	case l.Dir == Requests && m.Kind == shm.KindRequest:
		info = MessageInfo(m)
	case l.Dir == Replies && m.Kind == shm.KindReply:
		info = c.inflight.take(m)
	default:
		return Decision{}, false
	}
	return DecideMessage(c.d, c.log, l, info, m, c.opts.Since(), c.opts.Now()), true
}

// DecideMessage decides the fate of message m on link l at elapsed time
// since the run began, from what a decision may look at of it (info),
// and adds a decision that changes something to log (if not nil), at time
// now. A corruption that cannot change m is no fault and is dropped. It
// changes nothing: the caller carries the decision out (Corrupt for a
// corruption). Messages and the simulator share it.
func DecideMessage(d Decisions, log *Log, l Link, info Message, m *shm.Message, elapsed time.Duration, now int64) Decision {
	if ld, ok := d.(*LinkDecider); ok {
		var dec Decision
		ld.DecideMessage(log, &info, m, elapsed, now, &dec)
		return dec
	}
	dec := d.Decide(l, info, elapsed)
	settle(&dec, log, l, &info, m, now)
	return dec
}

// settle finishes decision dec of message m on link l: a corruption that
// cannot change m is dropped, and a decision that changes something is
// logged. It reports whether dec changes something.
func settle(dec *Decision, log *Log, l Link, info *Message, m *shm.Message, now int64) bool {
	if dec.Corruption != "" && !corruptible(m, l.Dir, dec.Corruption) {
		dec.Corruption = "" // nothing to change: not a fault, not logged
	}
	if dec.None() {
		return false
	}
	if log != nil {
		log.Add(Record{Time: now, Link: l, N: dec.N, Msg: *info, Decision: *dec})
	}
	return true
}

// MessageInfo is what a decision may look at of request m.
func MessageInfo(m *shm.Message) Message {
	return Message{Method: m.Method.String(), Key: string(m.Key), Seq: m.Seq}
}

func (c *conn) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// quietLinks is implemented by decisions that know in advance that a
// link will see no fault, letting the wrapper pass it through.
type quietLinks interface {
	quiet(l Link) bool
}

func isQuiet(d Decisions, l Link) bool {
	if d == nil {
		return true
	}
	q, ok := d.(quietLinks)
	return ok && q.quiet(l)
}

// quiet reports whether no fault of the plan can hit a message on l.
func (d *Decider) quiet(l Link) bool {
	for i := range d.plan.Messages {
		f := &d.plan.Messages[i]
		dirOK := f.Dir == "" || f.Dir == Both || f.Dir == l.Dir
		if dirOK && (f.Target.Worker == "" || f.Target.Worker == l.Worker) {
			return false
		}
	}
	return true
}

// quiet reports whether the log has no decision for l.
func (r *Replay) quiet(l Link) bool { return len(r.want[l]) == 0 }
