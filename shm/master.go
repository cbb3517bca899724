package shm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// MasterOptions configure a Master. The zero value is usable.
type MasterOptions struct {
	Store StoreOptions // limits of the store
	// Stream is for the connections of spawned workers. The master's
	// replies to a worker that does not read wait in its queue, up to
	// MaxQueued bytes, for as long as it takes; past MaxQueued a reply
	// waits WriteTimeout (5s if 0) for room, then the connection ends
	// with ErrStalled.
	Stream StreamOptions
	// Batch is how many messages one receive may decode (128 if 0).
	Batch int
	// ReplyBytes is how many bytes of reply values are gathered before
	// they are sent, bounding each connection's outbound queue (256 KiB if 0).
	ReplyBytes int
	// OnMessage, if set, sees messages that are not requests: Node-internal
	// ones (KindInternal) and objects without isSharedMemoryMessage
	// (KindOther). It runs on the connection's goroutine.
	OnMessage func(from Identity, m *Message)
	// OnExit, if set, is called when a spawned worker process exits.
	OnExit func(w *Worker, err error)
	// JSONOnly stops the master from offering the compact codec to the Go
	// workers it spawns, so every connection speaks JSON lines.
	JSONOnly bool
	// Logf, if set, receives one line per notable event (a connection
	// ended by bad input, a worker exit).
	Logf func(format string, args ...any)
	// WrapStream, if set, wraps each spawned worker's socket before the
	// codec reads and writes it: the place for byte-level faults. The
	// wrapper loses the socket's non-blocking writes; Stream.WriteTimeout
	// still bounds a write that does not return.
	WrapStream func(w *Worker, rw io.ReadWriteCloser) io.ReadWriteCloser
	// WrapConn, if set, wraps each spawned worker's connection before the
	// master serves it: the place for message-level faults. Closing the
	// wrapper must close the connection it wraps.
	WrapConn func(w *Worker, c Conn) Conn
}

// MasterStats counts what a master has seen.
type MasterStats struct {
	Store        StoreStats
	Requests     uint64 // requests answered
	BadFrames    uint64 // frames answered with an error for their form
	Ignored      uint64 // internal or foreign messages passed to OnMessage or dropped
	Disconnected uint64 // connections that ended with an error: bad input, a stalled reader, a torn frame, a peer that reset the connection or whose pipe broke
}

// Master owns a Store and serves workers over any number of connections.
// Replies go back on the connection the request came from.
type Master struct {
	opts  MasterOptions
	start time.Time

	mu     sync.Mutex // guards store, locks and claims
	store  *Store
	locks  lockTable
	claims map[int64]Conn // BugRouteByClaim: each worker's connection, by its id

	requests, badFrames, ignored, disconnected atomic.Uint64
	closing                                    atomic.Bool

	spawner
}

// NewMaster returns a master with an empty store.
//
// It panics in a process started as a worker that did not call Main first:
// such a process would run the master's code again and fork workers of its
// own, without end.
func NewMaster(opts MasterOptions) *Master {
	if IsWorker() && !mainCalled.Load() {
		panic("shm: NewMaster in a worker process: call shm.Main() first thing in main (or TestMain)")
	}
	if opts.Batch <= 0 {
		opts.Batch = 128
	}
	if opts.ReplyBytes <= 0 {
		opts.ReplyBytes = 256 << 10
	}
	if opts.Stream.WriteTimeout == 0 {
		opts.Stream.WriteTimeout = 5 * time.Second
	}
	m := &Master{opts: opts, start: time.Now(), store: NewStore(opts.Store)}
	m.store.maxFrame = m.maxFrame()
	m.spawner.init(m)
	return m
}

// Now is the master's clock: nanoseconds since it started (monotonic).
func (m *Master) Now() int64 { return int64(time.Since(m.start)) }

// Stats returns the counters.
func (m *Master) Stats() MasterStats {
	m.mu.Lock()
	st := m.store.Stats()
	m.mu.Unlock()
	return MasterStats{Store: st, Requests: m.requests.Load(), BadFrames: m.badFrames.Load(),
		Ignored: m.ignored.Load(), Disconnected: m.disconnected.Load()}
}

// Apply executes a request from the master's own process (worker 0). It
// needs no uuid and is never deduplicated. The reply's Value is shared
// with the store: read it, do not modify it.
func (m *Master) Apply(req *Message) Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.store.Apply(m.Now(), Identity{}, req)
}

// Serve answers the requests arriving on c, as coming from id, until c
// ends. It returns nil when the peer closed the connection or c was closed,
// and the reason when the master ended it (a broken stream, a stalled
// reader). Any number of Serve calls may run at once.
func (m *Master) Serve(c Conn, id Identity) error {
	lc := &lockOwner{c: c}
	defer m.forget(id)
	defer m.releaseConn(lc)
	if sc, ok := c.(*streamConn); ok {
		sc.spinOnRead() // before the first Recv, on Recv's goroutine
		sc.queueSends()
	}
	in := make([]Message, m.opts.Batch)
	out := make([]Message, 0, m.opts.Batch)
	for {
		n, err := c.Recv(in)
		if err != nil {
			return m.ended(c, err)
		}
		if err := m.handle(c, lc, id, in[:n], out); err != nil {
			return m.ended(c, err)
		}
	}
}

func (m *Master) forget(id Identity) {
	m.mu.Lock()
	m.store.Forget(id)
	m.mu.Unlock()
}

// ended closes c and classifies why it ended.
func (m *Master) ended(c Conn, err error) error {
	c.Close()
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	m.disconnected.Add(1)
	m.logf("shm: master: ending connection: %v", err)
	return err
}

// LockSlice is the most work (Store units: a request applied, an entry
// visited, 4 KiB of value copied) a connection does under the store's
// lock before it lets the other connections have it. A batch of ordinary
// requests fits in one slice; a keys call (up to MaxKeysListed entries)
// or a run of large values takes one or more slices, and the others'
// requests run between them.
const LockSlice = 512

// handle applies a batch under the lock, yielding it after each
// LockSlice of work, and sends the replies, flushing early when the reply
// values grow past ReplyBytes.
func (m *Master) handle(c Conn, lc *lockOwner, id Identity, in []Message, out []Message) error {
	if m.opts.Store.Bugs.Has(BugRouteByClaim) {
		return m.handleByClaim(c, id, in)
	}
	size := 0
	m.requests.Add(uint64(countRequests(in)))
	m.mu.Lock()
	now, slice := m.Now(), m.store.work+LockSlice
	for i := range in {
		if m.store.work >= slice {
			m.mu.Unlock()
			runtime.Gosched() // a waiter woken by Unlock takes the lock first
			m.mu.Lock()
			now, slice = m.Now(), m.store.work+LockSlice
		}
		rep, ok := m.reply(now, lc, id, &in[i])
		if !ok {
			continue
		}
		out = append(out, rep)
		if size += len(rep.Value); size >= m.opts.ReplyBytes {
			m.mu.Unlock()
			if err := c.Send(out); err != nil {
				return err
			}
			out, size = out[:0], 0
			m.mu.Lock()
			now, slice = m.Now(), m.store.work+LockSlice
		}
	}
	grants := m.locks.take()
	m.mu.Unlock()
	defer sendGrants(grants)
	m.notify(id, in)
	if len(out) == 0 {
		return nil
	}
	return c.Send(out)
}

// reply answers one message (Store.Answer), counting bad frames and
// keeping replies within the frame limit; ok is false when it gets no
// reply.
func (m *Master) reply(now int64, c *lockOwner, id Identity, msg *Message) (Message, bool) {
	var rep Message
	if m.opts.Store.Bugs.Has(BugCrashKey) && msg.Kind == KindRequest && string(msg.Key) == CrashKey {
		crash(fmt.Sprintf("shm: master: BugCrashKey: a %s of key %q from worker %d", msg.Method, CrashKey, id.Worker))
	}
	switch {
	case msg.Kind == KindRequest && (msg.Method == MethodGetLock || msg.Method == MethodReleaseLock):
		return m.answerLock(c, msg)
	case !m.store.Answer(now, id, msg, &rep):
		if msg.Kind == KindInternal {
			return nodeClusterReply(msg)
		}
		return Message{}, false
	case msg.Kind == KindRequest:
		return m.fit(rep), true
	}
	m.badFrames.Add(1)
	return rep, true
}

// notify passes internal and foreign messages to OnMessage, outside the lock.
func (m *Master) notify(id Identity, in []Message) {
	for i := range in {
		if k := in[i].Kind; k == KindInternal || k == KindOther {
			m.ignored.Add(1)
			if m.opts.OnMessage != nil {
				m.opts.OnMessage(id, &in[i])
			}
		}
	}
}

func (m *Master) logf(format string, args ...any) {
	if m.opts.Logf != nil {
		m.opts.Logf(format, args...)
	}
}

func countRequests(in []Message) int {
	n := 0
	for i := range in {
		if in[i].Kind == KindRequest {
			n++
		}
	}
	return n
}

// replyOverhead is the most a reply frame adds to the value it carries:
// the members of a JSON-lines reply around it, with the longest uuid (a
// uint64 of 20 digits), newline excluded as the frame limit excludes it.
// A compact reply's payload adds at most 19 (kind, method and presence
// bits, 4; a uuid, up to 10; the value's length, up to 5), so the JSON
// reply bounds both codecs.
const replyOverhead = len(`{"isSharedMemoryMessage":true,"uuid":18446744073709551615,"value":}`)

// fit replaces a reply too large for one frame by a too_large error: an
// oversized frame would end the worker's connection. It compares the
// largest frame the reply could take (replyOverhead around its value), so
// the answer is the same on every codec and for every uuid. A stored value
// always fits, to the limit's last byte (Store.checkStored refuses a write
// of one that would not); fit is the guard for everything else.
func (m *Master) fit(rep Message) Message {
	limit := m.maxFrame()
	around := replyOverhead + max(0, len(rep.UUID)-len("18446744073709551615")) // a uuid kept as text may be longer
	if len(rep.Value)+around <= limit {
		return rep
	}
	err := errorf(ErrTooLarge, "reply frame of up to %d bytes (a value of %d and %d around it) exceeds the frame limit of %d",
		len(rep.Value)+around, len(rep.Value), around, limit)
	return Message{Kind: KindReply, Seq: rep.Seq, UUID: rep.UUID, Has: rep.Has &^ HasValue, Err: err}
}

// MaxValueBytes is the largest value a master whose frame limit is
// maxFrame (DefaultMaxFrame if 0) stores: the largest that a reply can
// carry within the limit on either codec, whatever its uuid, so every
// stored value reads back on every connection. A set or cas of a longer
// value is refused with a definite too_large, even when its own request
// frame was within the limit (a compact request, or a JSON one with a
// short uuid, adds fewer bytes than the longest reply).
func MaxValueBytes(maxFrame int) int {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	return maxFrame - replyOverhead
}

// maxFrame is the frame limit of the connections the master makes.
func (m *Master) maxFrame() int {
	if m.opts.Stream.MaxFrame > 0 {
		return m.opts.Stream.MaxFrame
	}
	return DefaultMaxFrame
}

// Get returns the value stored under key, as the master's own read.
func (m *Master) Get(key string) (Value, bool) {
	rep := m.Apply(&Message{Kind: KindRequest, Method: MethodGet, Key: []byte(key), Has: HasKey})
	return rep.Value, rep.Has&HasValue != 0
}

// Set stores v under key, as the master's own write. It fails only with
// a definite too_large: for a value too large for a reply to read it back
// within the frame limit (MaxValueBytes), for an entry larger than the
// store's MaxBytes, or, without one, for a write that would take the store
// past DefaultMaxBytes.
func (m *Master) Set(key string, v Value) error {
	rep := m.Apply(&Message{Kind: KindRequest, Method: MethodSet, Key: []byte(key), Value: v, Has: HasKey | HasValue})
	if rep.Err != nil {
		return rep.Err
	}
	return nil
}
