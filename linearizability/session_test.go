package linearizability

import (
	"bytes"
	stdcmp "cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"pgregory.net/rapid"
)

// handHistory builds a history by hand, one operation at a time; ids
// count from 1 in the order operations are added. The modifiers
// (unknown, failed, stream, ttl) change the last one.
type handHistory struct {
	h history.History
}

func newHand(model history.Model) *handHistory {
	return &handHistory{h: history.History{Header: history.NewHeader(model, "hand", 0)}}
}

func (b *handHistory) op(o history.Op) *handHistory {
	o.ID = int64(len(b.h.Ops) + 1)
	o.Status = history.StatusOK
	b.h.Ops = append(b.h.Ops, o)
	return b
}

// handValue returns v as JSON text, or nil for "" (absence).
func handValue(v string) json.RawMessage {
	if v == "" {
		return nil
	}
	return json.RawMessage(v)
}

func (b *handHistory) set(w, k, v string, call, ret int64) *handHistory {
	return b.op(history.Op{Worker: w, Method: history.Set, Key: k, Input: history.Input{Value: json.RawMessage(v)},
		Output: history.Output{Value: json.RawMessage(`"OK"`)}, Call: call, Return: ret})
}

// get reads v ("" for absent).
func (b *handHistory) get(w, k, v string, call, ret int64) *handHistory {
	return b.op(history.Op{Worker: w, Method: history.Get, Key: k, Output: history.Output{Value: handValue(v)}, Call: call, Return: ret})
}

func (b *handHistory) del(w, k string, present bool, call, ret int64) *handHistory {
	return b.op(history.Op{Worker: w, Method: history.Delete, Key: k,
		Output: history.Output{Value: json.RawMessage(strconv.FormatBool(present))}, Call: call, Return: ret})
}

// cas expects old ("" for absent).
func (b *handHistory) cas(w, k, old, v string, swapped bool, call, ret int64) *handHistory {
	return b.op(history.Op{Worker: w, Method: history.CAS, Key: k, Input: history.Input{Old: handValue(old), Value: json.RawMessage(v)},
		Output: history.Output{Value: json.RawMessage(strconv.FormatBool(swapped))}, Call: call, Return: ret})
}

func (b *handHistory) add(w, k string, delta, result int64, call, ret int64) *handHistory {
	return b.op(history.Op{Worker: w, Method: history.Add, Key: k, Input: history.Input{Delta: delta},
		Output: history.Output{Value: json.RawMessage(strconv.FormatInt(result, 10))}, Call: call, Return: ret})
}

// incr is the set of a get-then-set that meant to add by.
func (b *handHistory) incr(w, k string, v, by int64, call, ret int64) *handHistory {
	b.set(w, k, strconv.FormatInt(v, 10), call, ret)
	b.last().Input.Incr = by
	return b
}

func (b *handHistory) last() *history.Op { return &b.h.Ops[len(b.h.Ops)-1] }

func (b *handHistory) unknown() *handHistory {
	o := b.last()
	o.Status, o.Return, o.Output = history.StatusUnknown, 0, history.Output{}
	return b
}

func (b *handHistory) failed() *handHistory {
	o := b.last()
	o.Status, o.Output = history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: "overloaded"}}
	return b
}

func (b *handHistory) stream(n int) *handHistory {
	b.last().Stream = n
	return b
}

func (b *handHistory) ttl(ms int64) *handHistory {
	b.last().Input.TTL = ms
	return b
}

func (b *handHistory) restart(t int64, reset bool) *handHistory {
	b.h.Events = append(b.h.Events, history.Event{Kind: history.EventMasterRestart, Time: t, Reset: reset})
	return b
}

// history returns the history built, after checking that the reader
// would accept it.
func (b *handHistory) history(t interface {
	Helper()
	Fatalf(format string, args ...any)
}) *history.History {
	t.Helper()
	h := b.h
	h.Ops = slices.Clone(b.h.Ops)
	if _, err := sgReread(&h); err != nil {
		t.Fatalf("a hand-made history is not valid: %v", err)
	}
	return &h
}

// sgReread writes h and reads it back, as the reader checks it.
func sgReread(h *history.History) (*history.History, error) {
	var buf bytes.Buffer
	w := history.NewWriter(&buf, h.Header)
	for i := range h.Ops {
		w.Op(&h.Ops[i])
	}
	for i := range h.Events {
		w.Event(&h.Events[i])
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return history.Read(&buf, h.Name)
}

// foundViolation is a Violation without its text, for comparing.
type foundViolation struct {
	Check, Key string
	IDs        []int64
}

func summarizeViolations(vs []Violation) []foundViolation {
	var out []foundViolation
	for _, v := range vs {
		f := foundViolation{Check: v.Check, Key: v.Key}
		for _, op := range v.Ops {
			f.IDs = append(f.IDs, op.ID)
		}
		out = append(out, f)
	}
	return out
}

// sessionFound returns every session violation in h, not grouped by
// cause: by check, then by the call of the last operation.
func sessionFound(h *history.History, model history.Model) []foundViolation {
	c, f := findSessions(h, model)
	last := func(ops []int32) *history.Op { return &h.Ops[ops[len(ops)-1]] }
	slices.SortStableFunc(f.found, func(a, b sessionFinding) int {
		return stdcmp.Or(stdcmp.Compare(a.check, b.check), stdcmp.Compare(last(a.ops).Call, last(b.ops).Call), stdcmp.Compare(last(a.ops).ID, last(b.ops).ID))
	})
	var out []foundViolation
	for _, fd := range f.found {
		v := c.explain(fd.check, fd.ops)
		out = append(out, summarizeViolations([]Violation{v})...)
	}
	return out
}

// sessionCase is a hand-made history and the violations it holds. Each
// says whether it is linearizable, which the test checks too: the
// session checks may reject only histories that are not.
type sessionCase struct {
	name         string
	h            *handHistory
	want         []foundViolation
	linearizable bool
}

func runSessionCases(t *testing.T, cases []sessionCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h.history(t)
			got := sessionFound(h, h.Header.Model)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("checkSessions mismatch (-want +got):\n%s", diff)
			}
			r := Check(h, Options{NoSessions: true, NoCounters: true})
			if lin := r.Linearizable == Ok; lin != tc.linearizable {
				t.Errorf("linearizable = %v (%v), the case says %v", lin, r.Keys, tc.linearizable)
			}
		})
	}
}

func TestSessionReadYourWrites(t *testing.T) {
	ryw := func(k string, ids ...int64) []foundViolation {
		return []foundViolation{{Check: "read-your-writes", Key: k, IDs: ids}}
	}
	runSessionCases(t, []sessionCase{{
		name: "older value",
		h:    newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).get("a", "k", `1`, 5, 6),
		want: ryw("k", 2, 3),
	}, {
		name: "absent after own write",
		h:    newHand(history.ModelKV).set("a", "k", `1`, 1, 2).get("a", "k", "", 3, 4),
		want: ryw("k", 1, 2),
	}, {
		name: "the same value written again later is no excuse",
		h:    newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).get("a", "k", `1`, 5, 6).set("c", "k", `1`, 7, 8),
		want: ryw("k", 2, 3),
	}, {
		name: "only the latest own write is reported",
		h: newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).set("a", "k", `3`, 5, 6).
			get("a", "k", `1`, 7, 8),
		want: ryw("k", 3, 4),
	}, {
		name: "a cas that expected an older value",
		h:    newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).cas("a", "k", `1`, `3`, true, 5, 6),
		want: ryw("k", 2, 3),
	}, {
		name: "after an add",
		h:    newHand(history.ModelKV).set("a", "k", `5`, 1, 2).add("a", "k", 1, 6, 3, 4).get("a", "k", `5`, 5, 6),
		want: ryw("k", 2, 3),
	}, {
		name:         "a concurrent write of the older value",
		h:            newHand(history.ModelKV).set("b", "k", `1`, 1, 5).set("a", "k", `2`, 3, 4).get("a", "k", `1`, 6, 7),
		linearizable: true,
	}, {
		name: "the same value written by another, concurrent write",
		h: newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).set("c", "k", `1`, 4, 8).
			get("a", "k", `1`, 5, 6),
		linearizable: true,
	}, {
		name:         "an unknown write of the older value",
		h:            newHand(history.ModelKV).set("b", "k", `1`, 1, 2).unknown().set("a", "k", `2`, 3, 4).get("a", "k", `1`, 5, 6),
		linearizable: true,
	}, {
		name:         "an unknown add may have made any integer",
		h:            newHand(history.ModelKV).set("a", "k", `5`, 1, 2).add("b", "k", -2, 0, 1, 0).unknown().set("a", "k", `7`, 3, 4).get("a", "k", `5`, 5, 6),
		linearizable: true,
	}, {
		name:         "a failed write is not an excuse, nor a write",
		h:            newHand(history.ModelKV).set("b", "k", `1`, 4, 5).failed().set("a", "k", `2`, 3, 4).get("a", "k", "", 6, 7).set("a", "k", `3`, 8, 9).failed().get("a", "k", `2`, 10, 11),
		want:         ryw("k", 2, 3),
		linearizable: false,
	}, {
		name:         "a concurrent delete",
		h:            newHand(history.ModelKV).set("a", "k", `1`, 1, 2).del("b", "k", true, 2, 5).get("a", "k", "", 3, 4),
		linearizable: true,
	}, {
		// A stream is sequential: a's read follows a's write even at the
		// same instant, so the history is not linearizable; the session
		// check, which reads ties as concurrent, lets it be (it may accept
		// what the search rejects, never the other way round).
		name:         "the read begins as the write returns",
		h:            newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 5).get("a", "k", `1`, 5, 6),
		linearizable: false,
	}, {
		name:         "the older write returns as the newer begins",
		h:            newHand(history.ModelKV).set("b", "k", `1`, 1, 3).set("a", "k", `2`, 3, 4).get("a", "k", `1`, 5, 6),
		linearizable: true,
	}, {
		name:         "another key",
		h:            newHand(history.ModelKV).set("a", "k", `1`, 1, 2).get("a", "j", "", 3, 4),
		linearizable: true,
	}, {
		name:         "evicted",
		h:            newHand(history.ModelKVEvict).set("a", "k", `1`, 1, 2).get("a", "k", "", 3, 4),
		linearizable: true,
	}, {
		name:         "expired",
		h:            newHand(history.ModelKV).set("a", "k", `1`, 1, 2).ttl(10).get("a", "k", "", 3, 4),
		linearizable: true,
	}, {
		name:         "evicted but not absent",
		h:            newHand(history.ModelKVEvict).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).get("a", "k", `1`, 5, 6),
		want:         ryw("k", 2, 3),
		linearizable: false,
	}, {
		name:         "a master restart lost the write",
		h:            newHand(history.ModelKV).set("a", "k", `1`, 1, 2).restart(3, true).get("a", "k", "", 4, 5),
		linearizable: true,
	}, {
		name:         "a master restart that kept the state",
		h:            newHand(history.ModelKV).set("a", "k", `1`, 1, 2).restart(3, false).get("a", "k", "", 4, 5),
		want:         ryw("k", 1, 2),
		linearizable: false,
	}, {
		name: "another stream of the same worker is another session",
		h: newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).get("a", "j", "", 5, 0).unknown().
			get("a", "k", `1`, 6, 7).stream(1),
		linearizable: false,
	}})
}

func TestSessionMonotonicReads(t *testing.T) {
	mr := func(k string, ids ...int64) []foundViolation {
		return []foundViolation{{Check: "monotonic-reads", Key: k, IDs: ids}}
	}
	runSessionCases(t, []sessionCase{{
		name: "older value",
		h:    newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("c", "k", `2`, 3, 4).get("a", "k", `2`, 5, 6).get("a", "k", `1`, 7, 8),
		want: mr("k", 3, 4),
	}, {
		name: "absent again",
		h:    newHand(history.ModelKV).set("c", "k", `2`, 3, 4).get("a", "k", `2`, 5, 6).get("a", "k", "", 7, 8),
		want: mr("k", 2, 3),
	}, {
		name: "the strongest earlier read is reported",
		h: newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("c", "k", `2`, 3, 4).get("a", "k", `2`, 5, 6).
			get("a", "k", "", 7, 8).get("a", "k", `1`, 9, 10),
		want: []foundViolation{
			{Check: "monotonic-reads", Key: "k", IDs: []int64{3, 4}},
			{Check: "monotonic-reads", Key: "k", IDs: []int64{3, 5}},
		},
	}, {
		name: "a cas saw the newer value",
		h:    newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("c", "k", `2`, 3, 4).cas("a", "k", `2`, `2`, true, 5, 6).get("a", "k", `1`, 7, 8),
		want: append([]foundViolation{{Check: "read-your-writes", Key: "k", IDs: []int64{3, 4}}}, mr("k", 3, 4)...),
	}, {
		name: "the older value written again",
		h: newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("c", "k", `2`, 3, 4).get("a", "k", `2`, 5, 6).
			set("d", "k", `1`, 6, 9).get("a", "k", `1`, 7, 8),
		linearizable: true,
	}, {
		name: "writes that overlap",
		h: newHand(history.ModelKV).set("b", "k", `1`, 1, 6).set("c", "k", `2`, 2, 3).get("a", "k", `2`, 4, 5).
			get("a", "k", `1`, 7, 8),
		linearizable: true,
	}, {
		name: "a concurrent delete",
		h: newHand(history.ModelKV).set("c", "k", `2`, 3, 4).del("d", "k", true, 5, 10).get("a", "k", `2`, 6, 7).
			get("a", "k", "", 8, 9),
		linearizable: true,
	}, {
		name:         "an unknown delete",
		h:            newHand(history.ModelKV).set("c", "k", `2`, 3, 4).del("d", "k", true, 1, 0).unknown().get("a", "k", `2`, 6, 7).get("a", "k", "", 8, 9),
		linearizable: true,
	}, {
		name:         "evicted",
		h:            newHand(history.ModelKVEvict).set("c", "k", `2`, 3, 4).get("a", "k", `2`, 5, 6).get("a", "k", "", 7, 8),
		linearizable: true,
	}, {
		name: "first absent, evicted",
		h: newHand(history.ModelKVEvict).set("b", "k", `1`, 1, 2).set("c", "k", `2`, 3, 4).get("a", "k", "", 5, 6).
			get("a", "k", `1`, 7, 8),
		linearizable: false,
	}, {
		name: "a restart between the reads",
		h: newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("c", "k", `2`, 3, 4).get("a", "k", `2`, 5, 6).
			restart(7, true).set("b", "k", `1`, 8, 9).get("a", "k", `1`, 10, 11),
		linearizable: true,
	}})
}

func TestSessionMonotonicWrites(t *testing.T) {
	runSessionCases(t, []sessionCase{{
		name: "the first write lost",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 2).set("a", "y", `1`, 3, 4).
			get("b", "y", `1`, 5, 6).get("b", "x", "", 7, 8),
		want: []foundViolation{{Check: "monotonic-writes", Key: "x", IDs: []int64{1, 2, 3, 4}}},
	}, {
		name: "overwritten by an older write",
		h: newHand(history.ModelKV).set("c", "x", `0`, 0, 1).set("a", "x", `1`, 2, 3).set("a", "y", `1`, 4, 5).
			get("b", "y", `1`, 7, 8).get("b", "x", `0`, 9, 10),
		want: []foundViolation{{Check: "monotonic-writes", Key: "x", IDs: []int64{2, 3, 4, 5}}},
	}, {
		name: "one key",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 2).set("a", "x", `2`, 3, 4).
			get("b", "x", `2`, 5, 6).get("b", "x", "", 7, 8),
		want: []foundViolation{
			{Check: "monotonic-reads", Key: "x", IDs: []int64{3, 4}},
			{Check: "monotonic-writes", Key: "x", IDs: []int64{1, 2, 3, 4}},
		},
	}, {
		name: "by an add and a cas",
		h: newHand(history.ModelKV).add("a", "x", 1, 1, 1, 2).cas("a", "y", "", `"go"`, true, 3, 4).
			get("b", "y", `"go"`, 5, 6).get("b", "x", "", 7, 8),
		want: []foundViolation{{Check: "monotonic-writes", Key: "x", IDs: []int64{1, 2, 3, 4}}},
	}, {
		name: "the second write unknown",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 2).set("a", "y", `1`, 3, 0).unknown().
			get("b", "y", `1`, 5, 6).get("b", "x", "", 7, 8),
		want: []foundViolation{{Check: "monotonic-writes", Key: "x", IDs: []int64{1, 2, 3, 4}}},
	}, {
		name: "within one session it is read-your-writes",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 2).set("a", "y", `1`, 3, 4).
			get("a", "y", `1`, 5, 6).get("a", "x", "", 7, 8),
		want: []foundViolation{{Check: "read-your-writes", Key: "x", IDs: []int64{1, 4}}},
	}, {
		name: "a concurrent overwrite",
		h: newHand(history.ModelKV).set("c", "x", `0`, 1, 6).set("a", "x", `1`, 2, 3).set("a", "y", `1`, 4, 5).
			get("b", "y", `1`, 7, 8).get("b", "x", `0`, 9, 10),
		linearizable: true,
	}, {
		name: "the second write may not be the one seen",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 2).set("a", "y", `1`, 3, 4).set("c", "y", `1`, 0, 0).unknown().
			get("b", "y", `1`, 5, 6).get("b", "x", "", 7, 8),
		linearizable: false,
	}, {
		name: "the writes overlap",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 3).stream(0).set("a", "y", `1`, 2, 4).stream(1).
			get("b", "y", `1`, 5, 6).get("b", "x", "", 7, 8),
		linearizable: false,
	}, {
		name: "a concurrent delete",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 2).set("a", "y", `1`, 3, 4).del("c", "x", true, 4, 9).
			get("b", "y", `1`, 5, 7).get("b", "x", "", 7, 8),
		linearizable: true,
	}, {
		name: "evicted",
		h: newHand(history.ModelKVEvict).set("a", "x", `1`, 1, 2).set("a", "y", `1`, 3, 4).
			get("b", "y", `1`, 5, 6).get("b", "x", "", 7, 8),
		linearizable: true,
	}, {
		name: "a restart between the reads",
		h: newHand(history.ModelKV).set("a", "x", `1`, 1, 2).set("a", "y", `1`, 3, 4).
			get("b", "y", `1`, 5, 6).restart(7, true).get("b", "x", "", 8, 9),
		linearizable: true,
	}})
}

func TestSessionWritesFollowReads(t *testing.T) {
	runSessionCases(t, []sessionCase{{
		name: "the read's write lost",
		h: newHand(history.ModelKV).set("c", "x", `1`, 1, 2).get("a", "x", `1`, 3, 4).set("a", "y", `1`, 5, 6).
			get("b", "y", `1`, 7, 8).get("b", "x", "", 9, 10),
		want: []foundViolation{{Check: "writes-follow-reads", Key: "x", IDs: []int64{2, 3, 4, 5}}},
	}, {
		name: "a concurrent delete",
		h: newHand(history.ModelKV).set("c", "x", `1`, 1, 2).get("a", "x", `1`, 3, 4).set("a", "y", `1`, 5, 6).
			del("d", "x", true, 8, 12).get("b", "y", `1`, 7, 8).get("b", "x", "", 9, 10),
		linearizable: true,
	}, {
		name: "the read may have read a later write",
		h: newHand(history.ModelKV).set("c", "x", `1`, 1, 2).set("d", "x", `2`, 2, 3).set("e", "x", `1`, 3, 9).
			get("a", "x", `1`, 4, 5).set("a", "y", `1`, 6, 7).get("b", "y", `1`, 8, 9).get("b", "x", `2`, 10, 11),
		linearizable: false,
	}, {
		name: "evicted",
		h: newHand(history.ModelKVEvict).set("c", "x", `1`, 1, 2).get("a", "x", `1`, 3, 4).set("a", "y", `1`, 5, 6).
			get("b", "y", `1`, 7, 8).get("b", "x", "", 9, 10),
		linearizable: true,
	}})
}

func TestSessionText(t *testing.T) {
	h := newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("a", "k", `2`, 3, 4).get("a", "k", `1`, 5, 6).history(t)
	got := checkSessions(h, history.ModelKV)
	want := []Violation{{
		Check: "read-your-writes",
		Key:   "k",
		Ops:   []history.Op{h.Ops[1], h.Ops[2]},
		Text: `#3 a/0 get("k") -> 1, after #2 a/0 set("k", 2) -> "OK" in the same session, read 1, which is older: ` +
			`every write it may have read (#1 b/0 set("k", 1) -> "OK") returned before that write was called.`,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestSessionManyViolations: one stale value read 25 times is one cause,
// one line that counts the other 24.
func TestSessionManyViolations(t *testing.T) {
	b := newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("c", "k", `2`, 3, 4).get("a", "k", `2`, 5, 6)
	for i := range int64(maxShownPerCheck + 5) {
		b.get("a", "k", `1`, 10+2*i, 11+2*i)
	}
	vs := checkSessions(b.history(t), history.ModelKV)
	if len(vs) != 1 {
		t.Fatalf("got %d violations, want 1 (one cause)", len(vs))
	}
	if want := "The same cause (1 value read stale by 1 worker) made 24 more: 24 monotonic-reads."; !strings.HasSuffix(vs[0].Text, want) || vs[0].More != 24 {
		t.Errorf("the violation says %q (More %d), want it to end with %q and More 24", vs[0].Text, vs[0].More, want)
	}
	r := &Result{Verdict: Illegal, Sessions: vs}
	if want := "25 session guarantee violations"; !strings.Contains(r.String(), want) {
		t.Errorf("summary %q does not count the violations not listed (%s)", r.String(), want)
	}
	if got, want := vs[0].Ops[1].ID, int64(4); got != want {
		t.Errorf("the violation shown is op #%d's, want the earliest, #%d's", got, want)
	}
}

// TestSessionManyCauses: 25 workers, each reading its own stale value,
// are 25 causes, of which the first maxShownPerCheck are listed, the last
// counting the rest.
func TestSessionManyCauses(t *testing.T) {
	b := newHand(history.ModelKV)
	n := int64(maxShownPerCheck + 5)
	for i := range n {
		b.set("b", "k", fmt.Sprint(i+1), 1+2*i, 2+2*i)
	}
	b.set("c", "k", `100`, 2*n+1, 2*n+2)
	for i := range n {
		r := fmt.Sprintf("r%d", i)
		b.get(r, "k", `100`, 2*n+3+4*i, 2*n+4+4*i).get(r, "k", fmt.Sprint(i+1), 2*n+5+4*i, 2*n+6+4*i)
	}
	vs := checkSessions(b.history(t), history.ModelKV)
	if len(vs) != maxShownPerCheck {
		t.Fatalf("got %d violations, want %d", len(vs), maxShownPerCheck)
	}
	last := vs[len(vs)-1]
	if want := "(5 more causes, with 5 violations, not shown)"; !strings.HasSuffix(last.Text, want) || last.More != 5 {
		t.Errorf("the last violation says %q (More %d), want it to end with %q and More 5", last.Text, last.More, want)
	}
	if got := count(vs); got != int(n) {
		t.Errorf("count = %d, want %d", got, n)
	}
}

// TestSessionCauses: findings that share a stale value, or a reader and
// a key, are one cause, and the links are followed through.
func TestSessionCauses(t *testing.T) {
	// b writes 1, 2, 3; c writes 100; then readers read 100, then stale.
	base := func() *handHistory {
		return newHand(history.ModelKV).set("b", "k", `1`, 1, 2).set("b", "k", `2`, 3, 4).set("b", "k", `3`, 5, 6).
			set("c", "k", `100`, 7, 8)
	}
	for _, tc := range []struct {
		name   string
		h      *handHistory
		causes int
	}{
		{"one worker, three stale values", base().get("r", "k", `100`, 10, 11).get("r", "k", `1`, 12, 13).
			get("r", "k", `2`, 14, 15).get("r", "k", `3`, 16, 17), 1},
		{"three workers, one stale value", base().get("r", "k", `100`, 10, 11).get("r", "k", `1`, 12, 13).
			get("s", "k", `100`, 10, 11).get("s", "k", `1`, 12, 13).get("u", "k", `100`, 10, 11).get("u", "k", `1`, 12, 13), 1},
		{"linked through", base().get("r", "k", `100`, 10, 11).get("r", "k", `1`, 12, 13).get("r", "k", `2`, 14, 15).
			get("s", "k", `100`, 10, 11).get("s", "k", `2`, 12, 13).get("s", "k", `3`, 14, 15), 1},
		{"two workers, two values", base().get("r", "k", `100`, 10, 11).get("r", "k", `1`, 12, 13).
			get("s", "k", `100`, 10, 11).get("s", "k", `2`, 12, 13), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h.history(t)
			vs := checkSessions(h, history.ModelKV)
			if len(vs) != tc.causes {
				t.Errorf("%d causes, want %d: %v", len(vs), tc.causes, summarizeViolations(vs))
			}
			if got, want := count(vs), len(sessionFound(h, history.ModelKV)); got != want {
				t.Errorf("the causes count %d violations, want all %d", got, want)
			}
		})
	}
}

// TestSessionsAcceptLinearizable checks that no linearizable history is
// rejected by the session and counter checks.
func TestSessionsAcceptLinearizable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := sgConfig{
			workers:    rapid.IntRange(1, 4).Draw(t, "workers"),
			keys:       rapid.IntRange(1, 3).Draw(t, "keys"),
			counters:   rapid.IntRange(0, 2).Draw(t, "counters"),
			ops:        rapid.IntRange(1, 40).Draw(t, "ops"),
			restarts:   rapid.IntRange(0, 2).Draw(t, "restarts"),
			pctUnknown: rapid.IntRange(0, 20).Draw(t, "pctUnknown"),
			pctFail:    rapid.IntRange(0, 10).Draw(t, "pctFail"),
			pctTTL:     rapid.SampledFrom([]int{0, 0, 30}).Draw(t, "pctTTL"),
			model:      rapid.SampledFrom([]history.Model{history.ModelKV, history.ModelKV, history.ModelKVEvict}).Draw(t, "model"),
		}
		h := sgGenerate(sgRapid{t}, cfg)
		if _, err := sgReread(h); err != nil {
			t.Fatalf("generated history not valid: %v", err)
		}
		if r := Check(h, Options{NoSessions: true, NoCounters: true}); r.Linearizable != Ok {
			t.Fatalf("the generator made a history that is not linearizable: %v\n%s", r.Keys, sgText(h))
		}
		if vs := checkSessions(h, cfg.model); len(vs) > 0 {
			t.Fatalf("checkSessions rejects a linearizable history: %s: %s\n%s", vs[0].Check, vs[0].Text, sgText(h))
		}
		if vs, _ := checkCounters(h, cfg.model); len(vs) > 0 {
			t.Fatalf("checkCounters rejects a linearizable history: %s\n%s", vs[0].Text, sgText(h))
		}
	})
}

// TestSessionsRejectOnlyNonLinearizable checks, on histories whose reads
// were tampered with, that the session checks reject only histories the
// linearizability checker rejects too.
func TestSessionsRejectOnlyNonLinearizable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := sgConfig{
			workers:    rapid.IntRange(1, 4).Draw(t, "workers"),
			keys:       rapid.IntRange(1, 3).Draw(t, "keys"),
			ops:        rapid.IntRange(1, 30).Draw(t, "ops"),
			restarts:   rapid.IntRange(0, 1).Draw(t, "restarts"),
			pctUnknown: rapid.IntRange(0, 20).Draw(t, "pctUnknown"),
			model:      rapid.SampledFrom([]history.Model{history.ModelKV, history.ModelKVEvict}).Draw(t, "model"),
		}
		p := sgRapid{t}
		h := sgGenerate(p, cfg)
		for range rapid.IntRange(1, 3).Draw(t, "tampered") {
			sgStale(p, h)
		}
		vs := checkSessions(h, cfg.model)
		if len(vs) == 0 {
			return
		}
		if r := Check(h, Options{NoSessions: true, NoCounters: true}); r.Linearizable == Ok {
			t.Fatalf("checkSessions rejects a linearizable history: %s: %s\n%s", vs[0].Check, vs[0].Text, sgText(h))
		}
	})
}

// sgStale makes an ok get read a value its key held at some time, or
// absence.
func sgStale(p sgPicker, h *history.History) {
	op := &h.Ops[p.pick(len(h.Ops))]
	if op.Method != history.Get || op.Status != history.StatusOK {
		return
	}
	vals := []json.RawMessage{nil}
	for i := range h.Ops {
		if o := &h.Ops[i]; o.Key == op.Key && o.Status == history.StatusOK {
			if v, ok := mayWrite(o); ok {
				vals = append(vals, v)
			}
		}
	}
	op.Output.Value = vals[p.pick(len(vals))]
}

func sgText(h *history.History) string {
	var b strings.Builder
	for i := range h.Ops {
		b.WriteString(h.Ops[i].String())
		b.WriteString(" [" + strconv.FormatInt(h.Ops[i].Call, 10) + "," + strconv.FormatInt(h.Ops[i].Return, 10) + "]\n")
	}
	for _, e := range h.Events {
		b.WriteString(string(e.Kind) + " at " + strconv.FormatInt(e.Time, 10) + "\n")
	}
	return b.String()
}

// BenchmarkSessions checks a linearizable history of 100,000 operations
// by 4 workers on 10 keys (3 of them counters) with the session and
// counter checks, together and apart.
func BenchmarkSessions(b *testing.B) {
	cfg := sgConfig{workers: 4, keys: 10, counters: 3, ops: 100_000, restarts: 2, pctUnknown: 1, pctFail: 1, model: history.ModelKV}
	h := sgGenerate(sgSeeded{rand.New(rand.NewPCG(1, 2))}, cfg)
	sessions := func(b *testing.B) {
		if vs := checkSessions(h, cfg.model); len(vs) > 0 {
			b.Fatalf("checkSessions: %s", vs[0].Text)
		}
	}
	counters := func(b *testing.B) {
		if vs, _ := checkCounters(h, cfg.model); len(vs) > 0 {
			b.Fatalf("checkCounters: %s", vs[0].Text)
		}
	}
	for _, bc := range []struct {
		name   string
		checks []func(*testing.B)
	}{{"both", []func(*testing.B){sessions, counters}}, {"sessions", []func(*testing.B){sessions}}, {"counters", []func(*testing.B){counters}}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				for _, check := range bc.checks {
					check(b)
				}
			}
		})
	}
}

// sgPicker makes a generated history's random choices.
type sgPicker interface{ pick(n int) int }

type sgRapid struct{ t *rapid.T }

func (p sgRapid) pick(n int) int { return rapid.IntRange(0, n-1).Draw(p.t, "pick") }

type sgSeeded struct{ r *rand.Rand }

func (p sgSeeded) pick(n int) int { return p.r.IntN(n) }

// sgConfig shapes a generated history. The first keys are counters,
// changed only by add and get-then-set increments.
type sgConfig struct {
	workers, keys, counters, ops int
	restarts                     int
	pctUnknown, pctFail, pctTTL  int
	model                        history.Model
}

// sgOp is a generated operation and where it takes effect, in eighths of
// the clock: within its interval, or anywhere after its call if it is
// unknown; -1 if it never does.
type sgOp struct {
	op         history.Op
	point, tie int64
	reset      bool   // a master restart, not an operation
	evict      string // an eviction of this key, not an operation
}

// sgGenerate makes a linearizable history: the workers' operations get
// random, possibly touching intervals, each takes effect at a random
// point of its interval, and outputs come from applying them in that
// order to a store. Each key holds its values' JSON text.
func sgGenerate(p sgPicker, cfg sgConfig) *history.History {
	all := sgIntervals(p, cfg)
	bounds := sgRestarts(p, cfg, all)
	sgPoints(p, all, bounds)
	all = append(all, sgEvictions(p, cfg, all)...)
	for _, t := range bounds {
		all = append(all, &sgOp{point: 8 * t, tie: -1, reset: true})
	}
	sgApply(p, cfg, all)
	h := &history.History{Header: history.NewHeader(cfg.model, "generated", 0)}
	for _, t := range bounds {
		h.Events = append(h.Events, history.Event{Kind: history.EventMasterRestart, Time: t, Reset: true})
	}
	for _, o := range all {
		if o.op.Worker != "" {
			h.Ops = append(h.Ops, o.op)
		}
	}
	if p.pick(2) == 0 { // as a recorder writes them
		slices.SortStableFunc(h.Ops, func(a, b history.Op) int { return sgCompare(returned(&a), returned(&b)) })
	}
	for i := range h.Ops {
		h.Ops[i].ID = int64(i + 1)
	}
	return h
}

// sgIntervals draws each worker's operations and their intervals, then
// a final read of every key after all of them.
func sgIntervals(p sgPicker, cfg sgConfig) []*sgOp {
	var all []*sgOp
	end := int64(0)
	for w := range cfg.workers {
		t, stream := int64(p.pick(4)), 0
		for range max(1, cfg.ops/cfg.workers) {
			o := &sgOp{op: sgContent(p, cfg)}
			o.op.Worker, o.op.Stream = "w"+strconv.Itoa(w), stream
			o.op.Call = t + int64(p.pick(3))
			o.op.Return = o.op.Call + int64(p.pick(5))
			o.op.Status = history.StatusOK
			switch n := p.pick(100); {
			case n < cfg.pctUnknown:
				o.op.Status, o.op.Return = history.StatusUnknown, 0
				stream++
				t = o.op.Call + int64(p.pick(6))
			case n < cfg.pctUnknown+cfg.pctFail:
				o.op.Status = history.StatusFail
				t = o.op.Return
			default:
				t = o.op.Return
			}
			end = max(end, t, o.op.Return)
			all = append(all, o)
		}
	}
	for k := range cfg.keys {
		all = append(all, &sgOp{op: history.Op{Worker: "final", Stream: k, Method: history.Get, Key: sgKey(k),
			Call: end + 2, Return: end + 3, Status: history.StatusOK}})
	}
	return all
}

func sgKey(k int) string { return "k" + strconv.Itoa(k) }

var sgValues = []string{`0`, `1`, `2`, `3`, `"a"`, `"b"`, `{"x":1}`, `[1,2]`}

// sgContent draws an operation's method, key and input.
func sgContent(p sgPicker, cfg sgConfig) history.Op {
	k := p.pick(cfg.keys)
	op := history.Op{Key: sgKey(k)}
	value := func() json.RawMessage { return json.RawMessage(sgValues[p.pick(len(sgValues))]) }
	if k < cfg.counters {
		switch p.pick(3) {
		case 0:
			op.Method = history.Get
		case 1:
			op.Method, op.Input.Delta = history.Add, int64(p.pick(5)-2)
		default:
			op.Method, op.Input.Incr = history.Set, int64(p.pick(3)+1)
		}
		return op
	}
	switch p.pick(5) {
	case 0:
		op.Method = history.Get
	case 1:
		op.Method, op.Input.Value = history.Set, value()
		if p.pick(100) < cfg.pctTTL {
			op.Input.TTL = 1000
		}
	case 2:
		op.Method = history.Delete
	case 3:
		op.Method, op.Input.Value = history.CAS, value()
		if p.pick(3) > 0 {
			op.Input.Old = value()
		}
	default:
		op.Method, op.Input.Delta = history.Add, int64(p.pick(5)-2)
	}
	return op
}

// sgRestarts draws the master restarts, and makes unknown every
// operation that spans one (its worker goes on as a new stream).
func sgRestarts(p sgPicker, cfg sgConfig, all []*sgOp) []int64 {
	end := all[len(all)-1].op.Call
	var bounds []int64
	for range cfg.restarts {
		bounds = append(bounds, 1+int64(p.pick(int(end))))
	}
	slices.Sort(bounds)
	streams := map[string]int{}
	for _, o := range all {
		op := &o.op
		op.Stream += streams[op.Worker]
		e := epochOf(bounds, op.Call)
		if op.Status != history.StatusUnknown && int(e) < len(bounds) && op.Return >= bounds[e] {
			op.Status, op.Return = history.StatusUnknown, 0
			streams[op.Worker]++
		}
	}
	return bounds
}

// sgPoints draws where each operation takes effect.
func sgPoints(p sgPicker, all []*sgOp, bounds []int64) {
	type stream struct {
		worker string
		n      int
	}
	lastReturn := map[stream]int64{}
	for _, o := range all {
		op := &o.op
		o.tie = int64(p.pick(1 << 20))
		// An operation called as its stream's last one returned comes
		// after it (as the checker reads a stream), unless it returned at
		// once.
		first := 8 * op.Call
		s := stream{op.Worker, op.Stream}
		if r, ok := lastReturn[s]; ok && r == op.Call && (op.Status == history.StatusUnknown || op.Call < op.Return) {
			first++
		}
		if op.Status != history.StatusUnknown {
			lastReturn[s] = op.Return
		}
		switch op.Status {
		case history.StatusOK:
			o.point = first + int64(p.pick(int(8*op.Return-first)+1))
		case history.StatusFail:
			o.point = -1
		case history.StatusUnknown:
			o.point = -1
			if p.pick(2) == 0 {
				o.point = first + int64(p.pick(64))
				if e := epochOf(bounds, op.Call); int(e) < len(bounds) {
					o.point = min(o.point, 8*bounds[e]-1)
				}
			}
		}
	}
}

// sgEvictions draws evictions of the keys that may vanish.
func sgEvictions(p sgPicker, cfg sgConfig, all []*sgOp) []*sgOp {
	may := map[string]bool{}
	end := int64(1)
	for _, o := range all {
		if cfg.model == history.ModelKVEvict || o.op.Input.TTL > 0 && o.op.Status != history.StatusFail {
			may[o.op.Key] = true
		}
		end = max(end, o.point)
	}
	var ev []*sgOp
	for k := range cfg.keys {
		if !may[sgKey(k)] {
			continue
		}
		for range p.pick(len(all)/4 + 1) {
			ev = append(ev, &sgOp{point: int64(p.pick(int(end))), tie: int64(p.pick(1 << 20)), evict: sgKey(k)})
		}
	}
	return ev
}

// sgApply applies the operations in the order of their points, and sets
// their outputs.
func sgApply(p sgPicker, cfg sgConfig, all []*sgOp) {
	order := slices.Clone(all)
	slices.SortStableFunc(order, func(a, b *sgOp) int {
		if c := sgCompare(a.point, b.point); c != 0 {
			return c
		}
		return sgCompare(a.tie, b.tie)
	})
	store := map[string]string{}
	for _, o := range order {
		switch {
		case o.reset:
			clear(store)
		case o.evict != "":
			delete(store, o.evict)
		case o.point < 0:
			sgNever(p, &o.op)
		default:
			sgStep(store, &o.op)
		}
	}
}

func sgCompare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sgNever completes an operation that did nothing.
func sgNever(p sgPicker, op *history.Op) {
	if op.Input.Incr != 0 {
		op.Input.Value = json.RawMessage(strconv.Itoa(p.pick(9)))
	}
	if op.Status == history.StatusFail {
		op.Output.Error = &history.ErrorInfo{Code: "overloaded"}
	}
}

// sgStep applies op to store and sets its output.
func sgStep(store map[string]string, op *history.Op) {
	cur, present := store[op.Key]
	var out string
	switch op.Method {
	case history.Get:
		out = cur
	case history.Set:
		if op.Input.Incr != 0 {
			n, _ := strconv.ParseInt(cur, 10, 64) // absent is 0
			op.Input.Value = json.RawMessage(strconv.FormatInt(n+op.Input.Incr, 10))
		}
		store[op.Key], out = string(op.Input.Value), `"OK"`
	case history.Delete:
		delete(store, op.Key)
		out = strconv.FormatBool(present)
	case history.CAS:
		match := !present && op.Input.Old == nil || present && op.Input.Old != nil && cur == string(op.Input.Old)
		if match {
			store[op.Key] = string(op.Input.Value)
		}
		out = strconv.FormatBool(match)
	case history.Add:
		n, err := strconv.ParseInt(cur, 10, 64)
		if present && (err != nil || strconv.FormatInt(n, 10) != cur) {
			if op.Status == history.StatusOK { // it failed; an unknown one did nothing
				op.Status, op.Output.Error = history.StatusFail, &history.ErrorInfo{Code: "not_integer"}
			}
			return
		}
		out = strconv.FormatInt(n+op.Input.Delta, 10)
		store[op.Key] = out
	}
	if op.Status == history.StatusOK {
		op.Output.Value = handValue(out)
	}
}
