package linearizability

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"pgregory.net/rapid"
)

// TestCheckAcceptsSimulatedAppends: histories of random concurrent gets,
// sets, appends, deletes and cases against a sequential store are always
// accepted, by every check, whatever the unknown outcomes, failures
// (appends to a value that is not a string), restarts and evictions.
func TestCheckAcceptsSimulatedAppends(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := historytest.DrawConfig(t)
		cfg.Methods = historytest.AppendMethods
		h := roundTrip(t, historytest.Simulate(historytest.RapidChooser{T: t}, cfg))
		if r := Check(h, Options{}); r.Verdict != Ok {
			t.Fatalf("a simulated history is %s:\n%s\n%s\n%s", r.Verdict, explanations(r), r.Details(), text(h))
		}
	})
}

// TestCheckRejectsWrongAppend: in a history with no concurrency, a get
// of a string that appends made, made to return that string with one
// part missing or doubled, is always rejected and named.
func TestCheckRejectsWrongAppend(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := historytest.RapidChooser{T: t}
		h := historytest.Simulate(c, historytest.Config{Model: history.ModelKV, Workers: 1 + c.Intn(3), Keys: []string{"a", "b"}[:1+c.Intn(2)],
			Ops: 2 + c.Intn(30), OneAtATime: true, Methods: historytest.AppendMethods})
		var reads []int
		for i := range h.Ops {
			if op := &h.Ops[i]; op.Method == history.Get && len(op.Output.Value) > 2 && op.Output.Value[0] == '"' {
				reads = append(reads, i)
			}
		}
		if len(reads) == 0 {
			t.Skip("no get read a string")
		}
		op := &h.Ops[reads[c.Intn(len(reads))]]
		v := string(op.Output.Value)
		if c.Intn(2) == 0 {
			op.Output.Value = json.RawMessage(v[:len(v)-2] + `"`) // the last character lost
		} else {
			op.Output.Value = json.RawMessage(v[:len(v)-1] + v[1:]) // appended twice
		}
		if strings.HasSuffix(v, `\n"`) && len(op.Output.Value) < len(v) {
			op.Output.Value = json.RawMessage(v[:len(v)-3] + `"`)
		}
		r := Check(roundTrip(t, h), Options{NoSessions: true})
		if r.Linearizable != Illegal {
			t.Fatalf("%s is not rejected:\n%s", op, text(h))
		}
		if got := r.Keys[0].Ops; len(got) == 0 || got[0].ID != op.ID {
			t.Fatalf("the wrong read is %s; the explanation is:\n%s", op, r.Keys[0].Explanation)
		}
	})
}

// appendHistory is a get/set/append history in the format.
const appendHistory = `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}
{"type":"op","id":1,"worker":"w1","method":"append","key":"x","input":{"value":"a"},"output":{},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w2","method":"append","key":"x","input":{"value":"b"},"output":{},"call":15,"return":25,"status":"ok"}
{"type":"op","id":3,"worker":"w1","method":"get","key":"x","input":{},"output":{"value":"%s"},"call":30,"return":40,"status":"ok"}
`

// TestCheckAppend checks the verdict and explanation on two concurrent
// appends: either order is fine, a string neither makes is not.
func TestCheckAppend(t *testing.T) {
	for _, tc := range []struct {
		read, want string
	}{
		{"ab", ""},
		{"ba", ""},
		{"a", `#3 w1/0 get("x") -> "a" (line 4) cannot be linearized`},
		{"abb", `#3 w1/0 get("x") -> "abb" (line 4) cannot be linearized`},
	} {
		t.Run(tc.read, func(t *testing.T) {
			h, err := history.Read(strings.NewReader(strings.Replace(appendHistory, "%s", tc.read, 1)), "append.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			r := Check(h, Options{})
			if tc.want == "" {
				if r.Verdict != Ok {
					t.Fatalf("verdict %s; want ok:\n%s", r.Verdict, r.Details())
				}
				return
			}
			if r.Verdict != Illegal || len(r.Keys) != 1 || !strings.HasPrefix(r.Keys[0].Explanation, tc.want) {
				t.Fatalf("verdict %s, want illegal with an explanation beginning %q:\n%s", r.Verdict, tc.want, r.Details())
			}
			if !strings.Contains(r.Keys[0].Explanation, `… + "b"`) {
				t.Errorf("the explanation does not name what the appends leave:\n%s", r.Keys[0].Explanation)
			}
		})
	}
}

// TestCheckRegister checks the register model: one key, get, set and
// cas only; anything else is not checked, and says why.
func TestCheckRegister(t *testing.T) {
	reg := func(ops ...history.Op) *history.History {
		h := &history.History{Header: history.NewHeader(history.ModelRegister, "", 0), Name: "r.jsonl"}
		for i, op := range ops {
			op.ID, op.Worker, op.Call, op.Return = int64(i+1), "w1", int64(10*i), int64(10*i+5)
			h.Ops = append(h.Ops, op)
		}
		return h
	}
	on := func(key string, op history.Op) history.Op { op.Key = key; return op }
	for _, tc := range []struct {
		name string
		h    *history.History
		want string // the start of the error; "" for a check
	}{
		{"get, set and cas", reg(on("r", okSet("1")), on("r", okCAS("1", "2", true)), on("r", okGet("2"))), ""},
		{"two keys", reg(on("r", okSet("1")), on("s", okGet("1"))), `invalid history: #2 w1/0 get("s") -> 1: the register model holds one register, and #1 w1/0 set("r", 1) -> "OK" names another key`},
		{"an add", reg(on("r", okAdd(1, "1"))), `invalid history: #1 w1/0 add("r", +1) -> 1: the register model has only get, set and cas`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.h, Options{})
			if tc.want == "" {
				if r.Invalid != nil || r.Verdict != Ok {
					t.Fatalf("verdict %s (%v); want ok", r.Verdict, r.Invalid)
				}
				return
			}
			if r.Invalid == nil {
				t.Fatalf("checked (%s); want the error %q", r.Verdict, tc.want)
			}
			if diff := cmp.Diff(tc.want, r.Invalid.Error()); diff != "" {
				t.Errorf("error: mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
