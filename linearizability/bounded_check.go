package linearizability

import (
	"fmt"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
)

// storeChecked returns the limits h is checked against as one whole
// store, or nil for the per-key check: the header states the store's
// limits (history.Header.Store), and the store has a limit or some write
// a TTL. (A store with neither never loses a key: the per-key check is
// exact, and faster.)
func storeChecked(h *history.History) *history.StoreLimits {
	l := h.Header.Store
	if l == nil {
		return nil
	}
	if l.Bounded() {
		return l
	}
	for i := range h.Ops {
		if h.Ops[i].Input.TTL > 0 && h.Ops[i].Method.Keyed() {
			return l
		}
	}
	return nil
}

// checkWholeStore checks h as one bounded store, as checkKeys checks
// keys: it returns the finding, if any, what the search found (one entry,
// the whole store, for the report) and the verdict.
func checkWholeStore(h *history.History, limits history.StoreLimits, ss *streams, opts Options) ([]KeyResult, *searched, Verdict) {
	var deadline time.Time
	if opts.Timeout > 0 {
		deadline = time.Now().Add(opts.Timeout)
	}
	sh := partitionStore(h, limits, ss)
	kr, lin := checkStore(sh, deadline)
	found := &searched{keys: []*keyHistory{{ops: sh.ops}}, lin: [][][]int{lin}}
	if kr.Verdict == Ok {
		return nil, found, Ok
	}
	return []KeyResult{kr}, found, kr.Verdict
}

// checkStore searches a bounded store's whole history once, and explains
// it when it is not linearizable; it returns the finding and the
// prefixes the search found (nil if undecided). The finding names the
// key of the operation at fault ("" if none is found).
func checkStore(sh *storeHistory, deadline time.Time) (KeyResult, [][]int) {
	var kr KeyResult
	if _, ok := remaining(deadline); !ok {
		kr.Verdict = Unknown
		kr.Explanation = "not checked: the time ran out"
		return kr, nil
	}
	switch res, lin := searchStore(sh, deadline); res {
	case porcupine.Ok:
		return kr, lin
	case porcupine.Unknown:
		kr.Verdict = Unknown
		kr.Explanation = fmt.Sprintf("undecided: the search of the whole store (%d operations) ran out of time", len(sh.ops))
		return kr, nil
	default:
		return sh.explain(lin), lin
	}
}

// searchStore searches a bounded store's whole history once, with
// porcupine's verbose check, until deadline (zero: none): the verdict,
// and the longest linearizable prefixes (a full linearization when it is
// linearizable; nil if undecided).
func searchStore(sh *storeHistory, deadline time.Time) (porcupine.CheckResult, [][]int) {
	left, _ := remaining(deadline)
	res, info := porcupine.CheckOperationsVerbose(sh.model.porcupine(), sh.ops, left)
	if res == porcupine.Unknown {
		return res, nil
	}
	lin := [][]int{}
	if parts := info.PartialLinearizations(); len(parts) > 0 && parts[0] != nil {
		lin = parts[0]
	}
	return res, lin
}

// explain says why the store's history is not linearizable: which
// operation the longest linearizable prefixes cannot take, and what the
// store may hold there.
func (sh *storeHistory) explain(prefixes [][]int) KeyResult {
	longest := 0
	for _, p := range prefixes {
		longest = max(longest, len(p))
	}
	in := map[int]bool{}
	var ends []*bstate
	seen := map[string]bool{}
	for _, p := range prefixes {
		if len(p) != longest {
			continue
		}
		states := []*bstate{sh.model.init()}
		for _, i := range p {
			in[i] = true
			var next []*bstate
			for _, s := range states {
				next = append(next, sh.model.step(s, sh.ops[i].Input.(*boundedOp))...)
			}
			states = next
		}
		for _, s := range states {
			if !seen[s.id] {
				seen[s.id] = true
				ends = append(ends, s)
			}
		}
	}
	stuck := sh.stuck(in)
	kr := KeyResult{Verdict: Illegal}
	if stuck == nil {
		kr.Explanation = fmt.Sprintf("the store's history is not linearizable: the longest linearizable prefix has %d of %d operations", longest, len(sh.ops))
		return kr
	}
	kr.Key, kr.Ops = stuck.op.Key, []history.Op{*stuck.op}
	var b strings.Builder
	fmt.Fprintf(&b, "%s cannot be linearized in a store of %s: no order of the operations before and beside it, and no eviction or expiry the store's limits allow, gives that answer.\n",
		stuck.op, sh.model.limitsText())
	if longest == 0 {
		b.WriteString("  It cannot even come first, where the store is empty.\n")
	} else {
		fmt.Fprintf(&b, "  After the most operations that can be put in order (%d), the store may hold (most recently used first):\n", longest)
		const most = 4
		for i, s := range ends {
			if i == most {
				fmt.Fprintf(&b, "  and %d more states\n", len(ends)-most)
				break
			}
			fmt.Fprintf(&b, "  - %s\n", sh.model.describe(s))
		}
	}
	b.WriteString("  " + sh.model.why(ends, stuck))
	kr.Explanation = strings.TrimRight(b.String(), "\n")
	return kr
}

// stuck returns the operation the prefixes could not take: of those left
// out, the one that returned first.
func (sh *storeHistory) stuck(in map[int]bool) *boundedOp {
	var best *boundedOp
	var ret int64
	for i := range sh.ops {
		o := sh.ops[i].Input.(*boundedOp)
		if in[i] || o.reset || o.unknown {
			continue
		}
		if best == nil || sh.ops[i].Return < ret {
			best, ret = o, sh.ops[i].Return
		}
	}
	return best
}

// why says, for the stuck operation, what the states at the end of the
// prefixes would have answered, and why its key is there or not.
func (m *boundedModel) why(ends []*bstate, o *boundedOp) string {
	key := m.keys[o.key]
	var held, gone []string
	for _, s := range ends {
		if i := find(s.entries, o.key); i >= 0 {
			e := s.entries[i]
			h := m.in.vals[e.val]
			if e.ttl > 0 {
				h += " " + m.expiry(&e)
			}
			held = append(held, h)
		} else {
			gone = append(gone, "absent")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "There the key %q is ", key)
	switch {
	case len(held) > 0 && len(gone) > 0:
		fmt.Fprintf(&b, "%s, or absent", strings.Join(dedup(held), " or "))
	case len(held) > 0:
		b.WriteString(strings.Join(dedup(held), " or "))
	default:
		b.WriteString("absent")
	}
	fmt.Fprintf(&b, "; the operation was applied at a time in [%d, %d] on the history's clock (call and return, widened by the clock tolerance of %d ns)", o.lo, o.hi, m.limits.ClockTolerance)
	if len(held) > 0 && o.method == history.Get && !o.present {
		b.WriteString(": it read nothing, but the key was neither past its TTL nor a possible LRU victim of a write beyond the limits")
	}
	b.WriteString(".")
	return b.String()
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// limitsText describes the store's limits.
func (m *boundedModel) limitsText() string {
	var parts []string
	l := m.limits
	if l.MaxEntries > 0 {
		parts = append(parts, fmt.Sprintf("at most %d entries", l.MaxEntries))
	}
	if l.MaxBytes > 0 {
		parts = append(parts, fmt.Sprintf("at most %d bytes (key + value + %d per entry)", l.MaxBytes, l.EntryOverhead))
	}
	if len(parts) == 0 {
		return "no entry or byte limit, with TTLs"
	}
	return strings.Join(parts, " and ")
}
