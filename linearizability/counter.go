package linearizability

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/history"
)

// The counter invariant: a key changed only by increments must end up
// holding their sum. It catches lost updates from get-then-set even where
// each operation, alone, is linearizable.
//
// A key is checked as a counter when it has a final read: its ok get
// called last, called after every ok or failed set, delete, cas and add
// of the key had returned. It counts the operations that may have taken
// effect before the final read: the ok ones and the unknown ones called
// by the time it returned, of its epoch (a master restart that lost the
// state starts the count afresh). Each of them must be an increment: an
// add of Input.Delta, or a set of Input.Incr (Incr ≠ 0: the second half
// of a get-then-set meant to add Incr); at least one must be. The key
// starts absent, which counts as 0. The ok increments must then add up
// to the final value, give or take any subset of the unknown ones.
// Keys that may vanish (the evicting model, a TTL) are not counters, and
// neither is one whose final value is not an integer, nor one whose sums
// overflow.

// invariantCounter is the counter check's name, as in Violation.Check.
const invariantCounter = "counter"

// maxWitnesses is how many increments a counter violation lists.
const maxWitnesses = 3

// CounterKeys says what the counter check did with the keys that look
// like counters: keys written only by increments, at least one.
type CounterKeys struct {
	// Checked are the keys counted against their final read.
	Checked []string `json:"checked,omitempty"`
	// NoFinalRead are the keys not checked because no ok get of theirs was
	// called after every write had returned.
	NoFinalRead []string `json:"no_final_read,omitempty"`
}

// Summary says, in a few words, what the counter check could count: "not
// checked: no final read" when no counter had one, "no counters" when no
// key looks like one.
func (ck CounterKeys) Summary() string {
	switch {
	case len(ck.Checked) == 0 && len(ck.NoFinalRead) == 0:
		return "no counters"
	case len(ck.Checked) == 0:
		return "not checked: no final read (" + quoteKeys(ck.NoFinalRead) + ")"
	case len(ck.NoFinalRead) == 0:
		return plural(len(ck.Checked), "counter") + " checked"
	}
	return fmt.Sprintf("%s checked; not checked, no final read: %s", plural(len(ck.Checked), "counter"), quoteKeys(ck.NoFinalRead))
}

// quoteKeys names a few keys, quoted.
func quoteKeys(keys []string) string {
	var q []string
	for _, k := range keys[:min(len(keys), 3)] {
		q = append(q, fmt.Sprintf("%q", k))
	}
	if len(keys) > 3 {
		q = append(q, fmt.Sprintf("%d more", len(keys)-3))
	}
	return "key " + strings.Join(q, ", ")
}

// checkCounters checks the counter invariant on every key of h that is
// a counter, and says which keys it counted.
func checkCounters(h *history.History, model history.Model) ([]Violation, CounterKeys) {
	var ck CounterKeys
	if model == history.ModelKVEvict {
		return nil, ck
	}
	keys := counterKeys(h)
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	bounds := epochs(h)
	var vs []Violation
	for _, k := range names {
		ckey := keys[k]
		if ckey.incrs == 0 || ckey.others > 0 || ckey.ttl {
			continue
		}
		c, ok := tallyCounter(h, bounds, ckey)
		switch {
		case ok:
			ck.Checked = append(ck.Checked, k)
			if !c.holds() {
				vs = append(vs, c.violation(h))
			}
		case !ckey.hasFinal(h):
			ck.NoFinalRead = append(ck.NoFinalRead, k)
		}
	}
	return vs, ck
}

// hasFinal reports whether k has a final read: an ok get called after
// every ok or failed write had returned.
func (k *counterKey) hasFinal(h *history.History) bool {
	return k.final >= 0 && k.lastWrite < h.Ops[k.final].Call
}

// counterKey is what one pass over a history finds out about a key.
type counterKey struct {
	ops []int32
	// final is the ok get called last (-1: none).
	final int32
	// lastWrite is the latest return of an ok or failed write.
	lastWrite int64
	ttl       bool
	// incrs and others count the writes that are increments and those
	// that are not, failed ones left out.
	incrs, others int
}

// counterKeys finds out about every key of h in one pass.
func counterKeys(h *history.History) map[string]*counterKey {
	keys := make(map[string]*counterKey)
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.Method.Keyed() {
			continue
		}
		k := keys[op.Key]
		if k == nil {
			k = &counterKey{final: -1, lastWrite: timeMin}
			keys[op.Key] = k
		}
		k.ops = append(k.ops, int32(i))
		k.ttl = k.ttl || op.Input.TTL > 0
		if _, incr := increment(op); incr && op.Status != history.StatusFail {
			k.incrs++
		} else if op.Method != history.Get && op.Status != history.StatusFail {
			k.others++
		}
		switch {
		case op.Method == history.Get && op.Status == history.StatusOK:
			if k.final < 0 || op.Call >= h.Ops[k.final].Call {
				k.final = int32(i)
			}
		case op.Method != history.Get && op.Status != history.StatusUnknown:
			k.lastWrite = max(k.lastWrite, op.Return)
		}
	}
	return keys
}

// counter is one counter's tally.
type counter struct {
	final int32 // the final read
	value int64 // what it read
	// acked is the sum of the ok increments; down and up the sums of the
	// negative and positive unknown ones.
	acked, down, up int64
	// ok and unknown are the increments, in the history's order.
	ok, unknown []int32
}

// holds reports whether the final value is one the increments allow.
func (c *counter) holds() bool {
	lo, hi, _ := c.bounds()
	return lo <= c.value && c.value <= hi
}

// tallyCounter tallies key k; ok is false if it is not a counter: if it
// has no final read called after every ok or failed write returned, if
// it may vanish, or if the final read is not of an integer.
func tallyCounter(h *history.History, bounds []int64, k *counterKey) (c counter, ok bool) {
	if k.ttl || !k.hasFinal(h) {
		return c, false
	}
	c.final = k.final
	f := &h.Ops[c.final]
	if c.value, ok = intValue(f); !ok {
		return c, false
	}
	epoch := epochOf(bounds, f.Call)
	for _, i := range k.ops {
		op := &h.Ops[i]
		if op.Method == history.Get || op.Status == history.StatusFail || op.Call > f.Return || epochOf(bounds, op.Call) != epoch {
			continue
		}
		d, incr := increment(op)
		if !incr || !c.count(i, op.Status, d) {
			return c, false
		}
	}
	_, _, ok = c.bounds()
	return c, ok && len(c.ok)+len(c.unknown) > 0
}

// count adds increment d of operation i; it is false on an overflow.
func (c *counter) count(i int32, status history.Status, d int64) bool {
	sum := &c.up
	switch {
	case status == history.StatusOK:
		sum, c.ok = &c.acked, append(c.ok, i)
	case d < 0:
		sum, c.unknown = &c.down, append(c.unknown, i)
	default:
		c.unknown = append(c.unknown, i)
	}
	var ok bool
	*sum, ok = addInt(*sum, d)
	return ok
}

// bounds returns the least and greatest final values the increments
// allow; ok is false on an overflow.
func (c *counter) bounds() (lo, hi int64, ok bool) {
	lo, ok1 := addInt(c.acked, c.down)
	hi, ok2 := addInt(c.acked, c.up)
	return lo, hi, ok1 && ok2
}

// increment returns what op meant to add to its key, if it is an
// increment.
func increment(op *history.Op) (int64, bool) {
	switch {
	case op.Method == history.Add:
		return op.Input.Delta, true
	case op.Method == history.Set && op.Input.Incr != 0:
		return op.Input.Incr, true
	}
	return 0, false
}

// intValue returns the integer an ok get read; absence counts as 0.
func intValue(op *history.Op) (int64, bool) {
	if op.Output.Value == nil {
		return 0, true
	}
	return history.Int(op.Output.Value)
}

// addInt returns a+b, and false if that overflows.
func addInt(a, b int64) (int64, bool) {
	s := a + b
	return s, (b >= 0) == (s >= a)
}

// violation explains a counter that does not hold.
func (c *counter) violation(h *history.History) Violation {
	f := &h.Ops[c.final]
	v := Violation{Check: invariantCounter, Key: f.Key, Ops: []history.Op{*f}}
	lo, hi, _ := c.bounds()
	var b strings.Builder
	fmt.Fprintf(&b, "counter %q: final value %d (%s), but the increments acknowledged add up to %d", f.Key, c.value, f, c.acked)
	if len(c.unknown) > 0 {
		fmt.Fprintf(&b, ", or %d to %d with the unknown ones", lo, hi)
	}
	// The differences are taken as unsigned: they may not fit an int64.
	if c.value < lo {
		fmt.Fprintf(&b, ": %d short, updates were lost", uint64(lo)-uint64(c.value))
	} else {
		fmt.Fprintf(&b, ": %d over, an increment took effect twice or a write came from elsewhere", uint64(c.value)-uint64(hi))
	}
	wit, same := c.witnesses(h)
	for _, i := range wit {
		v.Ops = append(v.Ops, h.Ops[i])
	}
	if same {
		fmt.Fprintf(&b, "; %s and %s both wrote %s", &h.Ops[wit[0]], &h.Ops[wit[1]], h.Ops[wit[0]].Input.Value)
	}
	v.Text = b.String() + "."
	return v
}

// witnesses picks a few increments to show: two ok get-then-sets that
// wrote the same value (same is true), else the first few ok ones, by
// call.
func (c *counter) witnesses(h *history.History) (ops []int32, same bool) {
	byCall := slices.Clone(c.ok)
	slices.SortStableFunc(byCall, func(a, b int32) int { return cmp.Compare(h.Ops[a].Call, h.Ops[b].Call) })
	byValue := make(map[string]int32)
	for _, i := range byCall {
		op := &h.Ops[i]
		if op.Method != history.Set {
			continue
		}
		if j, dup := byValue[string(op.Input.Value)]; dup {
			return []int32{j, i}, true
		}
		byValue[string(op.Input.Value)] = i
	}
	return byCall[:min(len(byCall), maxWitnesses)], false
}
