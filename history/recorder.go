package history

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// RecorderOptions configure a Recorder. The zero value records in memory
// on Now's clock.
type RecorderOptions struct {
	// Clock reads the time in nanoseconds (default Now). The simulator
	// passes its virtual clock. Every session calls it, so it must be safe
	// for concurrent use if sessions run on several goroutines.
	Clock func() int64
	// Journal, if set, also receives every call, return and event as it
	// is recorded, so that they outlive the process (see Journal). A
	// journal serves one recorder.
	Journal *Journal
}

// Recorder records what a run does: its operations, one Session per
// sequential client, and its events. It is safe for concurrent use, and
// History may be called at any time, while sessions record.
//
// The recording path is cheap and shares nothing between sessions: a
// session writes its operations into memory of its own, in chunks that
// never move, and publishes each one with an atomic store, so neither a
// lock nor an allocation is taken per operation.
type Recorder struct {
	clock   func() int64
	journal *Journal
	// streams is the last stream number given out: numbers are unique in
	// the recorder, and History renumbers them per worker.
	streams atomic.Int64

	mu       sync.Mutex
	sessions []*Session
	events   []Event
	buf      []byte // encodes events for the journal
}

// NewRecorder returns a Recorder with the options opts. It panics if
// opts.Journal already serves another recorder or is closed.
func NewRecorder(opts RecorderOptions) *Recorder {
	r := &Recorder{clock: opts.Clock, journal: opts.Journal}
	if r.clock == nil {
		r.clock = Now
	}
	r.streams.Store(-1)
	if j := r.journal; j != nil && !j.attach() {
		panic("linearizability: NewRecorder: the journal " + j.path + " already serves a recorder, or is closed")
	}
	return r
}

// newStream returns a stream number not given out before.
func (r *Recorder) newStream() int { return int(r.streams.Add(1)) }

// Session returns a new sequential client named worker: it has at most
// one operation pending at a time. Its operations begin a new stream of
// worker, and each operation that returns unknown begins another (the
// history numbers a worker's streams from 0 in the order of their first
// calls). A worker that is restarted takes a new Session under the same
// name. Session panics if worker is empty.
func (r *Recorder) Session(worker string) *Session {
	if worker == "" {
		panic("linearizability: Recorder.Session: empty worker name")
	}
	s := &Session{r: r, worker: worker, stream: r.newStream()}
	r.mu.Lock()
	s.index = uint32(len(r.sessions) + 1)
	r.sessions = append(r.sessions, s)
	r.mu.Unlock()
	return s
}

// Event records e. A zero e.Time means now. If e.Op is set, it must be
// the ID of a Pending of this recorder: History turns it into the
// operation's id in the history. Event panics if it is not.
func (r *Recorder) Event(e Event) {
	if e.Time == 0 {
		e.Time = r.clock()
	}
	e.Line = 0
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Op != 0 && !r.recorded(e.Op) {
		panic(fmt.Sprintf("linearizability: Recorder.Event: op %d is not the ID of an operation of this recorder", e.Op))
	}
	r.events = append(r.events, e)
	if r.journal != nil {
		r.buf = r.journal.writeEvent(r.buf, &e)
	}
}

// recorded reports whether id is the ID of a Pending of r. r.mu is held.
func (r *Recorder) recorded(id int64) bool {
	i := id >> 32
	return i >= 1 && i <= int64(len(r.sessions)) && uint32(id) < r.sessions[i-1].n.Load()
}

// History returns a snapshot of what r has recorded, under the header h.
// Its operations are sorted by call time (equal times keep the order of
// sessions, then of calls) and numbered 1..n in that order; each worker's
// streams are numbered from 0 in the order of their first calls; an
// operation still pending is unknown, with no return. Its events are
// sorted by time, and name operations by their ids in the history.
func (r *Recorder) History(h Header) *History {
	r.mu.Lock()
	sessions := r.sessions[:len(r.sessions):len(r.sessions)]
	events := slices.Clone(r.events)
	r.mu.Unlock()
	var ops []Op
	for _, s := range sessions {
		ops = s.snapshot(ops)
	}
	return assembleHistory(h, []recording{{ops: ops, events: events}})
}

// opChunkLen is how many operations a session stores per chunk.
const opChunkLen = 256

// opChunk holds a chunk of a session's operations. It never moves: a
// Pending points into it.
type opChunk [opChunkLen]Pending

// Session is one sequential client of a Recorder (see Recorder.Session).
// It is used by one goroutine at a time: Call and Return need not run on
// the same goroutine, but must not run at the same time.
type Session struct {
	r      *Recorder
	worker string
	index  uint32 // 1-based, in the order of the recorder's sessions
	stream int    // the stream the next call joins

	// n is how many operations are published: the fields Call sets of
	// operations 0..n-1 may be read. dir holds the chunks.
	n   atomic.Uint32
	dir atomic.Pointer[[]*opChunk]

	cur     *opChunk // the chunk being filled
	pending *Pending // the operation called and not yet returned
	buf     []byte   // encodes records for the journal
}

// Pending is an operation Session.Call made, to be given its Return. It
// is not to be copied. Its ID stays valid after Return.
type Pending struct {
	s    *Session
	seq  uint32 // its index in the session
	done atomic.Bool

	// Set by Call, before the session publishes the operation.
	stream int
	method Method
	key    string
	in     Input
	call   int64

	// Set by Return, before done.
	ret    int64
	status Status
	out    Output
}

// Call records that the session invokes method m on key with input in,
// reading the clock now; with a journal, the call is written there before
// Call returns. It must be called before the request is sent, so that the
// recorded call time comes first and the call survives the death of the
// process right after. Call panics if the session already has an
// operation pending.
func (s *Session) Call(m Method, key string, in Input) *Pending {
	if s.pending != nil {
		panic(fmt.Sprintf("linearizability: Session.Call: worker %s calls %s while its %s is pending (a session is sequential)", s.worker, m, s.pending.method))
	}
	n := s.n.Load()
	if n%opChunkLen == 0 {
		s.grow()
	}
	p := &s.cur[n%opChunkLen]
	p.s, p.seq, p.stream = s, n, s.stream
	p.method, p.key, p.in = m, key, in
	p.call = s.r.clock()
	if j := s.r.journal; j != nil {
		s.buf = j.writeCall(s.buf, p)
	}
	s.n.Store(n + 1)
	s.pending = p
	return p
}

// grow adds a chunk. The directory is appended to in place when it has
// room: a snapshot reads only the entries it loaded, below the length it
// loaded, so the writer's entries beyond them never meet its reads.
func (s *Session) grow() {
	var dir []*opChunk
	if d := s.dir.Load(); d != nil {
		dir = *d
	}
	s.cur = new(opChunk)
	dir = append(dir, s.cur)
	s.dir.Store(&dir)
}

// Return records that the operation returned with status st and output
// out, reading the clock now. StatusUnknown means the outcome is not
// known (a timeout, a lost connection): the operation returns at infinity,
// any output is accepted for it, it may or may not have taken effect, and
// the session goes on as a new stream. Return panics if the operation is
// not the session's pending one (it returned already), if st is not a
// status, or if an operation that is not ok has a value.
func (p *Pending) Return(st Status, out Output) {
	s := p.s
	if s == nil || s.pending != p {
		panic("linearizability: Pending.Return: the operation is not pending (it returned already, or was not made by Call)")
	}
	switch st {
	case StatusOK:
	case StatusFail, StatusUnknown:
		if out.Value != nil {
			panic(fmt.Sprintf("linearizability: Pending.Return: an operation with status %q has no value, not %s", st, out.Value))
		}
	default:
		panic(fmt.Sprintf("linearizability: Pending.Return: unknown status %q", st))
	}
	p.ret = s.r.clock()
	p.status, p.out = st, out
	if j := s.r.journal; j != nil {
		s.buf = j.writeReturn(s.buf, p)
	}
	p.done.Store(true)
	s.pending = nil
	if st == StatusUnknown {
		s.stream = s.r.newStream()
	}
}

// ID returns an id for p that an Event's Op may name: History and
// MergeJournals turn it into the operation's id in the history. It is
// unique in the recorder, and never a small number.
func (p *Pending) ID() int64 { return int64(p.s.index)<<32 | int64(p.seq) }

// snapshot appends the session's published operations to ops, each with
// its ID and its recorder-wide stream number.
func (s *Session) snapshot(ops []Op) []Op {
	n := s.n.Load()
	if n == 0 {
		return ops
	}
	dir := *s.dir.Load() // stored before n: it holds operation n-1
	for i := range n {
		p := &dir[i/opChunkLen][i%opChunkLen]
		op := Op{ID: int64(s.index)<<32 | int64(i), Worker: s.worker, Stream: p.stream,
			Method: p.method, Key: p.key, Input: p.in, Call: p.call, Status: StatusUnknown}
		if p.done.Load() {
			op.Return, op.Status, op.Output = p.ret, p.status, p.out
		}
		ops = append(ops, op)
	}
	return ops
}

// recording is what a recorder, or a journal, holds before it is made a
// history: its ops' IDs are Pending IDs, their streams the recording's own
// numbers, and its events name ops by Pending ID.
type recording struct {
	ops    []Op
	events []Event
}

// assembleHistory makes one history of srcs under the header h. Its ops are
// sorted by call time (equal times keep the order of srcs, then of their
// ops) and numbered 1..n in that order. Each (recording, worker, stream)
// takes the next stream number of its worker in the order of first calls,
// so that recordings with the same workers (a worker restarted in a new
// process) never share a stream; so does what follows an unknown op in
// its stream, which only a damaged journal holds (a torn return). Events are sorted by time (equal times
// keep their order), and the ops they name are given their new ids; an
// event that names an op its recording does not hold (its call was in a
// damaged stretch of a journal) names none, and says so in its text.
func assembleHistory(h Header, srcs []recording) *History {
	type ref struct{ src, i int }
	var refs []ref
	needIDs := false
	for si, s := range srcs {
		for i := range s.ops {
			refs = append(refs, ref{si, i})
		}
		for i := range s.events {
			needIDs = needIDs || s.events[i].Op != 0
		}
	}
	slices.SortStableFunc(refs, func(a, b ref) int {
		return cmp.Compare(srcs[a.src].ops[a.i].Call, srcs[b.src].ops[b.i].Call)
	})
	type streamKey struct {
		src    int
		worker string
		stream int
	}
	type idKey struct {
		src int
		id  int64
	}
	type stream struct {
		n     int  // the stream's number in the history
		ended bool // by an unknown op
	}
	streams := make(map[streamKey]stream)
	next := make(map[string]int)
	var ids map[idKey]int64
	if needIDs {
		ids = make(map[idKey]int64, len(refs))
	}
	hist := &History{Header: h, Ops: make([]Op, len(refs))}
	for k, rf := range refs {
		op := srcs[rf.src].ops[rf.i]
		sk := streamKey{rf.src, op.Worker, op.Stream}
		st, ok := streams[sk]
		if !ok || st.ended {
			st.n = next[op.Worker]
			next[op.Worker] = st.n + 1
		}
		st.ended = op.Status == StatusUnknown
		streams[sk] = st
		if needIDs {
			ids[idKey{rf.src, op.ID}] = int64(k + 1)
		}
		op.ID, op.Stream, op.Line = int64(k+1), st.n, 0
		hist.Ops[k] = op
	}
	for si, s := range srcs {
		for _, e := range s.events {
			if e.Op != 0 {
				id, ok := ids[idKey{si, e.Op}]
				if !ok {
					e.Text = strings.TrimSpace(e.Text + fmt.Sprintf(" (about an operation that was not recorded, ID %d)", e.Op))
				}
				e.Op = id
			}
			e.Line = 0
			hist.Events = append(hist.Events, e)
		}
	}
	slices.SortStableFunc(hist.Events, func(a, b Event) int { return cmp.Compare(a.Time, b.Time) })
	return hist
}
