package shm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn carries messages between a worker and the master. Batches let a busy
// connection pay one system call for many messages; a faulty or in-memory
// connection wraps or replaces it (the fault injector and the simulator to
// come).
type Conn interface {
	// Recv blocks until at least one message is ready, then fills ms with
	// as many as are ready and returns how many. The messages stay valid
	// until the next Recv. It is called from one goroutine at a time.
	Recv(ms []Message) (int, error)
	// Send writes the messages in order. It is safe for concurrent use.
	// It may block while the peer does not read, but a connection should
	// bound that wait (a write timeout, a buffer) rather than block forever.
	Send(ms []Message) error
	// Close ends the connection; a blocked Recv returns.
	Close() error
}

// DefaultMaxFrame is the default limit on one frame's size.
const DefaultMaxFrame = 4 << 20

// frameOverhead bounds the bytes of a frame that are not key or values,
// for the size checks that keep a frame under the limit.
const frameOverhead = 256

// ErrFrameTooLarge is returned by Recv when a frame exceeds the limit; the
// stream cannot be resynchronised, so the connection is finished.
var ErrFrameTooLarge = errors.New("shm: frame exceeds the size limit")

// StreamOptions tune a stream connection.
type StreamOptions struct {
	MaxFrame     int           // largest frame accepted, newline excluded (DefaultMaxFrame if 0)
	WriteTimeout time.Duration // a write blocked this long fails (0: never); needs SetWriteDeadline
	MaxQueued    int           // bytes queued behind a write in progress before Send waits, or SendNoWait fails (16 MiB if 0)
	// Compact makes the connection announce the compact codec with its
	// first line and use it both ways from then on. Only for a peer that
	// accepts it (a master that set SHMLAB_CODECS=compact).
	Compact bool
	// AcceptCompact lets the peer switch the connection to the compact
	// codec with its first line.
	AcceptCompact bool
}

// streamConn speaks JSON lines over a byte stream.
type streamConn struct {
	rwc  io.ReadWriteCloser
	raw  syscall.RawConn // for writes that must not block, if rwc has one
	opts StreamOptions
	rd   frameReader

	wmu      sync.Mutex
	wcond    sync.Cond
	wbuf     []byte
	spare    []byte
	flushing bool
	werr     error
	compact  bool // encode with the compact codec
	queue    bool // Send queues what the peer does not take (queueSends)
	inflight int  // bytes of the write in progress (flush)

	stats struct{ reads, framesIn, writes, framesOut atomic.Uint64 }
}

// StreamStats counts a stream connection's system calls and frames.
type StreamStats struct {
	Reads, FramesIn, Writes, FramesOut uint64
}

// StreamStatser is implemented by connections that count their traffic.
type StreamStatser interface{ StreamStats() StreamStats }

// StreamStats returns the counters.
func (c *streamConn) StreamStats() StreamStats {
	return StreamStats{Reads: c.stats.reads.Load(), FramesIn: c.stats.framesIn.Load(),
		Writes: c.stats.writes.Load(), FramesOut: c.stats.framesOut.Load()}
}

// NewStreamConn returns a Conn that reads and writes newline-delimited JSON
// frames on rwc, such as the AF_UNIX socket at a worker's fd 3.
func NewStreamConn(rwc io.ReadWriteCloser, opts StreamOptions) Conn {
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = DefaultMaxFrame
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 16 << 20
	}
	c := &streamConn{rwc: rwc, opts: opts}
	if sc, ok := rwc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	c.rd = frameReader{r: rwc, max: opts.MaxFrame, acceptHello: opts.AcceptCompact, onHello: c.switchOut}
	c.wcond.L = &c.wmu
	if opts.Compact {
		c.wbuf = append(append(c.wbuf, compactHello...), '\n')
		c.compact, c.rd.compact = true, true
	}
	return c
}

// switchOut makes the writer use the compact codec, once the reader has
// seen the peer's hello.
func (c *streamConn) switchOut() {
	c.wmu.Lock()
	c.compact = true
	c.wmu.Unlock()
}

func (c *streamConn) Recv(ms []Message) (int, error) {
	n, err := c.rd.recv(ms)
	c.stats.framesIn.Add(uint64(n))
	c.stats.reads.Store(c.rd.reads)
	if err != nil && n == 0 {
		if werr := c.writeErr(); werr != nil {
			err = fmt.Errorf("write: %w", werr) // why the connection was closed
		}
	}
	return n, err
}

// spinReads is how many reads that do not block a master's connection
// tries, yielding the processor between them, before its reader parks in
// the netpoller. Under load a worker's next requests usually follow its
// last within microseconds: caught by a reader still running, they save
// the reader's sleep and wake-up (epoll, futex, and an inter-processor
// interrupt that the writer pays). Idle, the reader parks after a few
// tens of microseconds, as before.
const spinReads = 40

// spinMinBatch is how many frames the last read must have brought for
// the next to spin: a peer that pipelines sends its next requests while
// it takes the replies, soon enough to catch; one that waits for each
// reply sends after a whole round trip, and spinning for it only takes
// a processor from it.
const spinMinBatch = 4

// spinOnRead makes the reader poll the socket a little before it parks
// (see spinReads). Only for a connection whose rwc is the socket itself.
func (c *streamConn) spinOnRead() {
	if c.raw != nil {
		c.rd.tryRead, c.rd.spin = c.readNoWait, spinReads
	}
}

// readNoWait reads what the socket holds now; EAGAIN if nothing.
func (c *streamConn) readNoWait(buf []byte) (int, error) {
	var n int
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), buf)
			if rerr != syscall.EINTR {
				return true
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// writeErr returns the error that ended writing, if one did.
func (c *streamConn) writeErr() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.werr
}

func (c *streamConn) Close() error { return c.rwc.Close() }

// frameReader splits a byte stream into frames and decodes them.
type frameReader struct {
	r       io.Reader
	max     int
	buf     []byte
	start   int // first unconsumed byte
	end     int // end of data read
	scanned int // bytes after start known to hold no newline
	scratch []byte
	reads   uint64

	compact     bool   // frames are compact, not JSON lines
	acceptHello bool   // the first line may switch to compact
	onHello     func() // called when it does
	lines       uint64 // JSON lines seen
	err         error  // a framing error found while decoding
	rerr        error  // the error the reader returned, once it has

	tryRead func([]byte) (int, error) // a read that does not block, if spin > 0
	spin    int                       // reads tried before one that blocks
	since   int                       // frames decoded since the last read
}

func (f *frameReader) recv(ms []Message) (int, error) {
	f.scratch = f.scratch[:0]
	for {
		n := f.decodeReady(ms)
		if n > 0 {
			return n, nil
		}
		if f.err != nil {
			return 0, f.err
		}
		if err := f.fill(); err != nil {
			return 0, err
		}
	}
}

// decodeReady decodes the complete frames already buffered, up to len(ms).
func (f *frameReader) decodeReady(ms []Message) int {
	n := 0
	for n < len(ms) {
		var ok bool
		if f.compact {
			ok = f.nextCompact(&ms[n])
		} else {
			ok = f.nextLine(&ms[n])
		}
		if !ok {
			break
		}
		if ms[n].Kind != kindHello {
			n++
		}
	}
	f.since += n
	return n
}

// kindHello marks the consumed codec hello, which is not delivered.
const kindHello Kind = 255

func (f *frameReader) nextLine(m *Message) bool {
	from := f.start + f.scanned
	nl := bytes.IndexByte(f.buf[from:f.end], '\n')
	if nl < 0 {
		f.scanned = f.end - f.start
		return false
	}
	line := f.buf[f.start : from+nl]
	if len(line) > f.max {
		// However the bytes arrived (one read or many), a frame over the
		// limit is refused, not decoded: checking only when the reader
		// needs more bytes would let one that arrived whole through.
		f.err = fmt.Errorf("%w (%d bytes, limit %d)", ErrFrameTooLarge, len(line), f.max)
		return false
	}
	f.start, f.scanned = from+nl+1, 0
	f.lines++
	if f.lines == 1 && f.acceptHello && bytes.Equal(line, compactHello) {
		f.compact = true
		f.onHello()
		m.Kind = kindHello
		return true
	}
	CodecJSON.Decode(line, m, &f.scratch)
	return true
}

func (f *frameReader) nextCompact(m *Message) bool {
	avail := f.end - f.start
	if avail < compactHeader {
		return false
	}
	n := int(binary.LittleEndian.Uint32(f.buf[f.start:]))
	if n > f.max {
		f.err = fmt.Errorf("%w (compact frame of %d bytes, limit %d)", ErrFrameTooLarge, n, f.max)
		return false
	}
	if avail < compactHeader+n {
		return false
	}
	CodecCompact.Decode(f.buf[f.start:f.start+compactHeader+n], m, &f.scratch)
	f.start += compactHeader + n
	return true
}

// fill reads more bytes, making room first.
func (f *frameReader) fill() error {
	if !f.compact && f.end-f.start > f.max {
		return fmt.Errorf("%w (%d bytes without a newline, limit %d)", ErrFrameTooLarge, f.end-f.start, f.max)
	}
	if f.rerr != nil {
		return f.finalErr()
	}
	f.makeRoom()
	if f.spinRead() {
		return nil
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.reads++
	f.end += n
	if err != nil {
		f.rerr = err
		if n == 0 {
			return f.finalErr()
		}
	}
	return nil // frames read with the error are decoded first
}

// spinRead tries up to f.spin reads that do not block, yielding between
// them, and reports whether one read something. The end of the stream or
// an error stops it: the blocking read that follows meets them again.
func (f *frameReader) spinRead() bool {
	busy := f.since >= spinMinBatch
	f.since = 0
	if !busy {
		return false
	}
	for i := 0; i < f.spin; i++ {
		n, err := f.tryRead(f.buf[f.end:])
		if n > 0 && err == nil {
			f.reads++
			f.end += n
			return true
		}
		if err != syscall.EAGAIN {
			return false
		}
		runtime.Gosched()
	}
	return false
}

// finalErr is the error that ends the stream: the reader's own, or a torn
// frame if the stream ended inside one.
func (f *frameReader) finalErr() error {
	if f.rerr == io.EOF && f.end > f.start {
		return fmt.Errorf("shm: stream ended inside a frame (%d bytes): %w", f.end-f.start, io.ErrUnexpectedEOF)
	}
	return f.rerr
}

func (f *frameReader) makeRoom() {
	if f.start == f.end {
		f.start, f.end = 0, 0
	}
	if f.end < len(f.buf) {
		return
	}
	used := f.end - f.start
	if f.start > 0 && used < len(f.buf)/2 {
		copy(f.buf, f.buf[f.start:f.end])
		f.start, f.end = 0, used
		return
	}
	size := max(2*len(f.buf), 64<<10)
	size = min(size, f.max+(64<<10))
	nb := make([]byte, size)
	copy(nb, f.buf[f.start:f.end])
	f.buf, f.start, f.end = nb, 0, used
}
