package linearizability

import (
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"pgregory.net/rapid"
)

func TestCounter(t *testing.T) {
	counter := func(ids ...int64) []foundViolation {
		return []foundViolation{{Check: "counter", Key: "c", IDs: ids}}
	}
	adds := func(model history.Model) *handHistory {
		return newHand(model).add("a", "c", 1, 1, 1, 2).add("b", "c", 1, 2, 3, 4).add("c", "c", 1, 3, 5, 6)
	}
	someUnknown := func() *handHistory {
		return newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).add("b", "c", 1, 2, 3, 4).
			add("c", "c", 1, 0, 2, 0).unknown().add("d", "c", -1, 0, 2, 0).unknown()
	}
	for _, tc := range []struct {
		name string
		h    *handHistory
		want []foundViolation
	}{{
		name: "adds",
		h:    adds(history.ModelKV).get("d", "c", `3`, 7, 8),
	}, {
		name: "an add lost",
		h:    adds(history.ModelKV).get("d", "c", `2`, 7, 8),
		want: counter(4, 1, 2, 3),
	}, {
		name: "an add too many",
		h:    adds(history.ModelKV).get("d", "c", `4`, 7, 8),
		want: counter(4, 1, 2, 3),
	}, {
		name: "the least the unknown adds allow",
		h:    someUnknown().get("e", "c", `1`, 7, 8),
	}, {
		name: "the most the unknown adds allow",
		h:    someUnknown().get("e", "c", `3`, 7, 8),
	}, {
		name: "below what the unknown adds allow",
		h:    someUnknown().get("e", "c", `0`, 7, 8),
		want: counter(5, 1, 2),
	}, {
		name: "above what the unknown adds allow",
		h:    someUnknown().get("e", "c", `4`, 7, 8),
		want: counter(5, 1, 2),
	}, {
		name: "get-then-set in turn",
		h: newHand(history.ModelKV).get("a", "c", "", 1, 2).incr("a", "c", 1, 1, 3, 4).get("b", "c", `1`, 5, 6).
			incr("b", "c", 3, 2, 7, 8).get("c", "c", `3`, 9, 10),
	}, {
		name: "get-then-set, a lost update",
		h: newHand(history.ModelKV).get("a", "c", "", 1, 2).get("b", "c", "", 1, 2).incr("a", "c", 1, 1, 3, 4).
			incr("b", "c", 1, 1, 3, 5).get("c", "c", `1`, 6, 7),
		want: counter(5, 3, 4),
	}, {
		name: "absent counts as 0",
		h:    newHand(history.ModelKV).add("a", "c", 1, 0, 1, 0).unknown().get("b", "c", "", 2, 3),
	}, {
		name: "failed adds do not count",
		h:    newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).add("b", "c", 5, 0, 3, 4).failed().get("b", "c", `1`, 5, 6),
	}, {
		name: "an unknown add called after the final read returned does not count",
		h:    adds(history.ModelKV).get("d", "c", `8`, 7, 8).add("e", "c", 5, 0, 9, 0).unknown(),
		want: counter(4, 1, 2, 3),
	}, {
		name: "a set is not an increment",
		h:    adds(history.ModelKV).set("d", "c", `7`, 7, 8).get("d", "c", `7`, 9, 10),
	}, {
		name: "a delete is not an increment",
		h:    adds(history.ModelKV).del("d", "c", true, 7, 8).get("d", "c", "", 9, 10),
	}, {
		name: "an unknown cas is not an increment",
		h:    adds(history.ModelKV).cas("d", "c", `3`, `9`, false, 7, 0).unknown().get("e", "c", `9`, 9, 10),
	}, {
		name: "no read after the adds",
		h:    adds(history.ModelKV).get("d", "c", `1`, 3, 4),
	}, {
		name: "no read after a failed add",
		h:    adds(history.ModelKV).add("d", "c", 1, 0, 7, 10).failed().get("e", "c", `1`, 8, 9),
	}, {
		name: "the last read is the final one",
		h:    adds(history.ModelKV).get("d", "c", `3`, 7, 8).get("d", "c", `1`, 9, 10),
		want: counter(5, 1, 2, 3),
	}, {
		name: "a final value that is not an integer",
		h:    adds(history.ModelKV).get("d", "c", `"3"`, 7, 8),
	}, {
		name: "evicted",
		h:    adds(history.ModelKVEvict).get("d", "c", "", 7, 8),
	}, {
		name: "expired",
		h:    adds(history.ModelKV).set("d", "c", `3`, 7, 8).ttl(10).get("d", "c", "", 9, 10),
	}, {
		name: "a master restart starts afresh",
		h:    adds(history.ModelKV).restart(7, true).add("d", "c", 1, 1, 8, 9).get("d", "c", `1`, 10, 11),
	}, {
		name: "a master restart that lost no state",
		h:    adds(history.ModelKV).restart(7, false).add("d", "c", 1, 4, 8, 9).get("d", "c", `1`, 10, 11),
		want: counter(5, 1, 2, 3),
	}, {
		name: "the final read before the master restart",
		h:    adds(history.ModelKV).get("d", "c", `3`, 7, 8).restart(9, true),
	}, {
		name: "an unknown add before the restart does not count after it",
		h: adds(history.ModelKV).add("d", "c", 5, 0, 6, 0).unknown().restart(7, true).add("e", "c", 1, 1, 8, 9).
			get("e", "c", `6`, 10, 11),
		want: counter(6, 5),
	}, {
		name: "overflow",
		h: newHand(history.ModelKV).add("a", "c", math.MaxInt64, math.MaxInt64, 1, 2).add("a", "c", 1, 0, 3, 0).unknown().
			get("b", "c", `1`, 4, 5),
	}, {
		name: "two counters",
		h:    adds(history.ModelKV).add("d", "b", 2, 2, 1, 2).get("d", "b", `1`, 3, 4).get("d", "c", `2`, 7, 8),
		want: []foundViolation{{Check: "counter", Key: "b", IDs: []int64{5, 4}}, {Check: "counter", Key: "c", IDs: []int64{6, 1, 2, 3}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h.history(t)
			vs, _ := checkCounters(h, h.Header.Model)
			got := summarizeViolations(vs)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("checkCounters mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCounterText(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *handHistory
		want string
	}{{
		name: "lost update",
		h: newHand(history.ModelKV).get("a", "c", "", 1, 2).get("b", "c", "", 1, 2).incr("a", "c", 1, 1, 3, 4).
			incr("b", "c", 1, 1, 3, 5).add("d", "c", 1, 0, 3, 0).unknown().get("c", "c", `1`, 6, 7),
		want: `counter "c": final value 1 (#6 c/0 get("c") -> 1), but the increments acknowledged add up to 2, ` +
			`or 2 to 3 with the unknown ones: 1 short, updates were lost; ` +
			`#3 a/0 set("c", 1) -> "OK" and #4 b/0 set("c", 1) -> "OK" both wrote 1.`,
	}, {
		name: "over",
		h:    newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).add("b", "c", 1, 2, 3, 4).get("c", "c", `3`, 5, 6),
		want: `counter "c": final value 3 (#3 c/0 get("c") -> 3), but the increments acknowledged add up to 2: ` +
			`1 over, an increment took effect twice or a write came from elsewhere.`,
	}, {
		name: "short",
		h:    newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).add("b", "c", 1, 2, 3, 4).get("c", "c", `1`, 5, 6),
		want: `counter "c": final value 1 (#3 c/0 get("c") -> 1), but the increments acknowledged add up to 2: 1 short, updates were lost.`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			vs, _ := checkCounters(tc.h.history(t), history.ModelKV)
			if len(vs) != 1 {
				t.Fatalf("got %d violations, want 1", len(vs))
			}
			if diff := cmp.Diff(tc.want, vs[0].Text); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCounterCatchesLostUpdates runs workers that increment a counter
// with get-then-set, one operation at a time: every operation is
// linearizable, and the counter check must see each lost update.
func TestCounterCatchesLostUpdates(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		workers := rapid.IntRange(1, 4).Draw(t, "workers")
		left := make([]int, workers)
		read := make([]int64, workers) // -1: the next step is a get
		for w := range workers {
			left[w] = rapid.IntRange(0, 4).Draw(t, "increments")
			read[w] = -1
		}
		b := newHand(history.ModelKV)
		var value, incrs, now int64
		for {
			var ready []int
			for w := range workers {
				if left[w] > 0 {
					ready = append(ready, w)
				}
			}
			if len(ready) == 0 {
				break
			}
			w := rapid.SampledFrom(ready).Draw(t, "step")
			name := "w" + strconv.Itoa(w)
			now += 2
			if read[w] < 0 {
				got := strconv.FormatInt(value, 10)
				if value == 0 && incrs == 0 {
					got = ""
				}
				b.get(name, "c", got, now, now+1)
				read[w] = value
				continue
			}
			value = read[w] + 1
			b.incr(name, "c", value, 1, now, now+1)
			read[w], left[w], incrs = -1, left[w]-1, incrs+1
		}
		final := strconv.FormatInt(value, 10)
		if incrs == 0 {
			final = ""
		}
		b.get("final", "c", final, now+2, now+3)
		r := Check(b.history(t), Options{})
		if r.Linearizable != Ok {
			t.Fatalf("each operation is linearizable, but Check says %v: %v", r.Linearizable, r.Keys)
		}
		if lost := value < incrs; lost != (len(r.Invariants) > 0) {
			t.Fatalf("final value %d after %d increments, but the invariants found are %v", value, incrs, r.Invariants)
		}
		if len(r.Sessions) > 0 {
			t.Fatalf("session violations in a linearizable history: %v", r.Sessions)
		}
	})
}

// TestCounterKeys: the check says which counters it counted and which it
// could not, for want of a final read, and sums that up in words.
func TestCounterKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       *handHistory
		want    CounterKeys
		summary string
	}{{
		name:    "no key is a counter",
		h:       newHand(history.ModelKV).set("a", "x", `1`, 1, 2).get("b", "x", `1`, 3, 4),
		summary: "no counters",
	}, {
		name:    "a counter with its final read",
		h:       newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).get("b", "c", `1`, 3, 4),
		want:    CounterKeys{Checked: []string{"c"}},
		summary: "1 counter checked",
	}, {
		name:    "no read at all",
		h:       newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).add("b", "c", 1, 2, 3, 4),
		want:    CounterKeys{NoFinalRead: []string{"c"}},
		summary: `not checked: no final read (key "c")`,
	}, {
		name:    "the last read overlaps an add",
		h:       newHand(history.ModelKV).add("a", "c", 1, 1, 1, 5).get("b", "c", `1`, 3, 4),
		want:    CounterKeys{NoFinalRead: []string{"c"}},
		summary: `not checked: no final read (key "c")`,
	}, {
		name: "one of each",
		h: newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).get("b", "c", `1`, 3, 4).
			add("a", "d", 1, 1, 5, 6),
		want:    CounterKeys{Checked: []string{"c"}, NoFinalRead: []string{"d"}},
		summary: `1 counter checked; not checked, no final read: key "d"`,
	}, {
		name:    "a key also set is no counter",
		h:       newHand(history.ModelKV).add("a", "c", 1, 1, 1, 2).set("b", "c", `5`, 3, 4),
		summary: "no counters",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := checkCounters(tc.h.history(t), history.ModelKV)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CounterKeys mismatch (-want +got):\n%s", diff)
			}
			if s := got.Summary(); s != tc.summary {
				t.Errorf("Summary() = %q, want %q", s, tc.summary)
			}
		})
	}
}
