package shm

// core is the client's pure state machine, shared by Client (which wraps
// it in goroutines, a lock and a connection) and Calls (which a driver
// without goroutines, the simulator, steps by hand): request ids and the
// pending table (tracker), how a request is stamped, how a reply settles
// its call, and the client-side bugs.
type core struct {
	tr         tracker
	id         Identity
	retryAfter int64 // nanoseconds; 0: never resend
	bugs       Bugs
	cache      map[string]Value // BugReadCache: the last value seen per key
	deferred   []Message        // BugAckBeforeApply: sets answered, not yet sent
}

func newCore(id Identity, retryAfter int64, bugs Bugs) core {
	k := core{tr: newTracker(), id: id, retryAfter: retryAfter, bugs: bugs}
	if bugs.Has(BugWrapIDs) {
		k.tr.wrap = wrapIDsAt
	}
	if bugs.Has(BugReadCache) {
		k.cache = make(map[string]Value)
	}
	return k
}

// start registers cl, due at deadline (nanoseconds on the driver's
// clock, as now is), and stamps req with the client's identity, the
// call's id and the ack watermark. cl.batch[0] becomes req.
func (k *core) start(cl *call, req *Message, now, deadline int64) {
	cl.deadline, cl.resendAt, cl.resent = deadline, 0, false
	if k.retryAfter > 0 {
		cl.resendAt = now + k.retryAfter
	}
	req.Kind, req.Worker, req.Inc = KindRequest, k.id.Worker, k.id.Inc
	if k.bugs.Has(BugRouteByClaim) {
		req.Worker = (req.Worker - 1) ^ 1 + 1 // the neighbour's id
	}
	req.Has |= HasSeq | HasWorker | HasInc | HasAck
	req.Seq = k.tr.begin(cl)
	req.Ack = k.tr.ack()
	if k.tr.wrap != 0 {
		req.Ack, req.Has = 0, req.Has&^HasAck // a wrapping id has no watermark
	}
	cl.batch[0] = *req
}

// restamp moves the ack of cl's request, about to be resent, up to the
// watermark now: with several calls in flight, older ones may have
// ended since it was stamped. The watermark is never above a pending
// call (cl is one), so the resent copy still says only what is true:
// every id below it is answered or abandoned. A request without an ack
// (wrapping ids) keeps none.
func (k *core) restamp(cl *call) {
	if cl.batch[0].Has&HasAck != 0 {
		cl.batch[0].Ack = k.tr.ack()
	}
}

// answer takes the call that reply m answers out of the pending table
// and settles m as that call's result: a definite error to a call sent
// more than once becomes indefinite, and a value that cannot answer the
// call's method (damaged on the way) becomes a bad_reply. ok is false for
// a reply that answers no pending call.
func (k *core) answer(m *Message) (cl *call, ok bool) {
	cl, ok = k.tr.complete(m.Seq)
	if !ok {
		return nil, false
	}
	if cl.resent && m.Err != nil && m.Err.Definite {
		m.Err = retriedErr(m.Err)
	}
	if m.Err == nil && !fits(cl.batch[0].Method, m.Value) {
		m.Err = errorf(ErrBadReply, "%s answered %.40s", cl.batch[0].Method, m.Value)
	}
	if k.cache != nil {
		k.learn(&cl.batch[0], m)
	}
	return cl, true
}

// cached answers a get from the read cache (BugReadCache) into rep: it
// returns false, leaving rep alone, when the request must go to the
// master.
func (k *core) cached(req *Message, rep *Message) bool {
	if k.cache == nil || req.Method != MethodGet {
		return false
	}
	v, ok := k.cache[string(req.Key)]
	if !ok {
		return false
	}
	*rep = Message{Kind: KindReply, Has: HasSeq}
	if v != nil {
		rep.Value, rep.Has = v, HasValue|HasSeq
	}
	return true
}

// learn fills the read cache from a successful get that found a value,
// or set.
func (k *core) learn(req *Message, rep *Message) {
	if rep.Err != nil {
		return
	}
	switch req.Method {
	case MethodGet:
		if rep.Has&HasValue != 0 {
			k.cache[string(req.Key)] = append(Value(nil), rep.Value...)
		}
	case MethodSet:
		k.cache[string(req.Key)] = append(Value(nil), req.Value...)
	}
}

// behind answers a set at once, into rep, under BugAckBeforeApply: it
// stamps req as a call, forgets the call (its reply will be ignored) and
// holds a copy of the request to go before the next one. It returns
// false, leaving rep alone, when req goes as usual.
func (k *core) behind(req *Message, now int64, rep *Message) bool {
	if !k.bugs.Has(BugAckBeforeApply) || req.Method != MethodSet {
		return false
	}
	cl := new(call)
	k.start(cl, req, now, now)
	k.tr.take(cl.seq)
	m := cl.batch[0]
	m.Key, m.Value = append([]byte(nil), m.Key...), append(Value(nil), m.Value...)
	k.deferred = append(k.deferred, m)
	*rep = Message{Kind: KindReply, Seq: req.Seq, Has: HasSeq | HasValue, Value: replyOK}
	return true
}

// takeDeferred returns the held writes of BugAckBeforeApply, and forgets
// them.
func (k *core) takeDeferred() []Message {
	d := k.deferred
	k.deferred = nil
	return d
}
