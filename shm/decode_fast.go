package shm

import (
	"bytes"

	"github.com/shmlab/shmlab/internal/jsonlex"
)

// The fast path decodes frames in the canonical form that AppendFrame
// writes (and that Node's JSON.stringify writes for the article's
// messages): no white space, no escapes in member names, members in the
// order below, each at most once. Anything else falls back to the general
// decoder, which gives the same result, so the fast path is only a speed-up.

var (
	fastPrefix    = []byte(`{"isSharedMemoryMessage":true`)
	fastMethod    = []byte(`,"method":"`)
	fastID        = []byte(`,"id":`)
	fastInc       = []byte(`,"inc":`)
	fastUUID      = []byte(`,"uuid":`)
	fastAck       = []byte(`,"ack":`)
	fastKey       = []byte(`,"key":"`)
	fastOld       = []byte(`,"old":`)
	fastTTL       = []byte(`,"ttl":`)
	fastDelta     = []byte(`,"delta":`)
	fastValue     = []byte(`,"value":`)
	fastMaxMethod = 8
)

// decodeFast decodes frame into m if it is in canonical form.
func decodeFast(frame []byte, m *Message) bool {
	if !bytes.HasPrefix(frame, fastPrefix) {
		return false
	}
	f := fastDecoder{s: newScanner(frame, len(fastPrefix)), m: m}
	*m = Message{}
	if f.take(fastMethod) && !f.method() {
		return false
	}
	ok := f.intField(fastID, HasWorker, &m.Worker) && f.uintField(fastInc, HasInc, &m.Inc) &&
		f.uintField(fastUUID, HasSeq, &m.Seq) && f.uintField(fastAck, HasAck, &m.Ack) &&
		f.key() && f.valueField(fastOld, HasOld, &m.Old) && f.intField(fastTTL, HasTTL, &m.TTL) &&
		f.intField(fastDelta, HasDelta, &m.Delta) && f.valueField(fastValue, HasValue, &m.Value)
	if !ok || f.s.I != len(frame)-1 || frame[f.s.I] != '}' {
		return false
	}
	if m.Method == MethodNone {
		m.Kind = KindReply
	} else {
		m.Kind = KindRequest
	}
	return m.Kind == KindReply || m.Method.valid(m.Has)
}

type fastDecoder struct {
	s scanner
	m *Message
}

// take consumes lit if the input continues with it.
func (f *fastDecoder) take(lit []byte) bool {
	if bytes.HasPrefix(f.s.B[f.s.I:], lit) {
		f.s.I += len(lit)
		return true
	}
	return false
}

func (f *fastDecoder) method() bool {
	rest := f.s.B[f.s.I:]
	end := bytes.IndexByte(rest[:min(len(rest), fastMaxMethod)], '"')
	if end < 0 {
		return false
	}
	meth, ok := methodOf(rest[:end]) // an alias (plusOne, remove) takes the general decoder
	f.m.Method = meth
	f.s.I += end + 1
	return ok
}

func (f *fastDecoder) uintField(lit []byte, bit uint16, dst *uint64) bool {
	if !f.take(lit) {
		return true
	}
	n, ok := f.s.fastUint()
	*dst, f.m.Has = n, f.m.Has|bit
	return ok
}

func (f *fastDecoder) intField(lit []byte, bit uint16, dst *int64) bool {
	if !f.take(lit) {
		return true
	}
	neg := f.s.Peek() == '-'
	if neg {
		f.s.I++
	}
	var u uint64
	if !f.uintField(nil, 0, &u) || u > 1<<62 {
		return false
	}
	*dst, f.m.Has = int64(u), f.m.Has|bit
	if neg {
		*dst = -*dst
	}
	return true
}

func (f *fastDecoder) key() bool {
	if !f.take(fastKey) {
		return true
	}
	f.s.I-- // back to the opening quote
	end, esc, c := jsonlex.String(f.s.B, f.s.I)
	if c != jsonlex.OK || esc {
		return false
	}
	content := f.s.B[f.s.I+1 : end-1]
	f.s.I = end
	f.m.Key, f.m.Has = content[:len(content):len(content)], f.m.Has|HasKey
	return true
}

func (f *fastDecoder) valueField(lit []byte, bit uint16, dst *Value) bool {
	if !f.take(lit) {
		return true
	}
	start := f.s.I
	f.s.Spaced = false
	if f.s.Value() != jsonlex.OK || f.s.Spaced {
		return false
	}
	*dst, f.m.Has = Value(f.s.B[start:f.s.I:f.s.I]), f.m.Has|bit
	return true
}

// valid reports whether a request with these members can take the fast
// path: anything the general decoder would flag is left to it.
func (m Method) valid(has uint16) bool {
	return has&HasSeq != 0 && m != MethodNone
}
