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
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/shmlab/shmlab/history"
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
	// Incr is the weight of increments done the article's way: a get,
	// then a set of the value read plus one (two operations, the set
	// marked as the increment it meant). They lose updates under
	// contention, which the counter check reports: add is the atomic way.
	Incr int `json:"incr,omitempty" yaml:"incr,omitempty"`
}

// DefaultMix reads a little more than it writes, and uses every method.
var DefaultMix = Mix{Get: 4, Set: 3, Add: 2, CAS: 1, Delete: 1}

// Sum returns the sum of the weights.
func (m Mix) Sum() int { return m.Get + m.Set + m.Add + m.CAS + m.Delete + m.Incr }

// Validate reports a negative weight.
func (m Mix) Validate() error {
	if m.Get < 0 || m.Set < 0 || m.Add < 0 || m.CAS < 0 || m.Delete < 0 || m.Incr < 0 {
		return fmt.Errorf("workload: negative weight in mix %+v", m)
	}
	return nil
}

// Op is one operation of a workload.
type Op struct {
	Method history.Method `json:"method"`
	Key    string         `json:"key"`
	Value  shm.Value      `json:"value,omitempty"` // set, cas
	Old    shm.Value      `json:"old,omitempty"`   // cas; nil expects the key absent
	Delta  int64          `json:"delta,omitempty"` // add
	// NoDelta, on an add, leaves delta out of the request: the wire then
	// means 1 (PROTOCOL.md), so Delta is 1 and the history records 1.
	NoDelta bool  `json:"no_delta,omitempty"`
	TTLms   int64 `json:"ttl_ms,omitempty"` // set, cas: time to live in milliseconds (0: none)
	// Incr, on a get, makes it the first half of an increment by Incr
	// (Then returns the second); on a set, marks it as that second half.
	Incr int64 `json:"incr,omitempty"`
}

// Validate reports an operation that cannot be sent: a method other than
// get, set, add, cas and delete, a key that is not UTF-8, a set or cas
// without a value, a value that is not one JSON value.
func (o *Op) Validate() error {
	switch o.Method {
	case history.Get, history.Add, history.Delete:
	case history.Set, history.CAS:
		if o.Value == nil {
			return fmt.Errorf("%s of %q has no value", o.Method, o.Key)
		}
	default:
		return fmt.Errorf("method %q: want get, set, add, cas or delete", o.Method)
	}
	if !utf8.ValidString(o.Key) {
		return fmt.Errorf("key %q is not UTF-8", o.Key)
	}
	for _, v := range []shm.Value{o.Value, o.Old} {
		if v != nil {
			if _, err := shm.ParseValue(v); err != nil {
				return fmt.Errorf("value %.40s: %w", v, err)
			}
		}
	}
	if o.TTLms < 0 {
		return fmt.Errorf("ttl_ms %d is negative", o.TTLms)
	}
	return nil
}

// Then returns the second half of an increment (a get with Incr) that
// returned out: a set of the value read plus Incr, marked. ok is false
// when o is not the first half of an increment, or it read no integer.
func (o *Op) Then(out history.Output) (Op, bool) {
	if o.Method != history.Get || o.Incr == 0 {
		return Op{}, false
	}
	var n int64
	if out.Value != nil {
		v, err := shm.Value(out.Value).Int()
		if err != nil {
			return Op{}, false
		}
		n = v
	}
	return Op{Method: history.Set, Key: o.Key, Value: shm.Int(n + o.Incr), Incr: o.Incr, TTLms: o.TTLms}, true
}

// Shape is what a workload's operations look like beyond their keys and
// mix. The zero Shape draws keys uniformly and writes plain integers.
type Shape struct {
	// Hot, if positive, is the share of operations on the first key (a
	// hot key under contention); the rest go uniformly to the others.
	Hot float64 `json:"hot,omitempty"`
	// ValueMin and ValueMax, if set, size the values written, in bytes:
	// each is a JSON string that starts with the writer's unique number,
	// padded to a size drawn from ValueMin to ValueMax. Zero writes plain
	// integers (which add can add to).
	ValueMin int `json:"value_min,omitempty"`
	ValueMax int `json:"value_max,omitempty"`
	// TTL, if positive, is given to the sets and cas (whole
	// milliseconds): keys then expire, and are checked as evicting.
	TTL time.Duration `json:"ttl,omitempty"`
	// TTLShare, if positive and under 1, is the share of those writes
	// that get the TTL; the others go without one, and make the entry
	// they write never expire (PROTOCOL.md). 0 gives it to every one.
	TTLShare float64 `json:"ttl_share,omitempty"`
	// Falsy, if positive, is the share of writes (set, cas) that write
	// one of JavaScript's falsy JSON values instead of a unique one: 0,
	// "" or false, drawn in equal shares. Libraries that test a value
	// with `if (value)` lose them; null is left out, since a Node
	// target reads null as absent.
	Falsy float64 `json:"falsy,omitempty"`
	// Edges, if positive, is the share of operations whose values,
	// arguments or keys are drawn from the edges (edges.go): integers
	// around ±2^53 and ±2^63, other texts of a number, negative, large and
	// absent deltas, cas expecting a value written differently, strings
	// with escapes and non-ASCII text, keys such as __proto__ and "".
	// The method keeps its mix's draw.
	Edges float64 `json:"edges,omitempty"`
	// JS restricts the edges to those a correct JavaScript store keeps
	// as written (a Node target, whose library holds JSON.parse'd
	// values): set by the Node harness, never by a scenario file.
	JS bool `json:"-"`
}

// falsy are the values a Falsy share writes.
var falsy = [...]shm.Value{shm.Value("0"), shm.Value(`""`), shm.Value("false")}

// Validate reports a shape out of range.
func (s Shape) Validate() error {
	switch {
	case s.Hot < 0 || s.Hot > 1:
		return fmt.Errorf("workload: hot share %v is not within 0 and 1", s.Hot)
	case s.ValueMin < 0 || s.ValueMax < s.ValueMin:
		return fmt.Errorf("workload: value sizes %d to %d are not 0 <= min <= max", s.ValueMin, s.ValueMax)
	case s.Falsy < 0 || s.Falsy > 1:
		return fmt.Errorf("workload: falsy share %v is not within 0 and 1", s.Falsy)
	case s.Edges < 0 || s.Edges > 1:
		return fmt.Errorf("workload: edges share %v is not within 0 and 1", s.Edges)
	case s.ValueMax > MaxValueBytes:
		return fmt.Errorf("workload: value size %d is over %d", s.ValueMax, MaxValueBytes)
	case s.TTL < 0 || (s.TTL > 0 && s.TTL < time.Millisecond):
		return fmt.Errorf("workload: ttl %v is negative or under a millisecond", s.TTL)
	case s.TTLShare < 0 || s.TTLShare > 1:
		return fmt.Errorf("workload: ttl share %v is not within 0 and 1", s.TTLShare)
	}
	return nil
}

// MaxValueBytes bounds a drawn value: well under shm's frame limit.
const MaxValueBytes = 1 << 20

// Input is the op's input as a history records it.
func (o *Op) Input() history.Input {
	in := history.Input{Delta: o.Delta, TTL: o.TTLms}
	if o.Method == history.Set {
		in.Incr = o.Incr
	}
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
	var m shm.Message
	o.RequestInto(&m)
	return m
}

// RequestInto makes m, which it overwrites, the op's request: Request
// without copying the message out (the simulator makes it in place).
func (o *Op) RequestInto(m *shm.Message) {
	key := unsafe.Slice(unsafe.StringData(o.Key), len(o.Key))
	*m = shm.Message{Kind: shm.KindRequest, Key: key, Has: shm.HasKey}
	switch o.Method {
	case history.Get:
		m.Method = shm.MethodGet
	case history.Set:
		m.Method, m.Value, m.Has = shm.MethodSet, o.Value, m.Has|shm.HasValue
		withTTL(m, o.TTLms)
	case history.Add:
		m.Method = shm.MethodAdd
		if !o.NoDelta {
			m.Delta, m.Has = o.Delta, m.Has|shm.HasDelta
		}
	case history.CAS:
		m.Method, m.Value, m.Has = shm.MethodCAS, o.Value, m.Has|shm.HasValue
		if o.Old != nil {
			m.Old, m.Has = o.Old, m.Has|shm.HasOld
		}
		withTTL(m, o.TTLms)
	default:
		m.Method = shm.MethodDelete
	}
}

func withTTL(m *shm.Message, ms int64) {
	if ms > 0 {
		m.TTL, m.Has = ms, m.Has|shm.HasTTL
	}
}

// Outcome says how an operation ended, as a history records it, from the
// reply (or error) its call got: ok with the reply's value, fail for a
// definite error (surely not applied), unknown for any other. The output
// shares rep's value, which must stay unchanged: shm.Client.Do's replies
// are the caller's own, and the values of shm.Store's replies are never
// changed in place.
func Outcome(rep *shm.Message, err error) (history.Status, history.Output) {
	if err == nil && rep.Err != nil {
		err = rep.Err
	}
	if err == nil {
		var out history.Output
		if rep.Has&shm.HasValue != 0 {
			out.Value = json.RawMessage(rep.Value)
		}
		return history.StatusOK, out
	}
	info := &history.ErrorInfo{Code: "error", Message: err.Error()}
	var e *shm.Error
	if errors.As(err, &e) {
		info.Code, info.Message = e.Code, e.Message
	}
	if shm.IsDefinite(err) {
		return history.StatusFail, history.Output{Error: info}
	}
	return history.StatusUnknown, history.Output{Error: info}
}

// Generator draws one worker incarnation's operations. Every value it
// writes is an integer no other incarnation of the run writes, so that a
// read names its writer (but for the shape's Falsy share, and the fixed
// edge numbers of its Edges share); cas expects the value the worker
// last saw.
type Generator struct {
	rng   *rand.Rand
	keys  []string
	mix   Mix
	shape Shape
	base  int64 // the values written are base+1, base+2, …
	n     int64
	text  []byte      // where the values' texts are written, a chunk at a time
	seen  []shm.Value // the last value seen of each key, by its index in keys (nil: absent)
	last  int         // the index of the key drawn last
	// edges is the edge set drawn from in the shape's Edges share (nil:
	// none); keys then ends with the special keys, drawn only as edges,
	// and drawn is how many keys come before them.
	edges *edgeSet
	drawn int
}

// New returns the generator of worker name, incarnation inc, under its
// master's generation gen (from 1), drawing keys from keys (which must not
// be empty) with the weights of mix.
func New(seed uint64, name string, gen int, inc uint64, keys []string, mix Mix) *Generator {
	return NewShaped(seed, name, gen, inc, keys, mix, Shape{})
}

// NewShaped is New with a shape.
func NewShaped(seed uint64, name string, gen int, inc uint64, keys []string, mix Mix, shape Shape) *Generator {
	h := fnv.New64a()
	h.Write([]byte(name))
	if mix.Sum() <= 0 {
		mix = DefaultMix
	}
	base := (int64(gen)*100_000 + int64(inc)) * 1_000_000
	g := &Generator{rng: rand.New(rand.NewPCG(seed, h.Sum64()^uint64(gen)<<32^inc)), keys: keys,
		mix: mix, shape: shape, base: base, drawn: len(keys)}
	if shape.Edges > 0 {
		g.edges = &goEdges
		if shape.JS {
			g.edges = &jsEdges
		}
		g.keys = append(slices.Clip(keys), SpecialKeys...)
	}
	g.seen = make([]shm.Value, len(g.keys))
	return g
}

// key draws a key: the first with the hot share, else uniformly.
func (g *Generator) key() string {
	g.last = g.keyIndex()
	return g.keys[g.last]
}

func (g *Generator) keyIndex() int {
	if h := g.shape.Hot; h > 0 && g.drawn > 1 {
		if g.rng.Float64() < h {
			return 0
		}
		return 1 + g.rng.IntN(g.drawn-1)
	}
	return g.rng.IntN(g.drawn)
}

// index returns the index of key in keys, trying the key drawn last first
// (the one an operation observed is almost always about); false for a
// key that is not one of them.
func (g *Generator) index(key string) (int, bool) {
	if g.keys[g.last] == key {
		return g.last, true
	}
	for i := range g.keys {
		if g.keys[i] == key {
			return i, true
		}
	}
	return 0, false
}

// Next draws the next operation.
func (g *Generator) Next() Op {
	var o Op
	g.NextInto(&o)
	return o
}

// NextInto draws the next operation into o, which it overwrites: Next
// without copying the operation out (the simulator draws millions).
func (g *Generator) NextInto(o *Op) {
	*o = Op{Key: g.key()}
	r := g.rng.IntN(g.mix.Sum())
	switch m := g.mix; {
	case r < m.Get:
		o.Method = history.Get
	case r < m.Get+m.Set:
		o.Method, o.Value = history.Set, g.fresh()
	case r < m.Get+m.Set+m.Add:
		o.Method, o.Delta = history.Add, 1+g.rng.Int64N(5)
	case r < m.Get+m.Set+m.Add+m.CAS:
		o.Method, o.Old, o.Value = history.CAS, g.seen[g.last], g.fresh()
	case r < m.Get+m.Set+m.Add+m.CAS+m.Delete:
		o.Method = history.Delete
	default:
		o.Method, o.Incr = history.Get, 1
	}
	if g.edges != nil && g.rng.Float64() < g.shape.Edges {
		g.edge(o)
	}
	if o.Value != nil && g.shape.TTL > 0 && g.timed() {
		o.TTLms = g.shape.TTL.Milliseconds()
	}
}

// timed draws whether a write gets the shape's TTL: always but for a
// TTLShare under 1 (the draw is made only then, so a shape without one
// draws what it drew before there was a share).
func (g *Generator) timed() bool {
	s := g.shape.TTLShare
	return s <= 0 || s >= 1 || g.rng.Float64() < s
}

// fresh returns a value no other write of the run writes: an integer, or
// with a value size, a string that begins with that integer; or, in the
// shape's Falsy share, one of the falsy values.
func (g *Generator) fresh() shm.Value {
	if g.shape.Falsy > 0 && g.rng.Float64() < g.shape.Falsy {
		return falsy[g.rng.IntN(len(falsy))]
	}
	g.n++
	size := g.shape.ValueMin
	if g.shape.ValueMax > size {
		size += g.rng.IntN(g.shape.ValueMax - size + 1)
	}
	if cap(g.text)-len(g.text) < size+24 {
		g.text = make([]byte, 0, max(4096, size+24))
	}
	start := len(g.text)
	g.text = appendValue(g.text, g.base+g.n, size)
	return shm.Value(g.text[start:len(g.text):len(g.text)])
}

// Value is the value a workload writes for the unique number n: n itself
// (size 0), or a JSON string of size bytes that begins with n.
func Value(n int64, size int) shm.Value { return appendValue(nil, n, size) }

func appendValue(b []byte, n int64, size int) []byte {
	if size == 0 {
		return strconv.AppendInt(b, n, 10)
	}
	start := len(b)
	return pad(strconv.AppendInt(append(b, '"'), n, 10), start, size)
}

// pad ends the JSON string begun at b[start:], padded with '.' so that
// it is size bytes long with its quotes (or as short as it can be).
func pad(b []byte, start, size int) []byte {
	b = append(b, '-')
	for len(b)-start+1 < size {
		b = append(b, '.')
	}
	return append(b, '"')
}

// Observe remembers what an operation that returned says its key holds.
func (g *Generator) Observe(o *Op, st history.Status, out history.Output) {
	if st != history.StatusOK {
		return
	}
	k, ok := g.index(o.Key)
	if !ok {
		return // not a key the generator draws
	}
	switch o.Method {
	case history.Get, history.Add:
		g.seen[k] = shm.Value(out.Value)
	case history.Set:
		g.seen[k] = o.Value
	case history.CAS:
		if string(out.Value) == "true" {
			g.seen[k] = o.Value
		}
	case history.Delete:
		g.seen[k] = nil
	}
}
