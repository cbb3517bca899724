package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// TestConfigGoString: %#v writes a config as the scenario file that
// makes the same run, which reads back; one the file cannot hold, field
// by field.
func TestConfigGoString(t *testing.T) {
	cfg := sim.Config{Run: spec.Run{Seed: 5, Bugs: shm.BugNoDedup, Plan: &faultinject.Plan{Seed: 1, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Drop, Dir: faultinject.Replies, Target: faultinject.Target{Worker: "w1", Nth: 1}}}}},
		Script: [][]workload.Op{{{Method: history.Set, Key: "a", Value: shm.Value(`"x"`)}, {Method: history.Get, Key: "a"}}}}
	got := fmt.Sprintf("%#v", cfg)
	for _, want := range []string{"sim.Config (a scenario file):\n", `{set: a, value: "x"}`, "{kind: drop, dir: replies, target: {worker: w1, nth: 1}}", "variant: no-dedup"} {
		if !strings.Contains(got, want) {
			t.Errorf("%%#v lacks %q:\n%s", want, got)
		}
	}
	text, err := sim.MarshalScenario(cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(got, "sim.Config (a scenario file):\n")
	if diff := cmp.Diff(string(text), strings.ReplaceAll(strings.TrimPrefix(body, "  "), "\n  ", "\n")+"\n"); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	bad := sim.Config{Run: spec.Run{Ops: -1}}
	if got := fmt.Sprintf("%#v", bad); !strings.HasPrefix(got, "sim.Config{Run:spec.Run{") || !strings.Contains(got, "Ops:-1") {
		t.Errorf("an invalid config's %%#v is %s", got)
	}
}

// A config prints for %#v (rapid's log of a draw) as the scenario file
// that makes the same run.
func ExampleConfig_GoString() {
	cfg := sim.Config{Run: spec.Run{Seed: 3, Keys: []string{"k"}, Plan: &faultinject.Plan{Seed: 1, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Duplicate, Dir: faultinject.Requests, Target: faultinject.Target{Worker: "w1", Nth: 1}}}}},
		Script: [][]workload.Op{{{Method: history.Add, Key: "k", Delta: 2}}}}
	fmt.Printf("%#v\n", cfg)
	// Output:
	// sim.Config (a scenario file):
	//   name: sim
	//   description: "A simulator run: 1 operation by 1 worker (a script), 1 fault."
	//   mode: sim
	//   keys: {names: [k]}
	//   timeout: 200ms
	//   latency: 20µs
	//   script:
	//     w1:
	//       - {add: k, delta: 2}
	//   faults:
	//     seed: 1
	//     messages:
	//       - {kind: duplicate, dir: requests, target: {worker: w1, nth: 1}}
	//   seeds: [3]
	//   expect: pass
}
