package shm

import (
	"context"
	"time"
)

// readLoop delivers replies until the connection fails or is closed.
func (c *Client) readLoop() {
	defer close(c.readerDone)
	ms := make([]Message, 128)
	ready := make([]*call, 0, 128)
	for {
		n, err := c.conn.Recv(ms)
		if err != nil {
			c.fail(err)
			return
		}
		ready = c.match(ms[:n], ready[:0])
		for i, cl := range ready {
			cl.done <- ms[i]
		}
	}
}

// match takes the calls that the replies answer out of the pending table,
// compacting ms so that ms[i] answers ready[i], and copies the values the
// callers will keep.
func (c *Client) match(ms []Message, ready []*call) []*call {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range ms {
		m := &ms[i]
		if m.Kind != KindReply || m.Has&HasSeq == 0 {
			c.logf("shm: client: unroutable message from the master: kind %d, error %v", m.Kind, m.Err)
			continue
		}
		cl, ok := c.tr.complete(m.Seq)
		if !ok {
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
	pending := c.tr.drain()
	c.mu.Unlock()
	for _, cl := range pending {
		cl.done <- Message{Kind: KindReply, Seq: cl.seq, Has: HasSeq, Err: cause}
	}
	if !closing && c.opts.OnLost != nil {
		c.opts.OnLost(err)
	}
}

// sweepLoop fails calls past their deadline and resends unanswered ones.
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
		batch[i] = cl.batch[0]
	}
	c.mu.Unlock()
	for _, cl := range expired {
		err := ctxErr(context.DeadlineExceeded)
		cl.done <- Message{Kind: KindReply, Seq: cl.seq, Has: HasSeq, Err: err}
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
