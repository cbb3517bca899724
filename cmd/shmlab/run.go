package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shmlab/shmlab/scenarios"
)

const runUsage = `usage: shmlab run [flags] [FILE|DIR ...]

Runs scenario files (scenarios/README.md describes them), or the bundled
suite when none is given, on real processes (mode process) and in the
simulator (mode sim), and checks every seed's history. A scenario that
expects "pass" must pass on every seed; one that expects "violation" (the
bug zoo) must be caught on some seed. Prints progress (a line redrawn
on a terminal, a plain line per run otherwise, on stderr), then a table; each run against the expectation gets a folder in --out
with the scenario, its history, an HTML report and the line that runs it
again. --mode runs every scenario in the mode it names instead of its
own; one that cannot run there (byte faults in the simulator; on real
processes a script, or more than 64 workers, which mode: sim allows) is
skipped, with the reason.

Exit status: 0 every scenario met its expectation, 1 one did not (FAILED,
MISSED, or ERROR: a run that could not be done, one past --timeout
included), 2 a check could not decide (its search ran out of time), 3 bad
input or usage, or nothing to run.

examples:
  shmlab run                                   # the bundled suite, both modes
  shmlab run --mode sim --seeds 20 scenarios/bundled/drop.yaml
  shmlab run --junit report.xml --out failures/ my-scenarios/

flags:
`

type runFlags struct {
	mode    string
	seed    uint64
	seeds   int
	out     string
	asJSON  bool
	junit   string
	timeout time.Duration
	verbose bool
}

func (rf *runFlags) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&rf.mode, "mode", "", "run every scenario in this mode: process, sim or both (default: each scenario's own)")
	fs.Uint64Var(&rf.seed, "seed", 0, "run this seed only (with --seeds N: N seeds from it)")
	fs.IntVar(&rf.seeds, "seeds", 0, "run N seeds (from --seed, or 1), instead of each scenario's own")
	fs.StringVar(&rf.out, "out", "shmlab-failures", "directory for the failure folders")
	fs.BoolVar(&rf.asJSON, "json", false, "print one JSON object per scenario and mode instead of the table")
	fs.StringVar(&rf.junit, "junit", "", "also write a JUnit XML report to this file")
	fs.DurationVar(&rf.timeout, "timeout", 5*time.Minute, "time limit of each run, checking included (0: none)")
	fs.BoolVar(&rf.verbose, "v", false, "print every seed's verdict (on a terminal too), and the details of caught violations")
	return fs
}

func runRun(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	rf := &runFlags{}
	fs := rf.flagSet()
	files, err := parseArgs(fs, runUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	opts, err := rf.options(fs)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab run: %v\n", err)
		return exitUsage
	}
	scs, err := loadScenarios(files)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab run: %v\n", err)
		return exitUsage
	}
	p := newProgress(stderr, rf.verbose)
	results := scenarios.RunSuite(context.Background(), scs, opts, p.update)
	p.done()
	return rf.report(results, stdout, stderr)
}

// loadScenarios reads files, or the bundled suite if there are none.
func loadScenarios(files []string) ([]*scenarios.Scenario, error) {
	if len(files) == 0 {
		return scenarios.Bundled()
	}
	return scenarios.LoadAll(files)
}

func (rf *runFlags) options(fs *flag.FlagSet) (scenarios.Options, error) {
	opts := scenarios.Options{Mode: scenarios.Mode(rf.mode), Timeout: rf.timeout}
	switch opts.Mode {
	case "", scenarios.Process, scenarios.Sim, scenarios.Both:
	default:
		return opts, fmt.Errorf("--mode %q: want process, sim or both", rf.mode)
	}
	if rf.seeds < 0 || rf.seeds > scenarios.MaxSeeds || rf.timeout < 0 {
		return opts, fmt.Errorf("--seeds must be 0 to %d, and --timeout not negative", scenarios.MaxSeeds)
	}
	if rf.seeds > 0 && rf.seed+uint64(rf.seeds)-1 < rf.seed {
		return opts, fmt.Errorf("--seed %d with --seeds %d runs past the largest seed", rf.seed, rf.seeds)
	}
	n, first := rf.seeds, rf.seed
	if n == 0 && isSet(fs, "seed") {
		n = 1
	}
	if first == 0 && !isSet(fs, "seed") {
		first = 1
	}
	for i := range n {
		opts.Seeds = append(opts.Seeds, first+uint64(i))
	}
	return opts, nil
}

// report prints the table (or JSON), writes the failure folders and the
// JUnit file, and returns the exit code.
func (rf *runFlags) report(results []*scenarios.Result, stdout, stderr io.Writer) int {
	code, ran := exitOK, 0
	var rows []scenarios.Row
	var notes strings.Builder
	taken := map[string]bool{}
	for _, r := range results {
		folders := rf.failures(r, &notes, taken, stderr)
		rows = append(rows, scenarios.RowOf(r, folders))
		switch v := r.Verdict(); {
		case v == "skipped":
			fmt.Fprintf(&notes, "\n%s (%s): skipped: %s\n", r.Scenario.Name, r.Mode, r.Skipped)
			continue
		case r.Unmet():
			code = worstExit(code, exitFail)
		case v == "unknown":
			code = worstExit(code, exitUnknown)
		}
		ran++
		if rf.verbose {
			verboseNotes(r, &notes)
		}
	}
	if ran == 0 {
		fmt.Fprintf(stderr, "shmlab run: nothing ran (every scenario was skipped in mode %q)\n", rf.mode)
		code = worstExit(code, exitUsage)
	}
	if rf.asJSON {
		if err := scenarios.WriteJSON(stdout, rows); err != nil {
			fmt.Fprintf(stderr, "shmlab run: %v\n", err)
		}
	} else {
		printRunTable(stdout, rows)
		fmt.Fprint(stdout, notes.String())
	}
	if rf.junit != "" {
		if err := writeJUnit(rf.junit, results); err != nil {
			fmt.Fprintf(stderr, "shmlab run: --junit: %v\n", err)
			code = worstExit(code, exitUsage)
		}
	}
	return code
}

// failures writes the folders of r's runs against the expectation, says
// what went wrong in notes, and returns the folders.
func (rf *runFlags) failures(r *scenarios.Result, notes *strings.Builder, taken map[string]bool, stderr io.Writer) []string {
	if r.Verdict() == "MISSED" {
		what := "the violation it expects"
		if bugs, _ := r.Scenario.Bugs(); bugs != 0 {
			what = fmt.Sprintf("variant %q", r.Scenario.Variant)
		}
		fmt.Fprintf(notes, "\n%s (%s): expected a violation; %d seeds found none: %s went uncaught (no folder: no run failed)\n",
			r.Scenario.Name, r.Mode, len(r.Outcomes), what)
	}
	var folders []string
	for _, o := range r.Failures() {
		dir := uniqueDir(filepath.Join(rf.out, scenarios.FolderName(o)), taken)
		repro, err := scenarios.WriteFailure(dir, o)
		if err != nil {
			fmt.Fprintf(stderr, "shmlab run: writing %s: %v\n", dir, err)
			repro = "(folder not written)"
		}
		folders = append(folders, dir)
		fmt.Fprintf(notes, "\n%s (%s) seed %d: ", r.Scenario.Name, o.Mode, o.Seed)
		if o.Err != nil {
			fmt.Fprintf(notes, "%v\n", o.Err)
		} else {
			fmt.Fprintf(notes, "%v\n%s", o.Check, o.Check.Details())
		}
		fmt.Fprintf(notes, "folder: %s\nrepro: %s\n", dir, repro)
	}
	return folders
}

// verboseNotes tells the caught violations' details.
func verboseNotes(r *scenarios.Result, notes *strings.Builder) {
	for _, o := range r.Outcomes {
		if r.Scenario.Expect == scenarios.ExpectViolation && o.Check != nil && o.Err == nil && o.Verdict().String() == "illegal" {
			fmt.Fprintf(notes, "\n%s (%s) seed %d, caught as expected: %v\n%s", r.Scenario.Name, o.Mode, o.Seed, o.Check, o.Check.Details())
		}
	}
}

// uniqueDir returns dir, or dir-2, dir-3, … if an earlier folder of this
// run took it.
func uniqueDir(dir string, taken map[string]bool) string {
	d := dir
	for i := 2; taken[d]; i++ {
		d = fmt.Sprintf("%s-%d", dir, i)
	}
	taken[d] = true
	return d
}

func printRunTable(w io.Writer, rows []scenarios.Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmode\tseeds\tops\tverdict\ttime\tcheck time\tfaults")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", r.Scenario, r.Mode, r.Seeds, r.Ops, r.Verdict,
			dur(r.WallMs), dur(r.CheckMs), faults(r))
	}
	tw.Flush()
}

// faults says how many of the process faults planned happened: 3/4, or
// - when none were planned.
func faults(r scenarios.Row) string {
	if r.FaultsPlanned == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", r.FaultsHappened, r.FaultsPlanned)
}

func dur(ms float64) string {
	return time.Duration(ms * float64(time.Millisecond)).Round(100 * time.Microsecond).String()
}

func writeJUnit(path string, results []*scenarios.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := scenarios.WriteJUnit(f, results); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
