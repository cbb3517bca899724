package scenarios

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/shmlab/shmlab/linearizability"
)

// MinCatchers is how many different scenarios of the bundled suite, the
// zoo's own aside, must catch each zoo variant: a variant that only its
// own zoo file catches is a blind spot of the suite a user's library
// gets.
const MinCatchers = 2

// The cells of a ZooMatrix.
const (
	Caught  = "x" // a seed's history is a violation
	Passed  = "." // every seed passed
	Errored = "E" // no seed was a violation, and one could not run (a planned fault missed)
)

// ZooMatrix says which scenarios catch which zoo variants, in the
// simulator.
type ZooMatrix struct {
	Variants  []string
	Scenarios []string
	// Cells holds, by scenario then variant, Caught, Passed or Errored.
	Cells [][]string
}

// MatrixScenarios returns the scenarios of scs a zoo matrix runs: those
// expected to pass (not the zoo's, nor the article's broken counters)
// that run in the simulator.
func MatrixScenarios(scs []*Scenario) []*Scenario {
	var out []*Scenario
	for _, sc := range scs {
		if sc.Expect != ExpectViolation && slices.Contains(sc.Mode.Modes(), Sim) && cannotRun(sc, Sim) == "" {
			out = append(out, sc)
		}
	}
	return out
}

// RunZooMatrix runs each of scs with each variant switched on, in the
// simulator, seed after seed (the scenario's) until one is a violation.
func RunZooMatrix(ctx context.Context, scs []*Scenario, variants []string) *ZooMatrix {
	m := &ZooMatrix{Variants: variants}
	for _, sc := range scs {
		m.Scenarios = append(m.Scenarios, sc.Name)
		row := make([]string, len(variants))
		for i, v := range variants {
			row[i] = catch(ctx, sc, v)
		}
		m.Cells = append(m.Cells, row)
	}
	return m
}

// catch runs sc's seeds in the simulator with variant v switched on,
// until one is a violation.
func catch(ctx context.Context, sc *Scenario, v string) string {
	c := *sc
	c.Variant, c.Expect = v, ExpectViolation
	cell := Passed
	for _, seed := range c.Seeds.All() {
		o := Run(ctx, &c, Sim, seed)
		switch {
		case o.Err == nil && o.Verdict() == linearizability.Illegal:
			return Caught
		case o.Err != nil:
			cell = Errored
		}
	}
	return cell
}

// Catchers returns the scenarios that catch variant v.
func (m *ZooMatrix) Catchers(v string) []string {
	i := slices.Index(m.Variants, v)
	var out []string
	for j, row := range m.Cells {
		if i >= 0 && row[i] == Caught {
			out = append(out, m.Scenarios[j])
		}
	}
	return out
}

// Short returns what is wrong with m: a line per variant caught by fewer
// than MinCatchers scenarios (nil if none is).
func (m *ZooMatrix) Short() []string {
	var out []string
	for _, v := range m.Variants {
		if c := m.Catchers(v); len(c) < MinCatchers {
			out = append(out, fmt.Sprintf("variant %s is caught by %d scenarios %v, want at least %d", v, len(c), c, MinCatchers))
		}
	}
	return out
}

// Write prints m as a table, a row per scenario, a column per variant,
// and a last row counting each variant's catchers.
func (m *ZooMatrix) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", strings.Join(m.Variants, "\t"))
	for j, row := range m.Cells {
		fmt.Fprintf(tw, "%s\t%s\n", m.Scenarios[j], strings.Join(row, "\t"))
	}
	counts := make([]string, len(m.Variants))
	for i, v := range m.Variants {
		counts[i] = fmt.Sprint(len(m.Catchers(v)))
	}
	fmt.Fprintf(tw, "caught by\t%s\n", strings.Join(counts, "\t"))
	return tw.Flush()
}
