package faultinject

import (
	"net"

	"github.com/shmlab/shmlab/shm"
)

// sender applies decisions to the replies sent on a wrapped connection.
// Send decides on each reply and sends what goes on at once, in one call
// of the inner connection's Send; timers send the delayed and reordered
// replies when their time comes. All of it happens under the flow's lock,
// so the wire order is the order of decision. A Send finding
// ConnOptions.MaxHeld replies held waits for some to go.
type sender struct {
	f     flow
	inner shm.Conn
}

func newSender(c *conn, l Link) *sender {
	s := &sender{inner: c.inner}
	s.f.init(c, l, false, s.flush)
	return s
}

func (s *sender) send(ms []shm.Message) error {
	f := &s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.shut && f.waiting() >= f.c.opts.MaxHeld {
		f.cond.Wait()
	}
	if f.shut {
		return net.ErrClosed
	}
	for i := range ms {
		f.admit(&ms[i])
	}
	return s.flush()
}

// flush sends what is ready; called with the flow's lock held.
func (s *sender) flush() error {
	f := &s.f
	if len(f.out) == 0 {
		return nil
	}
	err := s.inner.Send(f.out)
	clear(f.out)
	f.out = f.out[:0]
	return err
}
