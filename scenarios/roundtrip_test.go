package scenarios_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/race"
	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/sim/simtest"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
	"pgregory.net/rapid"
)

// TestShrunkZooRoundTrip: for every variant of the bug zoo, the first
// failing seed of its bundled scenario, shrunk, written as a scenario
// file (sim.MarshalScenario) and read back, runs as `shmlab run` runs it
// to the same history, bit for bit, and still fails.
func TestShrunkZooRoundTrip(t *testing.T) {
	zoo := zooScenarios(t)
	for _, name := range shm.BugNames() {
		t.Run(name, func(t *testing.T) {
			sc := zoo[name]
			if sc == nil {
				t.Fatalf("no bundled scenario for %s", name)
			}
			small, r := shrunkFailure(t, sc)
			again := readBack(t, small)
			if diff := cmp.Diff(small.Script, scenarios.SimConfig(again, small.Seed).Script); diff != "" {
				t.Errorf("script mismatch (-want +got):\n%s", diff)
			}
			o := scenarios.Run(context.Background(), again, scenarios.Sim, again.Seeds.All()[0])
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			if o.Sim.Hash() != r.Hash() || !o.Sim.Failed() {
				t.Errorf("read back: history %s (failed %v), want %s (failed)\n%s", o.Sim.Hash(), o.Sim.Failed(), r.Hash(), again.Source)
			}
		})
	}
}

// zooScenarios returns the bundled scenario of each variant.
func zooScenarios(t *testing.T) map[string]*scenarios.Scenario {
	t.Helper()
	all, err := scenarios.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	zoo := map[string]*scenarios.Scenario{}
	for _, sc := range all {
		if sc.Expect == scenarios.ExpectViolation && sc.Variant != "" {
			zoo[sc.Variant] = sc
		}
	}
	return zoo
}

// shrunkFailure shrinks the first of sc's seeds 1 to 20 that fails in the
// simulator.
func shrunkFailure(t *testing.T, sc *scenarios.Scenario) (sim.Config, *sim.Result) {
	t.Helper()
	for seed := uint64(1); seed <= 20; seed++ {
		o := scenarios.Run(context.Background(), sc, scenarios.Sim, seed)
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if !o.Sim.Failed() {
			continue
		}
		small, r, err := sim.Shrink(o.Sim.Config, 5000)
		if err != nil || !r.Failed() {
			t.Fatalf("seed %d: shrinking: %v (failed %v)", seed, err, r.Failed())
		}
		return small, r
	}
	t.Fatalf("no seed of 20 failed")
	return sim.Config{}, nil
}

// TestNoRaceMarshalScenarioProperty: any scripted config, with keys, values
// and faults of every form, written as a scenario file and read back, is
// the same config, and runs to the same history.
func TestNoRaceMarshalScenarioProperty(t *testing.T) {
	race.Skip(t)
	gen := simtest.Scenarios(simtest.GenOptions{Processes: true, Limits: true})
	rapid.Check(t, func(t *rapid.T) {
		cfg := gen.Draw(t, "scenario")
		cfg.Scenario = rapid.StringMatching(`[a-z][a-z0-9-]{0,12}|.{0,12}`).Draw(t, "name")
		cfg.Keys = rapid.SliceOfNDistinct(rapid.String(), 1, 4, rapid.ID).Draw(t, "keys")
		cfg.Latency = time.Duration(rapid.Int64Range(0, int64(time.Millisecond)).Draw(t, "latency"))
		cfg.Think = time.Duration(rapid.Int64Range(0, int64(time.Millisecond)).Draw(t, "think"))
		if rapid.Bool().Draw(t, "grid") {
			cfg.Grid, cfg.Latency = time.Millisecond, 0
			cfg.Think = time.Duration(rapid.IntRange(1, 3).Draw(t, "think steps")) * cfg.Grid
		}
		cfg.Store.DedupWindow = rapid.IntRange(0, 8).Draw(t, "dedup_window")
		cfg.Codec = rapid.SampledFrom([]string{"", spec.CodecJSON, spec.CodecCompact, spec.CodecMixed}).Draw(t, "codec")
		for w := range cfg.Script {
			for i := range cfg.Script[w] {
				drawOp(t, &cfg.Script[w][i], cfg.Keys)
			}
		}
		got := roundTrip(t, cfg)
		if diff := cmp.Diff(normal(mustRun(t, cfg).Config), normal(got)); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if a, b := mustRun(t, cfg), mustRun(t, got); a.Hash() != b.Hash() {
			t.Fatalf("history %s, read back %s", a.Hash(), b.Hash())
		}
	})
}

// drawOp gives o a key of keys and, if its method uses them, values of
// every form the format has, a time to live and an increment.
func drawOp(t *rapid.T, o *workload.Op, keys []string) {
	o.Key = rapid.SampledFrom(keys).Draw(t, "key")
	values := rapid.OneOf(
		rapid.Map(rapid.Int64(), func(n int64) shm.Value { return shm.Int(n) }),
		rapid.Map(rapid.String(), func(s string) shm.Value { b, _ := json.Marshal(s); return b }),
		rapid.SampledFrom([]shm.Value{shm.Null, shm.True, shm.False, shm.Value(`1.5e3`), shm.Value(`-0`),
			shm.Value(`123456789012345678901234567890`), shm.Value(`"\u00e9<"`), shm.Value(` {"a": [1, "b"]} `)}),
	)
	switch o.Method {
	case history.Set, history.CAS:
		o.Value = values.Draw(t, "value")
		o.TTLms = rapid.SampledFrom([]int64{0, 1, 1500}).Draw(t, "ttl_ms")
	}
	if o.Method == history.CAS && rapid.Bool().Draw(t, "old") {
		o.Old = values.Draw(t, "old")
	}
	if o.Method == history.Set {
		o.Incr = rapid.Int64Range(0, 2).Draw(t, "incr")
	}
}

// TestMarshalScenarioDrawn: a run that draws its workload (a swarm
// seed, with every setting the format has) written and read back is the
// same config and the same history.
func TestMarshalScenarioDrawn(t *testing.T) {
	for seed := range uint64(10) {
		cfg := sim.Swarm(sim.Config{
			Run:     spec.Run{Scenario: "drawn", Seed: seed, Workers: 3, Ops: 40, Keys: []string{"a", "k 1", "true"}, Mix: workload.Mix{Get: 3, Set: 2, Add: 1, CAS: 1, Delete: 1, Incr: 1}, Shape: workload.Shape{Hot: 0.7, ValueMin: 4, ValueMax: 40, TTL: 5 * time.Millisecond, TTLShare: 0.6, Falsy: 0.2, Edges: 0.3}, Store: shm.StoreOptions{MaxEntries: 2, MaxBytes: 4096, DedupWindow: 64, Bugs: shm.BugNoDedup}, Bugs: shm.BugWrapIDs | shm.BugReadCache, Duration: 30 * time.Millisecond, CallTimeout: 80 * time.Millisecond, RetryAfter: 15 * time.Millisecond, Think: 100 * time.Microsecond},
			Latency: 33 * time.Microsecond,
		})
		got := roundTrip(t, cfg)
		if diff := cmp.Diff(normal(mustRun(t, cfg).Config), normal(got)); diff != "" {
			t.Fatalf("seed %d: mismatch (-want +got):\n%s", seed, diff)
		}
		if a, b := mustRun(t, cfg), mustRun(t, got); a.Hash() != b.Hash() {
			t.Fatalf("seed %d: history %s, read back %s", seed, a.Hash(), b.Hash())
		}
	}
}

// TestMarshalScenarioAfter: faults aimed by progress are written and read
// back as they were, and run to the same history.
func TestMarshalScenarioAfter(t *testing.T) {
	cfg := sim.Config{
		Run: spec.Run{Scenario: "after", Seed: 3, Workers: 3, Ops: 40, Plan: &faultinject.Plan{Processes: []faultinject.ProcessFault{
			{Kind: faultinject.Kill, Target: "w2", After: &faultinject.Progress{Worker: "w2", Ops: 20}},
			{Kind: faultinject.Restart, Target: "w1", For: time.Millisecond, After: &faultinject.Progress{Worker: "w3", Ops: 7}},
			{Kind: faultinject.Pause, Target: "w3", At: 100 * time.Microsecond, For: time.Millisecond},
		}}},
	}
	got := roundTrip(t, cfg)
	if diff := cmp.Diff(normal(mustRun(t, cfg).Config), normal(got)); diff != "" {
		t.Fatalf("mismatch (-want +got):\n%s", diff)
	}
	a, b := mustRun(t, cfg), mustRun(t, got)
	if a.Hash() != b.Hash() || a.FaultsHappened != 3 {
		t.Fatalf("history %s, read back %s; %d faults happened (missed %q), want 3", a.Hash(), b.Hash(), a.FaultsHappened, a.Missed)
	}
}

// tb is what testing.T and rapid.T share.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// roundTrip writes cfg as a scenario file, reads it back and returns its
// one seed's config.
func roundTrip(t tb, cfg sim.Config) sim.Config {
	t.Helper()
	return scenarios.SimConfig(readBack(t, cfg), cfg.Seed)
}

// readBack writes cfg as a scenario file and parses it; its one seed
// must be cfg's.
func readBack(t tb, cfg sim.Config) *scenarios.Scenario {
	t.Helper()
	text, err := sim.MarshalScenario(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.Parse("written.yaml", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if seeds := sc.Seeds.All(); len(seeds) != 1 || seeds[0] != cfg.Seed {
		t.Fatalf("seeds %v, want [%d]", seeds, cfg.Seed)
	}
	return sc
}

// normal is a run's config (defaults filled in) as the file says it: the
// bugs all in Bugs and the store's share in Store.Bugs, a plan without
// faults none, and with a script, nothing that only a drawn workload
// uses.
func normal(c sim.Config) sim.Config {
	c.Bugs |= c.Store.Bugs
	c.Store.Bugs = c.Bugs & (shm.StoreBugs | shm.MasterBugs)
	if p := c.Plan; p != nil && len(p.Messages)+len(p.Processes) == 0 {
		c.Plan = nil
	}
	if c.Script != nil {
		c.Ops, c.Mix, c.Shape = 0, workload.Mix{}, workload.Shape{}
	}
	return c
}

func mustRun(t tb, cfg sim.Config) *sim.Result {
	t.Helper()
	r, err := sim.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMarshalScenarioKnowsEveryField: the writer and the format were
// made for these fields. A field added to one of these types must be
// taught to sim.MarshalScenario and to the format (or said to be left
// out), then added here.
func TestMarshalScenarioKnowsEveryField(t *testing.T) {
	want := map[reflect.Type][]string{
		reflect.TypeFor[sim.Config](): {"Run", "Script", "Latency", "Grid", "Pipeline", "NoCheck", "CheckTimeout"},
		reflect.TypeFor[spec.Run](): {"Scenario", "Seed", "Workers", "Ops", "Duration", "Keys", "Mix", "Shape", "Store",
			"Bugs", "Plan", "Replay", "CallTimeout", "RetryAfter", "Think", "Target", "Codec",
			"MaxFrame"}, // MaxFrame: real processes only; sim.Config.Validate refuses it
		reflect.TypeFor[spec.Target]():              {"Kind", "Node"},
		reflect.TypeFor[spec.NodeTarget]():          {"Adapter", "Path", "FS", "Packages", "Master"},
		reflect.TypeFor[workload.Op]():              {"Method", "Key", "Value", "Old", "Delta", "NoDelta", "TTLms", "Incr"},
		reflect.TypeFor[workload.Mix]():             {"Get", "Set", "Add", "CAS", "Delete", "Incr"},
		reflect.TypeFor[workload.Shape]():           {"Hot", "ValueMin", "ValueMax", "TTL", "TTLShare", "Falsy", "Edges", "JS"}, // JS: set by the Node harness, never written
		reflect.TypeFor[shm.StoreOptions]():         {"MaxEntries", "MaxBytes", "DedupWindow", "Bugs"},
		reflect.TypeFor[faultinject.Plan]():         {"Seed", "Messages", "Processes", "Bytes"},
		reflect.TypeFor[faultinject.MessageFault](): {"Kind", "Dir", "P", "Target", "Delay", "Copies", "Corruption", "Hold"},
		reflect.TypeFor[faultinject.Target]():       {"Worker", "Method", "Key", "Nth", "From", "Until"},
		reflect.TypeFor[faultinject.Dist]():         {"Kind", "Min", "Max", "Mean", "Cap"},
		reflect.TypeFor[faultinject.ProcessFault](): {"Kind", "Target", "At", "After", "For"},
		reflect.TypeFor[faultinject.Progress]():     {"Worker", "Ops"},
	}
	for typ, fields := range want {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if diff := cmp.Diff(fields, got); diff != "" {
			t.Errorf("%v: fields changed: teach sim.MarshalScenario and the scenario format (-known +now):\n%s", typ, diff)
		}
	}
}
