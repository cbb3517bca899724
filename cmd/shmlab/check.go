package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shmlab/shmlab/linearizability"
)

// exitUnknown is the exit code of a check that could not decide.
const exitUnknown = 2

type checkFlags struct {
	out     string
	report  bool
	timeout time.Duration
	model   string
	asJSON  bool
	verbose bool
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	var cf checkFlags
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cf.out, "out", "", "directory for the HTML reports (default: next to each history)")
	fs.BoolVar(&cf.report, "report", false, "write the HTML report of every history, not only of failing ones")
	fs.DurationVar(&cf.timeout, "timeout", time.Minute, "time limit of the linearizability search per history (0: none); past it the verdict is unknown")
	fs.StringVar(&cf.model, "model", "", "check against this model instead of the header's: kv or kv-evict")
	fs.BoolVar(&cf.asJSON, "json", false, "print one JSON object per history instead of text")
	fs.BoolVar(&cf.verbose, "v", false, "also print the details of histories that pass")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: shmlab check [flags] FILE...

Checks history files (linearizability/HISTORY.md describes the format):
linearizability per key with porcupine, the session guarantees per
worker, and the counter invariant. Prints the verdict and timing per file
and writes an HTML report next to each failing history (or in --out).

Exit status: 0 every history passed, 1 a violation, 2 a check ran out of
time (unknown), 3 bad input or usage (an unreadable history wins over
the others, since the verdict is then incomplete).

example:
  shmlab check --out reports/ run1.jsonl run2.jsonl

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if err := cf.validate(fs.Args()); err != nil {
		fmt.Fprintf(stderr, "shmlab check: %v\n", err)
		return exitUsage
	}
	code := exitOK
	for _, path := range fs.Args() {
		code = worstExit(code, cf.checkFile(path, stdout, stderr))
	}
	return code
}

func (cf *checkFlags) validate(files []string) error {
	switch {
	case len(files) == 0:
		return fmt.Errorf("no history files given (see --help)")
	case cf.timeout < 0:
		return fmt.Errorf("--timeout must not be negative, got %v", cf.timeout)
	case cf.model != "" && cf.model != string(linearizability.ModelKV) && cf.model != string(linearizability.ModelKVEvict):
		return fmt.Errorf("--model must be kv or kv-evict, got %q", cf.model)
	}
	return nil
}

// worstExit orders exit codes: bad input, then a violation, then unknown.
func worstExit(a, b int) int {
	rank := map[int]int{exitOK: 0, exitUnknown: 1, exitFail: 2, exitUsage: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// checkJSON is one line of --json output.
type checkJSON struct {
	File       string                      `json:"file"`
	Verdict    string                      `json:"verdict"`
	Error      string                      `json:"error,omitempty"`
	Ops        int                         `json:"ops"`
	Checked    int                         `json:"checked"`
	Seconds    float64                     `json:"seconds"`
	SearchSecs float64                     `json:"search_seconds"`
	Keys       []linearizability.KeyResult `json:"keys,omitempty"`
	Sessions   []linearizability.Violation `json:"sessions,omitempty"`
	Invariants []linearizability.Violation `json:"invariants,omitempty"`
	Report     string                      `json:"report,omitempty"`
}

func (cf *checkFlags) checkFile(path string, stdout, stderr io.Writer) int {
	h, err := linearizability.ReadFile(path)
	if err != nil {
		if cf.asJSON {
			writeJSON(stdout, checkJSON{File: path, Verdict: "bad_input", Error: err.Error()})
		}
		fmt.Fprintf(stderr, "shmlab check: %v\n", err)
		return exitUsage
	}
	opts := linearizability.Options{Model: linearizability.Model(cf.model), Timeout: cf.timeout}
	r := linearizability.Check(h, opts)
	report := ""
	if r.Verdict != linearizability.Ok || cf.report {
		report = cf.reportPath(path)
		ropts := linearizability.ReportOptions{Model: opts.Model, Timeout: cf.timeout, Result: r}
		if err := linearizability.WriteReportFile(report, h, ropts); err != nil {
			fmt.Fprintf(stderr, "shmlab check: %s: cannot write the report: %v\n", path, err)
			report = ""
		}
	}
	if cf.asJSON {
		writeJSON(stdout, checkJSON{File: path, Verdict: r.Verdict.String(), Ops: r.Ops, Checked: r.Checked,
			Seconds: r.Duration.Seconds(), SearchSecs: r.Search.Seconds(), Keys: r.Keys,
			Sessions: r.Sessions, Invariants: r.Invariants, Report: report})
	} else {
		fmt.Fprintf(stdout, "%s: %v (search %v)\n", path, r, r.Search.Round(10*time.Microsecond))
		if r.Verdict != linearizability.Ok || cf.verbose {
			fmt.Fprint(stdout, r.Details())
		}
		if report != "" {
			fmt.Fprintf(stdout, "report: %s\n", report)
		}
	}
	switch r.Verdict {
	case linearizability.Illegal:
		return exitFail
	case linearizability.Unknown:
		return exitUnknown
	}
	return exitOK
}

// reportPath is where the report of the history at path goes.
func (cf *checkFlags) reportPath(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ".html"
	if cf.out != "" {
		os.MkdirAll(cf.out, 0o755)
		return filepath.Join(cf.out, base)
	}
	return filepath.Join(filepath.Dir(path), base)
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s\n", b)
}
