package nodetest_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/internal/nodetest"
)

// TestPackage installs a real package from the npm registry and has node
// load it from the folder Package returns.
func TestPackage(t *testing.T) {
	node := nodetest.Node(t)
	dir := nodetest.Package(t, "cluster-shared-memory@1.1.5")
	if again := nodetest.Package(t, "cluster-shared-memory@1.1.5"); again != dir {
		t.Errorf("second Package = %q, want %q", again, dir)
	}
	cmd := exec.Command(node, "-p", "require('cluster-shared-memory/package.json').version")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1.1.5" {
		t.Errorf("node in %s: %q, %v; want 1.1.5", dir, out, err)
	}
}

// TestSkipWithoutNode checks the skip, and the failure under CI, with an
// empty PATH.
func TestSkipWithoutNode(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("CI", ci)
			rec := &recorder{TB: t}
			func() {
				defer func() { recover() }() // Skip and Fatal stop the goroutine
				nodetest.Node(rec)
			}()
			if got, want := rec.outcome, map[string]string{"": "skip", "true": "fatal"}[ci]; got != want ||
				!strings.Contains(rec.msg, "node not found") {
				t.Errorf("Node with CI=%q: %s %q; want %s naming node", ci, got, rec.msg, want)
			}
		})
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of acting.
type recorder struct {
	testing.TB
	outcome, msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.outcome, r.msg = "skip", sprintf(format, args...)
	panic(r)
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.outcome, r.msg = "fatal", sprintf(format, args...)
	panic(r)
}

var sprintf = fmt.Sprintf
