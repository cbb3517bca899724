package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
)

const simUsage = `usage: shmlab sim [flags] [FILE]

Runs the deterministic simulator: workers and a master in one process on
a virtual clock, the real store and client core, message and process
faults, every choice from a seed. FILE is a scenario file (YAML, as
shmlab run takes and failure folders hold), run from its first seed;
without one, a default run of --workers workers making --ops operations
each. Each seed's history is checked, for at most --check-timeout; a
failing seed gets a folder in --out (scenario.yaml, history.jsonl,
report.html, repro), shrunk first with --shrink, and the line that
reproduces it.

FILE may also be the JSON config (scenario.json) of a folder written by
an older shmlab. It runs, but need not repeat its history: faults now
decide differently (each draws the gap to the next message it hits from
a generator of its own), so a fault with a probability p hits other
messages than it did; faults aimed at one message (target nth) still hit
the same one.

Exit status: 0 every seed passed, 1 a violation, 2 a check that could not
decide (its search ran past --check-timeout), 254 bad input or usage,
255 a run that could not be done (a simulator bug).

examples:
  shmlab sim --seeds 1000 --swarm
  shmlab sim --bug wrap-ids --swarm --seeds 100 --shrink --out failures/
  shmlab sim --bug no-dedup+read-cache --swarm --seeds 100
  shmlab sim failures/seed-3/scenario.yaml
  shmlab sim --bug none failures/seed-3/scenario.yaml    # on the reference

flags:
`

type simFlags struct {
	seed, seeds   uint64
	workers, ops  int
	swarm, shrink bool
	bug, out      string
	verbose       bool
	parallel      int
	checkTimeout  time.Duration
}

func (sf *simFlags) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.Uint64Var(&sf.seed, "seed", 0, "the first seed (default: the file's first seed, else 1)")
	fs.Uint64Var(&sf.seeds, "seeds", 1, "how many seeds to run, from --seed on")
	fs.IntVar(&sf.workers, "workers", 4, "workers, without a FILE")
	fs.IntVar(&sf.ops, "ops", 250, "operations per worker, without a FILE")
	fs.BoolVar(&sf.swarm, "swarm", false, "draw each seed's fault plan (swarm testing), replacing the file's")
	fs.BoolVar(&sf.shrink, "shrink", false, "shrink each failure to a small counterexample before writing it")
	fs.StringVar(&sf.bug, "bug", "", "run this variant instead of the file's: reference (or none), or bugs joined by + ("+strings.Join(shm.BugNames(), ", ")+")")
	fs.DurationVar(&sf.checkTimeout, "check-timeout", scenarios.DefaultCheckTimeout, "time limit of each seed's check; a seed not decided by then is unknown (exit 2) (0: none)")
	fs.StringVar(&sf.out, "out", "shmlab-failures", "directory for failure folders")
	fs.BoolVar(&sf.verbose, "v", false, "print a line for every seed, not only failing ones")
	fs.IntVar(&sf.parallel, "parallel", 0, "seeds run at once (default: one per processor); results are the same either way")
	return fs
}

func runSim(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	sf := &simFlags{}
	fs := sf.flagSet()
	files, err := parseArgs(fs, simUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	base, err := sf.base(files, fs)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab sim: %v\n", err)
		return exitBadInput
	}
	return sf.sweep(base, stdout, stderr)
}

// base returns the config every seed starts from.
func (sf *simFlags) base(files []string, fs *flag.FlagSet) (sim.Config, error) {
	cfg := sim.Config{Seed: 1, Workers: sf.workers, Ops: sf.ops, RetryAfter: 50 * time.Millisecond}
	switch {
	case len(files) > 1:
		return cfg, fmt.Errorf("one scenario file at most, got %d", len(files))
	case len(files) == 1 && (isSet(fs, "workers") || isSet(fs, "ops")):
		return cfg, fmt.Errorf("--workers and --ops are for runs without a FILE: %s has its own", files[0])
	case len(files) == 1:
		var err error
		if cfg, err = loadSimFile(files[0]); err != nil {
			return cfg, err
		}
	case sf.workers < 1 || sf.ops < 1:
		return cfg, fmt.Errorf("--workers and --ops must be at least 1")
	}
	if isSet(fs, "bug") {
		bugs, err := shm.ParseBugs(sf.bug)
		if err != nil {
			return cfg, fmt.Errorf("--bug %q: %w", sf.bug, err)
		}
		cfg.Bugs, cfg.Store.Bugs = bugs, 0 // the run's store bugs come from Bugs
	}
	if isSet(fs, "seed") {
		cfg.Seed = sf.seed
	}
	if sf.seeds < 1 || sf.checkTimeout < 0 {
		return cfg, fmt.Errorf("--seeds must be at least 1, and --check-timeout not negative")
	}
	cfg.CheckTimeout = sf.checkTimeout
	if cfg.Seed+sf.seeds-1 < cfg.Seed {
		return cfg, fmt.Errorf("--seed %d with --seeds %d runs past the largest seed", cfg.Seed, sf.seeds)
	}
	return cfg, cfg.Validate()
}

// loadSimFile reads a scenario file as its first seed's run: YAML, or
// the JSON config of an older failure folder.
func loadSimFile(path string) (sim.Config, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return sim.LoadConfig(path)
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		return sim.Config{}, err
	}
	if sc.Mode == scenarios.Process {
		return sim.Config{}, fmt.Errorf("%s runs in process mode only (shmlab run runs it)", path)
	}
	return sc.SimConfig(sc.Seeds.All()[0]), nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// sweep runs the seeds and reports; it returns the exit code.
func (sf *simFlags) sweep(base sim.Config, stdout, stderr io.Writer) int {
	began := time.Now()
	var t tally
	var prepare func(sim.Config) sim.Config
	if sf.swarm {
		prepare = sim.Swarm
	}
	err := sim.Sweep(base, sf.seeds, sf.parallel, prepare, func(cfg sim.Config, r *sim.Result) bool {
		sf.seedDone(&t, cfg, r, stdout, stderr)
		return true
	})
	if err != nil {
		fmt.Fprintf(stderr, "shmlab %v\n", err) // a run that did not end: a simulator bug
		return exitError
	}
	fmt.Fprintf(stdout, "sim: %s, %d operations, %d failed", plural(int(sf.seeds), "seed"), t.ops, t.failed)
	if t.undecided > 0 {
		fmt.Fprintf(stdout, ", %d undecided (--check-timeout %v)", t.undecided, sf.checkTimeout)
	}
	fmt.Fprintf(stdout, ", in %v\n", time.Since(began).Round(time.Millisecond))
	return t.code
}

// tally counts a sweep's operations and verdicts, and keeps its exit
// code.
type tally struct{ code, ops, failed, undecided int }

// seedDone counts and reports one seed's run.
func (sf *simFlags) seedDone(t *tally, cfg sim.Config, r *sim.Result, stdout, stderr io.Writer) {
	if r.Check == nil {
		return // not checked (a config of its own says so)
	}
	t.ops += r.Ops
	switch r.Check.Verdict {
	case linearizability.Illegal:
		t.failed++
		t.code = worstExit(t.code, exitInvalid)
		sf.report(cfg, r, stdout, stderr)
	case linearizability.Unknown:
		t.undecided++
		t.code = worstExit(t.code, exitUnknown)
		fmt.Fprintf(stdout, "seed %d: %v\n", cfg.Seed, r.Check)
	default:
		if sf.verbose {
			fmt.Fprintf(stdout, "seed %d: ok: %d operations, %d faults, history %s\n", cfg.Seed, r.Ops, len(r.Records), r.Hash())
		}
	}
}

// report shrinks (if asked) and writes a failing seed's folder, named
// after the seed that failed (shrinking may move the schedule's seed).
func (sf *simFlags) report(cfg sim.Config, r *sim.Result, stdout, stderr io.Writer) {
	seed, note := cfg.Seed, ""
	if sf.shrink {
		small, sr, err := sim.Shrink(cfg, 5000)
		if err == nil && sr.Failed() {
			cfg, r = small, sr
			note = " (shrunk to " + plural(sim.Ops(sr.History), "operation")
			if small.Seed != seed {
				note += fmt.Sprintf(", on schedule seed %d", small.Seed)
			}
			note += ")"
		}
	}
	dir := filepath.Join(sf.out, "seed-"+strconv.FormatUint(seed, 10))
	repro, err := sim.WriteFailure(dir, cfg, r)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab sim: seed %d: writing its folder: %v\n", seed, err)
		repro = "(not written)"
	}
	fmt.Fprintf(stdout, "seed %d%s: %v\n%s\nrepro: %s\n", seed, note, r.Check, r.Check.Details(), repro)
}
