package shm

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/internal/pipe"
)

// The writing half of a stream connection. Frames are appended to one
// buffer under wmu; whichever sender finds no write in progress becomes
// the writer and goes on writing what others append meanwhile, so under
// load many messages share one system call, and alone a message costs one
// write and no hand-off.

// LingerSender is implemented by connections that can hold a lone write
// back for a moment to gather others (see SendLinger).
type LingerSender interface{ SendLinger(ms []Message) error }

// NoWaitSender is implemented by connections whose sends can avoid
// blocking the caller (see SendNoWait).
type NoWaitSender interface{ SendNoWait(ms []Message) error }

type sendMode uint8

const (
	sendNow    sendMode = iota // write, blocking if the pipe is full
	sendLinger                 // yield once, then as sendNoWait
	sendNoWait                 // write what the pipe takes; a goroutine writes the rest
	sendQueued                 // as sendNoWait, waiting for room (WriteTimeout at most) past MaxQueued
)

// queueSends makes Send queue what the peer does not take at once, as the
// master's replies need: a peer that stops reading for a while (paused,
// frozen, in a long GC) keeps its connection until MaxQueued bytes wait
// for it, however long it takes, and only then is a Send given
// WriteTimeout to find room before the connection ends. Only for a
// connection whose rwc is the socket itself (one wrapped by WrapStream
// has no write that does not block, so it writes as before). Call it
// before the first Send.
func (c *streamConn) queueSends() {
	c.wmu.Lock()
	c.queue = c.raw != nil
	c.wmu.Unlock()
}

// ErrStalled is the error that ends a connection whose peer left MaxQueued
// bytes unread for longer than WriteTimeout. It wraps
// os.ErrDeadlineExceeded.
var ErrStalled = fmt.Errorf("shm: peer not reading: %w", os.ErrDeadlineExceeded)

// Send writes the messages, blocking while the pipe is full.
func (c *streamConn) Send(ms []Message) error { return c.send(ms, sendNow) }

// SendLinger is SendNoWait for a caller that expects company: if it
// becomes the writer, it yields once first, so that goroutines about to
// send (callers woken by the same batch of replies) join its write instead
// of each paying a system call.
func (c *streamConn) SendLinger(ms []Message) error { return c.send(ms, sendLinger) }

// SendNoWait is Send for a caller that must never block on the peer, such
// as a client's reader (were it stuck writing while the peer is stuck
// writing to it, neither would read again) or a caller with a deadline. It
// writes what the pipe takes at once and leaves the rest to a goroutine;
// when more than MaxQueued bytes already wait, it fails with ErrOverloaded
// and queues nothing.
func (c *streamConn) SendNoWait(ms []Message) error { return c.send(ms, sendNoWait) }

func (c *streamConn) send(ms []Message, mode sendMode) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.queue && mode == sendNow {
		mode = sendQueued
	}
	if err := c.room(mode); err != nil {
		return err
	}
	c.appendFrames(ms)
	if c.flushing {
		return nil
	}
	c.flushing = true
	if mode == sendLinger {
		c.wmu.Unlock()
		runtime.Gosched()
		c.wmu.Lock()
	}
	if mode != sendNow && !c.tryFlush() {
		go c.backgroundFlush()
		return nil
	}
	return c.flush()
}

// room waits (sendNow) or fails (the others) while more than MaxQueued
// bytes wait behind a write in progress, and reports an earlier failure.
func (c *streamConn) room(mode sendMode) error {
	if mode == sendQueued {
		return c.queueRoom()
	}
	for mode == sendNow && c.flushing && len(c.wbuf) > c.opts.MaxQueued && c.werr == nil {
		c.wcond.Wait()
	}
	if c.werr != nil {
		return c.werr
	}
	if c.flushing && len(c.wbuf) > c.opts.MaxQueued {
		return errorf(ErrOverloaded, "%d bytes already wait for a peer that is not reading", len(c.wbuf))
	}
	return nil
}

// queueRoom waits, for WriteTimeout at most (0: for ever), while more than
// MaxQueued bytes wait for the peer, counting those of a write in
// progress; past the timeout it ends the connection with ErrStalled.
// Called with wmu held.
func (c *streamConn) queueRoom() error {
	var deadline time.Time
	for c.werr == nil && c.flushing && len(c.wbuf)+c.inflight > c.opts.MaxQueued {
		if d := c.opts.WriteTimeout; d > 0 && deadline.IsZero() {
			deadline = time.Now().Add(d)
			t := time.AfterFunc(d, func() {
				c.wmu.Lock()
				c.wcond.Broadcast()
				c.wmu.Unlock()
			})
			defer t.Stop()
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			c.failWrite(fmt.Errorf("%w: %d bytes waited %v (MaxQueued %d)", ErrStalled, len(c.wbuf)+c.inflight, c.opts.WriteTimeout, c.opts.MaxQueued))
			break
		}
		c.wcond.Wait()
	}
	return c.werr
}

// appendFrames encodes ms into the write buffer. A KindOther message with
// a Raw frame goes out as that frame, verbatim, on JSON lines (a compact
// connection drops it): a worker's way to send what is not a message of
// the protocol (the harness's poison faults).
func (c *streamConn) appendFrames(ms []Message) {
	for i := range ms {
		if ms[i].Kind == KindOther && ms[i].Raw != nil {
			if !c.compact {
				c.wbuf = append(append(c.wbuf, ms[i].Raw...), '\n')
			}
			continue
		}
		c.wbuf = c.codec().Append(c.wbuf, &ms[i])
	}
	c.stats.framesOut.Add(uint64(len(ms)))
}

// codec is the codec the writer speaks. Called with wmu held.
func (c *streamConn) codec() Codec {
	if c.compact {
		return CodecCompact
	}
	return CodecJSON
}

// flush writes until the buffer is empty, then gives up the writer's role.
// Called and returns with wmu held.
func (c *streamConn) flush() error {
	for len(c.wbuf) > 0 && c.werr == nil {
		buf := c.wbuf
		c.wbuf = c.spare[:0]
		c.inflight = len(buf)
		c.wmu.Unlock()
		err := c.write(buf)
		c.wmu.Lock()
		c.inflight = 0
		c.recycle(buf)
		c.failWrite(err)
	}
	c.flushing = false
	return c.werr
}

// failWrite records the outcome of a write. A failed write may have left
// part of a frame on the stream, which nothing can follow, so it ends the
// connection: the reader then fails too, at once, rather than leaving its
// callers to their deadlines. Called with wmu held.
func (c *streamConn) failWrite(err error) {
	c.werr = err
	c.wcond.Broadcast()
	if err != nil {
		c.rwc.Close()
	}
}

// recycle keeps a written buffer as the next spare. The old spare is in
// use as the write buffer by now, so it must never stay the spare: a huge
// buffer is dropped, leaving no spare at all.
func (c *streamConn) recycle(buf []byte) {
	c.spare = nil
	if cap(buf) <= 1<<20 {
		c.spare = buf[:0]
	}
}

func (c *streamConn) backgroundFlush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.flush()
}

// tryFlush writes without blocking. It returns true when the buffer is
// empty (or the connection failed), false when the pipe is full; then the
// unwritten bytes are back at the front of the buffer. Called with wmu held.
func (c *streamConn) tryFlush() bool {
	for len(c.wbuf) > 0 && c.werr == nil {
		if c.raw == nil {
			return false // cannot tell whether a write would block
		}
		buf := c.wbuf
		c.wbuf = c.spare[:0]
		c.wmu.Unlock()
		n, err := c.writeNoWait(buf)
		c.wmu.Lock()
		if errors.Is(err, syscall.EAGAIN) {
			rest := make([]byte, 0, len(buf)-n+len(c.wbuf))
			c.wbuf = append(append(rest, buf[n:]...), c.wbuf...)
			c.spare = nil // it was the write buffer just replaced
			return false
		}
		c.recycle(buf)
		c.failWrite(err)
	}
	return true
}

// writeNoWait writes as much of buf as the pipe takes now. It returns
// EAGAIN, with the count written, if the pipe filled up.
func (c *streamConn) writeNoWait(buf []byte) (int, error) {
	c.stats.writes.Add(1)
	return pipe.WriteNoWait(c.raw, buf)
}

type deadliner interface{ SetWriteDeadline(time.Time) error }

// write writes buf, blocking while the pipe is full, for at most
// WriteTimeout. It tries a write that does not block first: most writes
// fit, and then no deadline needs setting (which costs a timer each time).
func (c *streamConn) write(buf []byte) error {
	if c.raw != nil {
		n, err := c.writeNoWait(buf)
		if !errors.Is(err, syscall.EAGAIN) {
			return err
		}
		buf = buf[n:]
	}
	if d, ok := c.rwc.(deadliner); ok && c.opts.WriteTimeout > 0 && !c.queue {
		if err := d.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout)); err != nil {
			return err
		}
	}
	c.stats.writes.Add(1)
	_, err := c.rwc.Write(buf)
	return err
}
