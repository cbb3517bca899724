package linearizability_test

import (
	"fmt"
	"os"
	"strings"

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
