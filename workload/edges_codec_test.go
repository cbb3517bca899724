package workload

import (
	"math/big"
	"strconv"
	"testing"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// codecs are the wire's two codecs, as a round trip of one message:
// encoded by one side, decoded by the other.
var codecs = []struct {
	name string
	trip func(m *shm.Message) shm.Message
}{
	{"json", func(m *shm.Message) shm.Message {
		var out shm.Message
		var scratch []byte
		frame := shm.AppendFrame(nil, m)
		shm.DecodeFrame(frame[:len(frame)-1], &out, &scratch) // without its newline
		return out
	}},
	{"compact", func(m *shm.Message) shm.Message {
		var out shm.Message
		var scratch []byte
		shm.DecodeCompact(shm.AppendCompact(nil, m)[4:], &out, &scratch) // without its length
		return out
	}},
}

// textStore is what the reference must do, written plainly: values kept
// as their text, cas comparing texts, add on canonical int64 integers
// only, in big integers to see an overflow.
type textStore map[string]string

func (s textStore) apply(o *Op) (history.Status, string, string) {
	cur, ok := s[o.Key]
	switch o.Method {
	case history.Get:
		return history.StatusOK, cur, ""
	case history.Set:
		s[o.Key] = string(o.Value)
		return history.StatusOK, "", ""
	case history.Delete:
		delete(s, o.Key)
		return history.StatusOK, strconv.FormatBool(ok), ""
	case history.CAS:
		match := ok && o.Old != nil && cur == string(o.Old) || !ok && o.Old == nil
		if match {
			s[o.Key] = string(o.Value)
		}
		return history.StatusOK, strconv.FormatBool(match), ""
	}
	n := big.NewInt(0)
	if ok {
		if _, good := n.SetString(cur, 10); !good || n.String() != cur && cur != "-0" || !n.IsInt64() {
			return history.StatusFail, "", shm.CodeNotInteger
		}
	}
	n.Add(n, big.NewInt(o.Delta))
	if !n.IsInt64() {
		return history.StatusFail, "", shm.CodeOverflow
	}
	s[o.Key] = n.String()
	return history.StatusOK, s[o.Key], ""
}

// TestEdgesOnBothCodecs: every edge goes through each codec to the
// reference store and its answer back, and comes out as a store that
// keeps texts would answer: values as written (escapes, lone surrogates,
// big integers, 1.0), cas comparing texts, add refusing a value that is
// not an int64 integer and a sum past int64, an absent delta adding 1.
func TestEdgesOnBothCodecs(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			g := NewShaped(3, "w1", 1, 1, []string{"a", "b"}, Mix{Get: 3, Set: 3, Add: 3, CAS: 2, Delete: 1}, Shape{Edges: 1})
			store := shm.NewStore(shm.StoreOptions{})
			want := textStore{}
			for i := range 20000 {
				o := g.Next()
				req := o.Request()
				req.Seq, req.Has = uint64(i+1), req.Has|shm.HasSeq
				got := c.trip(&req)
				rep := store.Apply(0, shm.Identity{Worker: 1, Inc: 1}, &got)
				back := c.trip(&rep)
				st, out := Outcome(&back, nil)
				wst, wout, wcode := want.apply(&o)
				gcode := ""
				if out.Error != nil {
					gcode = out.Error.Code
				}
				if o.Method == history.Set {
					out.Value = nil // set answers "OK"
				}
				if st != wst || string(out.Value) != wout || gcode != wcode {
					t.Fatalf("op %d %+v: got %s %s %s, want %s %s %s", i, o, st, out.Value, gcode, wst, wout, wcode)
				}
				g.Observe(&o, st, out)
			}
		})
	}
}
