package faultinject

import (
	"math"

	"github.com/shmlab/shmlab/shm"
)

// A corrupted message goes on changed, as a damaged frame that still
// parses would arrive. Exactly:
//
// CorruptFrame on a request turns it into a frame that failed to decode
// but kept its uuid (shm.KindInvalid with a bad_request error): the master
// answers it with a definite bad_request and applies nothing (truth
// not_applied). On a reply it removes the uuid: the worker cannot match
// the reply to a call and discards it, and the call ends in a timeout,
// though the master applied it (truth applied).
//
// CorruptID adds ConnOptions.IDShift to the uuid. A request is then
// applied under an id its worker has not used yet, and the reply, carrying
// that id, matches no call: the call times out (truth applied). On a reply
// the effect is the same. When the worker later reaches that id itself,
// the master answers it from its dedup memory (seq_reused, or the
// earlier reply when the requests look the same): a long run should keep
// CorruptID rare.
//
// CorruptValue changes the value to another valid JSON value, keeping its
// type and length where it can: the last digit of a number is changed,
// true and false swap, the first character of a string is changed if it
// is plain ASCII, and anything else is wrapped in an array. On a request
// it changes the value of a set or cas (the new value, not the expected
// one) and the delta of an add (by one); get, delete, len and keys go
// unchanged. On a reply it changes the value returned (an error reply
// goes unchanged). No store can notice; a checker must.

// CorruptMessage applies corruption c to m, a message travelling in direction
// dir, moving an id by shift (CorruptID). m's byte slices are replaced,
// never written to. Messages and the simulator share it.
func CorruptMessage(m *shm.Message, dir Direction, c Corruption, shift uint64) {
	switch {
	case c == CorruptFrame && dir == Requests:
		m.Kind = shm.KindInvalid
		m.Err = &shm.Error{Code: shm.CodeBadRequest, Message: "frame damaged in transit (faultinject)", Definite: true}
	case c == CorruptFrame:
		m.Seq, m.Has = 0, m.Has&^shm.HasSeq
	case c == CorruptID && m.Has&shm.HasSeq != 0:
		m.Seq += shift
	case c == CorruptValue && dir == Requests:
		corruptArgument(m)
	case c == CorruptValue && m.Has&shm.HasValue != 0:
		m.Value = otherValue(m.Value)
	}
}

// corruptArgument changes the value a request would store.
func corruptArgument(m *shm.Message) {
	switch {
	case (m.Method == shm.MethodSet || m.Method == shm.MethodCAS) && m.Has&shm.HasValue != 0:
		m.Value = otherValue(m.Value)
	case m.Method == shm.MethodAdd:
		d := int64(1)
		if m.Has&shm.HasDelta != 0 {
			d = m.Delta
		}
		if d == math.MaxInt64 {
			d -= 2
		}
		m.Delta, m.Has = d+1, m.Has|shm.HasDelta
	}
}

// otherValue returns a valid JSON value that differs from v, a valid
// compact one.
func otherValue(v shm.Value) shm.Value {
	switch s := string(v); {
	case s == "true":
		return shm.Value("false")
	case s == "false":
		return shm.Value("true")
	case len(v) > 0 && (v[0] == '-' || isDigit(v[0])):
		return flipByte(v, len(v)-1) // a number ends with a digit: 0-1, 2-3, …, 8-9
	case len(v) > 2 && v[0] == '"' && plainSwap(v[1]):
		return flipByte(v, 1)
	}
	out := make(shm.Value, 0, len(v)+2)
	out = append(append(append(out, '['), v...), ']')
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// plainSwap reports whether c and c^1 are both printable ASCII that a
// JSON string holds unescaped.
func plainSwap(c byte) bool {
	plain := func(c byte) bool { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' }
	return plain(c) && plain(c^1)
}

// flipByte returns a copy of v with the low bit of byte i flipped.
func flipByte(v shm.Value, i int) shm.Value {
	out := append(shm.Value(nil), v...)
	out[i] ^= 1
	return out
}

// corruptible reports whether corruption c can change m at all: an id
// needs one, a value corruption a value (or an add's delta) to change.
func corruptible(m *shm.Message, dir Direction, c Corruption) bool {
	switch c {
	case CorruptID:
		return m.Has&shm.HasSeq != 0
	case CorruptValue:
		if dir == Requests {
			return m.Method == shm.MethodAdd || ((m.Method == shm.MethodSet || m.Method == shm.MethodCAS) && m.Has&shm.HasValue != 0)
		}
		return m.Has&shm.HasValue != 0
	}
	return true
}
