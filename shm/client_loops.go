package shm

import (
	"context"
	"time"
)

// readLoop delivers replies until the connection fails or is closed. While
// it delivers a batch, requests made meanwhile (by callbacks, or by
// goroutines it woke) are queued and then sent together.
func (c *Client) readLoop() {
	defer close(c.readerDone)
	// Sixteen replies at a time: the requests their callbacks make leave
	// sooner, so master and worker overlap (measured best of 8 to 64).
	ms := make([]Message, 16)
	ready := make([]*call, 0, 16)
	var spare []Message
	for {
		n, err := c.conn.Recv(ms)
		if err != nil {
			c.fail(err)
			return
		}
		ready = c.match(ms[:n], ready[:0])
		for i, cl := range ready {
			c.finish(cl, ms[i])
		}
		spare = c.uncork(spare)
	}
}

// uncork sends what was queued during a delivery and returns the emptied
// queue for reuse.
func (c *Client) uncork(spare []Message) []Message {
	c.mu.Lock()
	q := c.outq
	c.outq, c.corked = spare[:0], false
	c.mu.Unlock()
	if len(q) > 0 {
		if err := c.sendNoWait(q); err != nil {
			c.failUnsent(q, sendErr(err))
		}
		clear(q)
	}
	return q[:0]
}

// failUnsent ends the calls whose requests could not be sent.
func (c *Client) failUnsent(q []Message, err error) {
	e, _ := err.(*Error)
	for i := range q {
		c.mu.Lock()
		cl, ok := c.tr.complete(q[i].Seq)
		c.mu.Unlock()
		if ok {
			c.finish(cl, Message{Kind: KindReply, Seq: cl.seq, Has: HasSeq, Err: e})
		}
	}
}

// match takes the calls that the replies answer out of the pending table,
// compacting ms so that ms[i] answers ready[i], and copies the values that
// blocked callers will keep. It corks the connection for the delivery.
func (c *Client) match(ms []Message, ready []*call) []*call {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = true
	for i := range ms {
		m := &ms[i]
		if m.Kind != KindReply || m.Has&HasSeq == 0 {
			c.logf("shm: client: unroutable message from the master: kind %d, error %v", m.Kind, m.Err)
			continue
		}
		cl, ok := c.core.answer(m)
		if !ok {
			if c.opts.OnUnmatched != nil {
				c.opts.OnUnmatched(m.Seq)
			}
			continue // a duplicate or late reply
		}
		if cl.want && m.Value != nil {
			m.Value = append(Value(nil), m.Value...)
		}
		ms[len(ready)] = *m
		ready = append(ready, cl)
	}
	return ready
}

// fail ends every pending call after the connection broke.
func (c *Client) fail(err error) {
	c.mu.Lock()
	closing := c.closed
	cause := wrapErr(ErrConnLost, err)
	if closing {
		cause = errorf(ErrConnLost, "client closed with the request in flight")
	}
	c.lost = cause
	c.corked, c.outq = false, nil
	pending := c.tr.drain()
	c.mu.Unlock()
	for _, cl := range pending {
		c.finish(cl, Message{Kind: KindReply, Seq: cl.seq, Has: HasSeq, Err: cause})
	}
	if !closing {
		c.conn.Close() // the master's end then sees the worker go
		if c.opts.OnLost != nil {
			c.opts.OnLost(err)
		}
	}
}

// sweepLoop keeps the coarse clock, fails calls past their deadline and
// resends unanswered ones.
func (c *Client) sweepLoop() {
	every := sweepInterval(c.opts)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.readerDone:
			return
		case <-t.C:
			c.clock.Store(c.now())
			c.sweep()
		}
	}
}

func sweepInterval(o ClientOptions) time.Duration {
	d := o.Timeout / 10
	if o.RetryAfter > 0 {
		d = min(d, o.RetryAfter/2)
	}
	return min(max(d, time.Millisecond), 100*time.Millisecond)
}

func (c *Client) sweep() {
	c.mu.Lock()
	expired, resend := c.tr.due(c.now(), int64(c.opts.RetryAfter), nil, nil)
	batch := make([]Message, len(resend))
	for i, cl := range resend {
		c.restamp(cl)
		batch[i] = cl.batch[0]
	}
	c.mu.Unlock()
	for _, cl := range expired {
		c.finish(cl, Message{Kind: KindReply, Seq: cl.seq, Has: HasSeq, Err: ctxErr(context.DeadlineExceeded)})
	}
	if len(batch) > 0 {
		c.conn.Send(batch) // a failure shows up as a lost connection
	}
}

func (c *Client) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// retriedErr is the error of a call sent more than once: a definite error
// answers only the copy it replies to, and an earlier copy may have been
// applied (its reply lost), so nothing is certain any more.
func retriedErr(e *Error) *Error {
	c := *e
	c.Definite = false
	c.Message += " (answering a resent copy: an earlier copy may have been applied)"
	return &c
}

// fits reports whether v can answer a request of method m: "OK" for set,
// a boolean for delete and cas, an integer for add and len, an array for
// keys. A reply that does not fit was damaged on the way (neither codec
// has a checksum), and what the master applied is unknown.
func fits(m Method, v Value) bool {
	switch m {
	case MethodSet:
		return string(v) == `"OK"`
	case MethodDelete, MethodCAS:
		return string(v) == "true" || string(v) == "false"
	case MethodAdd, MethodLen:
		_, ok := parseInt(v)
		return ok
	case MethodKeys:
		return len(v) > 0 && v[0] == '['
	}
	return true
}
