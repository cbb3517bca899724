package linearizability

import (
	"strings"
	"testing"

	"github.com/shmlab/shmlab/history"
)

const ms = int64(1e6)

// opAt builds an operation of worker w called at call and returning at
// ret (milliseconds): set's value and get's output are JSON texts ("" for
// a get that found nothing), ttl is in milliseconds.
func opAt(w string, method history.Method, key, val string, ttl, call, ret int64) history.Op {
	op := history.Op{Worker: w, Method: method, Key: key, Call: call * ms, Return: ret * ms, Status: history.StatusOK}
	switch method {
	case history.Set:
		op.Input, op.Output.Value = history.Input{Value: []byte(val), TTL: ttl}, []byte(`"OK"`)
	case history.Get:
		if val != "" {
			op.Output.Value = []byte(val)
		}
	}
	return op
}

func boundedHistory(limits *history.StoreLimits, ops ...history.Op) *history.History {
	h := &history.History{Header: history.NewHeader(history.ModelKVEvict, "t", 0), Ops: ops}
	h.Header.Store = limits
	for i := range h.Ops {
		h.Ops[i].ID = int64(i + 1)
	}
	return h
}

// TestBoundedStore: a key vanishes only past its TTL (within the clock
// tolerance) or as a possible LRU victim of a write past a limit.
func TestBoundedStore(t *testing.T) {
	two := &history.StoreLimits{MaxEntries: 2, EntryOverhead: 64, Sweep: 2}
	ttl := &history.StoreLimits{EntryOverhead: 64, Sweep: 2}
	slack := &history.StoreLimits{EntryOverhead: 64, Sweep: 2, ClockTolerance: 2 * ms}
	bytes := &history.StoreLimits{MaxBytes: 2*64 + 4, EntryOverhead: 64, Sweep: 2} // two entries of one-byte keys and values
	set, get := history.Set, history.Get
	for _, c := range []struct {
		name   string
		limits *history.StoreLimits
		ops    []history.Op
		want   Verdict
		stuck  int64 // the operation named, if illegal
	}{
		{"expired in the span of its TTL", ttl, []history.Op{opAt("w1", set, "a", "1", 5, 0, 1), opAt("w1", get, "a", "", 0, 5, 6)}, Ok, 0},
		{"expired before its TTL", ttl, []history.Op{opAt("w1", set, "a", "1", 5, 0, 1), opAt("w1", get, "a", "", 0, 3, 4)}, Illegal, 2},
		{"expired before its TTL, within the tolerance", slack, []history.Op{opAt("w1", set, "a", "1", 5, 0, 1), opAt("w1", get, "a", "", 0, 3, 4)}, Ok, 0},
		{"read past its TTL", ttl, []history.Op{opAt("w1", set, "a", "1", 5, 0, 1), opAt("w1", get, "a", "1", 0, 6, 7)}, Illegal, 2},
		{"read at its TTL exactly", ttl, []history.Op{opAt("w1", set, "a", "1", 5, 1, 1), opAt("w1", get, "a", "1", 0, 6, 6)}, Illegal, 2},
		{"read a tick before its TTL", ttl, []history.Op{opAt("w1", set, "a", "1", 5, 1, 1), opAt("w1", get, "a", "1", 0, 5, 5)}, Ok, 0},
		{"a set without a TTL clears it", ttl, []history.Op{opAt("w1", set, "a", "1", 5, 0, 1), opAt("w1", set, "a", "2", 0, 2, 3), opAt("w1", get, "a", "", 0, 9, 10)}, Illegal, 3},
		{"the least recently used evicted", two, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3),
			opAt("w1", get, "a", "1", 0, 4, 5), opAt("w1", set, "c", "3", 0, 6, 7), opAt("w1", get, "b", "", 0, 8, 9), opAt("w1", get, "a", "1", 0, 10, 11)}, Ok, 0},
		{"a get refreshes", two, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3),
			opAt("w1", get, "a", "1", 0, 4, 5), opAt("w1", set, "c", "3", 0, 6, 7), opAt("w1", get, "a", "", 0, 10, 11)}, Illegal, 5},
		{"evicted below the limit", two, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3), opAt("w1", get, "a", "", 0, 4, 5)}, Illegal, 3},
		{"the entry just written evicted", two, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3),
			opAt("w1", set, "c", "3", 0, 4, 5), opAt("w1", get, "c", "", 0, 6, 7)}, Illegal, 4},
		// A get of a concurrent with a set of c: either comes first, so
		// either a or b is the victim, but not both and not neither.
		{"concurrency: a get first", two, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3),
			opAt("w1", get, "a", "1", 0, 4, 8), opAt("w2", set, "c", "3", 0, 4, 8), opAt("w1", get, "b", "", 0, 9, 10)}, Ok, 0},
		{"concurrency: a set first", two, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3),
			opAt("w1", get, "a", "", 0, 4, 8), opAt("w2", set, "c", "3", 0, 4, 8), opAt("w1", get, "b", "2", 0, 9, 10)}, Ok, 0},
		{"concurrency: no victim", two, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3),
			opAt("w1", get, "a", "1", 0, 4, 8), opAt("w2", set, "c", "3", 0, 4, 8), opAt("w1", get, "b", "2", 0, 9, 10)}, Illegal, 5},
		{"bytes: the third entry evicts one", bytes, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "2", 0, 2, 3),
			opAt("w1", set, "c", "3", 0, 4, 5), opAt("w1", get, "a", "", 0, 6, 7), opAt("w1", get, "b", "2", 0, 8, 9)}, Ok, 0},
		{"bytes: a longer value evicts", bytes, []history.Op{opAt("w1", set, "a", "1", 0, 0, 1), opAt("w1", set, "b", "22", 0, 2, 3),
			opAt("w1", get, "a", "1", 0, 4, 5)}, Illegal, 3},
		// An expired entry counts against the limits until it is swept.
		{"an expired entry may still count", &history.StoreLimits{MaxEntries: 2, EntryOverhead: 64}, []history.Op{opAt("w1", set, "b", "2", 0, 0, 1),
			opAt("w1", set, "a", "1", 1, 2, 3), opAt("w1", set, "c", "3", 0, 5, 6), opAt("w1", get, "b", "", 0, 7, 8)}, Ok, 0},
		{"an expired entry swept", two, []history.Op{opAt("w1", set, "b", "2", 0, 0, 1),
			opAt("w1", set, "a", "1", 1, 2, 3), opAt("w1", set, "c", "3", 0, 5, 6), opAt("w1", get, "b", "", 0, 7, 8)}, Illegal, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := boundedHistory(c.limits, c.ops...)
			r := Check(h, Options{NoSessions: true})
			if r.Linearizable != c.want {
				t.Fatalf("verdict %s, want %s:\n%s", r.Linearizable, c.want, r.Details())
			}
			if c.want == Illegal && (len(r.Keys[0].Ops) == 0 || r.Keys[0].Ops[0].ID != c.stuck) {
				t.Errorf("the operation named is not #%d:\n%s", c.stuck, r.Details())
			}
		})
	}
}

// TestBoundedOnlyWithLimits: a history without store limits, or with
// limits that never evict and no TTL, keeps the per-key check (a kv-evict
// key may vanish at any moment).
func TestBoundedOnlyWithLimits(t *testing.T) {
	ops := []history.Op{opAt("w1", history.Set, "a", "1", 0, 0, 1), opAt("w1", history.Get, "a", "", 0, 2, 3)}
	if r := Check(boundedHistory(nil, ops...), Options{}); r.Linearizable != Ok {
		t.Errorf("without limits, kv-evict: %s, want ok", r.Linearizable)
	}
	unbounded := &history.StoreLimits{EntryOverhead: 64}
	if h := boundedHistory(unbounded, ops...); storeChecked(h) != nil {
		t.Errorf("a store with no limit and no TTL is checked whole")
	}
	if r := Check(boundedHistory(&history.StoreLimits{MaxEntries: 3}, ops...), Options{}); r.Linearizable != Illegal || !strings.Contains(r.Keys[0].Explanation, "#2 ") {
		t.Errorf("with limits: %s, want illegal naming #2:\n%s", r.Linearizable, r.Details())
	}
}

// TestBoundedReport: the report of a bounded store shows the whole
// store's search, as the check saw it: the get at fault, and the two
// operations before it in order.
func TestBoundedReport(t *testing.T) {
	h := boundedHistory(&history.StoreLimits{MaxEntries: 1, EntryOverhead: 64},
		opAt("w1", history.Set, "a", "1", 0, 0, 1), opAt("w1", history.Set, "b", "2", 0, 2, 3), opAt("w1", history.Get, "a", "1", 0, 4, 5))
	var b strings.Builder
	if err := WriteReport(&b, h, ReportOptions{Result: Check(h, Options{})}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the whole store (bounded: its keys are checked together): not linearizable; the longest linearizable prefix found has 2 of 3 operations", `id="op-3"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the report does not hold %q", want)
		}
	}
}

// TestBoundedResentGet: a get that waited past the clients' resend
// interval may have reached the store again after it returned, and
// refreshed its key then, before its stream's next operation returned.
func TestBoundedResentGet(t *testing.T) {
	set, get := history.Set, history.Get
	ops := []history.Op{opAt("w1", set, "x", "1", 0, 0, 1), opAt("w1", get, "x", "1", 0, 2, 30),
		opAt("w2", set, "y", "2", 0, 31, 32), opAt("w2", set, "z", "3", 0, 33, 34), // a copy of #2 came first: y is the victim
		opAt("w2", get, "y", "", 0, 35, 36), opAt("w1", get, "z", "3", 0, 40, 41)}
	for _, c := range []struct {
		resend int64
		want   Verdict
	}{{0, Illegal}, {10 * ms, Ok}, {40 * ms, Illegal}} {
		h := boundedHistory(&history.StoreLimits{MaxEntries: 2, EntryOverhead: 64, ResendAfter: c.resend}, ops...)
		if r := Check(h, Options{NoSessions: true}); r.Linearizable != c.want {
			t.Errorf("resend after %d ms: %s, want %s:\n%s", c.resend/ms, r.Linearizable, c.want, r.Details())
		}
	}
	// The copy comes before the stream's next operation returns.
	late := []history.Op{opAt("w1", set, "x", "1", 0, 0, 1), opAt("w1", get, "x", "1", 0, 2, 20), opAt("w1", get, "x", "1", 0, 21, 22),
		opAt("w2", set, "y", "2", 0, 31, 32), opAt("w2", set, "z", "3", 0, 33, 34), opAt("w2", get, "y", "", 0, 35, 36)}
	if r := Check(boundedHistory(&history.StoreLimits{MaxEntries: 2, EntryOverhead: 64, ResendAfter: 10 * ms}, late...), Options{NoSessions: true}); r.Linearizable != Illegal {
		t.Errorf("a copy after the stream's next operation returned: %s, want illegal", r.Linearizable)
	}
}

// TestBoundedAppend: in a bounded store an append changes its key in
// place, as in the per-key model: the get must read the joined string.
func TestBoundedAppend(t *testing.T) {
	ap := opAt("w1", history.Append, "a", "", 0, 2, 3)
	ap.Input.Value = []byte(`"y"`)
	h := boundedHistory(&history.StoreLimits{MaxEntries: 2, EntryOverhead: 64},
		opAt("w1", history.Set, "a", `"x"`, 0, 0, 1), ap, opAt("w1", history.Get, "a", `"xy"`, 0, 4, 5))
	if r := Check(h, Options{}); r.Verdict != Ok {
		t.Fatalf("%v %v %s", r.Verdict, r.Invalid, r.Details())
	}
	h = boundedHistory(&history.StoreLimits{MaxEntries: 2, EntryOverhead: 64},
		opAt("w1", history.Set, "a", `"x"`, 0, 0, 1), ap, opAt("w1", history.Get, "a", `"x"`, 0, 4, 5))
	if r := Check(h, Options{}); r.Verdict != Illegal {
		t.Fatalf("%v %s", r.Verdict, r.Details())
	}
}

// TestBoundedKVHeaderSessions: a history whose header says model kv but
// gives a store's limits loses keys all the same: a get that finds the
// least recently used key evicted breaks no session guarantee.
func TestBoundedKVHeaderSessions(t *testing.T) {
	h := boundedHistory(&history.StoreLimits{MaxEntries: 2},
		opAt("w1", history.Set, "a", "1", 0, 1, 2), opAt("w1", history.Set, "b", "2", 0, 3, 4),
		opAt("w1", history.Set, "c", "3", 0, 5, 6), opAt("w1", history.Get, "a", "", 0, 7, 8))
	h.Header.Model = history.ModelKV
	if r := Check(h, Options{}); r.Verdict != Ok {
		t.Errorf("verdict %v; want ok:\n%s", r.Verdict, r.Details())
	}
}
