package faultinject

import (
	"net"

	"github.com/shmlab/shmlab/shm"
)

// recvBatch is how many messages the reading goroutine takes at once.
const recvBatch = 128

// receiver applies decisions to the requests a wrapped connection
// receives. A goroutine, started by the first Recv, reads the inner
// connection and admits what it reads into the flow's queue (f.out), from
// which Recv takes; timers add the delayed and reordered messages when
// their time comes. The queue and the held messages together stay within
// ConnOptions.MaxHeld, plus one batch: the goroutine stops reading at the
// bound.
type receiver struct {
	f     flow
	inner shm.Conn
	head  int   // first message of f.out not yet returned
	err   error // what ended the inner connection
	begun bool  // the goroutine was started
	done  chan struct{}
}

func newReceiver(c *conn, l Link) *receiver {
	r := &receiver{inner: c.inner, done: make(chan struct{})}
	r.f.init(c, l, true, func() error { return nil })
	return r
}

// recv waits for a message to be ready and returns what is.
func (r *receiver) recv(ms []shm.Message) (int, error) {
	f := &r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if !r.begun {
		r.begun = true
		go r.pump()
	}
	for r.head == len(f.out) {
		switch {
		case f.shut:
			return 0, net.ErrClosed
		case r.err != nil:
			// The worker's end is gone: what delays still hold is lost
			// with the connection, as on a real link, and is logged as
			// discarded when the connection is closed.
			return 0, r.err
		}
		f.cond.Wait()
	}
	n := copy(ms, f.out[r.head:])
	r.head += n
	r.compact()
	f.cond.Broadcast() // room for the goroutine
	return n, nil
}

// compact moves what is left of the queue to its front once half of it
// has been taken.
func (r *receiver) compact() {
	f := &r.f
	if r.head < len(f.out)/2 {
		return
	}
	n := copy(f.out, f.out[r.head:])
	clear(f.out[n:])
	f.out, r.head = f.out[:n], 0
}

// pump reads the inner connection until it fails.
func (r *receiver) pump() {
	defer close(r.done)
	f := &r.f
	buf := make([]shm.Message, recvBatch)
	for {
		n, err := r.inner.Recv(buf)
		f.mu.Lock()
		for i := range buf[:n] {
			f.admit(&buf[i])
		}
		if err != nil && !f.shut {
			r.err = err
			f.releaseHeld() // no next message will come
		}
		for !f.shut && r.err == nil && len(f.out)-r.head+f.waiting() >= f.c.opts.MaxHeld {
			f.cond.Wait()
		}
		f.cond.Broadcast()
		end := f.shut || r.err != nil
		f.mu.Unlock()
		if end {
			return
		}
	}
}

// stop stops the flow and waits for the goroutine, which the closing of
// the inner connection has ended or will end.
func (r *receiver) stop() {
	r.f.stop()
	r.f.mu.Lock()
	r.head = 0
	begun := r.begun
	r.begun = true // no goroutine starts after this
	r.f.mu.Unlock()
	if begun {
		<-r.done
	}
}
