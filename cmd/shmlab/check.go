package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/shquote"
	"github.com/shmlab/shmlab/linearizability"
)

// stdinName is the operand that stands for standard input, and
// stdinDisplay its name in messages and reports.
const (
	stdinName    = "-"
	stdinDisplay = "stdin"
)

const checkUsage = `usage: shmlab check [flags] FILE...

Checks history files (history/HISTORY.md describes the format; Jepsen
histories and porcupine kv logs are read too, see shmlab import):
linearizability per key with porcupine, the session guarantees per
worker, and the counter invariant. Prints the verdict and timing per file
and writes an HTML report next to each failing history (or in --out).
A FILE of - reads a history from standard input ("stdin" in messages,
its report stdin.html). Flags may come before or after the files; --
ends them.

Exit status: 0 every history passed, 1 a violation, 2 a check ran out of
time (unknown), 254 bad input or usage (an --out that is not a writable
folder is found before any check; this wins over the others: an
unreadable history leaves the verdict incomplete), 255 a report that
could not be written.

examples:
  shmlab check --out reports/ a/run.jsonl b/run.jsonl
  shmlab check run.jsonl --json -v
  shmlab check --timeout 10s - < run.jsonl

flags:
`

type checkFlags struct {
	out     string
	report  bool
	timeout time.Duration
	model   string
	asJSON  bool
	verbose bool
	format  string
}

// flagSet returns the flag set of check, which sets cf.
func (cf *checkFlags) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.StringVar(&cf.out, "out", "", "directory for the HTML reports (default: next to each history); reports whose names clash get -2, -3, ...")
	fs.BoolVar(&cf.report, "report", false, "write the HTML report of every history, not only of failing ones")
	fs.DurationVar(&cf.timeout, "timeout", time.Minute, "time limit per history, reading, checking and writing its report together (0: none): the search gets nine tenths of what reading left, past which the verdict is unknown; a report not written by the limit is left out")
	fs.StringVar(&cf.model, "model", "", "check against this model instead of the header's: kv, kv-evict or register")
	fs.StringVar(&cf.format, "format", "", "read the files as this format: history, jepsen or porcupine-kv (default: told from each file's first bytes)")
	fs.BoolVar(&cf.asJSON, "json", false, "print one JSON object per history instead of text")
	fs.BoolVar(&cf.verbose, "v", false, "also print the details of histories that pass, and what was checked")
	return fs
}

// checker checks the histories of one invocation of check.
type checker struct {
	checkFlags
	stdin          io.Reader
	stdout, stderr io.Writer
	// reports holds the report paths taken, so that none is written twice.
	reports map[string]bool
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &checker{stdin: stdin, stdout: stdout, stderr: stderr, reports: map[string]bool{}}
	files, err := parseArgs(c.flagSet(), checkUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	if err := c.validate(files); err != nil {
		fmt.Fprintf(stderr, "shmlab check: %v\n", err)
		return exitBadInput
	}
	code := exitOK
	for _, path := range files {
		code = worstExit(code, c.checkFile(path))
	}
	return code
}

func (cf *checkFlags) validate(files []string) error {
	switch {
	case len(files) == 0:
		return fmt.Errorf("no history files given (see --help)")
	case count(files, stdinName) > 1:
		return fmt.Errorf("standard input (%s) given %d times", stdinName, count(files, stdinName))
	case cf.timeout < 0:
		return fmt.Errorf("--timeout must not be negative, got %v", cf.timeout)
	case cf.model != "" && !history.Model(cf.model).Valid():
		return fmt.Errorf("--model must be %s, got %q", history.Models, cf.model)
	case !validFormat(cf.format):
		return fmt.Errorf("--format must be %s, %s or %s, got %q", formatHistory, formatJepsen, formatPorcupineKV, cf.format)
	case cf.out != "":
		return outputDir("--out", cf.out)
	}
	return nil
}

// count returns how many of ss are s.
func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
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
	Liveness   []linearizability.Violation `json:"liveness,omitempty"`
	// The counts of unknown outcomes are always written.
	Unknown  int                         `json:"unknown_ops"`
	Expired  int                         `json:"expired"`
	Late     int                         `json:"late_replies"`
	Counters linearizability.CounterKeys `json:"counters"`
	// Reduced counts the unknown operations the reductions decided.
	Reduced linearizability.Reduced `json:"reduced"`
	Report  string                  `json:"report,omitempty"`
}

// checkFile checks the history at path (- for standard input), writes its
// report if it is due, prints the outcome and returns the exit code.
func (c *checker) checkFile(path string) int {
	name := displayName(path)
	var deadline time.Time
	if c.timeout > 0 {
		deadline = time.Now().Add(c.timeout)
	}
	h, err := c.read(path)
	if err != nil {
		if c.asJSON {
			writeJSON(c.stdout, checkJSON{File: name, Verdict: "bad_input", Error: err.Error()})
		}
		fmt.Fprintf(c.stderr, "shmlab check: %v\n", err)
		return exitBadInput
	}
	opts := linearizability.Options{Model: history.Model(c.model), Timeout: searchTimeout(deadline)}
	r := linearizability.Check(h, opts)
	if r.Invalid != nil { // not reached from a file Read accepted; kept for safety
		fmt.Fprintf(c.stderr, "shmlab check: %s: %v\n", name, r.Invalid)
		return exitBadInput
	}
	code := verdictExit(r.Verdict)
	report := ""
	if r.Verdict != linearizability.Ok || c.report {
		switch report, err = c.writeReport(path, h, r, deadline); {
		case errors.Is(err, errReportTimeout):
			fmt.Fprintf(c.stderr, "shmlab check: %s: no report: --timeout %v ran out while writing it\n", name, c.timeout)
		case err != nil:
			fmt.Fprintf(c.stderr, "shmlab check: %s: cannot write the report: %v\n", name, err)
			code = worstExit(code, exitError)
		}
	}
	c.print(name, r, report)
	return code
}

// read reads the history at path, or standard input for "-", in
// --format or the format its first bytes show (import.go).
func (c *checker) read(path string) (*history.History, error) {
	return readInput(path, c.format, c.stdin)
}

// displayName is how messages name the history at path.
func displayName(path string) string {
	if path == stdinName {
		return stdinDisplay
	}
	return path
}

// verdictExit is the exit code of a history with verdict v.
func verdictExit(v linearizability.Verdict) int {
	switch v {
	case linearizability.Illegal:
		return exitInvalid
	case linearizability.Unknown:
		return exitUnknown
	}
	return exitOK
}

// writeReport writes the report of h, whose check found r, by deadline
// (zero: none), and returns its path.
func (c *checker) writeReport(path string, h *history.History, r *linearizability.Result, deadline time.Time) (string, error) {
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return "", errReportTimeout
	}
	report, err := c.reportPath(path)
	if err != nil {
		return "", err
	}
	ropts := linearizability.ReportOptions{Model: history.Model(c.model), Deadline: deadline, Result: r, Repro: c.repro(path)}
	if err := replaceFile(report, func(w io.Writer) error { return linearizability.WriteReport(w, h, ropts) }); err != nil {
		return "", err
	}
	return report, nil
}

// errReportTimeout says a report was left out: --timeout ran out before
// it was begun. (One begun is finished: its search stops at the
// deadline, and what it writes is bounded by its window.)
var errReportTimeout = errors.New("--timeout ran out before the report")

// repro is the command line that checks the history at path again, with
// the flags that change the verdict; none for standard input.
func (c *checker) repro(path string) string {
	if path == stdinName {
		return ""
	}
	words := []string{"shmlab", "check"}
	if c.model != "" {
		words = append(words, "--model", c.model)
	}
	if c.timeout != time.Minute {
		words = append(words, "--timeout", c.timeout.String())
	}
	return shquote.Join(append(words, "--", path)...)
}

// searchTimeout is the search's share of what is left before deadline
// (zero: no limit): nine tenths, the rest kept for the report, and at
// least a nanosecond, so that a spent limit stays a limit.
func searchTimeout(deadline time.Time) time.Duration {
	if deadline.IsZero() {
		return 0
	}
	return max(time.Until(deadline)*9/10, 1)
}

// reportPath is where the report of the history at path goes: next to it
// (standard input's in the current directory) or in --out, named after
// it, with -2, -3, ... before .html if an earlier report of this
// invocation took the name. It creates --out if need be.
func (c *checker) reportPath(path string) (string, error) {
	dir := filepath.Dir(path)
	if path == stdinName {
		dir = "."
	}
	if c.out != "" {
		if err := os.MkdirAll(c.out, 0o755); err != nil {
			return "", err
		}
		dir = c.out
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if path == stdinName {
		stem = stdinDisplay
	}
	return c.claim(dir, stem), nil
}

// claim returns the first path dir/stem.html, dir/stem-2.html, ... not
// yet taken, and takes it.
func (c *checker) claim(dir, stem string) string {
	for n := 1; ; n++ {
		name := stem + ".html"
		if n > 1 {
			name = stem + "-" + strconv.Itoa(n) + ".html"
		}
		p := filepath.Join(dir, name)
		key, err := filepath.Abs(p)
		if err != nil {
			key = p
		}
		if !c.reports[key] {
			c.reports[key] = true
			return p
		}
	}
}

// print writes the outcome of the history named name, in text or JSON.
func (c *checker) print(name string, r *linearizability.Result, report string) {
	if c.asJSON {
		writeJSON(c.stdout, checkJSON{File: name, Verdict: r.Verdict.String(), Ops: r.Ops, Checked: r.Checked,
			Seconds: r.Duration.Seconds(), SearchSecs: r.Search.Seconds(), Keys: r.Keys,
			Sessions: r.Sessions, Invariants: r.Invariants, Liveness: r.Liveness, Report: report,
			Unknown: r.Outcomes.Unknown, Expired: r.Outcomes.Expired, Late: r.Outcomes.Late, Counters: r.Counters, Reduced: r.Reduced})
		return
	}
	fmt.Fprintf(c.stdout, "%s: %v (search %v)\n", name, r, r.Search.Round(10*time.Microsecond))
	if c.verbose {
		fmt.Fprint(c.stdout, checkedTable(r))
		if r.Reduced.Total() > 0 {
			fmt.Fprintf(c.stdout, "  %v\n", r.Reduced)
		}
	}
	if r.Verdict != linearizability.Ok || c.verbose {
		fmt.Fprint(c.stdout, r.Details())
	}
	if report != "" {
		fmt.Fprintf(c.stdout, "report: %s\n", report)
	}
}

// checkedTable says, as an indented table, what the check behind r
// looked at and found: a row per check, then the outcomes that were not
// answers.
func checkedTable(r *linearizability.Result) string {
	ops := fmt.Sprintf("%d operations", r.Checked)
	if r.Checked == 1 {
		ops = "1 operation"
	}
	if r.Checked != r.Ops {
		ops = fmt.Sprintf("%d of %d operations", r.Checked, r.Ops)
	}
	answers := r.BadAnswers()
	counter := violations(linearizability.CountViolations(r.Invariants) - answers)
	if len(r.Invariants) == answers {
		counter = r.Counters.Summary()
	}
	rows := [][2]string{
		{"linearizability", fmt.Sprintf("%s: %s checked in %v (search %v)", r.Linearizable, ops,
			r.Duration.Round(10*time.Microsecond), r.Search.Round(10*time.Microsecond))},
		{"session guarantees", violations(linearizability.CountViolations(r.Sessions)) + causes(r.Sessions)},
		{"counter invariant", counter},
		{"liveness", violations(r.NeverAnswered() + r.Crashes() + r.Unavailable() + r.Overdue())},
		{"unknown outcomes", outcomes(r.Outcomes)},
	}
	if answers > 0 {
		rows = slices.Insert(rows, 3, [2]string{"answers", violations(answers)})
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	tw.Flush()
	return b.String()
}

// causes says, for session violations grouped by cause, how many causes
// they have.
func causes(vs []linearizability.Violation) string {
	if len(vs) == 0 || len(vs) == linearizability.CountViolations(vs) {
		return ""
	}
	if len(vs) == 1 {
		return " (1 cause)"
	}
	return fmt.Sprintf(" (%d causes)", len(vs))
}

// outcomes says how many operations had an unknown outcome, and of what
// kind.
func outcomes(o linearizability.Outcomes) string {
	if o.Unknown == 0 {
		return "none"
	}
	return fmt.Sprintf("%d (%d expired, %d answered late)", o.Unknown, o.Expired, o.Late)
}

// violations says how many violations n is.
func violations(n int) string {
	switch n {
	case 0:
		return "no violation"
	case 1:
		return "1 violation"
	}
	return fmt.Sprintf("%d violations", n)
}

func writeJSON(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
