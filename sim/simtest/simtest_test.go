package simtest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/spec"

	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"pgregory.net/rapid"
)

// TestPropertyReference: every drawn scenario, faults and process faults
// and store limits included, is linearizable on the reference.
func TestPropertyReference(t *testing.T) {
	gen := Scenarios(GenOptions{Processes: true, Limits: true})
	rapid.Check(t, func(t *rapid.T) {
		RequireLinearizable(t, gen.Draw(t, "scenario"))
	})
}

// TestPropertyShrinks: the property, run against zoo variants, fails and
// shrinks to the size `shmlab sim --shrink` reaches on the same variant
// (over 100 swarm seeds: 1 to 4 operations for no-dedup, 1 to 3 for
// add-get-set, 5 for wrap-ids, whose ids wrap at 4, 4 or 5 for
// read-cache): rapid alone nearly, as Scenarios draws lists it shrinks
// element by element; and the failure it reports, shrunk further by
// sim.Shrink, is a scenario file that fails again, with no more
// operations than rapid left. Rapid's
// shrinking stops when nothing shrinks further; its time limit
// (-rapid.shrinktime) is set far beyond that, so that a busy machine
// changes how long it takes, not where it ends. Sizes are asserted, not
// times.
func TestPropertyShrinks(t *testing.T) {
	defer setFlag(t, "rapid.nofailfile", "true")()
	defer setFlag(t, "rapid.shrinktime", "5m")()
	defer setFlag(t, "rapid.checks", "500")() // a failure ends the search; -short takes a fifth
	for _, tc := range []struct {
		bug    shm.Bugs
		alone  int  // the most operations rapid alone may end with
		most   int  // the most the reported failure may have
		folder bool // with SHMLAB_FAILURE_DIR set
	}{
		{shm.BugNoDedup, 3, 3, true}, {shm.BugAddGetSet, 3, 3, false}, {shm.BugWrapIDs, 5, 5, false},
		// Rapid alone ended at 3 to 6 over 20 of its seeds; shmlab sim
		// --shrink at 4 or 5 over 100 swarm seeds.
		{shm.BugReadCache, 8, 5, false},
	} {
		t.Run(tc.bug.String(), func(t *testing.T) {
			dir := ""
			if tc.folder {
				dir = t.TempDir()
				t.Setenv("SHMLAB_FAILURE_DIR", dir)
			}
			last, logs := hunt(Scenarios(GenOptions{Processes: true, Bugs: tc.bug}))
			if last == nil {
				t.Fatalf("the property did not fail")
			}
			if n := sim.Ops(last.History); n > tc.alone {
				t.Errorf("rapid shrank the failure to %d operations, want at most %d:\n%#v", n, tc.alone, last.Config)
			}
			text := reported(t, logs)
			if dir != "" {
				written, err := os.ReadFile(filepath.Join(dir, "prop", spec.ScenarioFile))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(written), text); diff != "" {
					t.Errorf("the folder's scenario and the reported one: mismatch (-want +got):\n%s", diff)
				}
			}
			r := runScenario(t, text)
			if !r.Failed() || sim.Ops(r.History) > min(tc.most, sim.Ops(last.History)) {
				t.Errorf("the reported scenario runs to %d operations (failing: %v), rapid's to %d:\n%s", sim.Ops(r.History), r.Failed(), sim.Ops(last.History), text)
			}
			t.Logf("rapid shrank the failure to %d operations, sim.Shrink to %d", sim.Ops(last.History), sim.Ops(r.History))
		})
	}
}

// hunt checks the property on the configs gen draws, as a test would,
// and returns the failing run rapid ended with (nil if none failed) and
// what was logged (the property's report of it).
func hunt(gen *rapid.Generator[sim.Config]) (*sim.Result, []string) {
	var last *sim.Config
	tb := &captureTB{name: "prop"}
	rapid.Check(tb, func(t *rapid.T) {
		cfg := gen.Draw(t, "scenario")
		passed := false
		defer func() {
			if !passed {
				last = &cfg
			}
		}()
		RequireLinearizable(t, cfg)
		passed = true
	})
	if !tb.failed || last == nil {
		return nil, tb.logs
	}
	r, err := sim.Run(*last)
	if err != nil {
		return nil, append(tb.logs, err.Error())
	}
	return r, tb.logs
}

// reported returns the scenario file of the shrunk failure that
// RequireLinearizable logged.
func reported(t *testing.T, logs []string) string {
	t.Helper()
	for _, l := range logs {
		_, after, ok := strings.Cut(l, shrunkBy)
		if !ok {
			continue
		}
		_, text, _ := strings.Cut(after, "\n")
		if i := strings.LastIndex(text, "\n"+reproduce+" "); i >= 0 {
			return text[:i+1]
		}
		t.Fatalf("no %q line after the scenario file:\n%s", reproduce, l)
	}
	t.Fatalf("no shrunk scenario logged:\n%s", strings.Join(logs, "\n"))
	return ""
}

// runScenario parses a scenario file of one seed and runs it in the
// simulator.
func runScenario(t *testing.T, text string) *sim.Result {
	t.Helper()
	sc, err := spec.Parse(spec.ScenarioFile, []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	r, err := sim.Run(sim.Config{Run: sc.Spec(sc.Seeds.List[0]), Script: sc.Script, Latency: sc.Latency})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// setFlag sets a flag for the test and returns what restores it.
func setFlag(t *testing.T, name, value string) func() {
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag %s", name)
	}
	old := f.Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	return func() { flag.Set(name, old) }
}

// captureTB is a rapid.TB that notes a failure instead of failing.
type captureTB struct {
	name   string
	failed bool
	msg    string
	logs   []string // what was logged, formatted
}

func (c *captureTB) Helper()                   {}
func (c *captureTB) Name() string              { return c.name }
func (c *captureTB) Logf(f string, a ...any)   { c.logs = append(c.logs, fmt.Sprintf(f, a...)) }
func (c *captureTB) Log(a ...any)              { c.logs = append(c.logs, fmt.Sprint(a...)) }
func (c *captureTB) Skipf(string, ...any)      {}
func (c *captureTB) Skip(...any)               {}
func (c *captureTB) SkipNow()                  {}
func (c *captureTB) Errorf(f string, a ...any) { c.failed, c.msg = true, fmt.Sprintf(f, a...) }
func (c *captureTB) Error(a ...any)            { c.failed, c.msg = true, fmt.Sprint(a...) }
func (c *captureTB) Fatalf(f string, a ...any) { c.Errorf(f, a...) }
func (c *captureTB) Fatal(a ...any)            { c.Error(a...) }
func (c *captureTB) FailNow()                  { c.failed = true }
func (c *captureTB) Fail()                     { c.failed = true }
func (c *captureTB) Failed() bool              { return c.failed }
