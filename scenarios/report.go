package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/spec"
)

// Row is a Result as one JSON object (shmlab run --json, and sim's and
// zoo's): everything the table, the JUnit report and shmlab merge need,
// so that the rows of several shards merge into the rows of one run.
type Row struct {
	Scenario   string      `json:"scenario"`
	File       string      `json:"file"`
	Mode       Mode        `json:"mode"`
	Expect     spec.Expect `json:"expect"`
	Verdict    string      `json:"verdict"`
	Met        bool        `json:"met"`
	Seeds      int         `json:"seeds"`
	Violations int         `json:"violations"`
	// NeverAnswered, Crashed and Unavailable count the liveness
	// violations found in all the runs: calls never answered, processes
	// that crashed, operations left without an answer in a run with no
	// fault planned.
	NeverAnswered int `json:"never_answered,omitempty"`
	Crashed       int `json:"crashed,omitempty"`
	Unavailable   int `json:"unavailable,omitempty"`
	Undecided     int `json:"undecided"`
	Ops           int `json:"ops"`
	// The process faults planned in all the runs, and how many happened.
	FaultsPlanned  int     `json:"faults_planned"`
	FaultsHappened int     `json:"faults_happened"`
	WallMs         float64 `json:"wall_ms"`
	CheckMs        float64 `json:"check_ms"`
	Skipped        string  `json:"skipped,omitempty"`
	// Target is the system under test ("reference", "node:ADAPTER").
	Target string `json:"target"`
	// Found says what the checks found in the first run with a
	// violation ("1 crash", "1 invariant violation (counter)").
	Found string `json:"found,omitempty"`
	// LeftOut names the methods a Node target's adapter lacks, which
	// its runs' workloads left out.
	LeftOut []string `json:"left_out,omitempty"`
	Errors  []string `json:"errors,omitempty"`
	Folders []string `json:"failure_folders,omitempty"`
	// Failures are the runs worth a look (Outcome.Failed), with their
	// folders and repro lines.
	Failures []RunRow `json:"failures,omitempty"`
	// SeedList are the seeds run, in order.
	SeedList []uint64 `json:"seed_list,omitempty"`
	// Cells counts the cells (seeds) dealt to this row, run or not (a
	// scenario that expects a violation stops at its first one).
	Cells int `json:"cells"`
	// Shard is the shard that ran the row, "I/N" ("1/1" unsharded), and
	// Config the fingerprint of the run's configuration (RunEnd.Config).
	Shard  string `json:"shard"`
	Config string `json:"config"`
}

// RunEnd is the last JSON line of a run, sim or zoo --json: which shard
// it was, of how many, what it was a shard of, and what it printed, so
// that shmlab merge can tell a complete shard from one that died and
// refuse shards of different runs.
type RunEnd struct {
	// End marks the line (always true).
	End bool `json:"end"`
	// Shard is "I/N" ("1/1" for a run not sharded).
	Shard string `json:"shard"`
	// Config is the fingerprint of what chose the cells and what each
	// runs (Fingerprint): shards of one run have the same.
	Config string `json:"config"`
	// Rows counts the rows printed before this line; Cells the cells
	// dealt to this shard; TotalCells those of all N shards together.
	Rows       int `json:"rows"`
	Cells      int `json:"cells"`
	TotalCells int `json:"total_cells"`
}

// Fingerprint returns the fingerprint of a run's configuration: a hash of
// parts (the command, the scenarios' texts, the mode, the seeds, ...),
// each part ended so that no two lists of parts hash alike.
func Fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// RunRow is one run in a Row: a failure, what it said, where it is kept
// and the line that runs it again.
type RunRow struct {
	Seed    uint64 `json:"seed"`
	Verdict string `json:"verdict"` // illegal, unknown or error
	Message string `json:"message"`
	Folder  string `json:"folder,omitempty"`
	Repro   string `json:"repro,omitempty"`
}

// RowOf returns r as a Row; its failures' folders and repro lines are
// the outcomes' (Outcome.Folder, Outcome.Repro).
func RowOf(r *Result) Row {
	row := Row{Scenario: r.Scenario.Name, File: r.Scenario.File, Mode: r.Mode, Expect: r.expect(), Target: r.Scenario.Target.String(),
		Verdict: r.Verdict(), Met: r.Met, Seeds: len(r.Outcomes), Violations: r.Violations, Ops: r.Ops,
		FaultsPlanned: r.FaultsPlanned, FaultsHappened: r.FaultsHappened,
		WallMs: ms(r.Wall.Seconds()), CheckMs: ms(r.CheckTime.Seconds()), Skipped: r.Skipped, Cells: max(r.Cells, len(r.Outcomes))}
	for _, o := range r.Outcomes {
		row.SeedList = append(row.SeedList, o.Seed)
		row.LeftOut = union(row.LeftOut, o.LeftOut)
		if row.Found == "" && o.Err == nil && o.Verdict() == linearizability.Illegal {
			row.Found = o.Check.Findings()
		}
		if o.Err == nil && o.Verdict() == linearizability.Unknown {
			row.Undecided++
		}
		if o.Check != nil {
			row.NeverAnswered += o.Check.NeverAnswered()
			row.Crashed += o.Check.Crashes()
			row.Unavailable += o.Check.Unavailable()
		}
		if o.Err != nil {
			row.Errors = append(row.Errors, fmt.Sprintf("seed %d: %v", o.Seed, o.Err))
		}
		if !o.Failed() {
			continue
		}
		rr := RunRow{Seed: o.Seed, Verdict: o.Verdict().String(), Folder: o.Folder, Repro: o.Repro}
		if o.Err != nil {
			rr.Verdict, rr.Message = "error", o.Err.Error()
		} else {
			rr.Message = o.Check.String() + "\n" + o.Check.Details()
		}
		row.Failures = append(row.Failures, rr)
		if o.Folder != "" {
			row.Folders = append(row.Folders, o.Folder)
		}
	}
	return row
}

// union returns the names of a and b, each once, in order of first
// appearance.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func ms(s float64) float64 { return float64(int64(s*1e6)) / 1e3 }

func (r *Result) expect() spec.Expect {
	if r.Scenario.Expect == "" {
		return ExpectPass
	}
	return r.Scenario.Expect
}

// verdictOf is the verdict word of runs with these counts (Result.Verdict).
func verdictOf(expect spec.Expect, skipped bool, violations, errors, undecided int) string {
	switch {
	case skipped:
		return "skipped"
	case expect == ExpectViolation && violations > 0:
		return "caught"
	case expect != ExpectViolation && violations == 0 && errors == 0 && undecided == 0:
		return "pass"
	case expect != ExpectViolation && violations > 0:
		return "FAILED"
	case errors > 0:
		return "ERROR"
	case undecided > 0:
		return "unknown"
	}
	return "MISSED"
}

// Verdicts are the verdict words of a Row (Result.Verdict).
var Verdicts = []string{"pass", "caught", "FAILED", "ERROR", "unknown", "MISSED", "skipped"}

// Validate reports what in r cannot be a row that shmlab printed: a
// verdict, expectation or mode it does not know, counts that do not
// match its lists, a seed twice, a failure of a seed it did not run, or
// a verdict that does not follow from its counts.
func (r Row) Validate() error {
	switch {
	case r.Scenario == "":
		return fmt.Errorf("no scenario")
	case !slices.Contains(Verdicts, r.Verdict):
		return fmt.Errorf("verdict %q: want one of %s", r.Verdict, strings.Join(Verdicts, ", "))
	case r.Expect != ExpectPass && r.Expect != ExpectViolation:
		return fmt.Errorf("expect %q: want pass or violation", r.Expect)
	case r.Mode != Process && r.Mode != Sim:
		return fmt.Errorf("mode %q: want process or sim", r.Mode)
	case r.Seeds != len(r.SeedList):
		return fmt.Errorf("seeds %d, but %d in seed_list", r.Seeds, len(r.SeedList))
	case r.Cells < r.Seeds:
		return fmt.Errorf("cells %d, fewer than its %d seeds", r.Cells, r.Seeds)
	case r.NeverAnswered < 0 || r.Crashed < 0 || r.Unavailable < 0:
		return fmt.Errorf("%d calls never answered, %d crashes", r.NeverAnswered, r.Crashed)
	case r.Violations < 0 || r.Undecided < 0 || r.Violations+r.Undecided+len(r.Errors) > r.Seeds:
		return fmt.Errorf("%d violations, %d undecided and %d errors in %d seeds", r.Violations, r.Undecided, len(r.Errors), r.Seeds)
	case (r.Verdict == "skipped") != (r.Skipped != ""):
		return fmt.Errorf("verdict %q with skipped %q", r.Verdict, r.Skipped)
	case r.FaultsHappened < 0 || r.FaultsHappened > r.FaultsPlanned:
		return fmt.Errorf("%d of %d faults happened", r.FaultsHappened, r.FaultsPlanned)
	case r.FaultsHappened < r.FaultsPlanned && len(r.Errors) == 0:
		// A planned fault that did not happen makes its run an ERROR.
		return fmt.Errorf("%d of %d faults happened, and no error", r.FaultsHappened, r.FaultsPlanned)
	}
	ran := map[uint64]bool{}
	for _, s := range r.SeedList {
		if ran[s] {
			return fmt.Errorf("seed %d twice in seed_list", s)
		}
		ran[s] = true
	}
	for _, f := range r.Failures {
		if !ran[f.Seed] {
			return fmt.Errorf("a failure of seed %d, which is not in seed_list", f.Seed)
		}
	}
	if want := verdictOf(r.Expect, r.Skipped != "", r.Violations, len(r.Errors), r.Undecided); r.Verdict != want {
		return fmt.Errorf("verdict %q, but its counts (%d violations, %d errors, %d undecided, expect %s) make it %q",
			r.Verdict, r.Violations, len(r.Errors), r.Undecided, r.Expect, want)
	}
	if met := r.Verdict == "pass" || r.Verdict == "caught"; r.Met != met {
		return fmt.Errorf("met %v with verdict %q", r.Met, r.Verdict)
	}
	return nil
}

// MergeRows merges rows of the same scenario name, mode and
// configuration (those of shards: shmlab run --shard; the file a row
// names may differ, as shards run in different checkouts) into one each,
// in the order they first come, counts and lists joined and the verdict
// decided again, as the unsharded run decides it. Each row must be valid
// (Row.Validate). A seed in two rows of one scenario and mode is an
// error: shards overlap.
func MergeRows(rows []Row) ([]Row, error) {
	type key struct {
		scenario, config string
		mode             Mode
	}
	var out []Row
	at := map[key]int{}
	seen := map[key]map[uint64]string{}
	for _, r := range rows {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", r.Scenario, r.Mode, err)
		}
		k := key{r.Scenario, r.Config, r.Mode}
		if seen[k] == nil {
			seen[k] = map[uint64]string{}
		}
		for _, s := range r.SeedList {
			if other, ok := seen[k][s]; ok {
				return nil, fmt.Errorf("%s (%s) seed %d: in the rows of shard %s and of shard %s: the shards overlap", r.Scenario, r.Mode, s, other, r.Shard)
			}
			seen[k][s] = r.Shard
		}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			r.Shard = ""
			out = append(out, r)
			continue
		}
		m := &out[i]
		if m.Expect != r.Expect {
			return nil, fmt.Errorf("%s (%s): expects %s in one row and %s in another", r.Scenario, r.Mode, m.Expect, r.Expect)
		}
		if m.Skipped == "" || r.Skipped == "" {
			m.Skipped = ""
		}
		m.Seeds += r.Seeds
		m.Cells += r.Cells
		m.Violations += r.Violations
		m.NeverAnswered += r.NeverAnswered
		m.Crashed += r.Crashed
		m.Unavailable += r.Unavailable
		m.Undecided += r.Undecided
		m.Ops += r.Ops
		m.FaultsPlanned += r.FaultsPlanned
		m.FaultsHappened += r.FaultsHappened
		m.WallMs += r.WallMs
		m.CheckMs += r.CheckMs
		m.Errors = append(m.Errors, r.Errors...)
		m.Folders = append(m.Folders, r.Folders...)
		m.Failures = append(m.Failures, r.Failures...)
		m.SeedList = append(m.SeedList, r.SeedList...)
		m.LeftOut = union(m.LeftOut, r.LeftOut)
		if m.Found == "" {
			m.Found = r.Found
		}
	}
	for i := range out {
		r := &out[i]
		r.Verdict = verdictOf(r.Expect, r.Skipped != "", r.Violations, len(r.Errors), r.Undecided)
		r.Met = r.Verdict == "pass" || r.Verdict == "caught"
	}
	return out, nil
}

// WriteJUnit writes rows as a JUnit XML report: one test suite, one test
// case per row (scenario and mode), a failure for a violation where none
// was expected or none where one was (FAILED, MISSED), an error for a run
// that could not be done (ERROR) or a check that could not decide, each
// with its runs' messages, folders and repro lines; a skipped row is
// skipped.
func WriteJUnit(w io.Writer, rows []Row) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      float64  `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
		Skipped   *failure `xml:"skipped,omitempty"`
	}
	type testsuite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Time     float64    `xml:"time,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	ts := testsuite{Name: "shmlab", Tests: len(rows)}
	for _, r := range rows {
		tc := testcase{Name: r.Scenario + " (" + string(r.Mode) + ")", Classname: "shmlab." + string(r.Mode), Time: r.WallMs / 1e3}
		ts.Time += tc.Time
		switch text := r.summary(); r.Verdict {
		case "FAILED", "MISSED":
			tc.Failure, ts.Failures = &failure{Message: r.Verdict, Text: text}, ts.Failures+1
		case "ERROR", "unknown":
			tc.Error, ts.Errors = &failure{Message: r.Verdict, Text: text}, ts.Errors+1
		case "skipped":
			tc.Skipped, ts.Skipped = &failure{Message: r.Skipped}, ts.Skipped+1
		}
		ts.Cases = append(ts.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(ts); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// summary says what went against the expectation: each failing run's
// message, folder and repro line.
func (r Row) summary() string {
	var b strings.Builder
	if r.Verdict == "MISSED" {
		fmt.Fprintf(&b, "no violation in %d seeds: the violation expected went uncaught\n", r.Seeds)
	}
	if l := r.Liveness(); l != "-" {
		fmt.Fprintf(&b, "liveness: %s\n", l)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "seed %d: %s\n", f.Seed, strings.TrimRight(f.Message, "\n"))
		if f.Folder != "" {
			fmt.Fprintf(&b, "folder: %s\n", f.Folder)
		}
		if f.Repro != "" {
			fmt.Fprintf(&b, "repro: %s\n", f.Repro)
		}
	}
	return b.String()
}

// Liveness says what the liveness check found in the row's runs: "-"
// for nothing, else "2 never answered, 1 crashed".
func (r Row) Liveness() string {
	var parts []string
	if r.NeverAnswered > 0 {
		parts = append(parts, fmt.Sprintf("%d never answered", r.NeverAnswered))
	}
	if r.Crashed > 0 {
		parts = append(parts, fmt.Sprintf("%d crashed", r.Crashed))
	}
	if r.Unavailable > 0 {
		parts = append(parts, fmt.Sprintf("%d unavailable", r.Unavailable))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes rows as JSON lines.
func WriteJSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
