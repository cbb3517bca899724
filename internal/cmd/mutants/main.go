// Command mutants measures the mutation score of shmlab's suite: for each
// mutant in mutants/ (a patch that puts one small, realistic bug in the
// reference, the Node package or the checker) it copies the module tree,
// applies the patch, builds cmd/shmlab and runs the suite with it (the
// bundled suite in the simulator, a fixed number of swarm seeds, then the
// bundled suite in its own modes, stopping at the first stage that fails).
// A mutant is killed when the suite fails where the unmutated tree, run
// the same way first, passes. It prints a table, the score and each
// survivor's reason, and compares the score with the committed figure
// (mutants/score).
//
// Usage (from the module root; make mutants, make mutants-short):
//
//	go run ./internal/cmd/mutants [--short] [--seeds N] [--run REGEXP] [--write]
//
// Exit status: 0 the score is at least the committed figure (or was
// written), 1 it is below, 254 bad usage or a bad mutant or score file,
// 255 a mutant that does not apply or build, or a suite that could not run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Result is what became of one mutant.
type Result struct {
	Mutant  Mutant
	Killed  bool
	By      string // what killed it: its stage and the scenario or swarm seed
	Err     error  // the mutant could not be run (a patch that does not apply, a build that fails)
	Elapsed time.Duration
}

type options struct {
	root, dir, scoreFile string
	short, write, keep   bool
	seeds, parallel      int
	timeout              time.Duration
	run                  *regexp.Regexp
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("mutants", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.root, "root", ".", "the module root to copy")
	fs.StringVar(&o.dir, "dir", "mutants", "the folder of the mutant set (*.patch), under the root")
	fs.StringVar(&o.scoreFile, "score", "mutants/score", "the committed figures, under the root")
	fs.BoolVar(&o.short, "short", false, "the short suite (CI): the simulator's mode of the bundled suite and fewer swarm seeds, no real processes")
	fs.BoolVar(&o.write, "write", false, "write this run's figure into the score file instead of comparing with it")
	fs.BoolVar(&o.keep, "keep", false, "keep each mutant's copy of the tree (printed)")
	fs.IntVar(&o.seeds, "seeds", 0, "swarm seeds per mutant (default: 2000, or 300 with --short)")
	fs.IntVar(&o.parallel, "parallel", 2, "mutants run at once (1 or 2)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "time limit of each stage of each mutant's suite (one past it kills the mutant)")
	sel := fs.String("run", "", "run only the mutants whose name matches this regular expression (no comparison with the score file)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.parallel < 1 || o.parallel > 2 {
		return o, fmt.Errorf("--parallel %d: want 1 or 2", o.parallel)
	}
	if o.seeds < 0 {
		return o, fmt.Errorf("--seeds %d: want a positive number", o.seeds)
	}
	if o.seeds == 0 {
		o.seeds = map[bool]int{false: 2000, true: 300}[o.short]
	}
	if *sel != "" {
		re, err := regexp.Compile(*sel)
		if err != nil {
			return o, fmt.Errorf("--run: %w", err)
		}
		o.run = re
	}
	if o.run != nil && o.write {
		return o, errors.New("--write records the whole set's figure: not with --run")
	}
	return o, nil
}

func (o options) suite() string {
	if o.short {
		return "short"
	}
	return "full"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "mutants:", err)
		}
		return 254
	}
	root, err := filepath.Abs(o.root)
	if err == nil {
		_, err = os.Stat(filepath.Join(root, "go.mod"))
	}
	if err != nil {
		fmt.Fprintf(stderr, "mutants: --root %s is not a module root: %v\n", o.root, err)
		return 254
	}
	ms, err := LoadMutants(filepath.Join(root, o.dir), o.run)
	if err != nil {
		fmt.Fprintln(stderr, "mutants:", err)
		return 254
	}
	scores, err := ReadScores(filepath.Join(root, o.scoreFile))
	if err != nil {
		fmt.Fprintln(stderr, "mutants:", err)
		return 254
	}
	tmp, err := os.MkdirTemp("", "shmlab-mutants-")
	if err != nil {
		fmt.Fprintln(stderr, "mutants:", err)
		return 255
	}
	if !o.keep {
		defer os.RemoveAll(tmp)
	}
	// The tree as it is now, copied once: every mutant and the unmutated
	// run start from it, however the working tree changes meanwhile.
	snap := filepath.Join(tmp, "snapshot")
	if err := CopyTree(root, snap); err != nil {
		fmt.Fprintln(stderr, "mutants: copying the tree:", err)
		return 255
	}
	r := &runner{opts: o, root: snap, tmp: tmp, stages: Stages(o.short, o.seeds), log: stderr}
	start := time.Now()
	fmt.Fprintf(stderr, "mutants: %d mutants, %s suite (%s), %d at a time; the unmutated tree first\n", len(ms), o.suite(), r.stageNames(), o.parallel)
	if err := r.baseline(ctx); err != nil {
		fmt.Fprintln(stderr, "mutants: the unmutated tree:", err)
		return 255
	}
	results := r.all(ctx, ms)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "mutants: interrupted")
		return 255
	}
	score := Tally(o.suite(), results)
	PrintReport(stdout, results, score, time.Since(start))
	if errs := errored(results); len(errs) > 0 {
		fmt.Fprintf(stdout, "\n%d mutants could not be run (fix them: a mutant that does not apply or build is no pass):\n", len(errs))
		for _, res := range errs {
			fmt.Fprintf(stdout, "  %s: %v\n", res.Mutant.Name, res.Err)
		}
		return 255
	}
	switch ref, ok := scores[o.suite()]; {
	case o.write:
		scores[o.suite()] = score
		if err := os.WriteFile(filepath.Join(root, o.scoreFile), FormatScores(scores), 0o644); err != nil {
			fmt.Fprintln(stderr, "mutants:", err)
			return 255
		}
		fmt.Fprintf(stdout, "\nwrote the %s figure %s to %s\n", o.suite(), score, o.scoreFile)
	case o.run != nil:
		fmt.Fprintln(stdout, "\n(a selection of the mutants: not compared with the committed figure)")
	case !ok:
		fmt.Fprintf(stdout, "\n%s holds no %s figure to compare with (--write records one)\n", o.scoreFile, o.suite())
	default:
		ok, lines := Compare(ref, score)
		fmt.Fprintln(stdout)
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
		if !ok {
			return 1
		}
	}
	return 0
}

type runner struct {
	opts   options
	root   string // the snapshot of the tree each run copies
	tmp    string
	stages []Stage
	base   []Outcome // the unmutated tree's, by stage
	log    io.Writer
	mu     sync.Mutex // log
}

func (r *runner) stageNames() string {
	var n []string
	for _, s := range r.stages {
		n = append(n, strings.Join(s.Args[:1], "")+" "+s.Name)
	}
	return strings.Join(n, ", ")
}

// baseline runs every stage on the unmutated tree, the reference each
// mutant's outcome is judged against.
func (r *runner) baseline(ctx context.Context) error {
	dir := filepath.Join(r.tmp, "unmutated")
	bin, err := r.prepare(ctx, dir, nil)
	if err != nil {
		return err
	}
	for _, st := range r.stages {
		t := time.Now()
		o, err := RunStage(ctx, bin, filepath.Join(dir, ".stage-"+st.Name), st, r.opts.timeout, nil)
		if err != nil {
			return err
		}
		if o.TimedOut {
			return fmt.Errorf("stage %s timed out after %v", st.Name, r.opts.timeout)
		}
		unmet := 0
		for _, row := range o.Rows {
			if !row.Met && row.Verdict != "skipped" {
				unmet++
			}
		}
		r.logf("mutants: unmutated: %s: exit %d, %d rows, %d not met (not held against the mutants), %v", st.Name, o.Exit, len(o.Rows), unmet, time.Since(t).Round(time.Second))
		if !o.Complete {
			return fmt.Errorf("stage %s (exit %d) printed no complete output%s", st.Name, o.Exit, lastLine(o.Stderr))
		}
		r.base = append(r.base, o)
	}
	if !r.opts.keep {
		os.RemoveAll(dir)
	}
	return nil
}

// prepare copies the tree to dir, applies the mutant's patch (if any)
// and builds shmlab there, returning the binary.
func (r *runner) prepare(ctx context.Context, dir string, m *Mutant) (string, error) {
	if err := CopyTree(r.root, dir); err != nil {
		return "", fmt.Errorf("copying the tree: %w", err)
	}
	if m != nil {
		if err := ApplyPatch(ctx, dir, m.Path); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "bin", "shmlab")
	return bin, Build(ctx, dir, bin)
}

// all runs the mutants, opts.parallel at a time, and returns their
// results in the mutants' order.
func (r *runner) all(ctx context.Context, ms []Mutant) []Result {
	results := make([]Result, len(ms))
	next := make(chan int)
	var wg sync.WaitGroup
	for range r.opts.parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = r.one(ctx, ms[i])
				res := results[i]
				r.logf("mutants: %s: %s in %v", res.Mutant.Name, res.status(), res.Elapsed.Round(time.Second))
			}
		}()
	}
	for i := range ms {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// one runs the suite on mutant m, stage by stage, until one kills it.
func (r *runner) one(ctx context.Context, m Mutant) (res Result) {
	start := time.Now()
	res.Mutant = m
	dir := filepath.Join(r.tmp, m.Name)
	defer func() {
		res.Elapsed = time.Since(start)
		if r.opts.keep {
			r.logf("mutants: %s: kept in %s", m.Name, dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	bin, err := r.prepare(ctx, dir, &m)
	if err != nil {
		res.Err = err
		return res
	}
	for i, st := range r.stages {
		o, err := RunStage(ctx, bin, filepath.Join(dir, ".stage-"+st.Name), st, r.opts.timeout, FirstFailure(st, r.base[i]))
		if err != nil {
			res.Err = err
			return res
		}
		if by := Judge(st, r.base[i], o); by != "" {
			res.Killed, res.By = true, st.Name+": "+by
			return res
		}
	}
	return res
}

func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.log, format+"\n", args...)
}

func (res Result) status() string {
	switch {
	case res.Err != nil:
		return "ERROR"
	case res.Killed:
		return "killed"
	}
	return "survived"
}

// Tally is the score of results: mutants that could not be run count in
// neither the killed nor the total.
func Tally(suite string, results []Result) Score {
	s := Score{Suite: suite}
	for _, res := range results {
		switch {
		case res.Err != nil:
			continue
		case res.Killed:
			s.Killed++
		default:
			s.Survivors = append(s.Survivors, res.Mutant.Name)
		}
		s.Total++
	}
	sort.Strings(s.Survivors)
	return s
}

func errored(results []Result) []Result {
	var e []Result
	for _, res := range results {
		if res.Err != nil {
			e = append(e, res)
		}
	}
	return e
}

// PrintReport writes the table of results, the score, and each survivor
// with the reason on record for it.
func PrintReport(w io.Writer, results []Result, score Score, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mutant\tarea\tresult\ttime\tby")
	for _, res := range results {
		by := res.By
		if res.Err != nil {
			by = "could not be run (below)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", res.Mutant.Name, res.Mutant.Area, res.status(), res.Elapsed.Round(time.Second), by)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s score: %s, in %v\n", score.Suite, score, took.Round(time.Second))
	var surv []Result
	for _, res := range results {
		if res.Err == nil && !res.Killed {
			surv = append(surv, res)
		}
	}
	if len(surv) == 0 {
		return
	}
	fmt.Fprintf(w, "\nsurvivors (%d):\n", len(surv))
	for _, res := range surv {
		why := res.Mutant.Survives
		if why == "" {
			why = "no reason on record"
		}
		fmt.Fprintf(w, "  %s (%s): %s\n    survives: %s\n", res.Mutant.Name, res.Mutant.Area, res.Mutant.What, why)
	}
}
