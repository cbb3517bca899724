// Package checktest has test helpers for the checkers, in the manner of
// testing/fstest and net/http/httptest: Require checks a history and
// fails the test with the verdict, the operations at fault and an HTML
// report. It is the one place that imports testing, so that the checkers
// and the commands built on them do not.
package checktest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
)

// ReportDirEnv names the environment variable that, when set, is where
// Require writes its HTML reports (else a test's temporary directory,
// which goes when the test ends).
const ReportDirEnv = "SHMLAB_REPORT_DIR"

// Require checks h and fails t (with t.Fatalf) unless the verdict is Ok:
// a violation, an undecided check (Unknown) and an invalid history all
// fail. On failure it logs what is wrong and writes the HTML report,
// logging its path: in $SHMLAB_REPORT_DIR if set, else in the test's
// temporary directory, which goes when the test ends. It returns the
// result for further assertions.
func Require(t testing.TB, h *history.History, opts linearizability.Options) *linearizability.Result {
	t.Helper()
	r := linearizability.Check(h, opts)
	if r.Verdict == linearizability.Ok {
		return r
	}
	name := h.Name
	if name == "" {
		name = "of scenario " + strconv.Quote(h.Header.Scenario)
	}
	if r.Invalid != nil {
		t.Fatalf("history %s: %v", name, r.Invalid)
	}
	dir := os.Getenv(ReportDirEnv)
	keep := ""
	if dir == "" {
		dir = t.TempDir()
		keep = " (deleted when the test ends; set " + ReportDirEnv + " to keep it)"
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("cannot make the report directory: %v", err)
	}
	path := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".html")
	if err := linearizability.WriteReportFile(path, h, linearizability.ReportOptions{Model: opts.Model, Timeout: opts.Timeout, Result: r}); err != nil {
		t.Logf("cannot write the report: %v", err)
	} else {
		t.Logf("report: %s%s", path, keep)
	}
	t.Fatalf("history %s: %v\n%s", name, r, r.Details())
	return r
}
