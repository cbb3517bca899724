package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// world is one run in progress: the clock, the event queue, the nodes and
// what records them. Everything happens on the goroutine of Run.
type world struct {
	cfg     Config
	now     int64 // virtual nanoseconds
	t0      int64 // when the run began
	q       queue
	rng     *rand.Rand // the schedule's choices
	slab    msgSlab
	master  master
	workers []*worker
	dec     faultinject.Decisions // nil: no message faults
	log     *faultinject.Log
	rec     recorder
	steps   []faultinject.Step
	faults  faultState
	aimed   [][]int // by worker, the process faults aimed at its progress
	incs    uint64  // worker incarnations started
	events  int     // events handled
	ops     int     // operations called
	// pausedBy names, for each paused process, the pause fault that
	// stopped it: only that pause's end resumes it.
	pausedBy map[string]int
	// downBy says, for each process down from a fault, which.
	downBy map[string]*faultinject.Down
	keys   map[string]string // keyOf's keys
	kept   []byte            // keep's chunk
	// sending is the connection of the message being decided, for a
	// fault event to name the operation it hit.
	sending struct {
		worker int32
		conn   uint32
	}
}

// start is the virtual time a run begins at: not zero, which a history
// reads as "no time".
const start = int64(time.Millisecond)

// maxEventsPerOp bounds a run: a run that handles more events than this
// many per operation it may make is stuck in a loop.
const maxEventsPerOp = 1000

func newWorld(cfg Config) *world {
	w := &world{cfg: cfg, now: start, t0: start, log: &faultinject.Log{}, keys: map[string]string{}, pausedBy: map[string]int{}, downBy: map[string]*faultinject.Down{}}
	w.rng = rand.New(rand.NewPCG(cfg.Seed, 0x5eed5c4ed))
	names := laneNames(cfg.Workers, cfg.lanes())
	w.rec = newRecorder(names)
	// The history's Ops are made now, so that the collection their size
	// sets off is over before they are filled in at the end.
	w.rec.out = make([]history.Op, 0, min(cfg.Workers*cfg.lanes()*max(cfg.Ops, longestScript(cfg.Script)), 1<<20)+len(cfg.Keys))
	w.dec = w.decisions()
	w.log.OnRecord = w.faultEvent
	w.master = master{up: true, gen: 1, store: newStore(cfg)}
	for i := range cfg.Workers {
		w.workers = append(w.workers, newWorker(w, i))
	}
	w.schedule()
	return w
}

// laneNames returns the names of the workers' lanes in a history, by
// lane index (worker × lanes + lane), and the final reader last: a
// worker's name ("w1"), or one for each of its lanes ("w1.0", "w1.1")
// if it has several (HISTORY.md, "Streams").
func laneNames(workers, lanes int) []string {
	names := make([]string, 0, workers*lanes+1)
	for i := range workers {
		for l := range lanes {
			if lanes == 1 {
				names = append(names, workerName(i))
			} else {
				names = append(names, fmt.Sprintf("%s.%d", workerName(i), l))
			}
		}
	}
	return append(names, FinalReader)
}

// decisions returns what decides the message faults: a replay, the plan's
// decider (seeded by the run's seed if the plan has none), or nothing.
func (w *world) decisions() faultinject.Decisions {
	switch {
	case w.cfg.Replay != nil:
		return faultinject.NewReplay(w.cfg.Replay)
	case w.cfg.Plan != nil && len(w.cfg.Plan.Messages) > 0:
		p := *w.cfg.Plan
		if p.Seed == 0 {
			p.Seed = w.cfg.Seed
		}
		return faultinject.NewDecider(&p)
	}
	return nil
}

// schedule queues every worker's first operation and the process faults.
func (w *world) schedule() {
	for _, wk := range w.workers {
		wk.connect()
		wk.next()
	}
	fs := w.processFaults()
	w.faults = faultState{happened: make([]bool, len(fs)), missed: map[int]string{}}
	for i, f := range fs {
		if f.After == nil {
			continue
		}
		if w.aimed == nil {
			w.aimed = make([][]int, len(w.workers))
		}
		k, _ := workerIndex(f.After.Worker)
		w.aimed[k] = append(w.aimed[k], i)
		w.workers[k].counts = map[uint32]*progress{}
	}
	if w.cfg.Plan != nil {
		w.steps = faultinject.Schedule(w.cfg.Plan.Processes)
		for i, s := range w.steps {
			w.q.push(event{at: w.t0 + int64(s.At), kind: evProcess, node: int32(i), msg: -1})
		}
	}
}

// run handles events until none is left.
func (w *world) run() error {
	limit := int64(maxEventsPerOp) * int64(max(w.cfg.Ops, longestScript(w.cfg.Script))+1) * int64(w.cfg.Workers*w.cfg.lanes()) * int64(1+len(w.steps))
	for w.q.len() > 0 {
		e := w.q.pop()
		if e.at < w.now {
			return fmt.Errorf("sim: seed %d: the virtual clock ran past the end of int64 at %v", w.cfg.Seed, w.elapsed())
		}
		w.now = e.at
		w.dispatch(&e)
		if w.events++; int64(w.events) > limit {
			return fmt.Errorf("sim: seed %d: more than %d events: the run does not end", w.cfg.Seed, limit)
		}
	}
	return nil
}

func (w *world) dispatch(e *event) {
	switch e.kind {
	case evStart, evReply, evTick:
		w.workers[e.node].handle(e)
	case evRequest, evHangup:
		w.master.handle(w, e)
	case evRelease:
		w.workers[e.node].links[e.dir].release(w, e)
	case evProcess:
		w.process(w.steps[e.node])
	}
}

// latency draws a message's one-way latency.
func (w *world) latency() int64 {
	l := int64(w.cfg.Latency)
	if l == 0 {
		return 0 // on a grid (Config.Grid)
	}
	return l + w.rng.Int64N(l+1)
}

// elapsed is the time since the run began.
func (w *world) elapsed() time.Duration { return time.Duration(w.now - w.t0) }

// faultEvent records a fault decision as a history event, naming the
// operation it hit when that is the worker's current one. A copy of a
// request that never reached the master says not_applied of the
// operation only if no copy of it does (worker.surelyLost); else what
// the fault did to the operation is not known (no truth).
func (w *world) faultEvent(r faultinject.Record) {
	e := r.Event()
	if i, ok := workerIndex(r.Link.Worker); ok && int32(i) == w.sending.worker {
		if ln := w.workers[i].laneFor(w.sending.conn, r.Msg.Seq); ln != nil {
			e.Op = ln.pendingOp()
			if e.Truth == history.TruthNotApplied && !ln.surelyLost(&r) {
				e.Truth = history.TruthNone
			}
		}
	}
	w.rec.event(e, w.now)
}

func longestScript(s [][]workload.Op) int {
	n := 0
	for _, ops := range s {
		n = max(n, len(ops))
	}
	return n
}

// msgSlab holds the messages in flight; events name them by index. Each
// slot has the bytes of its message's frame (wire), into which the
// message decoded from them points; they are the slot's, reused by the
// next message made in it, so nothing handed on may point into them
// (world.keyOf, world.keep).
type msgSlab struct {
	ms      []shm.Message
	bufs    [][]byte
	spare   []int32
	scratch []byte // wire's
}

// maxKeptFrame is the largest frame buffer a freed slot keeps for its
// next message: a large value's bytes are let go with it.
const maxKeptFrame = 64 << 10

// alloc returns a free slot, holding an empty message, for a message to
// be made in place.
func (s *msgSlab) alloc() int32 {
	if n := len(s.spare); n > 0 {
		i := s.spare[n-1]
		s.spare = s.spare[:n-1]
		return i
	}
	s.ms = append(s.ms, shm.Message{})
	s.bufs = append(s.bufs, nil)
	return int32(len(s.ms) - 1)
}

// put puts a copy of m in a free slot. The copy points where m points:
// see dup for a copy of a message in the slab.
func (s *msgSlab) put(m *shm.Message) int32 {
	c := *m // m may be in the slab, which alloc may move
	i := s.alloc()
	s.ms[i] = c
	return i
}

// dup puts a copy of message i in a free slot, with bytes of its own: a
// duplicate outlives its original's slot.
func (s *msgSlab) dup(i int32) int32 {
	j := s.put(&s.ms[i])
	m := &s.ms[j]
	b := slices.Grow(s.bufs[j][:0], len(m.Key)+len(m.Old)+len(m.Value)+len(m.UUID)+len(m.Raw))
	for _, f := range [...]*[]byte{&m.Key, (*[]byte)(&m.Old), (*[]byte)(&m.Value), (*[]byte)(&m.UUID), &m.Raw} {
		if *f != nil {
			n := len(b)
			b = append(b, *f...)
			*f = b[n:len(b):len(b)]
		}
	}
	s.bufs[j] = b
	return j
}

// wire sends message i through codec c, in place: it is encoded into its
// slot's bytes and decoded from them, as the peer of a connection of
// that codec reads it. The message must not point into its own slot's
// bytes (a message just made, or a copy put from elsewhere).
func (s *msgSlab) wire(i int32, c shm.Codec) {
	m := &s.ms[i]
	b := c.Append(s.bufs[i][:0], m)
	n := len(b)
	if tamper != nil {
		tamper(c, m, b)
	}
	b = slices.Grow(b, n) // decoding appends at most n bytes: they stay in b
	s.scratch = b[n:n]    // a field, not a variable: its address would escape
	c.Decode(b[:n], m, &s.scratch)
	s.scratch = nil
	s.bufs[i] = b
}

// tamper, set by tests only, changes the bytes of each frame that wire
// encodes, as a bug of the encoder of m would: nothing else stands
// between the codec's bytes and what the peer decodes.
var tamper func(c shm.Codec, m *shm.Message, frame []byte)

// at returns message i, to make, read or settle in place until it is
// freed. What it points to stays readable when the slab grows (the old
// array is left as it was), but is then no longer the slab's: take it
// again after an alloc.
func (s *msgSlab) at(i int32) *shm.Message { return &s.ms[i] }

// free frees message i's slot. Its bytes stay for the next message made
// in it, unless they are many.
func (s *msgSlab) free(i int32) {
	s.ms[i] = shm.Message{}
	if cap(s.bufs[i]) > maxKeptFrame {
		s.bufs[i] = nil
	}
	s.spare = append(s.spare, i)
}

// take returns message i and frees its slot. The message may point into
// the slot's bytes, which the next message made there overwrites.
func (s *msgSlab) take(i int32) shm.Message {
	m := s.ms[i]
	s.free(i)
	return m
}

// keyOf returns key as a string that stays as it is: a decoded key
// points into a slab slot's bytes, but a fault record keeps its key.
// Each distinct key is copied once.
func (w *world) keyOf(key []byte) string {
	if k, ok := w.keys[string(key)]; ok {
		return k
	}
	k := string(key)
	w.keys[k] = k
	return k
}

// infoOf is what a decision may look at of request m (as infoOf), for a
// request decoded in the slab.
func (w *world) infoOf(m *shm.Message) faultinject.Message {
	return faultinject.Message{Method: m.Method.String(), Key: w.keyOf(m.Key), Seq: m.Seq}
}

// keep returns a copy of v that stays as it is, for a worker to keep
// what a reply decoded in the slab says (the last value it saw of a
// key). The copies are made in chunks, as the workload writes its values.
func (w *world) keep(v []byte) []byte {
	if v == nil {
		return nil
	}
	if len(w.kept)+len(v) > cap(w.kept) {
		w.kept = make([]byte, 0, max(keptChunk, len(v)))
	}
	n := len(w.kept)
	w.kept = append(w.kept, v...)
	return w.kept[n:len(w.kept):len(w.kept)]
}

// keptChunk is the size of the chunks world.keep copies values into.
const keptChunk = 64 << 10
