package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shmlab/shmlab/internal/shquote"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
)

const simUsage = `usage: shmlab sim [flags] [FILE]

Runs the deterministic simulator: workers and a master in one process on
a virtual clock, the real store and client core, message and process
faults, every choice from a seed. FILE is a scenario file (YAML, as
shmlab run takes and failure folders hold), run from its first seed;
without one, a default run of --workers workers making --ops operations
each. Each seed's history is checked, for at most --check-timeout; a
failing seed gets a new folder in --out (seed-N, or seed-N-2, ... if that
is taken: nothing is overwritten) with scenario.yaml, history.jsonl,
report.html and repro, shrunk first with --shrink, and the line that
reproduces it. Progress goes to stderr (a line redrawn on a terminal, a
line per tenth of the seeds otherwise); --json prints the sweep as one
JSON row as shmlab run does, --junit writes it as JUnit. --shard I/N runs
every Nth seed (seed index k to shard k mod N + 1): N shards together run
exactly the seeds of the unsharded sweep; shmlab merge joins their rows
(each output ends with a line {"end":true,...} naming the shard, a
fingerprint of the sweep's flags and file, and its seeds). A shard with
no seeds (more shards than seeds) is complete and empty: it prints its
end line alone (or a line saying so), exits 0, and merge counts it. A
failing seed whose folder cannot be written still gets a repro line (of
the seed unshrunk); --out and --junit are checked before any seed runs.

FILE may also be the JSON config (scenario.json) of a folder written by
an older shmlab. It runs, but need not repeat its history: faults now
decide differently (each draws the gap to the next message it hits from
a generator of its own), so a fault with a probability p hits other
messages than it did; faults aimed at one message (target nth) still hit
the same one.

Exit status: 0 every seed passed, 1 a violation, 2 a check that could not
decide (its search ran past --check-timeout), 254 bad input or usage (an
output path included), 255 a run that could not be done (a simulator
bug) or a write that failed.

examples:
  shmlab sim --seeds 1000 --swarm
  shmlab sim --bug wrap-ids --swarm --seeds 100 --shrink --out failures/
  shmlab sim --bug no-dedup+read-cache --swarm --seeds 100
  shmlab sim failures/seed-3/scenario.yaml
  shmlab sim --bug none failures/seed-3/scenario.yaml    # on the reference
  shmlab sim --seeds 1000 --swarm --shard 1/4 --json > s1.jsonl   # then: shmlab merge s*.jsonl

flags:
`

type simFlags struct {
	seed, seeds   uint64
	workers, ops  int
	swarm, shrink bool
	bug, out      string
	codec         string
	verbose       bool
	parallel      int
	checkTimeout  time.Duration
	asJSON        bool
	junit, shard  string
	sc            *scenarios.Scenario // what the rows call the sweep
	split         scenarios.Shard
	reproArgs     []string // of a seed's repro line, after --seed N
}

func (sf *simFlags) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.Uint64Var(&sf.seed, "seed", 0, "the first seed (default: the file's first seed, else 1)")
	fs.Uint64Var(&sf.seeds, "seeds", 1, "how many seeds to run, from --seed on")
	fs.IntVar(&sf.workers, "workers", 4, "workers, without a FILE")
	fs.IntVar(&sf.ops, "ops", 250, "operations per worker, without a FILE")
	fs.BoolVar(&sf.swarm, "swarm", false, "draw each seed's fault plan (swarm testing), replacing the file's, and its edge share unless the file sets values.edges")
	fs.BoolVar(&sf.shrink, "shrink", false, "shrink each failure to a small counterexample before writing it")
	fs.StringVar(&sf.bug, "bug", "", "run this variant instead of the file's: reference (or none), or bugs joined by + ("+strings.Join(shm.BugNames(), ", ")+")")
	fs.StringVar(&sf.codec, "codec", "", "put the workers on this codec instead of the file's: json, compact or mixed (each worker's drawn from the seed, as with none)")
	fs.DurationVar(&sf.checkTimeout, "check-timeout", scenarios.DefaultCheckTimeout, "time limit of each seed's check; a seed not decided by then is unknown (exit 2) (0: none)")
	fs.StringVar(&sf.out, "out", "shmlab-failures", "directory for failure folders")
	fs.BoolVar(&sf.verbose, "v", false, "print a line for every seed, not only failing ones")
	fs.IntVar(&sf.parallel, "parallel", 0, "seeds run at once (default: one per processor); results are the same either way")
	fs.BoolVar(&sf.asJSON, "json", false, "print the sweep as one JSON row (as shmlab run --json) instead of the summary")
	fs.StringVar(&sf.junit, "junit", "", "also write a JUnit XML report to this file")
	fs.StringVar(&sf.shard, "shard", "", "run shard I of N (I/N, from 1): seed index k goes to shard k mod N + 1")
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
	if err == nil {
		err = outputDir("--out", sf.out)
	}
	if err == nil {
		err = outputFile("--junit", sf.junit)
	}
	if err != nil {
		fmt.Fprintf(stderr, "shmlab sim: %v\n", err)
		return exitBadInput
	}
	sf.reproArgs = sf.simReproArgs(files, fs)
	return sf.sweep(base, stdout, stderr)
}

// simReproArgs are the words of a repro line of a seed of this sweep
// that come after --seed N: the flags that decide a seed's run, and the
// file.
func (sf *simFlags) simReproArgs(files []string, fs *flag.FlagSet) []string {
	var out []string
	if sf.swarm {
		out = append(out, "--swarm")
	}
	if isSet(fs, "bug") {
		out = append(out, "--bug", sf.bug)
	}
	if isSet(fs, "codec") {
		out = append(out, "--codec", sf.codec)
	}
	if len(files) == 0 {
		out = append(out, "--workers", strconv.Itoa(sf.workers), "--ops", strconv.Itoa(sf.ops))
	}
	if isSet(fs, "check-timeout") {
		out = append(out, "--check-timeout", sf.checkTimeout.String())
	}
	return append(out, files...)
}

// fingerprint is the fingerprint of the sweep from base: what chooses
// its seeds and what each runs.
func (sf *simFlags) fingerprint(base sim.Config) string {
	cfg := base
	cfg.Scenario = ""
	b, _ := json.Marshal(cfg)
	return scenarios.Fingerprint("sim", sf.sc.Name, string(b), strconv.FormatUint(sf.seeds, 10), strconv.FormatBool(sf.swarm))
}

// base returns the config every seed starts from.
func (sf *simFlags) base(files []string, fs *flag.FlagSet) (sim.Config, error) {
	cfg := sim.Config{Run: spec.Run{Seed: 1, Workers: sf.workers, Ops: sf.ops, RetryAfter: 50 * time.Millisecond}}
	sf.sc = &scenarios.Scenario{Name: "sim"}
	if sf.shard != "" {
		var err error
		if sf.split, err = scenarios.ParseShard(sf.shard); err != nil {
			return cfg, err
		}
	}
	switch {
	case len(files) > 1:
		return cfg, fmt.Errorf("one scenario file at most, got %d", len(files))
	case len(files) == 1 && (isSet(fs, "workers") || isSet(fs, "ops")):
		return cfg, fmt.Errorf("--workers and --ops are for runs without a FILE: %s has its own", files[0])
	case len(files) == 1:
		var err error
		if cfg, sf.sc, err = loadSimFile(files[0]); err != nil {
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
	if isSet(fs, "codec") {
		cfg.Codec = sf.codec
	}
	if isSet(fs, "seed") {
		cfg.Seed = sf.seed
	}
	if sf.seeds < 1 {
		return cfg, fmt.Errorf("--seeds %d: must be at least 1", sf.seeds)
	}
	if sf.checkTimeout < 0 {
		return cfg, fmt.Errorf("--check-timeout %v: must not be negative", sf.checkTimeout)
	}
	cfg.CheckTimeout = sf.checkTimeout
	if cfg.Seed+sf.seeds-1 < cfg.Seed {
		return cfg, fmt.Errorf("--seed %d with --seeds %d runs past the largest seed", cfg.Seed, sf.seeds)
	}
	return cfg, cfg.Validate()
}

// loadSimFile reads a scenario file as its first seed's run: YAML, or
// the JSON config of an older failure folder. It returns the scenario the
// sweep's rows name, which expects a pass whatever the file says (a sweep
// looks for violations).
func loadSimFile(path string) (sim.Config, *scenarios.Scenario, error) {
	named := &scenarios.Scenario{Name: "sim", File: path}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		cfg, err := sim.LoadConfig(path)
		return cfg, named, err
	}
	sc, err := spec.Load(path)
	if err != nil {
		return sim.Config{}, nil, err
	}
	if sc.Mode == scenarios.Process {
		return sim.Config{}, nil, fmt.Errorf("%s runs in process mode only (shmlab run runs it)", path)
	}
	if sc.Name != "" {
		named.Name = sc.Name
	}
	return scenarios.SimConfig(sc, sc.Seeds.All()[0]), named, nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// sweep runs the seeds (this shard's) and reports; it returns the exit
// code.
func (sf *simFlags) sweep(base sim.Config, stdout, stderr io.Writer) int {
	began := time.Now()
	t := tally{res: scenarios.NewResult(sf.sc, scenarios.Sim)}
	n, prepare := sf.shardSeeds(base)
	t.res.Cells = int(n)
	end := runEnd(sf.split, sf.fingerprint(base), int(n), int(sf.seeds))
	if n == 0 { // an empty shard: complete, with no cells
		if !sf.asJSON {
			fmt.Fprintf(stdout, "sim: shard %s has none of the %s (an empty shard is complete, and shmlab merge counts it)\n", sf.split, plural(int(sf.seeds), "seed"))
		}
		w := io.Discard
		if sf.asJSON {
			w = stdout
		}
		return writeRows(nil, "", sf.asJSON, sf.junit, "sim", end, w, stderr)
	}
	out := stdout
	if sf.asJSON {
		out = stderr // the row alone goes to stdout
	}
	p := newSweepProgress(stderr, n)
	err := sim.Sweep(base, n, sf.parallel, prepare, func(cfg sim.Config, r *sim.Result) bool {
		if r.Check != nil && r.Check.Verdict != linearizability.Ok {
			p.clear() // what the seed says goes above the progress line
		}
		sf.seedDone(&t, cfg, r, out, stderr)
		p.seedDone(t.failed, t.undecided)
		return true
	})
	p.done()
	if err != nil {
		fmt.Fprintf(stderr, "shmlab %v\n", err) // a run that did not end: a simulator bug
		return exitError
	}
	t.res.Done()
	t.res.Wall = time.Since(began)
	if !sf.asJSON {
		fmt.Fprintf(stdout, "sim: %s, %d operations, %d failed", plural(int(n), "seed"), t.res.Ops, t.failed)
		if sf.split.N > 0 {
			fmt.Fprintf(stdout, " (shard %s of %s)", sf.split, plural(int(sf.seeds), "seed"))
		}
		if t.errors > 0 {
			fmt.Fprintf(stdout, ", %d ERROR (a planned fault did not happen)", t.errors)
		}
		if t.undecided > 0 {
			fmt.Fprintf(stdout, ", %d undecided (--check-timeout %v)", t.undecided, sf.checkTimeout)
		}
		fmt.Fprintf(stdout, ", in %v\n", time.Since(began).Round(time.Millisecond))
	}
	rows := []scenarios.Row{scenarios.RowOf(t.res)}
	if sf.asJSON {
		return worstExit(t.code, writeRows(rows, "", true, sf.junit, "sim", end, stdout, stderr))
	}
	return worstExit(t.code, writeRows(rows, "", false, sf.junit, "sim", end, io.Discard, stderr))
}

// shardSeeds returns how many seeds this shard runs, and the prepare
// function of sim.Sweep that gives the i-th of them its seed (and draws
// its faults with --swarm): seed index k of the unsharded sweep is shard
// k mod N + 1's.
func (sf *simFlags) shardSeeds(base sim.Config) (uint64, func(sim.Config) sim.Config) {
	n, stride, first := sf.seeds, uint64(1), uint64(0)
	if s := sf.split; s.N > 1 {
		stride, first = uint64(s.N), uint64(s.I-1)
		n = 0
		if sf.seeds > first {
			n = (sf.seeds-first-1)/stride + 1
		}
	}
	return n, func(cfg sim.Config) sim.Config {
		cfg.Seed = base.Seed + (cfg.Seed-base.Seed)*stride + first
		if sf.swarm {
			cfg = sim.Swarm(cfg)
		}
		return cfg
	}
}

// tally counts a sweep's verdicts, keeps its exit code, and the runs as
// a Result (for the rows).
type tally struct {
	code, failed, undecided, errors int
	res                             *scenarios.Result
}

// seedDone counts and reports one seed's run.
func (sf *simFlags) seedDone(t *tally, cfg sim.Config, r *sim.Result, stdout, stderr io.Writer) {
	if r.Check == nil {
		return // not checked (a config of its own says so)
	}
	o := &scenarios.Outcome{Scenario: sf.sc, Mode: scenarios.Sim, Seed: cfg.Seed, Ops: r.Ops, Check: r.Check, CheckTime: r.Check.Duration,
		FaultsPlanned: r.FaultsPlanned, FaultsHappened: r.FaultsHappened}
	if sf.swarm {
		// A swarm draws its process faults at random, and one whose
		// target is gone by its time is not a fault anyone planned.
		o.FaultsPlanned = o.FaultsHappened
	} else if err := scenarios.MissedError(append(r.Missed, o.TallyMessages(cfg.Plan, r.Records)...)); !scenarios.Stands(err, r.Check) {
		o.Err = err
		// The faults the file asked for did not all happen: the run did
		// not test what the file says.
		t.code, t.errors = worstExit(t.code, exitError), t.errors+1
		fmt.Fprintf(stdout, "seed %d: ERROR: %v\n", cfg.Seed, o.Err)
		t.res.Add(o)
		return
	}
	switch r.Check.Verdict {
	case linearizability.Illegal:
		t.failed++
		t.code = worstExit(t.code, exitInvalid)
		var ok bool
		if o.Folder, o.Repro, ok = sf.report(cfg, r, stdout, stderr); !ok {
			t.code = worstExit(t.code, exitError)
		}
	case linearizability.Unknown:
		t.undecided++
		t.code = worstExit(t.code, exitUnknown)
		fmt.Fprintf(stdout, "seed %d: %v\n", cfg.Seed, r.Check)
	default:
		if sf.verbose {
			fmt.Fprintf(stdout, "seed %d: ok: %d operations, %d faults, history %s\n", cfg.Seed, r.Ops, len(r.Records), r.Hash())
		}
	}
	t.res.Add(o)
}

// report shrinks (if asked) and writes a failing seed's folder, named
// after the seed that failed (shrinking may move the schedule's seed).
func (sf *simFlags) report(cfg sim.Config, r *sim.Result, stdout, stderr io.Writer) (folder, repro string, ok bool) {
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
	dir, repro, err := writeSimFailure(sf.out, "seed-"+strconv.FormatUint(seed, 10), cfg, r)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab sim: seed %d: writing its folder: %v\n", seed, err)
		dir, note = "", note+" (its folder could not be written: the repro line runs the seed unshrunk)"
		repro = shquote.Join(append([]string{"shmlab", "sim", "--seed", strconv.FormatUint(seed, 10)}, sf.reproArgs...)...)
	}
	fmt.Fprintf(stdout, "seed %d%s: %v\n%s\nrepro: %s\n", seed, note, r.Check, r.Check.Details(), repro)
	return dir, repro, err == nil
}

// writeSimFailure writes a simulator's failure into a new folder in out,
// named name (name-2, name-3, ... if that is taken: nothing is
// overwritten, and the files go into a folder made for them), and returns
// the folder and the repro line.
func writeSimFailure(out, name string, cfg sim.Config, r *sim.Result) (dir, repro string, err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", "", err
	}
	if name, err = scenarios.MkdirNew(out, name); err != nil {
		return "", "", err
	}
	dir = filepath.Join(out, name)
	repro, err = sim.WriteFailure(dir, cfg, r)
	return dir, repro, err
}
