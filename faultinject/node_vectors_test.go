package faultinject_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNodeDecisionVectors runs node/test/decide.test.js, the Node side of
// the shared decision vectors, so that go test checks both ports.
func TestNodeDecisionVectors(t *testing.T) {
	node := nodeBinary(t)
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

// nodeBinary returns the node binary, skipping the test without one,
// except on CI (CI=true), which installs node: there it fails.
// internal/nodetest.Node does the same once it is in this tree.
func nodeBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node not found, and CI=true installs it: %v", err)
		}
		t.Skipf("node not found (%v): the Node side of the decision vectors is not checked", err)
	}
	return p
}
