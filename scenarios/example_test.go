package scenarios_test

import (
	"context"
	"fmt"

	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/spec"
)

// A scenario from its YAML text, run in the simulator.
func ExampleRun() {
	sc, err := spec.Parse("drops.yaml", []byte(`
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
	o := scenarios.Run(context.Background(), sc, scenarios.Sim, 1)
	fmt.Println(sc.Name, o.Verdict())
	// Output: drops ok
}
