package node_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/shmlab/shmlab/internal/nodetest"
)

// TestAdapters runs node/test/adapters.test.js, the tests of the bundled
// real-library adapters (scenarios/bundled/adapters) and of the broken
// fixtures (node/testdata/fixtures), each in a cluster of its own without
// the Go side, with the npm packages they need installed first into the
// npm cache folder, which the JavaScript side reads the same way.
func TestAdapters(t *testing.T) {
	node := nodetest.Node(t)
	for _, p := range []string{"cluster-shared-memory@1.1.5", "memored@1.1.1"} {
		nodetest.Package(t, p)
	}
	cmd := exec.Command(node, "--test", filepath.Join("test", "adapters.test.js"))
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test test/adapters.test.js: %v\n%s", err, out)
	}
}
