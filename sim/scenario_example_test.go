package sim_test

import (
	"fmt"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// A scripted run, with a reply lost on the way, as a scenario file that
// `shmlab run` runs again to the same history.
func ExampleMarshalScenario() {
	cfg := sim.Config{
		Run: spec.Run{Scenario: "lost-reply", Seed: 3, Keys: []string{"k0"}, RetryAfter: 20 * time.Millisecond, Plan: &faultinject.Plan{Messages: []faultinject.MessageFault{
			{Kind: faultinject.Drop, Dir: faultinject.Replies, Target: faultinject.Target{Worker: "w1", Nth: 1}},
		}}},
		Script: [][]workload.Op{{
			{Method: history.Set, Key: "k0", Value: shm.Int(1)},
			{Method: history.CAS, Key: "k0", Old: shm.Int(1), Value: shm.Value(`"two"`)},
			{Method: history.Get, Key: "k0"},
		}},
	}
	text, err := sim.MarshalScenario(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(text))
	// Output:
	// name: lost-reply
	// description: "A simulator run: 3 operations by 1 worker (a script), 1 fault."
	// mode: sim
	// keys: {names: [k0]}
	// timeout: 200ms
	// retry: 20ms
	// latency: 20µs
	// script:
	//   w1:
	//     - {set: k0, value: 1}
	//     - {cas: k0, old: 1, value: "two"}
	//     - {get: k0}
	// faults:
	//   messages:
	//     - {kind: drop, dir: replies, target: {worker: w1, nth: 1}}
	// seeds: [3]
	// expect: pass
}
