package linearizability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ReportDirEnv names the environment variable that, when set, is where
// Require writes its HTML reports (else a test's temporary directory,
// which goes when the test ends).
const ReportDirEnv = "SHMLAB_REPORT_DIR"

// Require checks h and fails t unless the verdict is Ok: a violation and
// an undecided check (Unknown) both fail. On failure it logs what is
// wrong and writes the HTML report, logging its path. It returns the
// result for further assertions.
func Require(t testing.TB, h *History, opts Options) *Result {
	t.Helper()
	r := Check(h, opts)
	if r.Verdict == Ok {
		return r
	}
	dir := os.Getenv(ReportDirEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("cannot make the report directory: %v", err)
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".html"
	path := filepath.Join(dir, name)
	if err := WriteReportFile(path, h, ReportOptions{Model: opts.Model, Timeout: opts.Timeout, Result: r}); err != nil {
		t.Logf("cannot write the report: %v", err)
	} else {
		t.Logf("report: %s", path)
	}
	t.Fatalf("history %s: %v\n%s", h.Name, r, r.Details())
	return r
}
