package shm

// window remembers the replies to one sender's recent mutating requests,
// indexed by sequence number modulo its size.
type window struct {
	high  uint64 // highest sequence number recorded
	any   bool
	slots []slot
	last  uint64 // sequence number of the request being applied
}

type slot struct {
	seq   uint64
	used  bool
	print uint64 // method and key fingerprint, to catch reused ids
	val   Value
	err   *Error
	has   uint16
}

// lookup returns the remembered reply for seq, or an error reply if seq is
// too old to know or was used before for another request. ok is false when
// the request is new and must be applied.
func (w *window) lookup(print, seq uint64) (rep Message, ok bool) {
	w.last = seq
	size := uint64(len(w.slots))
	if w.any && seq < w.high && w.high-seq >= size {
		err := errorf(ErrExpired, "request %d is older than the last %d remembered (newest %d); it may have been applied", seq, size, w.high)
		return Message{Kind: KindReply, Seq: seq, Has: HasSeq, Err: err}, true
	}
	sl := &w.slots[seq%size]
	if !sl.used || sl.seq != seq {
		return Message{}, false
	}
	if sl.print != print {
		err := errorf(ErrSeqReused, "uuid %d was already used by a different request", seq)
		return Message{Kind: KindReply, Seq: seq, Has: HasSeq, Err: err}, true
	}
	return Message{Kind: KindReply, Seq: seq, Has: sl.has, Value: sl.val, Err: sl.err}, true
}

// record remembers the reply to the request last looked up.
func (w *window) record(print uint64, rep *Message) {
	seq := w.last
	w.slots[seq%uint64(len(w.slots))] = slot{seq: seq, used: true, print: print, val: rep.Value, err: rep.Err, has: rep.Has}
	if !w.any || seq > w.high {
		w.high, w.any = seq, true
	}
}
