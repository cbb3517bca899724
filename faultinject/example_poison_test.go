package faultinject_test

import (
	"fmt"

	"github.com/shmlab/shmlab/faultinject"
)

// A poison fault has worker w1 send these frames into its channel to the
// master, raw, 50ms after the workload began.
func ExamplePoisonFrames() {
	plan := faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Poison, Target: "w1", At: 50e6},
	}}
	fmt.Println(plan.Validate(), &plan.Processes[0])
	for _, f := range faultinject.PoisonFrames()[:5] {
		fmt.Println(f)
	}
	// Output:
	// <nil> poison w1 at 50ms
	// null
	// "poison"
	// 42
	// [1,2]
	// {"isSharedMemoryMessage":true}
}
