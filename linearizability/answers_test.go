package linearizability

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
)

// answered makes the last operation's ok answer v (nil: no value).
func (b *handHistory) answered(v string) *handHistory {
	b.last().Output = history.Output{}
	if v != "" {
		b.last().Output.Value = json.RawMessage(v)
	}
	return b
}

// TestAnswerType: an ok delete or cas answers true or false, an ok add
// an integer; anything else is an answer violation, whatever else holds.
// A get or a set answers anything, and a failed or unknown operation is
// not an answer.
func TestAnswerType(t *testing.T) {
	bad := func(id int64) []foundViolation {
		return []foundViolation{{Check: CheckAnswer, Key: "a", IDs: []int64{id}}}
	}
	for _, tc := range []struct {
		name string
		h    *handHistory
		want []foundViolation
	}{
		{name: "a delete answered a boolean", h: newHand(history.ModelKV).del("w1", "a", false, 1, 2)},
		{name: "a delete answered a number", h: newHand(history.ModelKV).del("w1", "a", false, 1, 2).answered("17"), want: bad(1)},
		{name: "a delete answered nothing", h: newHand(history.ModelKV).del("w1", "a", false, 1, 2).answered(""), want: bad(1)},
		{name: "a cas answered a string", h: newHand(history.ModelKV).cas("w1", "a", "", "1", true, 1, 2).answered(`"OK"`), want: bad(1)},
		{name: "an add answered an integer", h: newHand(history.ModelKV).add("w1", "a", 2, -3, 1, 2).answered("-3")},
		{name: "an add answered a string", h: newHand(history.ModelKV).add("w1", "a", 2, 2, 1, 2).answered(`"OK"`), want: bad(1)},
		{name: "a set answered a number", h: newHand(history.ModelKV).set("w1", "a", "1", 1, 2).answered("17")},
		{name: "a get answered true", h: newHand(history.ModelKV).get("w1", "a", "", 1, 2).answered("true")},
		{name: "an unknown delete", h: newHand(history.ModelKV).del("w1", "a", false, 1, 2).answered("17").unknown()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, summarizeViolations(checkAnswers(&tc.h.h))); diff != "" {
				t.Errorf("answer violations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAnswerTypeFails: a history with an ill-typed answer reads (it
// records what was answered), and Check fails it with an answer
// violation, as an invariant.
func TestAnswerTypeFails(t *testing.T) {
	for _, op := range []string{
		`{"type":"op","id":1,"worker":"w1","method":"delete","key":"x","input":{},"output":{"value":"yes"},"call":0,"return":10,"status":"ok"}`,
		`{"type":"op","id":1,"worker":"w1","method":"cas","key":"x","input":{"value":2},"output":{},"call":0,"return":10,"status":"ok"}`,
		`{"type":"op","id":1,"worker":"w1","method":"add","key":"x","input":{"delta":1},"output":{"value":1.5},"call":0,"return":10,"status":"ok"}`,
		`{"type":"op","id":1,"worker":"w1","method":"add","key":"x","input":{"delta":1},"output":{"value":9223372036854775808},"call":0,"return":10,"status":"ok"}`,
	} {
		h, err := history.Read(strings.NewReader(`{"type":"header","format":"shmlab-history","version":1,"model":"kv"}`+"\n"+op+"\n"), "h.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		r := Check(h, Options{})
		if r.Verdict != Illegal || len(r.Invariants) != 1 || r.Invariants[0].Check != CheckAnswer {
			t.Errorf("%s: verdict %v, invariants %v: want illegal with one answer violation", op, r.Verdict, r.Invariants)
		}
	}
}
