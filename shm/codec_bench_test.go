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
