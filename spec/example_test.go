package spec_test

import (
	"fmt"

	"github.com/shmlab/shmlab/spec"
)

// A scenario from its YAML text, and the run spec of one of its seeds.
func ExampleParse() {
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
	r := sc.Spec(7)
	fmt.Println(sc.Name, r.Target, r.Workers, r.Ops, r.Keys, r.RetryAfter, len(r.Plan.Messages))
	// Output: drops reference 3 50 [k0 k1 k2] 20ms 1
}

// A mistake in a scenario file names its place.
func ExampleParse_error() {
	_, err := spec.Parse("typo.yaml", []byte("workers: 3\nopz: 50\n"))
	fmt.Println(err)
	// Output:
	// typo.yaml:2:1: unknown field "opz"
	//        2 | opz: 50
	//            ^
}
