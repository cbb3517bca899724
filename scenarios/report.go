package scenarios

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/shmlab/shmlab/linearizability"
)

// Row is a Result as one JSON object (shmlab run --json).
type Row struct {
	Scenario   string `json:"scenario"`
	File       string `json:"file"`
	Mode       Mode   `json:"mode"`
	Expect     Expect `json:"expect"`
	Verdict    string `json:"verdict"`
	Met        bool   `json:"met"`
	Seeds      int    `json:"seeds"`
	Violations int    `json:"violations"`
	Ops        int    `json:"ops"`
	// The process faults planned in all the runs, and how many happened.
	FaultsPlanned  int      `json:"faults_planned"`
	FaultsHappened int      `json:"faults_happened"`
	WallMs         float64  `json:"wall_ms"`
	CheckMs        float64  `json:"check_ms"`
	Errors         []string `json:"errors,omitempty"`
	Folders        []string `json:"failure_folders,omitempty"`
}

// RowOf returns r as a Row; folders are its failure folders.
func RowOf(r *Result, folders []string) Row {
	row := Row{Scenario: r.Scenario.Name, File: r.Scenario.File, Mode: r.Mode, Expect: r.expect(),
		Verdict: r.Verdict(), Met: r.Met, Seeds: len(r.Outcomes), Violations: r.Violations, Ops: r.Ops,
		FaultsPlanned: r.FaultsPlanned, FaultsHappened: r.FaultsHappened,
		WallMs: ms(r.Wall.Seconds()), CheckMs: ms(r.CheckTime.Seconds()), Folders: folders}
	for _, o := range r.Outcomes {
		if o.Err != nil {
			row.Errors = append(row.Errors, fmt.Sprintf("seed %d: %v", o.Seed, o.Err))
		}
	}
	return row
}

func ms(s float64) float64 { return float64(int64(s*1e6)) / 1e3 }

func (r *Result) expect() Expect {
	if r.Scenario.Expect == "" {
		return ExpectPass
	}
	return r.Scenario.Expect
}

// WriteJUnit writes results as a JUnit XML report: one test suite, one
// test case per scenario and mode, a failure for each unmet expectation
// (an error for an inconclusive one).
func WriteJUnit(w io.Writer, results []*Result) error {
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
	}
	type testsuite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Time     float64    `xml:"time,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	ts := testsuite{Name: "shmlab", Tests: len(results)}
	for _, r := range results {
		tc := testcase{Name: r.Scenario.Name + " (" + string(r.Mode) + ")", Classname: "shmlab." + string(r.Mode), Time: r.Wall.Seconds()}
		ts.Time += tc.Time
		switch text := summary(r); {
		case r.Met, r.Skipped != "":
		case r.Unmet():
			tc.Failure, ts.Failures = &failure{Message: r.Verdict(), Text: text}, ts.Failures+1
		default:
			tc.Error, ts.Errors = &failure{Message: r.Verdict(), Text: text}, ts.Errors+1
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

// summary says what went against the expectation.
func summary(r *Result) string {
	var b strings.Builder
	if r.Scenario.Expect == ExpectViolation && r.Violations == 0 {
		fmt.Fprintf(&b, "no violation in %d seeds: the violation expected went uncaught\n", len(r.Outcomes))
	}
	for _, o := range r.Outcomes {
		switch {
		case o.Err != nil:
			fmt.Fprintf(&b, "seed %d: %v\n", o.Seed, o.Err)
		case o.Check.Verdict == linearizability.Unknown || (r.Scenario.Expect != ExpectViolation && o.Check.Verdict != linearizability.Ok):
			fmt.Fprintf(&b, "seed %d: %v\n%s\n", o.Seed, o.Check, o.Check.Details())
		}
	}
	return b.String()
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
