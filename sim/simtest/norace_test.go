//go:build !race

// The shrinking property is one goroutine's simulations, thousands of
// times over: the race detector slowed it to over three minutes beside a
// busy machine and has nothing to find in it, so make test runs it in its
// second pass (TestNoRace*), without the detector.

package simtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
)

// TestNoRacePropertyShrinks: the property, run against zoo variants, fails and
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
func TestNoRacePropertyShrinks(t *testing.T) {
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
