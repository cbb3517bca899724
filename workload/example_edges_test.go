package workload_test

import (
	"fmt"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/workload"
)

// A shape with an edge share draws some operations from the edges: here
// every one, each keeping the method the mix drew.
func ExampleShape_edges() {
	g := workload.NewShaped(15, "w1", 1, 1, []string{"k"}, workload.Mix{Set: 1, Add: 1}, workload.Shape{Edges: 1})
	for range 8 {
		o := g.Next()
		switch {
		case o.Method == history.Add && o.NoDelta:
			fmt.Printf("add(%q) without delta\n", o.Key)
		case o.Method == history.Add:
			fmt.Printf("add(%q, %d)\n", o.Key, o.Delta)
		default:
			fmt.Printf("set(%q, %s)\n", o.Key, o.Value)
		}
	}
	// Output:
	// add("k", -9007199254740992)
	// set("k", "100001000002:\"")
	// set("k", "100001000004:\t\u001f")
	// set("tab\tunit\x1fline\n", 100001000005)
	// set("k", 100)
	// set("k", {"id":100001000008,"\r":"\n","\n":"\r"})
	// add("hasOwnProperty", 5)
	// add("k", 9007199254740992)
}
