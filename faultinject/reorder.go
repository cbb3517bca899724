package faultinject

import (
	"time"

	"github.com/shmlab/shmlab/shm"
)

// A reordered message is held until the next message on its link has
// gone, and goes right after it: two requests arrive swapped. A message
// held alone goes when ConnOptions.HoldLimit has passed (50ms), so
// reordering never loses a message; a reordered request is still applied
// (truth delayed). Several messages held at once keep their order and go
// together.

// hold keeps ms until the next message passes, or the hold limit. Called
// with mu held.
func (f *flow) hold(ms []shm.Message) {
	f.reordered = append(f.reordered, ms...)
	f.held += len(ms)
	if f.holdTimer == nil {
		f.holdRounds++
		round := f.holdRounds
		f.holdTimer = time.AfterFunc(f.c.opts.HoldLimit, func() { f.holdExpired(round) })
	}
}

// releaseHeld lets the held messages go on, after what has just passed.
func (f *flow) releaseHeld() {
	if len(f.reordered) == 0 {
		return
	}
	f.out = append(f.out, f.reordered...)
	f.held -= len(f.reordered)
	clear(f.reordered)
	f.reordered = f.reordered[:0]
	f.holdTimer.Stop()
	f.holdTimer = nil
}

// holdExpired releases what round of holding kept, if it is still held.
func (f *flow) holdExpired(round uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shut || f.holdTimer == nil || round != f.holdRounds {
		return
	}
	f.releaseHeld()
	f.flushLater()
}
