package simtest

import (
	"fmt"
	"os"
	"testing"

	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"pgregory.net/rapid"
)

// TestMeasureShrink prints, for each zoo variant, the size of the failure
// rapid's property shrinks to (operations the workers made). It runs only
// with SHMLAB_RAPID_MEASURE set: it takes minutes (rapid's shrink time,
// -rapid.shrinktime, per variant).
func TestMeasureShrink(t *testing.T) {
	if os.Getenv("SHMLAB_RAPID_MEASURE") == "" {
		t.Skip("set SHMLAB_RAPID_MEASURE to measure")
	}
	defer setFlag(t, "rapid.nofailfile", "true")()
	for _, bug := range zoo() {
		for seed := 1; seed <= 10; seed++ {
			t.Run(fmt.Sprintf("%s/%d", bug, seed), func(t *testing.T) {
				defer setFlag(t, "rapid.seed", fmt.Sprint(seed))()
				gen := Scenarios(GenOptions{Processes: true, Limits: bug == shm.BugEvictInFlight, Bugs: bug})
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
					t.Logf("MEASURE %s: not found", bug)
					return
				}
				t.Logf("MEASURE %s: %d operations, %d workers, %d faults", bug, sim.Ops(last.History), last.Config.Workers, faults(last.Config))
			})
		}
	}
}

// zoo returns the zoo's variants, one bug each.
func zoo() []shm.Bugs {
	var out []shm.Bugs
	for b := shm.Bugs(1); b <= shm.BugCrashKey; b <<= 1 {
		out = append(out, b)
	}
	return out
}
