package linearizability

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
)

// tooLarge makes the last operation a get refused with too_large.
func (b *handHistory) tooLarge() *handHistory {
	op := b.last()
	op.Status, op.Output = history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: ErrorTooLarge, Message: "reply frame of up to 4096 bytes"}}
	return b
}

// TestReadBack: a get answered too_large is a violation on a key a write
// stored a value in (an ok set, a cas answered true), and only there.
func TestReadBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *handHistory
		want []string // the keys of the violations
	}{{
		name: "a set value read back",
		h:    newHand(history.ModelKV).set("a", "k", `"v"`, 1, 2).get("b", "k", `"v"`, 3, 4),
	}, {
		name: "a set value answered too_large",
		h:    newHand(history.ModelKV).set("a", "k", `"v"`, 1, 2).get("b", "k", "", 3, 4).tooLarge(),
		want: []string{"k"},
	}, {
		name: "too_large before the write stored, and again after",
		h: newHand(history.ModelKV).get("b", "k", "", 1, 2).tooLarge().set("a", "k", `"v"`, 3, 4).
			get("b", "k", "", 5, 6).tooLarge(),
		want: []string{"k"},
	}, {
		name: "a cas that swapped stored a value",
		h:    newHand(history.ModelKV).cas("a", "k", "", `"v"`, true, 1, 2).get("b", "k", "", 3, 4).tooLarge(),
		want: []string{"k"},
	}, {
		name: "a cas that did not swap stored nothing",
		h:    newHand(history.ModelKV).cas("a", "k", `"x"`, `"v"`, false, 1, 2).get("b", "k", "", 3, 4).tooLarge(),
	}, {
		name: "a set refused stored nothing",
		h:    newHand(history.ModelKV).set("a", "k", `"v"`, 1, 2).failed().get("b", "k", "", 3, 4).tooLarge(),
	}, {
		name: "an unknown set may not have stored",
		h:    newHand(history.ModelKV).set("a", "k", `"v"`, 1, 2).unknown().get("b", "k", "", 3, 4).tooLarge(),
	}, {
		name: "a write of another key",
		h:    newHand(history.ModelKV).set("a", "j", `"v"`, 1, 2).get("b", "k", "", 3, 4).tooLarge(),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range checkReadBack(&tc.h.h) {
				got = append(got, v.Key)
				if v.Check != invariantReadBack || v.Ops[0].Method != history.Get || v.Text == "" {
					t.Errorf("violation %+v: want a read-back one naming the get first", v)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadBackInCheck: Check reports the read-back violation as an
// invariant, and the verdict is Illegal.
func TestReadBackInCheck(t *testing.T) {
	h := newHand(history.ModelKV).set("a", "k", `"v"`, 1, 2).get("b", "k", "", 3, 4).tooLarge().get("b", "k", "", 5, 6).tooLarge()
	r := Check(&h.h, Options{})
	if r.Verdict != Illegal || len(r.Invariants) != 1 || r.Invariants[0].Check != invariantReadBack || r.Invariants[0].More != 1 {
		t.Fatalf("verdict %v, invariants %+v: want Illegal and one read-back violation with one more", r.Verdict, r.Invariants)
	}
}
