package harness

import (
	"sync"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
)

// progressConn counts the distinct requests the master receives on one
// worker's connection (above the message faults: what the store would
// get), and when the count reaches the point of a fault aimed by
// progress, it holds the batch that holds that request until the
// fault's first action is done: the request is received and not
// answered, so that a kill leaves it in flight. Its connection closing
// (the worker's process ended) lets the batch go too.
type progressConn struct {
	shm.Conn
	runner *faultinject.Runner
	name   string
	points map[int][]int // the faults at each count
	last   int           // the highest count with a fault
	seen   map[uint64]bool
	count  int

	once   sync.Once
	closed chan struct{}
}

// watchProgress wraps c, name's connection, if a fault in faults is aimed
// at its progress.
func watchProgress(c shm.Conn, name string, faults []faultinject.ProcessFault, skip func(int) bool, runner *faultinject.Runner) shm.Conn {
	pc := &progressConn{Conn: c, runner: runner, name: name, points: map[int][]int{}, seen: map[uint64]bool{}, closed: make(chan struct{})}
	for i, f := range faults {
		if f.After != nil && f.After.Worker == name && !skip(i) {
			pc.points[f.After.Ops] = append(pc.points[f.After.Ops], i)
			pc.last = max(pc.last, f.After.Ops)
		}
	}
	if len(pc.points) == 0 {
		return c
	}
	return pc
}

// Recv is called by the connection's one serving goroutine.
func (c *progressConn) Recv(ms []shm.Message) (int, error) {
	n, err := c.Conn.Recv(ms)
	if c.count >= c.last {
		return n, err
	}
	var due []int
	was := c.count
	for i := range ms[:n] {
		m := &ms[i]
		if m.Kind != shm.KindRequest || m.Has&shm.HasSeq == 0 || c.seen[m.Seq] {
			continue
		}
		c.seen[m.Seq] = true
		c.count++
		due = append(due, c.points[c.count]...)
		if c.count >= c.last {
			c.seen = nil // no fault waits for more
			break
		}
	}
	if c.count > was {
		c.runner.Received(c.name, c.count)
	}
	for _, i := range due {
		select {
		case <-c.runner.Trigger(i):
		case <-c.closed:
		}
	}
	return n, err
}

func (c *progressConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}
