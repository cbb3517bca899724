package scenarios_test

import (
	"context"
	"fmt"

	"github.com/shmlab/shmlab/scenarios"
)

// A scenario from its YAML text, run in the simulator.
func ExampleParse() {
	sc, err := scenarios.Parse("drops.yaml", []byte(`
workers: 3
ops: 50
retry: 20ms
faults:
  messages:
    - {kind: drop, p: 0.05}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	o := sc.Run(context.Background(), scenarios.Sim, 1)
	fmt.Println(sc.Name, o.Verdict())
	// Output: drops ok
}

// A mistake in a scenario file names its place.
func ExampleParse_error() {
	_, err := scenarios.Parse("typo.yaml", []byte("workers: 3\nopz: 50\n"))
	fmt.Println(err)
	// Output:
	// typo.yaml:2:1: unknown field "opz"
	//        2 | opz: 50
	//            ^
}
