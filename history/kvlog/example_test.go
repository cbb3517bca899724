package kvlog_test

import (
	"fmt"
	"strings"

	"github.com/shmlab/shmlab/history/kvlog"
)

// A kv log: every key starts as "", which the import writes as a set by
// the worker init.
func ExampleRead() {
	log := `{:process 0, :type :invoke, :f :append, :key "k", :value "x"}
{:process 0, :type :ok, :f :append, :key "k", :value "x"}
{:process 1, :type :invoke, :f :get, :key "k", :value nil}
{:process 1, :type :ok, :f :get, :key "k", :value "x"}
`
	h, err := kvlog.Read(strings.NewReader(log), "c01.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, op := range h.Ops {
		fmt.Println(op.String())
	}
	// Output:
	// #1 init/0 set("k", "") -> ok
	// #2 0/0 append("k", "x") -> ok (line 1)
	// #3 1/0 get("k") -> "x" (line 3)
}
