package sim

import (
	"github.com/shmlab/shmlab/linearizability"
)

// recorder records a run's history as it happens. The simulator calls
// from one goroutine in time order, so operations are appended in the
// order of their call times and events in the order of their times: the
// history needs no sorting, and an operation's id is its place plus one.
// It numbers streams as linearizability.Recorder does: each worker's from
// 0 in the order of their first calls, a new one for each incarnation and
// after each operation that returned unknown.
type recorder struct {
	ops     []linearizability.Op
	events  []linearizability.Event
	streams []int // the next stream number of each worker
}

// noStream marks a worker whose next call begins a new stream.
const noStream = -1

// call records a call by worker wk at now and returns its index.
func (r *recorder) call(wk *worker, now int64) int {
	if wk.stream == noStream {
		wk.stream = r.streams[wk.idx]
		r.streams[wk.idx]++
	}
	o := &wk.op
	r.ops = append(r.ops, linearizability.Op{ID: int64(len(r.ops) + 1), Worker: wk.name, Stream: wk.stream,
		Method: o.Method, Key: o.Key, Input: o.Input(), Call: now, Status: linearizability.StatusUnknown})
	return len(r.ops) - 1
}

// ret records that operation i of worker wk returned at now.
func (r *recorder) ret(wk *worker, i int, now int64, st linearizability.Status, out linearizability.Output) {
	op := &r.ops[i]
	op.Return, op.Status, op.Output = now, st, out
	if st == linearizability.StatusUnknown {
		wk.stream = noStream
	}
}

// event records e at now, unless it has a time.
func (r *recorder) event(e linearizability.Event, now int64) {
	if e.Time == 0 {
		e.Time = now
	}
	r.events = append(r.events, e)
}

// history returns the history recorded, under the header h. It shares
// the recorder's memory.
func (r *recorder) history(h linearizability.Header) *linearizability.History {
	return &linearizability.History{Header: h, Ops: r.ops, Events: r.events}
}
