package faultinject_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/shmlab/shmlab/internal/nodetest"
)

// TestNodeDecisionVectors runs node/test/decide.test.js, the Node side of
// the shared decision vectors, so that go test checks both ports.
func TestNodeDecisionVectors(t *testing.T) {
	node := nodetest.Node(t)
	cmd := exec.Command(node, "--test", filepath.Join("node", "test", "decide.test.js"))
	cmd.Dir = ".."
	cmd.Env = os.Environ()
	if f := os.Getenv("SHMLAB_DECISIONS"); f != "" {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "SHMLAB_DECISIONS="+abs)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test node/test/decide.test.js: %v\n%s", err, out)
	}
}
