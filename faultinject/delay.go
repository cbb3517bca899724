package faultinject

import (
	"time"

	"github.com/shmlab/shmlab/shm"
)

// A delayed message is held by a timer for the decided time, then goes
// on: into the stream Recv returns, or out through the inner
// connection's Send. Messages behind it overtake it. A delayed request
// reaches the master late (truth delayed); if the worker's connection
// ends first, it is lost with the connection, as on a real link: Close
// discards what the timers hold and logs each message discarded (a
// request: truth not_applied). Delays come from the fault's distribution:
// fixed, uniform, or exponential with a cap.

// delay holds ms for d, then lets them go on, or holds them for a
// reorder if reorder is set. Called with mu held.
func (f *flow) delay(ms []shm.Message, d time.Duration, reorder bool) {
	f.held += len(ms)
	f.timerN++
	id := f.timerN
	f.timers[id] = delayed{ms, time.AfterFunc(d, func() { f.release(id, ms, reorder) })}
}

// delayed is a delay under way: its messages and their timer.
type delayed struct {
	ms []shm.Message
	t  *time.Timer
}

// release runs when the delay of ms has passed.
func (f *flow) release(id uint64, ms []shm.Message, reorder bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.timers[id]; !ok || f.shut {
		return
	}
	delete(f.timers, id)
	f.held -= len(ms)
	if reorder {
		f.hold(ms)
	} else {
		f.pass(ms...)
	}
	f.flushLater()
}
