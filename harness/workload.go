package harness

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
)

// Mix weighs the methods of a workload: each operation is one method,
// drawn with the probability of its weight in the sum. The zero Mix
// means DefaultMix.
type Mix struct {
	Get    int `json:"get,omitempty"`
	Set    int `json:"set,omitempty"`
	Add    int `json:"add,omitempty"`
	CAS    int `json:"cas,omitempty"`
	Delete int `json:"delete,omitempty"`
}

// DefaultMix reads a little more than it writes, and uses every method.
var DefaultMix = Mix{Get: 4, Set: 3, Add: 2, CAS: 1, Delete: 1}

func (m Mix) sum() int { return m.Get + m.Set + m.Add + m.CAS + m.Delete }

// op is one operation of a workload.
type op struct {
	method linearizability.Method
	key    string
	value  shm.Value // set, cas
	old    shm.Value // cas; nil expects the key absent
	delta  int64     // add
}

// input is the op's input as a history records it.
func (o *op) input() linearizability.Input {
	in := linearizability.Input{Delta: o.delta}
	if o.value != nil {
		in.Value = json.RawMessage(o.value)
	}
	if o.old != nil {
		in.Old = json.RawMessage(o.old)
	}
	return in
}

// workload draws one worker incarnation's operations, from (seed,
// worker name, incarnation) alone. Every value it writes is an integer
// no other incarnation of the run writes, so that a read names its
// writer; cas expects the value the worker last saw.
type workload struct {
	rng  *rand.Rand
	keys []string
	mix  Mix
	base int64 // the values written are base+1, base+2, …
	n    int64
	seen map[string]shm.Value // the last value seen per key (nil: absent)
}

func newWorkload(seed uint64, name string, gen int, inc uint64, keys []string, mix Mix) *workload {
	h := fnv.New64a()
	h.Write([]byte(name))
	if mix.sum() <= 0 {
		mix = DefaultMix
	}
	base := (int64(gen)*100_000 + int64(inc)) * 1_000_000
	return &workload{rng: rand.New(rand.NewPCG(seed, h.Sum64()^uint64(gen)<<32^inc)), keys: keys,
		mix: mix, base: base, seen: make(map[string]shm.Value)}
}

// next draws the next operation.
func (w *workload) next() op {
	o := op{key: w.keys[w.rng.IntN(len(w.keys))]}
	r := w.rng.IntN(w.mix.sum())
	switch {
	case r < w.mix.Get:
		o.method = linearizability.Get
	case r < w.mix.Get+w.mix.Set:
		o.method, o.value = linearizability.Set, w.fresh()
	case r < w.mix.Get+w.mix.Set+w.mix.Add:
		o.method, o.delta = linearizability.Add, 1+w.rng.Int64N(5)
	case r < w.mix.Get+w.mix.Set+w.mix.Add+w.mix.CAS:
		o.method, o.old, o.value = linearizability.CAS, w.seen[o.key], w.fresh()
	default:
		o.method = linearizability.Delete
	}
	return o
}

func (w *workload) fresh() shm.Value {
	w.n++
	return shm.Int(w.base + w.n)
}

// observe remembers what an operation that returned says the key holds.
func (w *workload) observe(o *op, out linearizability.Output, st linearizability.Status) {
	if st != linearizability.StatusOK {
		return
	}
	switch o.method {
	case linearizability.Get, linearizability.Add:
		w.seen[o.key] = shm.Value(out.Value)
	case linearizability.Set:
		w.seen[o.key] = o.value
	case linearizability.CAS:
		if string(out.Value) == "true" {
			w.seen[o.key] = o.value
		}
	case linearizability.Delete:
		w.seen[o.key] = nil
	}
}

// do runs o on c within timeout, and says how it ended as a history
// records it: ok with the output, fail for a definite error (surely not
// applied), unknown for any other.
func (o *op) do(ctx context.Context, c *shm.Client, timeout time.Duration) (linearizability.Status, linearizability.Output) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := o.call(ctx, c)
	if err == nil {
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

func (o *op) call(ctx context.Context, c *shm.Client) (linearizability.Output, error) {
	var out linearizability.Output
	switch o.method {
	case linearizability.Get:
		v, found, err := c.Get(ctx, o.key)
		if found {
			out.Value = json.RawMessage(append([]byte(nil), v...))
		}
		return out, err
	case linearizability.Set:
		out.Value = json.RawMessage(`"OK"`)
		return out, c.Set(ctx, o.key, o.value)
	case linearizability.Add:
		n, err := c.Add(ctx, o.key, o.delta)
		out.Value = strconv.AppendInt(nil, n, 10)
		return out, err
	case linearizability.CAS:
		ok, err := c.CAS(ctx, o.key, o.old, o.value)
		out.Value = json.RawMessage(strconv.FormatBool(ok))
		return out, err
	default:
		ok, err := c.Delete(ctx, o.key)
		out.Value = json.RawMessage(strconv.FormatBool(ok))
		return out, err
	}
}
