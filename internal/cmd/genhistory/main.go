// Command genhistory writes a large simulated history, linearizable by
// construction (history/historytest.Simulate), for measuring the
// checker's time and memory:
//
//	go run ./internal/cmd/genhistory -ops 1000000 -o big.jsonl
//
// By default every operation is on one key, eight workers overlapping.
// -fail turns the history into one that is not linearizable: a get in
// the middle is made to return a value no operation wrote.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
)

func main() {
	ops := flag.Int("ops", 300_000, "operations")
	workers := flag.Int("workers", 8, "workers, all overlapping")
	keys := flag.String("keys", "k", "comma-separated keys")
	seed := flag.Uint64("seed", 1, "seed of the simulation")
	fail := flag.Bool("fail", false, "make one get in the middle read a value no operation wrote")
	unknown := flag.Bool("unknown", false, "let workers give up waiting: operations of unknown outcome")
	out := flag.String("o", "", "output file (required)")
	flag.Parse()
	if *out == "" || *ops <= 0 || *workers <= 0 {
		fmt.Fprintln(os.Stderr, "usage: genhistory -ops N [-workers W] [-keys a,b] [-seed S] [-fail] [-unknown] -o FILE")
		os.Exit(2)
	}
	h := historytest.Simulate(historytest.NewSeededChooser(*seed), historytest.Config{
		Model: history.ModelKV, Workers: *workers, Keys: strings.Split(*keys, ","), Ops: *ops,
		Methods: []history.Method{history.Get, history.Get, history.Set, history.Set, history.CAS, history.Add}, Gap: 1000,
		Unknown: *unknown,
	})
	if *fail && !historytest.BreakGet(h, len(h.Ops)/2) {
		fmt.Fprintln(os.Stderr, "genhistory: no get to break")
		os.Exit(1)
	}
	if err := h.WriteFile(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genhistory:", err)
		os.Exit(1)
	}
}
