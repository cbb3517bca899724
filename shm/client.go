package shm

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ClientOptions configure a Client. The zero value is usable.
type ClientOptions struct {
	// Identity is written into requests as "id" and "inc" (the master
	// routes and deduplicates by connection, not by these).
	Identity Identity
	// Timeout bounds calls whose context has no deadline, and every Go
	// call (5s if 0). It is enforced to within a tenth of itself.
	Timeout time.Duration
	// MaxFrame is the largest request the client sends (DefaultMaxFrame
	// if 0, the master's default limit); a larger one fails at once with
	// a definite ErrTooLarge.
	MaxFrame int
	// RetryAfter, if positive, resends a request with the same id when no
	// reply came in that long; the master applies it at most once. A
	// resend does not move the call's deadline.
	RetryAfter time.Duration
	// OnLost, if set, is called once when the connection fails (not when
	// Close ends it).
	OnLost func(err error)
	// Logf, if set, receives replies that cannot be matched to a call.
	Logf func(format string, args ...any)
	// OnUnmatched, if set, is called with the id of each reply that
	// answers no pending call: a late reply to a call that gave up (a
	// timeout), or a duplicate. It runs on the reader goroutine with the
	// client's lock held, so it must be quick and must not call the
	// client.
	OnUnmatched func(seq uint64)
	// Bugs are deliberately broken behaviours (BugWrapIDs, BugReadCache),
	// for testing the testers only.
	Bugs Bugs
}

// Client is a worker's handle on the shared store (the article's User). It
// is safe for concurrent use and pipelined: many calls may be in flight on
// one connection. Every call returns a value, a definite error (surely not
// applied) or an indefinite one (it may have been applied: a timeout, a
// cancellation, a lost connection); see IsDefinite.
type Client struct {
	conn  Conn
	opts  ClientOptions
	start time.Time
	clock atomic.Int64 // coarse time since start, kept by the sweeper

	mu     sync.Mutex
	core   // the pure state machine, under mu
	closed bool
	lost   *Error
	corked bool      // the reader is delivering: requests wait in outq
	outq   []Message // requests made while corked

	readerDone  chan struct{}
	stop        chan struct{}
	pool        sync.Pool
	checkValues bool // values must be checked before they are sent
}

// NewClient returns a client that sends its requests on c and reads the
// replies in a goroutine of its own until c fails or Close is called.
func NewClient(c Conn, opts ClientOptions) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = DefaultMaxFrame
	}
	cl := &Client{conn: c, opts: opts, start: time.Now(),
		core:       newCore(opts.Identity, int64(opts.RetryAfter), opts.Bugs),
		readerDone: make(chan struct{}), stop: make(chan struct{})}
	cl.pool.New = func() any { return &call{done: make(chan Message, 1)} }
	sc, compact := c.(*streamConn)
	cl.checkValues = !compact || !sc.opts.Compact
	go cl.readLoop()
	go cl.sweepLoop()
	return cl
}

func (c *Client) now() int64 { return int64(time.Since(c.start)) }

// Conn returns the client's connection.
func (c *Client) Conn() Conn { return c.conn }

// Pending returns how many calls are waiting for a reply.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tr.len()
}

// Close ends the connection and waits for the reader to stop. Calls in
// flight return an indefinite error; later calls return ErrClosed. Do not
// call it from a Go callback, which runs on that reader.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	err := c.conn.Close()
	<-c.readerDone
	return err
}

// Do sends one request and waits for its reply. It fills in the request's
// uuid, id, inc and ack. A reply carrying an error is returned as that
// error, with the reply.
func (c *Client) Do(ctx context.Context, req *Message) (Message, error) {
	return c.do(ctx, req, true)
}

// Go sends one request without waiting and calls done with the reply (or
// the error, as Do returns it) exactly once. done runs on the client's
// reader goroutine (or the sweeper's, for a timeout, or the caller's, for a
// request that could not be sent), so it must not block; it may make
// further calls, which leave together once the current batch of replies
// is delivered. The reply's Value is valid only while done runs, and req's
// Key and Value must stay unchanged until done is called. Go calls are
// bounded by ClientOptions.Timeout. This is the article's callback style,
// and the cheapest way to keep many requests in flight.
func (c *Client) Go(req *Message, done func(rep Message, err error)) {
	if rep, ok := c.buggy(req); ok {
		done(rep, nil)
		return
	}
	cl := c.pool.Get().(*call)
	cl.cb = done
	send, err := c.begin(context.Background(), cl, req)
	if err != nil {
		c.release(cl)
		done(Message{}, err)
		return
	}
	if send {
		// The stamped request, not cl.batch: once begin returns, the
		// sweeper may end the call (its deadline passed) and release cl,
		// or restamp it for a resend, while this goroutine still sends.
		if err := c.sendNoWait(unsafe.Slice(req, 1)); err != nil && c.abandon(cl) {
			done(Message{}, sendErr(err))
		}
	}
}

// sendErr is the error of a call whose request could not be queued: an
// *Error (overloaded) as it is, anything else a lost connection.
func sendErr(err error) error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return wrapErr(ErrConnLost, err)
}

func (c *Client) do(ctx context.Context, req *Message, want bool) (Message, error) {
	if rep, ok := c.buggy(req); ok {
		return rep, nil
	}
	cl := c.pool.Get().(*call)
	cl.want = want
	send, err := c.begin(ctx, cl, req)
	if err != nil {
		c.release(cl)
		return Message{}, err
	}
	if send {
		if err := c.sendLinger(unsafe.Slice(req, 1)); err != nil && c.abandon(cl) { // not cl.batch: see Go
			return Message{}, sendErr(err)
		}
	}
	rep, err := c.wait(ctx, cl)
	if err == nil && rep.Err != nil {
		err = rep.Err
	}
	return rep, err
}

// buggy does what the client-side bugs do before a call: answer a get
// from the read cache (BugReadCache), answer a set at once and hold it
// (BugAckBeforeApply), send the held sets first. ok says req is answered.
func (c *Client) buggy(req *Message) (Message, bool) {
	if c.core.bugs&(BugReadCache|BugAckBeforeApply) == 0 {
		return Message{}, false
	}
	c.mu.Lock()
	var rep Message
	ok := c.core.cached(req, &rep) || c.core.behind(req, c.clock.Load(), &rep)
	var held []Message
	if !ok {
		held = c.core.takeDeferred()
	}
	c.mu.Unlock()
	if len(held) > 0 {
		c.sendNoWait(held) // a failure shows up as a lost connection
	}
	rep.Value = append(Value(nil), rep.Value...)
	return rep, ok
}

// sendLinger sends a blocking caller's request without blocking on the
// pipe (the caller waits for its reply with its deadline instead), letting
// other callers join its write where the connection can.
func (c *Client) sendLinger(ms []Message) error {
	if ls, ok := c.conn.(LingerSender); ok {
		return ls.SendLinger(ms)
	}
	return c.conn.Send(ms)
}

// sendNoWait sends without blocking on the master where the connection
// can: a reader stuck writing to a master stuck writing to it would never
// read again, and a caller stuck writing would miss its deadline.
func (c *Client) sendNoWait(ms []Message) error {
	if nw, ok := c.conn.(NoWaitSender); ok {
		return nw.SendNoWait(ms)
	}
	return c.conn.Send(ms)
}

// begin registers the call and stamps the request with its identity. It
// returns send == false when the request was queued behind a delivery.
func (c *Client) begin(ctx context.Context, cl *call, req *Message) (send bool, err error) {
	if err := ctx.Err(); err != nil {
		e := ctxErr(err)
		e.Definite = true // nothing was sent
		return false, e
	}
	if err := checkRequest(req, c.opts.MaxFrame, c.checkValues); err != nil {
		return false, err
	}
	now, deadline := c.deadline(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.lost != nil {
		return false, c.closedErr()
	}
	c.core.start(cl, req, now, deadline)
	if cl.resendAt != 0 {
		// A resend may go out after the caller has returned and reused
		// its buffers, so the call keeps copies of its own.
		cl.batch[0].Key = append([]byte(nil), req.Key...)
		cl.batch[0].Value = append(Value(nil), req.Value...)
		cl.batch[0].Old = append(Value(nil), req.Old...)
	}
	if c.corked {
		c.outq = append(c.outq, cl.batch[0])
		return false, nil
	}
	return true, nil
}

// deadline returns the time and a call's deadline: from the coarse clock,
// or from the context if it has one.
func (c *Client) deadline(ctx context.Context) (now, deadline int64) {
	now = c.clock.Load()
	deadline = now + int64(c.opts.Timeout)
	if d, ok := ctx.Deadline(); ok {
		now = c.now()
		deadline = now + int64(time.Until(d))
	}
	return now, deadline
}

func (c *Client) closedErr() error {
	if c.lost != nil && !c.closed {
		return errorf(ErrClosed, "connection lost earlier: %v", c.lost.Message)
	}
	return ErrClosed
}

// abandon removes the call if it is still pending, and reports whether it did.
func (c *Client) abandon(cl *call) bool {
	c.mu.Lock()
	_, ok := c.tr.take(cl.seq)
	c.mu.Unlock()
	if ok {
		c.release(cl)
	}
	return ok
}

func (c *Client) release(cl *call) {
	cl.batch[0], cl.cb, cl.want = Message{}, nil, false
	c.pool.Put(cl)
}

// wait returns the call's reply, or an indefinite error if ctx ends first.
func (c *Client) wait(ctx context.Context, cl *call) (Message, error) {
	var rep Message
	select {
	case rep = <-cl.done:
	case <-ctx.Done():
		if c.abandon(cl) {
			return Message{}, ctxErr(ctx.Err())
		}
		rep = <-cl.done
	}
	c.release(cl)
	return rep, nil
}

// finish completes a call that has left the pending table.
func (c *Client) finish(cl *call, rep Message) {
	if cl.cb == nil {
		cl.done <- rep
		return
	}
	cb := cl.cb
	c.release(cl)
	if rep.Err != nil {
		cb(rep, rep.Err)
		return
	}
	cb(rep, nil)
}

func ctxErr(err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return wrapErr(ErrTimeout, err)
	}
	return wrapErr(ErrCanceled, err)
}
