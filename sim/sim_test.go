package sim

import (
	"bytes"
	"flag"
	"html"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/internal/race"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

var soakSeeds = flag.Int("sim.seeds", 300, "seeds TestNoRaceReferenceSurvivesSwarm runs (make soak runs 10000)")

// base is the shape of the runs the tests draw: small enough to be quick,
// busy enough that operations meet.
func base(seed uint64) Config {
	return Config{
		Run: spec.Run{
			Seed:        seed,
			Workers:     3,
			Ops:         60,
			Keys:        []string{"a", "b"},
			CallTimeout: 100 * time.Millisecond,
			RetryAfter:  20 * time.Millisecond,
		},
	}
}

// cases are runs with one kind of fault each.
func cases() map[string]Config {
	msg := func(f faultinject.MessageFault) *faultinject.Plan {
		return &faultinject.Plan{Messages: []faultinject.MessageFault{f}}
	}
	proc := func(fs ...faultinject.ProcessFault) *faultinject.Plan { return &faultinject.Plan{Processes: fs} }
	ms := time.Millisecond
	return map[string]Config{
		"none":           {},
		"drop":           {Run: spec.Run{Plan: msg(faultinject.MessageFault{Kind: faultinject.Drop, P: 0.05})}},
		"delay":          {Run: spec.Run{Plan: msg(faultinject.MessageFault{Kind: faultinject.Delay, P: 0.05, Delay: faultinject.Dist{Kind: faultinject.Uniform, Max: 200 * ms}})}},
		"duplicate":      {Run: spec.Run{Plan: msg(faultinject.MessageFault{Kind: faultinject.Duplicate, P: 0.05})}},
		"reorder":        {Run: spec.Run{Plan: msg(faultinject.MessageFault{Kind: faultinject.Reorder, P: 0.05})}},
		"corrupt-frame":  {Run: spec.Run{Plan: msg(faultinject.MessageFault{Kind: faultinject.Corrupt, P: 0.05, Corruption: faultinject.CorruptFrame})}},
		"corrupt-id":     {Run: spec.Run{Plan: msg(faultinject.MessageFault{Kind: faultinject.Corrupt, Dir: faultinject.Replies, P: 0.05, Corruption: faultinject.CorruptID})}},
		"worker-restart": {Run: spec.Run{Plan: proc(faultinject.ProcessFault{Kind: faultinject.Restart, Target: "w1", At: 2 * ms, For: ms})}},
		"worker-kill":    {Run: spec.Run{Plan: proc(faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w2", At: 2 * ms})}},
		"worker-pause":   {Run: spec.Run{Plan: proc(faultinject.ProcessFault{Kind: faultinject.Pause, Target: "w3", At: ms, For: 150 * ms})}},
		"master-restart": {Run: spec.Run{Plan: proc(faultinject.ProcessFault{Kind: faultinject.Restart, Target: "master", At: 2 * ms, For: ms})}},
		"master-pause":   {Run: spec.Run{Plan: proc(faultinject.ProcessFault{Kind: faultinject.Pause, Target: "master", At: ms, For: 150 * ms})}},
		"eviction":       {Run: spec.Run{Store: shm.StoreOptions{MaxEntries: 1}}},
	}
}

func withBase(c Config, seed uint64) Config {
	b := base(seed)
	b.Plan, b.Store = c.Plan, c.Store
	return b
}

// TestCasesPassAndRepeat: the reference passes each case, and the same
// case and seed give the same history twice.
func TestCasesPassAndRepeat(t *testing.T) {
	for name, c := range cases() {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(3) {
				cfg := withBase(c, seed)
				a, b := mustRun(t, cfg), mustRun(t, cfg)
				if a.Failed() {
					t.Fatalf("seed %d: %v\n%s", seed, a.Check, a.Check.Details())
				}
				if ha, hb := a.Hash(), b.Hash(); ha != hb {
					t.Fatalf("seed %d: two runs, two histories: %s and %s", seed, ha, hb)
				}
			}
		})
	}
}

// TestCasesFault: each faulty case really makes its fault.
func TestCasesFault(t *testing.T) {
	for name, c := range cases() {
		if name == "none" || name == "eviction" {
			continue
		}
		r := mustRun(t, withBase(c, 1))
		if len(r.History.Events) == 0 {
			t.Errorf("%s: no fault happened", name)
		}
	}
}

// TestNoRaceReferenceSurvivesSwarm: the reference implementation passes every
// seed of swarm-drawn fault mixes.
func TestNoRaceReferenceSurvivesSwarm(t *testing.T) {
	race.Skip(t)
	n := *soakSeeds
	if testing.Short() {
		n = min(n, 50)
	}
	ops, faults := 0, 0
	for seed := range uint64(n) {
		cfg := Swarm(base(seed))
		r := mustRun(t, cfg)
		if r.Failed() {
			t.Fatalf("seed %d failed (repro: go test ./sim -run TestNoRaceReferenceSurvivesSwarm with Swarm(base(%d))):\n%s", seed, seed, r.Check.Details())
		}
		ops, faults = ops+r.Ops, faults+len(r.History.Events)
	}
	t.Logf("%d seeds, %d operations, %d fault and process events", n, ops, faults)
}

// TestNoRaceBugsFoundAndShrunk: each test-only broken variant is found within
// one second of simulation, and its first failing seeds each shrink to at
// most ten operations (the final reads aside); a shrunk failure, written
// as a scenario file, fails again the same way.
func TestNoRaceBugsFoundAndShrunk(t *testing.T) {
	race.Skip(t)
	for _, bug := range []shm.Bugs{shm.BugNoDedup, shm.BugAddGetSet, shm.BugWrapIDs, shm.BugReadCache} {
		t.Run(bug.String(), func(t *testing.T) {
			found, spent := find(t, bug, 3, time.Second)
			var sizes []int
			for _, cfg := range found {
				small, r, err := Shrink(cfg, 3000)
				if err != nil {
					t.Fatal(err)
				}
				if n := Ops(r.History); n > 10 {
					t.Errorf("seed %d shrank to %d operations, want at most 10", cfg.Seed, n)
				}
				sizes = append(sizes, Ops(r.History))
				checkFailureFile(t, small, r)
			}
			t.Logf("found after %v of simulation; seeds %v shrank to %v operations", spent, seedsOf(found), sizes)
		})
	}
}

// checkFailureFile writes a failure folder: its files are there, and its
// scenario is MarshalScenario's (package scenarios reads it back and runs
// it: TestShrunkZooRoundTrip).
func checkFailureFile(t *testing.T, cfg Config, r *Result) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "failure")
	repro, err := WriteFailure(dir, cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{spec.HistoryFile, spec.ReportFile, spec.ReproFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	if page, err := os.ReadFile(filepath.Join(dir, spec.ReportFile)); err != nil || !bytes.Contains(page, []byte(html.EscapeString(repro))) {
		t.Errorf("the report does not give the repro line %q (%v)", repro, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, spec.ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	want, err := MarshalScenario(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(got, want) {
		t.Errorf("the scenario file is not MarshalScenario's:\n%s", got)
	}
}

// find runs swarm seeds with bug until n fail, and returns them; the
// first must fail within limit of simulation time (the runs' wall time).
func find(t *testing.T, bug shm.Bugs, n int, limit time.Duration) ([]Config, time.Duration) {
	t.Helper()
	var found []Config
	var spent time.Duration
	for seed := uint64(1); len(found) < n && seed < 1000; seed++ {
		cfg := Swarm(base(seed))
		cfg.Bugs = bug
		r := mustRun(t, cfg)
		if len(found) == 0 {
			spent += r.Wall
		}
		if r.Failed() {
			found = append(found, cfg)
		}
		if len(found) == 0 && spent > limit {
			t.Fatalf("%v not found in %v of simulation", bug, limit)
		}
	}
	return found, spent
}

func seedsOf(cs []Config) []uint64 {
	var out []uint64
	for _, c := range cs {
		out = append(out, c.Seed)
	}
	return out
}

func mustRun(t *testing.T, cfg Config) *Result {
	t.Helper()
	r, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestUndefendableCorruptionCaught: a value changed on the wire, or a
// request applied under another id, cannot be noticed by the reference
// (the protocol has no checksum), so the checker must notice it.
func TestUndefendableCorruptionCaught(t *testing.T) {
	for _, f := range []faultinject.MessageFault{
		{Kind: faultinject.Corrupt, Dir: faultinject.Requests, P: 0.05, Corruption: faultinject.CorruptValue},
		{Kind: faultinject.Corrupt, Dir: faultinject.Replies, P: 0.05, Corruption: faultinject.CorruptValue},
		{Kind: faultinject.Corrupt, Dir: faultinject.Requests, P: 0.05, Corruption: faultinject.CorruptID},
	} {
		caught := 0
		for seed := range uint64(20) {
			cfg := base(seed)
			cfg.Plan = &faultinject.Plan{Messages: []faultinject.MessageFault{f}}
			if mustRun(t, cfg).Failed() {
				caught++
			}
		}
		if caught == 0 {
			t.Errorf("%s %s on %s: no seed of 20 caught", f.Kind, f.Corruption, f.Dir)
		}
	}
}

// TestConfigRoundTrip: a config survives its scenario file.
func TestConfigRoundTrip(t *testing.T) {
	cfg := Swarm(base(7))
	cfg.Bugs = shm.BugWrapIDs | shm.BugReadCache
	cfg.Script = [][]workload.Op{{{Method: "set", Key: "a", Value: shm.Int(1)}, {Method: "cas", Key: "a", Old: shm.Int(1), Value: shm.Null}}}
	path := filepath.Join(t.TempDir(), "s.json")
	if err := SaveConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cfg, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestConfigLimits: a config that asks for what the simulator cannot
// do right is refused, saying why.
func TestConfigLimits(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Latency: 2 * time.Hour}, "at most 1h0m0s each"},
		{Config{Run: spec.Run{Think: 2 * time.Hour}}, "at most 1h0m0s each"},
		{Config{Run: spec.Run{Keys: []string{"a", "b", "a"}}}, `key "a" is named twice`},
		{Config{Run: spec.Run{Workers: 1025}}, "1025 workers (at most 1024)"},
		{Config{Grid: time.Millisecond, Latency: time.Microsecond}, "on a grid, messages take no time"},
		{Config{Grid: time.Millisecond, Run: spec.Run{Think: 1500 * time.Microsecond}}, "think 1.5ms is not a whole number of grid steps of 1ms, 1 or more"},
		{Config{Grid: time.Millisecond}, "think 0s is not a whole number of grid steps of 1ms, 1 or more"},
		{Config{Pipeline: 17}, "pipeline 17: want 1 to 16 calls in flight per worker"},
		{Config{Pipeline: 2, Script: [][]workload.Op{{{Method: "get", Key: "a"}}}}, "a script makes one call at a time"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want …%s…", tc.cfg, err, tc.want)
		}
	}
}

// TestClockOverflow: a run whose virtual clock would pass the end of
// int64 ends with an error, not with a history of wrapped times.
func TestClockOverflow(t *testing.T) {
	w := newWorld(Config{Run: spec.Run{Seed: 1, Ops: 10}, Latency: time.Hour}.withDefaults())
	shift := int64(math.MaxInt64) - int64(time.Hour)/2 - w.now
	for i := range w.q.es {
		w.q.es[i].at += shift
	}
	w.now += shift
	w.t0 += shift
	if err := w.run(); err == nil || !strings.Contains(err.Error(), "ran past the end of int64") {
		t.Fatalf("run: %v, want the clock's overflow", err)
	}
}
