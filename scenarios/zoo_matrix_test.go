package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
)

// minCatchers is how many different scenarios of the bundled suite, the
// zoo's own aside, must catch each zoo variant.
const minCatchers = 2

// TestZooMatrix: every zoo variant, switched on in each bundled scenario
// that is not the zoo's (the aimed ones among them) and runs in the
// simulator, is caught (a violation in one of the scenario's seeds) by
// at least minCatchers of them. A variant only its own zoo file catches
// is a blind spot of the suite a user's library gets. The matrix is
// printed (go test -v -run TestZooMatrix).
func TestZooMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every variant in every scenario")
	}
	scs, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	var rows []*Scenario
	for _, sc := range scs {
		if !strings.HasPrefix(sc.Name, "zoo-") && sc.Expect != ExpectViolation && slices.Contains(sc.Mode.Modes(), Sim) && cannotRun(sc, Sim) == "" {
			rows = append(rows, sc)
		}
	}
	variants := shm.BugNames()
	caught := make(map[string][]string, len(variants)) // by variant, the scenarios that catch it
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", strings.Join(variants, "\t"))
	for _, sc := range rows {
		cells := make([]string, len(variants))
		for i, v := range variants {
			cells[i] = catch(t.Context(), sc, v)
			if cells[i] == "x" {
				caught[v] = append(caught[v], sc.Name)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\n", sc.Name, strings.Join(cells, "\t"))
	}
	tw.Flush()
	t.Logf("x: caught; .: passed in every seed; E: a seed could not run (a fault missed)\n%s", b.String())
	for _, v := range variants {
		if n := len(caught[v]); n < minCatchers {
			t.Errorf("variant %s is caught by %d scenarios %v, want at least %d", v, n, caught[v], minCatchers)
		}
	}
}

// catch runs sc's seeds in the simulator with variant v switched on,
// until one is a violation: "x" if one is, "E" if none is and a seed
// could not run, "." if every seed passed.
func catch(ctx context.Context, sc *Scenario, v string) string {
	c := *sc
	c.Variant, c.Expect = v, ExpectViolation
	cell := "."
	for _, seed := range c.Seeds.All() {
		o := Run(ctx, &c, Sim, seed)
		switch {
		case o.Err == nil && o.Verdict() == linearizability.Illegal:
			return "x"
		case o.Err != nil:
			cell = "E"
		}
	}
	return cell
}
