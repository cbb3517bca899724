package linearizability

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"pgregory.net/rapid"
)

func porcupineVerdict(r porcupine.CheckResult) Verdict {
	switch r {
	case porcupine.Ok:
		return Ok
	case porcupine.Illegal:
		return Illegal
	}
	return Unknown
}

// porcupineKey decides kh with porcupine's verbose search.
func porcupineKey(kh *keyHistory) (porcupine.CheckResult, [][]int) {
	res, info := porcupine.CheckOperationsVerbose(kh.model.porcupine(), kh.ops, time.Second)
	var parts [][]int
	if p := info.PartialLinearizations(); len(p) > 0 {
		parts = p[0]
	}
	return res, parts
}

func longestLen(ps [][]int) int {
	n := 0
	for _, p := range ps {
		n = max(n, len(p))
	}
	return n
}

// breakAnswer changes the answer of one operation that returned: a get
// reads another value of the history (or none), a cas or delete answers
// the other boolean, an add another sum. It reports whether it found one.
func breakAnswer(c historytest.Chooser, h *history.History) bool {
	var cands []int
	var vals []json.RawMessage
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Input.Value != nil {
			vals = append(vals, op.Input.Value)
		}
		if op.Status == history.StatusOK && op.Method != history.Set {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return false
	}
	op := &h.Ops[cands[c.Intn(len(cands))]]
	switch op.Method {
	case history.Get:
		vals = append(vals, nil)
		op.Output.Value = vals[c.Intn(len(vals))]
	case history.CAS, history.Delete:
		op.Output.Value = json.RawMessage(strconv.FormatBool(string(op.Output.Value) != "true"))
	case history.Add:
		n, _ := history.Int(op.Output.Value)
		op.Output.Value = json.RawMessage(strconv.FormatInt(n+int64(1+c.Intn(2)), 10))
	}
	return true
}

// requireLinearization fails t unless lin holds each of kh's operations
// once, in an order the model and real time allow.
func requireLinearization(t *rapid.T, kh *keyHistory, lin []int) {
	sorted := slices.Sorted(slices.Values(lin))
	for i, x := range sorted {
		if x != i {
			t.Fatalf("key %q: the linearization %v does not hold every operation once", kh.key, lin)
		}
	}
	requirePrefix(t, kh, lin)
}

// requirePrefix fails t unless p is an order of some of kh's operations
// that the model and real time allow, and no operation left out returned
// before one in it was called.
func requirePrefix(t *rapid.T, kh *keyHistory, p []int) {
	st := kh.stepper()
	s := st.init()
	in := map[int]bool{}
	for i, x := range p {
		var ok bool
		if ok, s = st.step(s, kh.ops[x].Input.(*kvOp)); !ok {
			t.Fatalf("key %q: the model refuses operation %d at %d of %v", kh.key, x, i, p)
		}
		for _, y := range p[i+1:] {
			if kh.ops[y].Return < kh.ops[x].Call {
				t.Fatalf("key %q: %d returned before %d was called, yet comes after it in %v", kh.key, y, x, p)
			}
		}
		in[x] = true
	}
	for y := range kh.ops {
		for _, x := range p {
			if !in[y] && kh.ops[y].Return < kh.ops[x].Call {
				t.Fatalf("key %q: %d, left out, returned before %d in %v was called", kh.key, y, x, p)
			}
		}
	}
}
