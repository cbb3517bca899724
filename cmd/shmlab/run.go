package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/spec"
)

const runUsage = `usage: shmlab run [flags] [FILE|DIR ...]

Runs scenario files (scenarios/README.md describes them), or the bundled
suite when none is given, on real processes (mode process) and in the
simulator (mode sim), and checks every seed's history. A scenario that
expects "pass" must pass on every seed; one that expects "violation" (the
bug zoo) must be caught on some seed. Prints progress (a line redrawn
on a terminal, a plain line per run otherwise, on stderr), then a table.
A scenario whose target is a Node.js library (target: {node: ...}) runs
in process mode only: in sim mode it is skipped, with its reason, and
counted as skipped, not passed.

Every run is kept in the store (--store), as Jepsen's is, in a folder of
its own: STORE/SCENARIO/TIME-MODE-SEED/ (TIME in UTC, to the
millisecond; -2, -3, ... if two runs would share it) with the scenario,
its history, the fault log, an HTML report, run.json (shmlab version and
VCS revision, Go version, host, start time, command line, mode, seed,
verdict) and the line that runs it again (shmlab replay runs the folder
again). STORE/latest and STORE/SCENARIO/latest link to the newest. Nothing
is overwritten. --keep failures keeps only the runs against the
expectation (and undecided ones), --keep none nothing; after the suite,
each scenario keeps its newest --keep-last runs that passed and as many
that failed, and then the store's oldest runs (passes first) go until it
holds at most --keep-bytes, so that it stays bounded. Pruning never
removes a run of this invocation, nor one that began after it did
(shards sharing a store); a latest link left pointing at a pruned run
moves to the newest run left.

--store and --junit are checked before anything runs (a file where a
folder should be, a folder missing or not writable, a latest that is not
a link: 254); a write that fails during the run is an ERROR (255). A
repro line keeps --store and --timeout if they were given.

--shard I/N runs one of N parts: the cells (scenario × mode × seed, in
this order) are dealt round-robin, cell k to shard k mod N + 1, so that N
shards together run exactly the unsharded cells, each once (a scenario
that expects a violation stops at its first one in each shard). With
--json, each row names its shard and a fingerprint of the run's
configuration, and a last line {"end":true,...} says the shard finished;
shmlab merge combines the shards' outputs and refuses an incomplete set.
A shard with no cells (more shards than cells) is complete and empty: it
prints its end line alone (the table: a note), exits 0, and merge counts
it.

--mode runs every scenario in the mode it names instead of its
own; one that cannot run there (byte faults in the simulator; on real
processes a script, or more than 64 workers, which mode: sim allows) is
skipped, with the reason.

Exit status: 0 every scenario met its expectation, 1 one did not (FAILED:
a violation where none was expected; MISSED: none where one was), 2 a
check could not decide (its search ran out of time), 254 bad input or
usage (an output path included), or nothing to run, 255 a run could not
be done (ERROR, one past --timeout included) or a write failed.

examples:
  shmlab run                                   # the bundled suite, both modes
  shmlab run --mode sim --seeds 20 scenarios/bundled/drop.yaml
  shmlab run --junit report.xml --store runs/ my-scenarios/
  shmlab run --shard 2/4 --json > shard-2.jsonl     # then: shmlab merge shard-*.jsonl

flags:
`

type runFlags struct {
	mode     string
	seed     uint64
	seeds    int
	store    string
	keep     string
	keepLast int
	keepSize int64
	shard    string
	asJSON   bool
	junit    string
	timeout  time.Duration
	verbose  bool
}

func (rf *runFlags) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&rf.mode, "mode", "", "run every scenario in this mode: process, sim or both (default: each scenario's own)")
	fs.Uint64Var(&rf.seed, "seed", 0, "run this seed only (with --seeds N: N seeds from it)")
	fs.IntVar(&rf.seeds, "seeds", 0, "run N seeds (from --seed, or 1), instead of each scenario's own")
	fs.StringVar(&rf.store, "store", defaultStore, "the store: a folder per run, under a folder per scenario")
	fs.StringVar(&rf.keep, "keep", string(scenarios.KeepAll), "the runs to keep in the store: all, failures or none")
	fs.IntVar(&rf.keepLast, "keep-last", scenarios.DefaultKeepLast, "after the suite, keep each scenario's newest N runs that passed and N that failed, never removing this invocation's (0: all)")
	fs.Int64Var(&rf.keepSize, "keep-bytes", scenarios.DefaultKeepBytes, "after the suite, remove the store's oldest runs (passes first, never one of this invocation or a later one) until it holds at most this many bytes (0: no bound)")
	fs.StringVar(&rf.shard, "shard", "", "run shard I of N (I/N, from 1): every Nth cell of scenario × mode × seed")
	fs.BoolVar(&rf.asJSON, "json", false, "print one JSON object per scenario and mode instead of the table")
	fs.StringVar(&rf.junit, "junit", "", "also write a JUnit XML report to this file")
	fs.DurationVar(&rf.timeout, "timeout", 5*time.Minute, "time limit of each run, checking included (0: none)")
	fs.BoolVar(&rf.verbose, "v", false, "print every seed's verdict (on a terminal too), and the details of caught violations")
	return fs
}

func runRun(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	began := time.Now()
	rf := &runFlags{}
	fs := rf.flagSet()
	files, err := parseArgs(fs, runUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	opts, err := rf.options(fs)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab run: %v\n", err)
		return exitBadInput
	}
	scs, err := loadScenarios(files)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab run: %v\n", err)
		return exitBadInput
	}
	store, err := newStore(rf.store, rf.keep, rf.keepLast, rf.keepSize, args)
	if err == nil {
		err = outputFile("--junit", rf.junit)
	}
	if err == nil {
		err = store.Ready(names(scs))
	}
	if err != nil {
		fmt.Fprintf(stderr, "shmlab run: %v\n", err)
		return exitBadInput
	}
	store.Began = began
	store.ReproArgs = rf.reproArgs(fs)
	mine, total := scenarios.Cells(scs, opts)
	end := runEnd(opts.Shard, runFingerprint(scs, opts), mine, total)
	p := newProgress(stderr, rf.verbose)
	saveCode := exitOK
	results := scenarios.RunSuite(context.Background(), scs, opts, func(sc *scenarios.Scenario, m scenarios.Mode, seed uint64, o *scenarios.Outcome) {
		if o != nil {
			saveCode = worstExit(saveCode, save(store, o, "run", stderr))
		}
		p.update(sc, m, seed, o)
	})
	p.done()
	code := worstExit(saveCode, rf.report(results, end, stdout, stderr))
	return worstExit(code, pruneStore(store, "run", stderr))
}

// names returns the scenarios' names.
func names(scs []*scenarios.Scenario) []string {
	var out []string
	for _, sc := range scs {
		out = append(out, sc.Name)
	}
	return out
}

// runFingerprint is the fingerprint of a run of scs under opts: what
// chooses its cells and what each runs (the scenarios' names and texts,
// --mode, --seed and --seeds), not where the files are nor --timeout.
func runFingerprint(scs []*scenarios.Scenario, opts scenarios.Options) string {
	parts := []string{"run", string(opts.Mode), fmt.Sprint(opts.Seeds)}
	for _, sc := range scs {
		parts = append(parts, sc.Name, string(sc.Source))
	}
	return scenarios.Fingerprint(parts...)
}

// reproArgs are the flags of the command line that a repro line keeps:
// --store and --timeout, if given.
func (rf *runFlags) reproArgs(fs *flag.FlagSet) []string {
	var out []string
	if isSet(fs, "timeout") {
		out = append(out, "--timeout", rf.timeout.String())
	}
	if isSet(fs, "store") {
		out = append(out, "--store", rf.store)
	}
	return out
}

// defaultStore is where runs are kept by default.
const defaultStore = "shmlab-store"

// newStore returns the store of --store, --keep, --keep-last and
// --keep-bytes, for the command line "shmlab run ARGS...", and makes its
// folder.
func newStore(dir, keep string, keepLast int, keepBytes int64, args []string) (*scenarios.RunStore, error) {
	k, err := scenarios.ParseKeep(keep)
	if err != nil {
		return nil, err
	}
	switch {
	case keepLast < 0:
		return nil, fmt.Errorf("--keep-last must not be negative, got %d", keepLast)
	case keepBytes < 0:
		return nil, fmt.Errorf("--keep-bytes must not be negative, got %d", keepBytes)
	}
	if err := outputDir("--store", dir); err != nil {
		return nil, err
	}
	if k != scenarios.KeepNone {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
	}
	cmd := append([]string{"shmlab", "run"}, args...)
	return &scenarios.RunStore{Dir: dir, Keep: k, KeepLast: keepLast, KeepBytes: keepBytes, Command: cmd}, nil
}

// save keeps o in the store, saying on stderr if it cannot; it returns
// the exit code of that: a run the store should keep and did not (or
// kept without its latest link) is an ERROR.
func save(store *scenarios.RunStore, o *scenarios.Outcome, cmd string, stderr io.Writer) int {
	err := store.Save(o)
	var le *scenarios.LinkError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &le):
		fmt.Fprintf(stderr, "shmlab %s: %s (%s) seed %d: %v\n", cmd, o.Scenario.Name, o.Mode, o.Seed, err)
	default:
		fmt.Fprintf(stderr, "shmlab %s: %s (%s) seed %d: not kept in the store: %v\n", cmd, o.Scenario.Name, o.Mode, o.Seed, err)
	}
	return exitError
}

// pruneStore prunes the store after a suite, saying what it removed; a
// prune that failed is an ERROR.
func pruneStore(store *scenarios.RunStore, cmd string, stderr io.Writer) int {
	n, err := store.Prune()
	if n > 0 {
		fmt.Fprintf(stderr, "shmlab %s: pruned %s from %s (--keep-last %d, --keep-bytes %d)\n", cmd, plural(n, "older run"), store.Dir, store.KeepLast, store.KeepBytes)
	}
	if err != nil {
		fmt.Fprintf(stderr, "shmlab %s: pruning the store: %v\n", cmd, err)
		return exitError
	}
	return exitOK
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
	if rf.seeds < 0 || rf.seeds > spec.MaxSeeds {
		return opts, fmt.Errorf("--seeds %d: want 0 to %d", rf.seeds, spec.MaxSeeds)
	}
	if rf.timeout < 0 {
		return opts, fmt.Errorf("--timeout %v: must not be negative", rf.timeout)
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
	if rf.shard != "" {
		var err error
		if opts.Shard, err = scenarios.ParseShard(rf.shard); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// report prints the table (or JSON) and the failures' notes, writes the
// JUnit file, and returns the exit code.
func (rf *runFlags) report(results []*scenarios.Result, end scenarios.RunEnd, stdout, stderr io.Writer) int {
	code, ran := exitOK, 0
	var rows []scenarios.Row
	var notes strings.Builder
	for _, r := range results {
		failureNotes(r, &notes)
		rows = append(rows, scenarios.RowOf(r))
		for _, o := range r.Outcomes {
			if o.Threw != "" {
				fmt.Fprintf(&notes, "\n%s (%s) seed %d: %s\n", r.Scenario.Name, o.Mode, o.Seed, o.Threw)
			}
		}
		if lo := rows[len(rows)-1].LeftOut; len(lo) > 0 {
			fmt.Fprintf(&notes, "\n%s (%s): left out of the workload: %s (the adapter lacks them)\n", r.Scenario.Name, r.Mode, strings.Join(lo, ", "))
		}
		switch v := r.Verdict(); {
		case v == "skipped":
			fmt.Fprintf(&notes, "\n%s (%s): skipped: %s\n", r.Scenario.Name, r.Mode, r.Skipped)
			continue
		default:
			code = worstExit(code, verdictCode(r))
		}
		ran++
		if rf.verbose {
			verboseNotes(r, &notes)
		}
	}
	if ran == 0 && rf.shard == "" { // a shard may have no cell that runs
		fmt.Fprintf(stderr, "shmlab run: nothing ran (every scenario was skipped in mode %q)\n", rf.mode)
		code = worstExit(code, exitBadInput)
	}
	return worstExit(code, writeRows(rows, notes.String(), rf.asJSON, rf.junit, "run", end, stdout, stderr))
}

// writeRows prints rows as the table and notes, or as JSON lines ended by
// the line end (each row marked with its shard and configuration), and
// writes them as JUnit to the file junit if it is set; it returns the
// exit code of what went wrong (0 if nothing): a write that failed is an
// ERROR (255), the path having been checked before the run (outputPath).
func writeRows(rows []scenarios.Row, notes string, asJSON bool, junit, cmd string, end scenarios.RunEnd, stdout, stderr io.Writer) int {
	code := exitOK
	for i := range rows {
		rows[i].Shard, rows[i].Config = end.Shard, end.Config
	}
	if asJSON {
		end.End, end.Rows = true, len(rows)
		err := scenarios.WriteJSON(stdout, rows)
		if err == nil {
			err = json.NewEncoder(stdout).Encode(end)
		}
		if err != nil {
			fmt.Fprintf(stderr, "shmlab %s: writing the JSON rows: %v\n", cmd, err)
			code = exitError
		}
	} else {
		printRunTable(stdout, rows)
		if len(rows) == 0 {
			fmt.Fprintf(stdout, "(shard %s has none of the %s: an empty shard is complete, and shmlab merge counts it)\n", end.Shard, plural(end.TotalCells, "cell"))
		}
		fmt.Fprint(stdout, notes)
	}
	if junit != "" {
		if err := replaceFile(junit, func(w io.Writer) error { return scenarios.WriteJUnit(w, rows) }); err != nil {
			fmt.Fprintf(stderr, "shmlab %s: --junit: %v\n", cmd, err)
			code = worstExit(code, exitError)
		}
	}
	return code
}

// runEnd returns the end line of a run: its shard ("1/1" if not
// sharded), configuration fingerprint and cells.
func runEnd(shard scenarios.Shard, config string, cells, total int) scenarios.RunEnd {
	if shard.N == 0 {
		shard = scenarios.Shard{I: 1, N: 1}
	}
	return scenarios.RunEnd{Shard: shard.String(), Config: config, Cells: cells, TotalCells: total}
}

// failureNotes says in notes what went wrong in r's runs against the
// expectation, with their folders and repro lines.
func failureNotes(r *scenarios.Result, notes *strings.Builder) {
	if r.Verdict() == "MISSED" {
		what := "the violation it expects"
		if bugs, _ := r.Scenario.Bugs(); bugs != 0 {
			what = fmt.Sprintf("variant %q", r.Scenario.Variant)
		}
		expected := "a violation"
		if c := r.Scenario.ExpectCheck; c != "" {
			expected = fmt.Sprintf("a violation of check %s (others do not count)", c)
		}
		fmt.Fprintf(notes, "\n%s (%s): expected %s; %d seeds found none: %s went uncaught (no folder: no run failed)\n",
			r.Scenario.Name, r.Mode, expected, len(r.Outcomes), what)
	}
	for _, o := range r.Failures() {
		fmt.Fprintf(notes, "\n%s (%s) seed %d: ", r.Scenario.Name, o.Mode, o.Seed)
		if o.Err != nil {
			fmt.Fprintf(notes, "%v\n", o.Err)
		} else {
			fmt.Fprintf(notes, "%v\n%s", o.Check, o.Check.Details())
		}
		if o.Folder == "" {
			fmt.Fprintf(notes, "folder: none (not kept: --keep none, or it could not be written)\n")
			continue
		}
		fmt.Fprintf(notes, "folder: %s\nrepro: %s\n", o.Folder, o.Repro)
	}
}

// verboseNotes tells the caught violations' details.
func verboseNotes(r *scenarios.Result, notes *strings.Builder) {
	for _, o := range r.Outcomes {
		if r.Scenario.Expect == scenarios.ExpectViolation && o.Check != nil && o.Err == nil && o.Verdict().String() == "illegal" {
			fmt.Fprintf(notes, "\n%s (%s) seed %d, caught as expected: %v\n%s", r.Scenario.Name, o.Mode, o.Seed, o.Check, o.Check.Details())
		}
	}
}

func printRunTable(w io.Writer, rows []scenarios.Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmode\tseeds\tops\tverdict\ttime\tcheck time\tfaults\tliveness\tfound")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Mode, r.Seeds, r.Ops, r.Verdict,
			dur(r.WallMs), dur(r.CheckMs), faults(r), r.Liveness(), orDash(r.Found))
	}
	tw.Flush()
}

// orDash is s, or - when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
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

// verdictCode is the exit code of a result: 1 for FAILED and MISSED, 255
// for ERROR, 2 for unknown, 0 otherwise.
func verdictCode(r *scenarios.Result) int {
	return verdictExitCode(r.Verdict())
}

// verdictExitCode is the exit code of a verdict word (Result.Verdict).
func verdictExitCode(v string) int {
	switch v {
	case "FAILED", "MISSED":
		return exitInvalid
	case "ERROR":
		return exitError
	case "unknown":
		return exitUnknown
	}
	return exitOK
}
