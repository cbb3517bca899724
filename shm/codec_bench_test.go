package shm

import "testing"

var benchReq = []byte(`{"isSharedMemoryMessage":true,"method":"set","id":2,"inc":2,"uuid":1234567,"ack":1234500,"key":"bench-002-0026","value":"vvvvvvvvvvvvvv"}`)
var benchRep = []byte(`{"isSharedMemoryMessage":true,"uuid":1234567,"value":"vvvvvvvvvvvvvv"}`)

func BenchmarkDecodeRequest(b *testing.B) {
	var m Message
	var scratch []byte
	b.SetBytes(int64(len(benchReq)))
	for b.Loop() {
		DecodeFrame(benchReq, &m, &scratch)
	}
}

func BenchmarkDecodeReply(b *testing.B) {
	var m Message
	var scratch []byte
	b.SetBytes(int64(len(benchRep)))
	for b.Loop() {
		DecodeFrame(benchRep, &m, &scratch)
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	var m Message
	var scratch []byte
	DecodeFrame(benchReq, &m, &scratch)
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = AppendFrame(buf[:0], &m)
	}
}

func BenchmarkStoreApplySet(b *testing.B) {
	var m Message
	var scratch []byte
	DecodeFrame(benchReq, &m, &scratch)
	s := NewStore(StoreOptions{})
	id := Identity{Worker: 1, Inc: 1}
	for i := 0; b.Loop(); i++ {
		m.Seq = uint64(i)
		m.Ack = uint64(i)
		s.Apply(int64(i), id, &m)
	}
}

func BenchmarkDecodeLargeValue(b *testing.B) {
	v := make([]byte, 64<<10)
	for i := range v {
		v[i] = 'a' + byte(i%26)
	}
	v[0], v[len(v)-1] = '"', '"'
	frame := append(append([]byte(`{"isSharedMemoryMessage":true,"method":"set","id":2,"inc":2,"uuid":1234567,"ack":1234500,"key":"bench-002-0026","value":`), v...), '}')
	var m Message
	var scratch []byte
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		DecodeFrame(frame, &m, &scratch)
	}
}

// BenchmarkDecodeGeneral decodes a frame the fast path declines (members in
// another order, with white space), as a hand-written client may send.
func BenchmarkDecodeGeneral(b *testing.B) {
	frame := []byte(`{ "method": "set", "key": "bench-002-0026", "uuid": 1234567, "value": "vvvvvvvvvvvvvv", "isSharedMemoryMessage": true, "id": 2 }`)
	var m Message
	var scratch []byte
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		DecodeFrame(frame, &m, &scratch)
	}
}

func BenchmarkDecodeCompactRequest(b *testing.B) {
	var m Message
	var scratch []byte
	DecodeFrame(benchReq, &m, &scratch)
	frame := AppendCompact(nil, &m)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		DecodeCompact(frame[4:], &m, &scratch)
		scratch = scratch[:0]
	}
}

// BenchmarkStoreApplyMix: requests of eight interleaved workers on three
// keys, 4 gets, 3 sets, 2 adds, 1 cas and 1 delete in 11, each acking the
// one before: the simulator's load on the store.
func BenchmarkStoreApplyMix(b *testing.B) {
	methods := []Method{MethodGet, MethodSet, MethodGet, MethodAdd, MethodSet, MethodGet, MethodCAS, MethodAdd, MethodSet, MethodGet, MethodDelete}
	keys := []string{"a", "b", "c"}
	var reqs []Message
	for i := range 8 * 11 * 3 {
		m := Request(methods[i%len(methods)], 0, keys[i%len(keys)])
		switch m.Method {
		case MethodSet, MethodCAS:
			m.Value, m.Has = Int(int64(i)), m.Has|HasValue
		}
		reqs = append(reqs, m)
	}
	s := NewStore(StoreOptions{})
	seqs := make([]uint64, 8)
	for i := 0; b.Loop(); i++ {
		w := i % 8
		seqs[w]++
		m := &reqs[i%len(reqs)]
		m.Seq, m.Ack, m.Has = seqs[w], seqs[w], m.Has|HasAck
		s.Apply(int64(i), Identity{Worker: int64(w + 1), Inc: 1}, m)
	}
}
