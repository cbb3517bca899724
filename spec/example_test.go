package spec_test

import (
	"fmt"
	"testing/fstest"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/spec"
)

// A scenario from its YAML text, and the run spec of one of its seeds.
func ExampleParse() {
	sc, err := spec.Parse("restarts.yaml", []byte(`
target: reference
workers: 4
keys: {names: [visits]}
faults:
  processes:
    - {kind: restart, target: w2, at: 5ms, for: 1ms}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := sc.ProcessSpec(7)
	fmt.Println(sc.Name, r.Target, r.Workers, r.Ops, r.Keys, r.Plan.Seed, r.Plan.Processes[0].Kind)
	// Output: restarts reference 4 100 [visits] 7 restart
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

// A scenario written as a file: a line for each fault.
func ExampleMarshal() {
	sc := &spec.Scenario{
		Name:   "drops",
		Mode:   spec.Both,
		Keys:   spec.Keys{Names: []string{"visits", "k 1"}},
		Faults: faultinject.Plan{Messages: []faultinject.MessageFault{{Kind: faultinject.Drop, P: 0.05}}},
		Seeds:  spec.Seeds{List: []uint64{1, 7}},
		Expect: spec.ExpectPass,
	}
	text, err := spec.Marshal(sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(text))
	// Output:
	// name: drops
	// mode: both
	// keys: {names: [visits, "k 1"]}
	// faults:
	//   messages:
	//     - {kind: drop, p: 0.05}
	// seeds: [1, 7]
	// expect: pass
}

// A Node target, in a bundled suite's file system: its adapter resolves
// beside the scenario, and a runner reads it from there.
func ExampleParseFS() {
	fsys := fstest.MapFS{"bundled/adapters/lib.js": {Data: []byte("module.exports = {name: 'lib'};\n")}}
	sc, err := spec.ParseFS(fsys, "bundled/lib.yaml", []byte(`
mode: process
target:
  node:
    adapter: adapters/lib.js
    packages: [memored@1.1.1]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	t := sc.ProcessSpec(1).Target
	src, err := t.Node.ReadAdapter()
	fmt.Println(t, t.Node.Path, t.Node.Packages, t.Node.MasterOrDefault())
	fmt.Print(string(src), err)
	// Output:
	// node:adapters/lib.js bundled/adapters/lib.js [memored@1.1.1] node
	// module.exports = {name: 'lib'};
	// <nil>
}

// A run's planned faults go into its history's header: none makes every
// call owed an answer.
func ExampleRun_PlannedFaults() {
	quiet := spec.Run{Seed: 1}
	faulty := spec.Run{Seed: 1, Plan: &faultinject.Plan{Messages: []faultinject.MessageFault{{Kind: faultinject.Drop, P: 0.1}}}}
	fmt.Println(quiet.PlannedFaults(), faulty.PlannedFaults())
	// Output:
	// 0 1
}
