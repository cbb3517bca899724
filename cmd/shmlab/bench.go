package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shmlab/shmlab/bench"
	"github.com/shmlab/shmlab/shm"
)

const benchUsage = `usage: shmlab bench [flags]

Measures, cell by cell, a floor (raw request/reply ping-pong over the same
socket pair, same framing and message sizes, no store) and the reference
get/set, and prints both with their ratio. A cell that measured nothing
(0 operations on a side) is an error: exit 255.

example:
  shmlab bench --workers 1,2 --inflight 1,64 --value 16 --duration 1s --runs 3

flags:
`

// runBench runs the bench command; it reads nothing from standard input.
func runBench(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	cfg := bench.DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Var(intList{&cfg.Workers}, "workers", "worker processes per cell, comma-separated")
	fs.Var(intList{&cfg.Inflight}, "inflight", "requests in flight per worker, comma-separated")
	fs.Var(intList{&cfg.Values}, "value", "value sizes in bytes of JSON text, comma-separated")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time per cell and side")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured time before each measurement")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "runs per cell; the table shows medians")
	fs.StringVar(&cfg.Client, "client", cfg.Client, "how the reference keeps requests in flight: callbacks (Client.Go) or goroutines (blocking calls)")
	fs.StringVar(&cfg.Codec, "codec", cfg.Codec, "framing on the pipe, for floor and reference alike: compact (Go-to-Go binary) or json (JSON lines, as Node)")
	procs := fs.Int("worker-procs", 0, "GOMAXPROCS of each worker process (0: the Go default)")
	asJSON := fs.Bool("json", false, "print one JSON object per row instead of a table")
	quiet := fs.Bool("q", false, "no progress lines on standard error")
	rest, err := parseArgs(fs, benchUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	if err := checkBench(cfg, rest); err != nil {
		fmt.Fprintf(stderr, "shmlab bench: %v\n", err)
		return exitBadInput
	}
	cfg.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	if *procs > 0 {
		cfg.Env = append(cfg.Env, fmt.Sprintf("GOMAXPROCS=%d", *procs))
	}
	if !*quiet {
		cfg.Progress = func(c bench.Cell, side string, run int) {
			fmt.Fprintf(stderr, "bench: %d workers, %d in flight, %d B: %s (run %d/%d)\n",
				c.Workers, c.Inflight, c.ValueBytes, side, run+1, cfg.Runs)
		}
	}
	defer bench.Profile("master")()
	rows, err := bench.Run(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab bench: %v\n", err)
		return exitError
	}
	code := exitOK
	if *asJSON {
		code = printJSON(stdout, rows)
	} else {
		printTable(stdout, rows)
	}
	return worstExit(code, emptyCells(rows, stderr))
}

// emptyCells says which rows measured nothing (no operation on a side):
// a figure of 0 ops/s is no measurement, so it is an error (exit 255).
func emptyCells(rows []bench.Row, stderr io.Writer) int {
	code := exitOK
	for _, r := range rows {
		if r.FloorOpsPerS <= 0 || r.OpsPerS <= 0 {
			fmt.Fprintf(stderr, "shmlab bench: %d workers, %d in flight, %d B: no samples (floor %.0f ops/s, reference %.0f ops/s): nothing was measured\n",
				r.Workers, r.Inflight, r.ValueBytes, r.FloorOpsPerS, r.OpsPerS)
			code = exitError
		}
	}
	return code
}

// usageErr is the exit code of a command whose flags parseArgs rejected
// with err: success for a request of help.
func usageErr(err error) int {
	if err == flag.ErrHelp {
		return exitOK
	}
	return exitBadInput
}

func checkBench(cfg bench.Config, rest []string) error {
	switch {
	case len(rest) > 0:
		return fmt.Errorf("unexpected arguments %q", rest)
	case cfg.Duration <= 0:
		return fmt.Errorf("--duration must be positive, got %v", cfg.Duration)
	case cfg.Warmup < 0:
		return fmt.Errorf("--warmup must not be negative, got %v", cfg.Warmup)
	case cfg.Runs < 1:
		return fmt.Errorf("--runs must be at least 1, got %d", cfg.Runs)
	case cfg.Codec != "compact" && cfg.Codec != "json":
		return fmt.Errorf("--codec must be compact or json, got %q", cfg.Codec)
	case cfg.Client != "callbacks" && cfg.Client != "goroutines":
		return fmt.Errorf("--client must be callbacks or goroutines, got %q", cfg.Client)
	}
	for _, c := range cfg.Cells() {
		if c.Workers < 1 || c.Workers > 256 || c.Inflight < 1 || c.Inflight > 4096 || c.ValueBytes < 2 || c.ValueBytes > shm.DefaultMaxFrame-1024 {
			return fmt.Errorf("cell out of range: workers %d (1-256), inflight %d (1-4096), value %d (2 B-4 MiB)", c.Workers, c.Inflight, c.ValueBytes)
		}
	}
	return nil
}

func printJSON(w io.Writer, rows []bench.Row) int {
	for _, r := range rows {
		if writeJSON(w, r) != nil {
			return exitError
		}
	}
	return exitOK
}

// printTable prints rows as a table; with more than one run, each of the
// main figures shows its spread over the runs beside its median, as
// "median [min-max]".
func printTable(w io.Writer, rows []bench.Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workers\tinflight\tvalue B\tfloor ops/s\tops/s\tratio\tp50 µs\tp99 µs\tfloor p50 µs\tvalue MB/s\tCPU ns/op\tfloor CPU ns/op\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.0f\t%.0f\t\n", r.Workers, r.Inflight, r.ValueBytes,
			withSpread(r, "%.0f", r.FloorOpsPerS, r.FloorOpsPerSSpread), withSpread(r, "%.0f", r.OpsPerS, r.OpsPerSSpread),
			withSpread(r, "%.2f", r.Ratio, r.RatioSpread), withSpread(r, "%.1f", r.P50us, r.P50usSpread),
			withSpread(r, "%.1f", r.P99us, r.P99usSpread), r.FloorP50us, r.ValueMBPerS, r.CPUns, r.FloorCPUns)
	}
	tw.Flush()
}

// withSpread formats a median, and after it its spread over the row's runs
// when there was more than one.
func withSpread(r bench.Row, format string, median float64, s bench.Spread) string {
	m := fmt.Sprintf(format, median)
	if r.Runs < 2 {
		return m
	}
	return m + " [" + fmt.Sprintf(format, s.Min) + "-" + fmt.Sprintf(format, s.Max) + "]"
}

// intList is a flag holding comma-separated integers.
type intList struct{ p *[]int }

func (l intList) String() string {
	if l.p == nil {
		return ""
	}
	s := make([]string, len(*l.p))
	for i, n := range *l.p {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l intList) Set(v string) error {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("%q is not a comma-separated list of integers", v)
		}
		out = append(out, n)
	}
	*l.p = out
	return nil
}
