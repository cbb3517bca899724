//go:build !race

// The zoo matrix runs every zoo variant in every other bundled scenario
// in the simulator: CPU-bound, it is run without the race detector (make
// test's second pass, TestNoRace*), which slowed it past a minute beside a
// busy machine and has nothing to find in it.

package scenarios

import (
	"strings"
	"testing"

	"github.com/shmlab/shmlab/shm"
)

// TestNoRaceZooMatrix: every zoo variant, switched on in each bundled scenario
// that is not the zoo's (the aimed ones among them) and runs in the
// simulator, is caught (a violation in one of the scenario's seeds) by
// at least MinCatchers of them. The matrix is printed (go test -v -run
// TestNoRaceZooMatrix, or shmlab zoo --matrix).
func TestNoRaceZooMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every variant in every scenario")
	}
	scs, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	m := RunZooMatrix(t.Context(), MatrixScenarios(scs), shm.BugNames())
	var b strings.Builder
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("x: caught; .: passed in every seed; E: no violation, a seed could not run (a fault missed)\n%s", b.String())
	for _, sc := range m.Scenarios {
		if strings.HasPrefix(sc, "zoo-") {
			t.Errorf("the matrix runs the zoo's own %s", sc)
		}
	}
	for _, line := range m.Short() {
		t.Error(line)
	}
}
