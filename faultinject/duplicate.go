package faultinject

import "github.com/shmlab/shmlab/shm"

// A duplicated message is followed at once by extra copies of itself. The
// master must apply a duplicated request once and answer every copy with
// the same reply (truth duplicated); the worker must ignore the extra
// copies of a reply. Copies of a delayed or reordered message are held
// with it and go together.

// passCopies lets msg and extra copies of it go on.
func (f *flow) passCopies(msg shm.Message, extra int) {
	for range 1 + extra {
		f.out = append(f.out, msg)
	}
	f.releaseHeld()
}

// duplicates returns msg and extra copies of it.
func duplicates(msg shm.Message, extra int) []shm.Message {
	ms := make([]shm.Message, 1+extra)
	for i := range ms {
		ms[i] = msg
	}
	return ms
}
