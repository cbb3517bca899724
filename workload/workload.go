// Package workload draws the operations of a run's workers, reproducibly:
// a worker's operations depend only on the seed, its name, its master's
// generation and its incarnation. The process harness and the simulator
// draw from the same generator and turn replies into history outcomes the
// same way, so the same scenario means the same operations in both.
package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"unsafe"

	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
)

// Mix weighs the methods of a workload: each operation is one method,
// drawn with the probability of its weight in the sum. The zero Mix
// means DefaultMix.
type Mix struct {
	Get    int `json:"get,omitempty" yaml:"get,omitempty"`
	Set    int `json:"set,omitempty" yaml:"set,omitempty"`
	Add    int `json:"add,omitempty" yaml:"add,omitempty"`
	CAS    int `json:"cas,omitempty" yaml:"cas,omitempty"`
	Delete int `json:"delete,omitempty" yaml:"delete,omitempty"`
}

// DefaultMix reads a little more than it writes, and uses every method.
var DefaultMix = Mix{Get: 4, Set: 3, Add: 2, CAS: 1, Delete: 1}

// Sum returns the sum of the weights.
func (m Mix) Sum() int { return m.Get + m.Set + m.Add + m.CAS + m.Delete }

// Validate reports a negative weight.
func (m Mix) Validate() error {
	if m.Get < 0 || m.Set < 0 || m.Add < 0 || m.CAS < 0 || m.Delete < 0 {
		return fmt.Errorf("workload: negative weight in mix %+v", m)
	}
	return nil
}

// Op is one operation of a workload.
type Op struct {
	Method linearizability.Method `json:"method"`
	Key    string                 `json:"key"`
	Value  shm.Value              `json:"value,omitempty"` // set, cas
	Old    shm.Value              `json:"old,omitempty"`   // cas; nil expects the key absent
	Delta  int64                  `json:"delta,omitempty"` // add
}

// Input is the op's input as a history records it.
func (o *Op) Input() linearizability.Input {
	in := linearizability.Input{Delta: o.Delta}
	if o.Value != nil {
		in.Value = json.RawMessage(o.Value)
	}
	if o.Old != nil {
		in.Old = json.RawMessage(o.Old)
	}
	return in
}

// Request returns the op as a request, for shm.Client.Do or shm.Calls.
// The request shares the op's bytes, its key's too: they are only read.
func (o *Op) Request() shm.Message {
	key := unsafe.Slice(unsafe.StringData(o.Key), len(o.Key))
	m := shm.Message{Kind: shm.KindRequest, Key: key, Has: shm.HasKey}
	switch o.Method {
	case linearizability.Get:
		m.Method = shm.MethodGet
	case linearizability.Set:
		m.Method, m.Value, m.Has = shm.MethodSet, o.Value, m.Has|shm.HasValue
	case linearizability.Add:
		m.Method, m.Delta, m.Has = shm.MethodAdd, o.Delta, m.Has|shm.HasDelta
	case linearizability.CAS:
		m.Method, m.Value, m.Has = shm.MethodCAS, o.Value, m.Has|shm.HasValue
		if o.Old != nil {
			m.Old, m.Has = o.Old, m.Has|shm.HasOld
		}
	default:
		m.Method = shm.MethodDelete
	}
	return m
}

// Outcome says how an operation ended, as a history records it, from the
// reply (or error) its call got: ok with the reply's value, fail for a
// definite error (surely not applied), unknown for any other. The output
// shares rep's value, which must stay unchanged: shm.Client.Do's replies
// are the caller's own, and the values of shm.Store's replies are never
// changed in place.
func Outcome(rep shm.Message, err error) (linearizability.Status, linearizability.Output) {
	if err == nil && rep.Err != nil {
		err = rep.Err
	}
	if err == nil {
		var out linearizability.Output
		if rep.Has&shm.HasValue != 0 {
			out.Value = json.RawMessage(rep.Value)
		}
		return linearizability.StatusOK, out
	}
	info := &linearizability.ErrorInfo{Code: "error", Message: err.Error()}
	var e *shm.Error
	if errors.As(err, &e) {
		info.Code, info.Message = e.Code, e.Message
	}
	if shm.IsDefinite(err) {
		return linearizability.StatusFail, linearizability.Output{Error: info}
	}
	return linearizability.StatusUnknown, linearizability.Output{Error: info}
}

// Generator draws one worker incarnation's operations. Every value it
// writes is an integer no other incarnation of the run writes, so that a
// read names its writer; cas expects the value the worker last saw.
type Generator struct {
	rng  *rand.Rand
	keys []string
	mix  Mix
	base int64 // the values written are base+1, base+2, …
	n    int64
	text []byte               // where the values' texts are written, a chunk at a time
	seen map[string]shm.Value // the last value seen per key (nil: absent)
}

// New returns the generator of worker name, incarnation inc, under its
// master's generation gen (from 1), drawing keys from keys (which must not
// be empty) with the weights of mix.
func New(seed uint64, name string, gen int, inc uint64, keys []string, mix Mix) *Generator {
	h := fnv.New64a()
	h.Write([]byte(name))
	if mix.Sum() <= 0 {
		mix = DefaultMix
	}
	base := (int64(gen)*100_000 + int64(inc)) * 1_000_000
	return &Generator{rng: rand.New(rand.NewPCG(seed, h.Sum64()^uint64(gen)<<32^inc)), keys: keys,
		mix: mix, base: base, seen: make(map[string]shm.Value)}
}

// Next draws the next operation.
func (g *Generator) Next() Op {
	o := Op{Key: g.keys[g.rng.IntN(len(g.keys))]}
	r := g.rng.IntN(g.mix.Sum())
	switch m := g.mix; {
	case r < m.Get:
		o.Method = linearizability.Get
	case r < m.Get+m.Set:
		o.Method, o.Value = linearizability.Set, g.fresh()
	case r < m.Get+m.Set+m.Add:
		o.Method, o.Delta = linearizability.Add, 1+g.rng.Int64N(5)
	case r < m.Get+m.Set+m.Add+m.CAS:
		o.Method, o.Old, o.Value = linearizability.CAS, g.seen[o.Key], g.fresh()
	default:
		o.Method = linearizability.Delete
	}
	return o
}

func (g *Generator) fresh() shm.Value {
	g.n++
	if cap(g.text)-len(g.text) < 20 {
		g.text = make([]byte, 0, 4096)
	}
	start := len(g.text)
	g.text = strconv.AppendInt(g.text, g.base+g.n, 10)
	return shm.Value(g.text[start:len(g.text):len(g.text)])
}

// Observe remembers what an operation that returned says its key holds.
func (g *Generator) Observe(o *Op, st linearizability.Status, out linearizability.Output) {
	if st != linearizability.StatusOK {
		return
	}
	switch o.Method {
	case linearizability.Get, linearizability.Add:
		g.seen[o.Key] = shm.Value(out.Value)
	case linearizability.Set:
		g.seen[o.Key] = o.Value
	case linearizability.CAS:
		if string(out.Value) == "true" {
			g.seen[o.Key] = o.Value
		}
	case linearizability.Delete:
		g.seen[o.Key] = nil
	}
}
