package linearizability

import (
	"fmt"

	"github.com/shmlab/shmlab/history"
)

// The read-back invariant: a value a store accepted reads back. The
// reference refuses a set or cas of a value whose get reply, on either
// codec and with the longest integer uuid, would pass its frame limit
// (shm.MaxValueBytes, a definite too_large), so every value it stores
// fits in a reply; and a get's request on a key is smaller than any
// write's on it. So a get answered too_large (ErrorTooLarge) on a key
// that a write stored a value in (an ok set, or a cas answered true) is
// a violation, whenever it came: the store took the value and then
// could not give it back. (A uuid kept as text longer than 20 bytes
// lengthens the reply; shmlab's harnesses send integers.)

// invariantReadBack is the read-back check's name, as in Violation.Check.
const invariantReadBack = "read-back"

// ErrorTooLarge is the error code of the reference's refusal of a
// request or reply that would pass the frame limit (shm.CodeTooLarge).
const ErrorTooLarge = "too_large"

// checkReadBack returns a violation for each key with a get answered
// too_large after a write stored a value in it: the first such get, with
// that write as the witness, and how many more gets there were (More).
func checkReadBack(h *history.History) []Violation {
	stored := make(map[string]int) // key -> a write that stored a value
	for i := range h.Ops {
		if op := &h.Ops[i]; storedValue(op) {
			if _, ok := stored[op.Key]; !ok {
				stored[op.Key] = i
			}
		}
	}
	var vs []Violation
	at := make(map[string]int) // key -> its violation in vs
	for i := range h.Ops {
		op := &h.Ops[i]
		w, ok := stored[op.Key]
		if !ok || op.Method != history.Get || op.Output.Error == nil || op.Output.Error.Code != ErrorTooLarge {
			continue
		}
		if j, seen := at[op.Key]; seen {
			vs[j].More++
			continue
		}
		at[op.Key] = len(vs)
		wr := &h.Ops[w]
		vs = append(vs, Violation{Check: invariantReadBack, Key: op.Key, Ops: []history.Op{*op, *wr},
			Text: fmt.Sprintf("%s, yet #%d %s/%d %s(%q) stored a value of %d bytes there: a value the store took must read back (it refuses one whose reply would not fit).",
				op, wr.ID, wr.Worker, wr.Stream, wr.Method, wr.Key, len(wr.Input.Value))})
	}
	return vs
}

// storedValue reports whether op stored a value: an ok set, or a cas
// answered true.
func storedValue(op *history.Op) bool {
	switch {
	case op.Status != history.StatusOK:
		return false
	case op.Method == history.Set:
		return true
	case op.Method == history.CAS:
		return string(op.Output.Value) == "true"
	}
	return false
}
