package history_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/shmlab/shmlab/history"
)

// exampleClock is a virtual clock, as the simulator's: 10, 20, 30, …
func exampleClock() func() int64 {
	var t int64
	return func() int64 { t += 10; return t }
}

func ExampleRecorder() {
	r := history.NewRecorder(history.RecorderOptions{Clock: exampleClock()})
	w1 := r.Session("w1")

	// Call before the request is sent, Return when the reply is in.
	p := w1.Call(history.Set, "x", history.Input{Value: json.RawMessage(`1`)})
	p.Return(history.StatusOK, history.Output{Value: json.RawMessage(`"OK"`)})

	// No reply in time: the outcome is unknown, and w1 goes on as a new
	// stream.
	p = w1.Call(history.Set, "x", history.Input{Value: json.RawMessage(`2`)})
	r.Event(history.Event{Kind: history.EventFault, Fault: "drop", Truth: history.TruthNotApplied, Op: p.ID()})
	p.Return(history.StatusUnknown, history.Output{Error: &history.ErrorInfo{Code: "timeout"}})

	// Still pending when the snapshot is taken: unknown too.
	w1.Call(history.Get, "x", history.Input{})

	h := r.History(history.NewHeader(history.ModelKV, "example", 1))
	if err := h.Write(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"type":"header","format":"shmlab-history","version":1,"model":"kv","scenario":"example","seed":1}
	// {"type":"op","id":1,"worker":"w1","stream":0,"method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
	// {"type":"op","id":2,"worker":"w1","stream":0,"method":"set","key":"x","input":{"value":2},"output":{"error":{"code":"timeout"}},"call":30,"return":50,"status":"unknown"}
	// {"type":"op","id":3,"worker":"w1","stream":1,"method":"get","key":"x","input":{},"output":{},"call":60,"status":"unknown"}
	// {"type":"event","kind":"fault","time":40,"fault":"drop","truth":"not_applied","op":2}
}

func ExampleMergeJournals() {
	dir, err := os.MkdirTemp("", "journals")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	clock := exampleClock()

	// Each worker process records into a journal of its own. This one is
	// restarted: its second process takes a new journal, under the same
	// worker name.
	var paths []string
	for run := range 2 {
		path := filepath.Join(dir, fmt.Sprintf("w1.%d.journal", run))
		j, err := history.CreateJournal(path, 1<<20)
		if err != nil {
			log.Fatal(err)
		}
		r := history.NewRecorder(history.RecorderOptions{Clock: clock, Journal: j})
		s := r.Session("w1")
		s.Call(history.Add, "n", history.Input{Delta: 1}).
			Return(history.StatusOK, history.Output{Value: json.RawMessage(fmt.Sprint(run + 1))})
		// The first process dies here, with a call in flight; the
		// journal keeps it (a real worker would not Close).
		s.Call(history.Add, "n", history.Input{Delta: 1})
		if err := j.Close(); err != nil {
			log.Fatal(err)
		}
		paths = append(paths, path)
	}

	// After the run, the harness merges them.
	h, err := history.MergeJournals(history.NewHeader(history.ModelKV, "restart", 1), paths...)
	if err != nil {
		log.Fatal(err)
	}
	for _, op := range h.Ops {
		fmt.Println(op.String())
	}
	// Output:
	// #1 w1/0 add("n", +1) -> 1
	// #2 w1/0 add("n", +1) -> unknown
	// #3 w1/1 add("n", +1) -> 2
	// #4 w1/1 add("n", +1) -> unknown
}
