package sim

// kind is what an event does.
type kind uint8

const (
	evStart   kind = iota // a worker begins its next operation
	evRequest             // a request reaches the master
	evReply               // a reply reaches a worker
	evTick                // a worker's client looks for deadlines and resends
	evRelease             // a reordered message's hold ends
	evHangup              // a dead worker's connection end reaches the master
	evProcess             // a process fault's step
)

// event is one thing due at a time. Events at the same time happen in
// the order they were scheduled.
type event struct {
	at   int64
	seq  uint64
	kind kind
	dir  uint8  // a held message's direction (0 requests, 1 replies)
	held bool   // the message was delayed or held back by a fault
	node int32  // worker index, or the process step's index
	conn uint32 // the connection a message travels on
	msg  int32  // index in the world's message slab, -1 if none
}

func (e *event) before(f *event) bool {
	return e.at < f.at || (e.at == f.at && e.seq < f.seq)
}

// queue is a binary min-heap of events. Sifting moves a hole rather than
// swapping: one copy of an event per level. Most events, handled, push
// the next one (a request's arrival its reply, a reply's the next
// request), so pop leaves the event it returns at the root, marked
// taken, and a push that follows takes its place: one sift down instead
// of a sift down and a sift up.
type queue struct {
	es    []event
	seq   uint64
	taken bool // es[0] has been popped
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	if q.taken {
		q.taken = false
		q.down(e)
		return
	}
	q.es = append(q.es, e)
	i := len(q.es) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !e.before(&q.es[p]) {
			break
		}
		q.es[i] = q.es[p]
		i = p
	}
	q.es[i] = e
}

// pop returns the earliest event; the queue must not be empty.
func (q *queue) pop() event {
	if q.taken {
		n := len(q.es) - 1
		last := q.es[n]
		q.es = q.es[:n]
		if n > 0 {
			q.down(last)
		}
	}
	q.taken = true
	return q.es[0]
}

// down puts e at the root and sifts it down to its place.
func (q *queue) down(e event) {
	n, i := len(q.es), 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && q.es[r].before(&q.es[c]) {
			c = r
		}
		if !q.es[c].before(&e) {
			break
		}
		q.es[i] = q.es[c]
		i = c
	}
	q.es[i] = e
}

func (q *queue) len() int {
	if q.taken {
		return len(q.es) - 1
	}
	return len(q.es)
}
