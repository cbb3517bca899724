package sim

import (
	"sync"

	"github.com/shmlab/shmlab/history"
)

// recorder records a run's history as it happens. The simulator calls
// from one goroutine in time order, so operations are appended in the
// order of their call times and events in the order of their times: the
// history needs no sorting, and an operation's id is its place plus one.
// It numbers streams as history.Recorder does: each worker's from
// 0 in the order of their first calls, a new one for each incarnation and
// after each operation that returned unknown.
//
// While the run goes on, an operation is a compact record with one
// pointer (its key), its values copied into one arena: the collector
// has next to nothing to scan or guard as the history grows, and the
// records are reused from run to run. history fills the checkers' Ops
// from them once, at the end, into a slice made at the start (the
// collection its size sets off is then long over, and filling it needs
// no write barriers).
type recorder struct {
	*records
	events  []history.Event
	out     []history.Op // the history's Ops, made at the start
	streams []int        // the next stream number of each worker
	names   []string     // the workers' names, by index
	// last is the last call or return: when the run's work ended (timers
	// of dead incarnations may tick on after it).
	last int64
}

// records are the parts of a recorder that runs reuse.
type records struct {
	ops  []opRecord
	vals []byte    // the operations' values, end to end
	errs []opError // the errors of the operations that have one
}

var recordsPool = sync.Pool{New: func() any { return new(records) }}

// opRecord is an operation as recorded while the run goes on.
type opRecord struct {
	call, ret        int64
	key              string
	in, old, out     span
	delta, ttl, incr int64
	worker, stream   int32
	method, status   uint8 // indices in opMethods and opStatuses
}

// opMethods and opStatuses are what the records' codes stand for.
var (
	opMethods  = []history.Method{history.Get, history.Set, history.Add, history.CAS, history.Delete}
	opStatuses = []history.Status{history.StatusUnknown, history.StatusOK, history.StatusFail}
)

// methodCode and statusCode return the index of m in opMethods and of st
// in opStatuses.
func methodCode(m history.Method) uint8 {
	switch m {
	case history.Get:
		return 0
	case history.Set:
		return 1
	case history.Add:
		return 2
	case history.CAS:
		return 3
	case history.Delete:
		return 4
	}
	panic("sim: no code for method " + string(m))
}

func statusCode(st history.Status) uint8 {
	switch st {
	case history.StatusUnknown:
		return 0
	case history.StatusOK:
		return 1
	case history.StatusFail:
		return 2
	}
	panic("sim: no code for status " + string(st))
}

// span is a value in the recorder's arena; n is -1 for none (nil).
type span struct {
	off int
	n   int
}

// opError is the error an operation returned.
type opError struct {
	op  int
	err *history.ErrorInfo
}

// noStream marks a worker whose next call begins a new stream.
const noStream = -1

func newRecorder(names []string) recorder {
	r := recorder{records: recordsPool.Get().(*records), streams: make([]int, len(names)), names: names, last: start}
	r.ops, r.vals, r.errs = r.ops[:0], r.vals[:0], r.errs[:0]
	return r
}

// call records a call by lane ln at now and returns its index.
func (r *recorder) call(ln *lane, now int64) int {
	if ln.stream == noStream {
		ln.stream = r.streams[ln.name]
		r.streams[ln.name]++
	}
	o := &ln.op
	rec := opRecord{call: now, key: o.Key, in: r.keep(o.Value), old: r.keep(o.Old), out: span{n: -1},
		delta: o.Delta, ttl: o.TTLms, worker: ln.name, stream: int32(ln.stream), method: methodCode(o.Method)}
	if o.Method == history.Set {
		rec.incr = o.Incr
	}
	r.ops = append(r.ops, rec)
	r.last = now
	return len(r.ops) - 1
}

// keep copies v into the arena.
func (r *recorder) keep(v []byte) span {
	if v == nil {
		return span{n: -1}
	}
	s := span{off: len(r.vals), n: len(v)}
	r.vals = append(r.vals, v...)
	return s
}

// ret records that operation i of lane ln returned at now.
func (r *recorder) ret(ln *lane, i int, now int64, st history.Status, out history.Output) {
	op := &r.ops[i]
	op.ret, op.status, op.out = now, statusCode(st), r.keep(out.Value)
	r.last = now
	if out.Error != nil {
		r.errs = append(r.errs, opError{op: i, err: out.Error})
	}
	if st == history.StatusUnknown {
		ln.stream = noStream
	}
}

// event records e at now, unless it has a time.
func (r *recorder) event(e history.Event, now int64) {
	if e.Time == 0 {
		e.Time = now
	}
	r.events = append(r.events, e)
}

// history returns the history recorded, under the header h, and gives
// the records back for another run to reuse.
func (r *recorder) history(h history.Header) *history.History {
	vals := make([]byte, len(r.vals)) // not nil: an empty value stays one
	copy(vals, r.vals)
	value := func(s span) []byte {
		if s.n < 0 {
			return nil
		}
		return vals[s.off : s.off+s.n : s.off+s.n]
	}
	ops := r.out[:0]
	if cap(ops) < len(r.ops) {
		ops = make([]history.Op, len(r.ops))
	}
	ops = ops[:len(r.ops)]
	for i := range r.ops {
		rec, op := &r.ops[i], &ops[i] // field by field: no bulk write barrier
		op.ID, op.Worker, op.Stream = int64(i+1), r.names[rec.worker], int(rec.stream)
		op.Method, op.Key, op.Status = opMethods[rec.method], rec.key, opStatuses[rec.status]
		op.Call, op.Return = rec.call, rec.ret
		op.Input.Value, op.Input.Old = value(rec.in), value(rec.old)
		op.Input.Delta, op.Input.TTL, op.Input.Incr = rec.delta, rec.ttl, rec.incr
		op.Output.Value = value(rec.out)
	}
	for _, e := range r.errs {
		ops[e.op].Output.Error = e.err
	}
	clear(r.ops) // drop the keys
	clear(r.errs)
	recordsPool.Put(r.records)
	r.records = nil
	return &history.History{Header: h, Ops: ops, Events: r.events}
}
