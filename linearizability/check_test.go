package linearizability

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/history"
)

// hardHistory has n writes of one key, all at once, then a read of a
// value none wrote: to reject it the search must try every order of
// the writes, which takes far longer than any test waits.
func hardHistory(n int) *history.History {
	h := &history.History{Header: history.NewHeader(history.ModelKV, "hard", 0)}
	for i := range n {
		h.Ops = append(h.Ops, history.Op{ID: int64(i + 1), Worker: fmt.Sprintf("w%d", i), Method: history.Set, Key: "k",
			Input: history.Input{Value: json.RawMessage(fmt.Sprint(i))}, Output: history.Output{Value: json.RawMessage(`"OK"`)},
			Call: 0, Return: 100, Status: history.StatusOK})
	}
	h.Ops = append(h.Ops, history.Op{ID: int64(n + 1), Worker: "reader", Method: history.Get, Key: "k",
		Output: history.Output{Value: json.RawMessage(`"nowhere"`)}, Call: 200, Return: 300, Status: history.StatusOK})
	return h
}

func TestCheckTimeoutIsUnknown(t *testing.T) {
	r := Check(hardHistory(40), Options{Timeout: 50 * time.Millisecond})
	if r.Verdict != Unknown || r.Linearizable != Unknown {
		t.Fatalf("verdict %v (linearizable %v), want unknown: the search cannot finish", r.Verdict, r.Linearizable)
	}
	if len(r.Keys) != 1 || r.Keys[0].Verdict != Unknown || !strings.Contains(r.Keys[0].Explanation, "ran out of time") {
		t.Errorf("keys %+v, want key k undecided", r.Keys)
	}
	if !strings.HasPrefix(r.String(), "unknown: ") || !strings.Contains(r.String(), "1 key undecided") {
		t.Errorf("String() = %q", r.String())
	}
}

func TestCheckSmallHardHistoryIsIllegal(t *testing.T) {
	// The same shape, small enough to search to the end: rejected.
	r := Check(hardHistory(6), Options{Timeout: time.Minute})
	if r.Verdict != Illegal {
		t.Fatalf("verdict %v, want illegal", r.Verdict)
	}
	if got := r.Keys[0].Ops[0].ID; got != 7 {
		t.Errorf("the operation at fault is #%d, want the read #7", got)
	}
}

func TestCheckOkHasNoKeys(t *testing.T) {
	h := hardHistory(6)
	h.Ops[len(h.Ops)-1].Output.Value = json.RawMessage(`3`)
	r := Check(h, Options{})
	if r.Verdict != Ok || len(r.Keys) != 0 || r.Ops != 7 || r.Checked != 7 || r.Duration <= 0 {
		t.Errorf("result %+v, want ok with 7 operations checked and a duration", r)
	}
}

func TestResultErr(t *testing.T) {
	ok := hardHistory(6)
	ok.Ops[len(ok.Ops)-1].Output.Value = json.RawMessage(`3`)
	for _, tt := range []struct {
		name string
		r    *Result
		want error
	}{
		{"ok", Check(ok, Options{}), nil},
		{"illegal", Check(hardHistory(6), Options{}), ErrViolation},
		{"unknown", Check(hardHistory(40), Options{Timeout: 20 * time.Millisecond}), ErrUndecided},
	} {
		err := tt.r.Err()
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Err() = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestCheckRefusesInvalidHistories(t *testing.T) {
	good := func() *history.History {
		return &history.History{Header: history.NewHeader(history.ModelKV, "", 0), Ops: []history.Op{{ID: 1, Worker: "w1", Method: history.Set, Key: "k",
			Input: history.Input{Value: json.RawMessage(`1`)}, Output: history.Output{Value: json.RawMessage(`"OK"`)}, Call: 1, Return: 2, Status: history.StatusOK}}}
	}
	for _, tt := range []struct {
		name  string
		spoil func(h *history.History)
		opts  Options
		want  string
	}{
		{"unquoted output", func(h *history.History) { h.Ops[0].Output.Value = json.RawMessage(`OK`) }, Options{}, `"OK" is not a JSON text`},
		{"input not JSON", func(h *history.History) { h.Ops[0].Input.Value = json.RawMessage(`hello`) }, Options{}, `"hello" is not a JSON text`},
		{"unknown method", func(h *history.History) { h.Ops[0].Method = "incr" }, Options{}, `unknown method "incr"`},
		{"set without value", func(h *history.History) { h.Ops[0].Input.Value = nil }, Options{}, `input.value: missing (set stores a value)`},
		{"key not UTF-8", func(h *history.History) { h.Ops[0].Key = "k\xff" }, Options{}, `the key is not UTF-8`},
		{"zero header", func(h *history.History) { h.Header = history.Header{} }, Options{}, `unknown model ""`},
		{"unknown model option", func(*history.History) {}, Options{Model: "redis"}, `unknown model "redis"`},
	} {
		h := good()
		tt.spoil(h)
		r := Check(h, tt.opts)
		if r.Verdict != Unknown || r.Invalid == nil || !errors.Is(r.Err(), ErrInvalid) || !strings.Contains(r.Invalid.Error(), tt.want) {
			t.Errorf("%s: verdict %v, invalid %v; want unknown, invalid containing %q", tt.name, r.Verdict, r.Invalid, tt.want)
		}
	}
	if r := Check(good(), Options{}); r.Verdict != Ok {
		t.Errorf("the valid history: %v", r)
	}
}

// TestStreamTies: an operation called at the instant its stream's last
// one returned comes after it (a stream is sequential), as the simulator
// makes them; the same instant on two streams stays concurrent, and an
// operation answered on the spot keeps its place.
func TestStreamTies(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *handHistory
		want Verdict
	}{
		{"one stream, back to back", newHand(history.ModelKV).set("a", "k", `1`, 1, 2).cas("a", "k", `1`, `5`, false, 2, 3).get("a", "k", `1`, 3, 4), Illegal},
		{"one stream, a stale read right after a write", newHand(history.ModelKV).set("a", "k", `1`, 1, 2).get("a", "k", "", 2, 3), Illegal},
		{"two streams at one instant", newHand(history.ModelKV).set("a", "k", `1`, 1, 2).get("b", "k", "", 2, 3), Ok},
		{"one stream, answered on the spot", newHand(history.ModelKV).set("a", "k", `1`, 1, 2).get("a", "k", "", 2, 2), Ok},
		{"one stream, a gap", newHand(history.ModelKV).set("a", "k", `1`, 1, 2).get("a", "k", `1`, 3, 4), Ok},
	} {
		h := tc.h.history(t)
		if r := Check(h, Options{NoSessions: true, NoCounters: true}); r.Linearizable != tc.want {
			t.Errorf("%s: %v, want %v (%v)", tc.name, r.Linearizable, tc.want, r.Keys)
		}
	}
}
