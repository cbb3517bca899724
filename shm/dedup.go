package shm

// window remembers the replies to one sender's recent mutating requests, so
// that a duplicate or retry is answered without being applied again.
//
// It covers the request ids from low on, in a ring indexed by id that grows
// up to a limit. A sender that says "ack": A in its requests (every id below
// A is answered or abandoned) lets low follow A, so the ring holds only what
// is in flight. For a sender that does not, low moves only when the ring is
// full, forgetting the oldest ids: a request older than low gets an
// indefinite "expired" error rather than a second application.
type window struct {
	low   uint64 // every id below low is forgotten
	slots []slot // len is a power of two
	max   int
}

type slot struct {
	seq   uint64
	used  bool
	print uint64 // method and key fingerprint, to catch reused ids
	val   Value
	err   *Error
	has   uint16
}

func newWindow(max int) *window {
	return &window{slots: make([]slot, 8), max: max}
}

// lookup answers, into rep, with the remembered reply for seq, or an
// error reply when seq is too old to know or was used before by another
// request. It returns false, leaving rep alone, when the request is new
// and must be applied, then recorded.
func (w *window) lookup(fp, seq uint64, rep *Message) bool {
	if seq < w.low {
		err := errorf(ErrExpired, "request %d is older than the oldest remembered (%d); it may have been applied", seq, w.low)
		*rep = Message{Kind: KindReply, Seq: seq, Has: HasSeq, Err: err}
		return true
	}
	sl := &w.slots[seq&uint64(len(w.slots)-1)]
	if !sl.used || sl.seq != seq {
		return false
	}
	if sl.print != fp {
		err := errorf(ErrSeqReused, "uuid %d was already used by a different request", seq)
		*rep = Message{Kind: KindReply, Seq: seq, Has: HasSeq, Err: err}
		return true
	}
	*rep = Message{Kind: KindReply, Seq: seq, Has: sl.has, Value: sl.val, Err: sl.err}
	return true
}

// record remembers the reply to request seq, making room as needed.
func (w *window) record(fp, seq uint64, rep *Message) {
	w.makeRoom(seq)
	w.slots[seq&uint64(len(w.slots)-1)] = slot{seq: seq, used: true, print: fp, val: rep.Value, err: rep.Err, has: rep.Has}
}

// ack forgets every id below a.
func (w *window) ack(a uint64) {
	if a > w.low {
		w.forget(a)
	}
}

// makeRoom grows the ring or slides low so that seq fits.
func (w *window) makeRoom(seq uint64) {
	for seq-w.low >= uint64(len(w.slots)) && len(w.slots) < w.max {
		w.grow()
	}
	if n := uint64(len(w.slots)); seq-w.low >= n {
		w.forget(seq - n + 1)
	}
}

// forget clears the slots of ids from low up to (not including) to.
func (w *window) forget(to uint64) {
	n := uint64(len(w.slots))
	if to-w.low >= n {
		clear(w.slots)
	} else {
		for s := w.low; s < to; s++ {
			w.slots[s&(n-1)] = slot{}
		}
	}
	w.low = to
}

func (w *window) grow() {
	old := w.slots
	w.slots = make([]slot, 2*len(old))
	for _, sl := range old {
		if sl.used {
			w.slots[sl.seq&uint64(len(w.slots)-1)] = sl
		}
	}
}
