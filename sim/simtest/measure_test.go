package simtest

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
)

// TestMeasureShrink prints, for each zoo variant, the sizes (operations
// the workers made) of the failures the property ends with, over rapid
// seeds 1 to $SHMLAB_RAPID_MEASURE: rapid's own, and the one reported,
// shrunk further by sim.Shrink. It runs only with that variable set: it
// takes minutes. (It measures; TestNoRacePropertyShrinks holds the bounds.)
func TestMeasureShrink(t *testing.T) {
	seeds, _ := strconv.Atoi(os.Getenv("SHMLAB_RAPID_MEASURE"))
	if seeds <= 0 {
		t.Skip("set SHMLAB_RAPID_MEASURE to a number of rapid seeds to measure")
	}
	defer setFlag(t, "rapid.nofailfile", "true")()
	for _, bug := range zoo() {
		var own, reports []int
		for seed := 1; seed <= seeds; seed++ {
			defer setFlag(t, "rapid.seed", strconv.Itoa(seed))()
			last, logs := hunt(Scenarios(GenOptions{Processes: true, Limits: bug == shm.BugEvictInFlight, Bugs: bug}))
			if last == nil {
				continue
			}
			own = append(own, sim.Ops(last.History))
			reports = append(reports, sim.Ops(runScenario(t, reported(t, logs)).History))
		}
		t.Logf("MEASURE %-16s found %2d of %d: rapid alone %s; reported %s", bug, len(own), seeds, spread(own), spread(reports))
	}
}

// spread writes sizes as their least, median and greatest.
func spread(sizes []int) string {
	if len(sizes) == 0 {
		return "-"
	}
	s := slices.Sorted(slices.Values(sizes))
	return fmt.Sprintf("min %d median %d max %d", s[0], s[len(s)/2], s[len(s)-1])
}

// zoo returns the zoo's variants, one bug each.
func zoo() []shm.Bugs {
	var out []shm.Bugs
	for b := shm.Bugs(1); b <= shm.BugCrashKey; b <<= 1 {
		out = append(out, b)
	}
	return out
}
