package simtest_test

import (
	"fmt"

	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/sim/simtest"
	"pgregory.net/rapid"
)

// Scenarios draws simulator configs; Example draws one from a seed.
func ExampleScenarios() {
	gen := simtest.Scenarios(simtest.GenOptions{MaxWorkers: 2, MaxOps: 5, NoFaults: true})
	cfg := gen.Example(1)
	r, err := sim.Run(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("workers at most 2:", cfg.Workers <= 2)
	fmt.Println("faults:", len(cfg.Plan.Messages))
	fmt.Println("failed:", r.Failed())
	// Output:
	// workers at most 2: true
	// faults: 0
	// failed: false
}

// In a test, rapid.Check(t, …) runs the property; here a stand-in for
// the test's t shows that the reference passes it.
func ExampleRequireLinearizable() {
	gen := simtest.Scenarios(simtest.GenOptions{MaxWorkers: 2, MaxOps: 8})
	t := &exampleT{}
	rapid.Check(t, func(t *rapid.T) {
		simtest.RequireLinearizable(t, gen.Draw(t, "scenario"))
	})
	fmt.Println("failed:", t.failed)
	// Output:
	// failed: false
}

// exampleT is a rapid.TB that notes a failure instead of failing.
type exampleT struct{ failed bool }

func (t *exampleT) Helper()               {}
func (t *exampleT) Name() string          { return "ExampleRequireLinearizable" }
func (t *exampleT) Logf(string, ...any)   {}
func (t *exampleT) Log(...any)            {}
func (t *exampleT) Skipf(string, ...any)  {}
func (t *exampleT) Skip(...any)           {}
func (t *exampleT) SkipNow()              {}
func (t *exampleT) Errorf(string, ...any) { t.failed = true }
func (t *exampleT) Error(...any)          { t.failed = true }
func (t *exampleT) Fatalf(string, ...any) { t.failed = true }
func (t *exampleT) Fatal(...any)          { t.failed = true }
func (t *exampleT) FailNow()              { t.failed = true }
func (t *exampleT) Fail()                 { t.failed = true }
func (t *exampleT) Failed() bool          { return t.failed }
