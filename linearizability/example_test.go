package linearizability_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"github.com/shmlab/shmlab/linearizability"
)

// A stale read: w2 reads 1 after w1's set of 2 has returned.
const staleRead = `{"type":"header","format":"shmlab-history","version":1,"model":"kv","scenario":"stale-read","seed":1}
{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w1","method":"set","key":"x","input":{"value":2},"output":{"value":"OK"},"call":30,"return":40,"status":"ok"}
{"type":"op","id":3,"worker":"w2","method":"get","key":"x","input":{},"output":{"value":1},"call":50,"return":60,"status":"ok"}
`

func ExampleCheck() {
	h, err := history.Read(strings.NewReader(staleRead), "stale.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := linearizability.Check(h, linearizability.Options{})
	fmt.Println(r.Verdict)
	for _, k := range r.Keys {
		fmt.Printf("key %q: %s\n", k.Key, k.Ops[0].String())
	}
	// Output:
	// illegal
	// key "x": #3 w2/0 get("x") -> 1 (line 4)
}

func ExampleRead() {
	_, err := history.Read(strings.NewReader(strings.Replace(staleRead, `"return":60`, `"return":5`, 1)), "h.jsonl")
	fmt.Println(err)
	// Output:
	// h.jsonl:4: field "return": return time 5 before call time 50
}

func ExampleWriter() {
	w := history.NewWriter(os.Stdout, history.NewHeader(history.ModelKV, "demo", 7))
	w.Op(&history.Op{ID: 1, Worker: "w1", Method: history.Add, Key: "hits",
		Input: history.Input{Delta: 1}, Output: history.Output{Value: []byte("1")},
		Call: 100, Return: 180, Status: history.StatusOK})
	w.Event(&history.Event{Kind: history.EventMasterRestart, Time: 200, Reset: true})
	if err := w.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"type":"header","format":"shmlab-history","version":1,"model":"kv","scenario":"demo","seed":7}
	// {"type":"op","id":1,"worker":"w1","stream":0,"method":"add","key":"hits","input":{"delta":1},"output":{"value":1},"call":100,"return":180,"status":"ok"}
	// {"type":"event","kind":"master_restart","time":200,"reset":true}
}

func ExampleHistory_WorkerOps() {
	h, err := history.Read(strings.NewReader(staleRead), "stale.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, op := range h.WorkerOps("w1") {
		fmt.Println(op.ID, op.Method, op.Key)
	}
	// Output:
	// 1 set x
	// 2 set x
}

// In a run whose header says no fault was planned, an operation left
// without an answer is a violation: here an "expired" answer.
func ExampleResult_Outcomes() {
	text := `{"type":"header","format":"shmlab-history","version":1,"model":"kv","faults":0}
{"type":"op","id":1,"worker":"w1","method":"add","key":"n","input":{"delta":1},"output":{"error":{"code":"expired"}},"call":10,"return":20,"status":"unknown"}
{"type":"op","id":2,"worker":"w2","method":"add","key":"n","input":{"delta":1},"output":{"value":1},"call":30,"return":40,"status":"ok"}
`
	h, err := history.Read(strings.NewReader(text), "h.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := linearizability.Check(h, linearizability.Options{})
	fmt.Printf("%+v\n", r.Outcomes)
	fmt.Println(r.Findings())
	fmt.Println(r.Counters.Summary())
	// Output:
	// {Unknown:1 Expired:1 Late:0}
	// 1 operation unavailable
	// not checked: no final read (key "n")
}

// A report with the verdict, the repro line and a window of at most 500
// operations around the violations.
func ExampleWriteReport() {
	h, err := history.Read(strings.NewReader(staleRead), "stale.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := linearizability.Check(h, linearizability.Options{})
	var b strings.Builder
	opts := linearizability.ReportOptions{Result: r, Repro: "shmlab check stale.jsonl", MaxOps: 500, Timeout: time.Minute}
	if err := linearizability.WriteReport(&b, h, opts); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(b.String(), `<a class="focus" href="#op-3">`))
	// Output:
	// true
}

// A history with a thousand writes of unknown outcome, none of them read
// ("set 0, then 1,000 unknown sets, then 100 gets reading 0"): porcupine
// alone would search 2^1000 orders; the reductions leave the unknown
// sets out, having shown that none can change the verdict.
func ExampleResult_reduced() {
	r := linearizability.Check(historytest.UnknownSets(1000), linearizability.Options{})
	fmt.Println(r.Linearizable)
	fmt.Println(r.Reduced)
	// Output:
	// ok
	// 1000 unknown operations reduced: 1000 unobserved
}

// A stale read across workers breaks linearizability and no session
// guarantee: Violates tells which check found it.
func ExampleResult_Violates() {
	h, err := history.Read(strings.NewReader(staleRead), "stale.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := linearizability.Check(h, linearizability.Options{})
	for _, name := range linearizability.CheckNames() {
		if r.Violates(name) {
			fmt.Println(name)
		}
	}
	// Output:
	// linearizable
}
