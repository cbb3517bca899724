package sim

import (
	"strings"
	"testing"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// TestMarshalScenarioRefuses: what the format cannot hold is an error,
// not a file that runs otherwise.
func TestMarshalScenarioRefuses(t *testing.T) {
	script := func(o workload.Op) Config { return Config{Script: [][]workload.Op{{o}}} }
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"a get with a value", script(workload.Op{Method: "get", Key: "a", Value: shm.Int(1)}), `get of "a" with value`},
		{"an add with a ttl", script(workload.Op{Method: "add", Key: "a", TTLms: 5}), `add of "a" with ttl`},
		{"a key not UTF-8", script(workload.Op{Method: "get", Key: "\xff"}), "not UTF-8"},
		{"byte faults", Config{Run: spec.Run{Plan: &faultinject.Plan{Bytes: []faultinject.ByteFault{{Kind: faultinject.ByteShort}}}}}, "byte faults"},
		{"a node target", Config{Run: spec.Run{Target: spec.Target{Kind: spec.Node, Node: spec.NodeTarget{Adapter: "a.js"}}}}, "the simulator runs the reference only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MarshalScenario(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
