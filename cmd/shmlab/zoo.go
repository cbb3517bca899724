package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
)

const zooUsage = `usage: shmlab zoo [flags]

Runs the bug zoo: for every deliberately broken variant of the reference
(shm.BugNames), its bundled scenario in each mode, seed after seed until
the violation is caught. Prints, per variant and mode, whether it was
caught, after how many seeds and how long, and in sim mode the size of the
counterexample shrunk from the first failing seed; with --out, that
counterexample's folder (scenario.yaml, history.jsonl, report.html, repro)
goes in a new folder DIR/VARIANT (VARIANT-2, ... if that is taken), and
the line that runs it again is printed. The toolkit checks itself: every
variant must be caught in both modes. Progress goes to stderr; --json
prints a JSON row per variant and mode as shmlab run does (its scenario
is the variant's bundled one), --junit writes them as JUnit.

With --matrix, it shows instead which other bundled scenarios catch each
variant: every scenario that is not the zoo's and runs in the simulator,
run with each variant switched on, in the simulator, over the scenario's
own seeds until one is a violation. It prints the matrix (x caught, .
passed in every seed, E no violation and a seed could not run) and each
variant's count of catchers; every variant must be caught by at least
two. It takes no other flag.

Exit status: 0 every variant caught in every mode (--matrix: by at least
two other scenarios each), 1 one was not, 254
usage (an --out or --junit that cannot be written is found before any
run), 255 a variant's runs could not be done (ERROR) or a write failed.

examples:
  shmlab zoo --mode sim --seeds 5
  shmlab zoo --mode sim --out zoo/
  shmlab zoo --matrix

flags:
`

type zooFlags struct {
	seeds   int
	mode    string
	out     string
	timeout time.Duration
	asJSON  bool
	junit   string
	matrix  bool
}

func runZoo(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	zf := &zooFlags{}
	fs := flag.NewFlagSet("zoo", flag.ContinueOnError)
	fs.IntVar(&zf.seeds, "seeds", 20, "give up on a variant and mode after this many seeds")
	fs.StringVar(&zf.mode, "mode", "both", "process, sim or both")
	fs.DurationVar(&zf.timeout, "timeout", 2*time.Minute, "time limit of each run")
	fs.StringVar(&zf.out, "out", "", "write each variant's shrunk counterexample (sim mode) to a folder in this directory")
	fs.BoolVar(&zf.asJSON, "json", false, "print one JSON object per variant and mode instead of the table")
	fs.StringVar(&zf.junit, "junit", "", "also write a JUnit XML report to this file")
	fs.BoolVar(&zf.matrix, "matrix", false, "show which other bundled scenarios catch each variant, in the simulator")
	operands, err := parseArgs(fs, zooUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	if zf.matrix {
		return zf.runMatrix(fs, operands, stdout, stderr)
	}
	switch scenarios.Mode(zf.mode) {
	case scenarios.Process, scenarios.Sim, scenarios.Both:
	default:
		fmt.Fprintf(stderr, "shmlab zoo: --mode %q: want process, sim or both\n", zf.mode)
		return exitBadInput
	}
	switch {
	case len(operands) > 0:
		err = fmt.Errorf("takes no operands, got %q", operands)
	case zf.seeds < 1 || zf.seeds > spec.MaxSeeds:
		err = fmt.Errorf("--seeds %d: want 1 to %d", zf.seeds, spec.MaxSeeds)
	case zf.timeout < 0:
		err = fmt.Errorf("--timeout %v: must not be negative", zf.timeout)
	case zf.out != "":
		err = outputDir("--out", zf.out)
	}
	if err == nil {
		err = outputFile("--junit", zf.junit)
	}
	if err != nil {
		fmt.Fprintf(stderr, "shmlab zoo: %v\n", err)
		return exitBadInput
	}
	zoo, err := zooScenarios()
	if err != nil {
		fmt.Fprintf(stderr, "shmlab zoo: %v\n", err)
		return exitBadInput
	}
	opts := scenarios.Options{Mode: scenarios.Mode(zf.mode), Timeout: zf.timeout}
	for i := range zf.seeds {
		opts.Seeds = append(opts.Seeds, uint64(i+1))
	}
	p := newProgress(stderr, false)
	results := scenarios.RunSuite(context.Background(), zoo, opts, p.update)
	p.done()
	mine, total := scenarios.Cells(zoo, opts)
	parts := []string{"zoo", zf.mode, fmt.Sprint(opts.Seeds)}
	for _, sc := range zoo {
		parts = append(parts, sc.Name, string(sc.Source))
	}
	return zf.print(stdout, stderr, results, runEnd(scenarios.Shard{}, scenarios.Fingerprint(parts...), mine, total))
}

// zooScenarios returns the bundled scenario of each bug, in the order of
// shm.BugNames; a bug without one is an error.
func zooScenarios() ([]*scenarios.Scenario, error) {
	all, err := scenarios.Bundled()
	if err != nil {
		return nil, err
	}
	byVariant := map[string]*scenarios.Scenario{}
	for _, sc := range all {
		if sc.Expect == scenarios.ExpectViolation && sc.Variant != "" && byVariant[sc.Variant] == nil {
			byVariant[sc.Variant] = sc
		}
	}
	var out []*scenarios.Scenario
	var missing []string
	for _, name := range shm.BugNames() {
		if sc := byVariant[name]; sc != nil {
			out = append(out, sc)
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("no bundled scenario for the variants %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// print prints the table (or the JSON rows), then the shrunk
// counterexamples' folders if --out asks for them, writes --junit, and
// returns the exit code.
func (zf *zooFlags) print(stdout, stderr io.Writer, results []*scenarios.Result, end scenarios.RunEnd) int {
	code := exitOK
	var notes strings.Builder
	var rows []scenarios.Row
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	if !zf.asJSON {
		fmt.Fprintln(tw, "variant\tmode\tcaught\tseeds\ttime\tshrunk to")
	}
	for _, r := range results {
		caught, shrunk := "no", "-"
		if r.Violations > 0 {
			caught = fmt.Sprintf("yes (seed %d)", r.FirstViolation)
			var ok bool
			if shrunk, ok = zf.shrunk(r, &notes, stderr); !ok {
				code = worstExit(code, exitError)
			}
		} else {
			code = worstExit(code, worstExit(exitInvalid, verdictCode(r)))
		}
		rows = append(rows, scenarios.RowOf(r))
		if !zf.asJSON {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Scenario.Variant, r.Mode, caught, len(r.Outcomes),
				r.Wall.Round(100*time.Microsecond), shrunk)
		}
	}
	tw.Flush()
	if zf.asJSON {
		return worstExit(code, writeRows(rows, "", true, zf.junit, "zoo", end, stdout, stderr))
	}
	if notes.Len() > 0 {
		fmt.Fprint(stdout, "\n"+notes.String())
	}
	return worstExit(code, writeRows(rows, "", false, zf.junit, "zoo", end, io.Discard, stderr))
}

// shrunk shrinks a sim result's first failing seed, writes its folder if
// --out asks (noting the repro line), and says how many operations are
// left; ok is false if the folder could not be written (an ERROR).
func (zf *zooFlags) shrunk(r *scenarios.Result, notes *strings.Builder, stderr io.Writer) (shrunk string, ok bool) {
	if r.Mode != scenarios.Sim {
		return "-", true
	}
	for _, o := range r.Outcomes {
		if o.Sim == nil || !o.Sim.Failed() {
			continue
		}
		cfg, small, err := sim.Shrink(o.Sim.Config, 5000)
		if err != nil || !small.Failed() {
			continue
		}
		if zf.out != "" {
			_, repro, err := writeSimFailure(zf.out, r.Scenario.Variant, cfg, small)
			if err != nil {
				fmt.Fprintf(stderr, "shmlab zoo: %s: writing its counterexample: %v\n", r.Scenario.Variant, err)
				return plural(sim.Ops(small.History), "operation"), false
			}
			fmt.Fprintf(notes, "%s: repro: %s\n", r.Scenario.Variant, repro)
		}
		return plural(sim.Ops(small.History), "operation"), true
	}
	return "?", true
}

// plural says "1 operation", "2 operations".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// runMatrix is shmlab zoo --matrix: each variant in every other bundled
// scenario that runs in the simulator.
func (zf *zooFlags) runMatrix(fs *flag.FlagSet, operands []string, stdout, stderr io.Writer) int {
	var other []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "matrix" {
			other = append(other, "--"+f.Name)
		}
	})
	var err error
	switch {
	case len(operands) > 0:
		err = fmt.Errorf("takes no operands, got %q", operands)
	case len(other) > 0:
		err = fmt.Errorf("--matrix takes no %s: it runs each scenario's own seeds, in the simulator", strings.Join(other, ", "))
	}
	if err != nil {
		fmt.Fprintf(stderr, "shmlab zoo: %v\n", err)
		return exitBadInput
	}
	all, err := scenarios.Bundled()
	if err != nil {
		fmt.Fprintf(stderr, "shmlab zoo: %v\n", err)
		return exitBadInput
	}
	m := scenarios.RunZooMatrix(context.Background(), scenarios.MatrixScenarios(all), shm.BugNames())
	if err := m.Write(stdout); err != nil {
		fmt.Fprintf(stderr, "shmlab zoo: %v\n", err)
		return exitError
	}
	short := m.Short()
	for _, line := range short {
		fmt.Fprintf(stdout, "%s\n", line)
	}
	if len(short) > 0 {
		return exitInvalid
	}
	return exitOK
}
