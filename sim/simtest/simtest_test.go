package simtest

import (
	"flag"
	"fmt"
	"testing"

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

// TestPropertyCatchesBugs: the same property, run against each broken
// variant, fails; rapid shrinks the failure (for at most a second here),
// and Shrink takes what rapid left further down. (Rapid's seed is its
// own, so the sizes vary; TestBugsFoundAndShrunk holds the ten-operation
// bound on seeds of our own.)
func TestPropertyCatchesBugs(t *testing.T) {
	defer setFlag(t, "rapid.nofailfile", "true")()
	defer setFlag(t, "rapid.shrinktime", "1s")()
	for _, bug := range []shm.Bugs{shm.BugNoDedup, shm.BugAddGetSet, shm.BugWrapIDs, shm.BugReadCache} {
		t.Run(bug.String(), func(t *testing.T) {
			gen := Scenarios(GenOptions{Processes: true, Bugs: bug})
			var last *sim.Result
			tb := &captureTB{name: t.Name()}
			rapid.Check(tb, func(t *rapid.T) {
				cfg := gen.Draw(t, "scenario")
				if r, err := sim.Run(cfg); err == nil && r.Failed() {
					last = r
				}
				RequireLinearizable(t, cfg)
			})
			if !tb.failed || last == nil {
				t.Fatalf("the property did not fail")
			}
			_, small, err := sim.Shrink(last.Config, 3000)
			if err != nil {
				t.Fatal(err)
			}
			if !small.Failed() || sim.Ops(small.History) > sim.Ops(last.History) {
				t.Errorf("Shrink returned %d operations (failing: %v) from %d", sim.Ops(small.History), small.Failed(), sim.Ops(last.History))
			}
			t.Logf("rapid shrank the failure to %d operations, Shrink to %d", sim.Ops(last.History), sim.Ops(small.History))
		})
	}
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
}

func (c *captureTB) Helper()                   {}
func (c *captureTB) Name() string              { return c.name }
func (c *captureTB) Logf(string, ...any)       {}
func (c *captureTB) Log(...any)                {}
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
