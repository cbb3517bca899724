package simtest

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/spec"

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
