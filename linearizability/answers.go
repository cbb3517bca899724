package linearizability

import (
	"fmt"

	"github.com/shmlab/shmlab/history"
)

// The answer check: every ok answer has the type its method allows
// (HISTORY.md, the table of outputs): a delete or a cas answers true or
// false, an add or a len an integer in the int64 range. A client that records any other answer as
// ok took a reply that cannot be its call's: one damaged on the way, or
// one that answers another call (an id moved by a fault). The reference
// client turns such a reply into an indefinite bad_reply, whatever the
// faults; the models would read a delete's 17 as false and let it pass.
// A get, a set (whose answer a library may choose) and the unchecked
// methods answer anything.

// CheckAnswer names the answer check in Violation.Check.
const CheckAnswer = "answer"

// checkAnswers reports the ok operations of h whose answer their method
// cannot give (the first few, the last listed counting the rest).
func checkAnswers(h *history.History) []Violation {
	var vs []Violation
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status != history.StatusOK {
			continue
		}
		want := answerType(op.Method)
		if want == "" || answers(op.Method, op.Output.Value) {
			continue
		}
		got := "nothing"
		if op.Output.Value != nil {
			got = string(op.Output.Value)
			if len(got) > 40 {
				got = got[:40] + "…"
			}
		}
		vs = append(vs, Violation{Check: CheckAnswer, Key: op.Key, Ops: []history.Op{*op},
			Text: fmt.Sprintf("%s returned ok with %s, which is not %s: its client took as its answer a reply no %s gives (damaged, or another call's)", op, got, want, op.Method)})
	}
	return capShown(vs, "ill-typed answers")
}

// answerType says what an ok answer of method m is, "" for anything.
func answerType(m history.Method) string {
	switch m {
	case history.Delete, history.CAS:
		return "true or false"
	case history.Add, history.Len:
		return "an integer"
	}
	return ""
}

// answers reports whether v is an answer method m can give.
func answers(m history.Method, v []byte) bool {
	switch m {
	case history.Delete, history.CAS:
		return string(v) == "true" || string(v) == "false"
	case history.Add, history.Len:
		_, ok := history.Int(v)
		return ok
	}
	return true
}
