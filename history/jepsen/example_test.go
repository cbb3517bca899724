package jepsen_test

import (
	"fmt"
	"strings"

	"github.com/shmlab/shmlab/history/jepsen"
)

// A Jepsen log: the cas that failed answered false, the write that
// timed out (:info) is unknown.
func ExampleRead() {
	log := `INFO  jepsen.util - 0	:invoke	:write	1
INFO  jepsen.util - 0	:ok	:write	1
INFO  jepsen.util - 1	:invoke	:cas	[2 3]
INFO  jepsen.util - 1	:fail	:cas	[2 3]
INFO  jepsen.util - 0	:invoke	:write	4
INFO  jepsen.util - 0	:info	:write	:timed-out
`
	h, err := jepsen.Read(strings.NewReader(log), "etcd.log")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("model", h.Header.Model)
	for _, op := range h.Ops {
		fmt.Println(op.String())
	}
	// Output:
	// model register
	// #1 0/0 set("r", 1) -> ok (line 1)
	// #2 1/0 cas("r", 2 -> 3) -> false (line 3)
	// #3 0/0 set("r", 4) -> unknown (line 5)
}
