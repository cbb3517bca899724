// Package nodetest gives tests a node binary and npm packages installed
// into shmlab's npm cache folder (see internal/npmcache).
//
// Without node (or npm) a test is skipped with the reason, except when the
// environment has CI=true: CI machines install node, so there a missing
// node fails the test.
package nodetest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/shmlab/shmlab/internal/npmcache"
	"github.com/shmlab/shmlab/internal/patience"
)

// installTimeout bounds one npm install on a quiet machine (scaled by
// patience.Bound).
const installTimeout = 2 * time.Minute

// Node returns the path of the node binary on PATH.
func Node(t testing.TB) string {
	t.Helper()
	return lookPath(t, "node")
}

// Package returns the folder whose node_modules holds spec
// (name@version), installing it into the npm cache folder the first time
// (once, however many tests and test binaries ask at the same time). Run
// node with that folder as its working folder, or set NODE_PATH to
// folder/node_modules, for require(name) to find it. A failed install
// fails the test with an error naming the package and npm's output.
func Package(t testing.TB, spec string) string {
	t.Helper()
	Node(t) // npm needs it
	npm := lookPath(t, "npm")
	c, err := npmcache.Default()
	if err != nil {
		t.Fatal(err)
	}
	c.NPM = npm
	ctx, cancel := context.WithTimeout(context.Background(), patience.Bound(installTimeout))
	defer cancel()
	dir, err := c.Install(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// lookPath finds name on PATH, skipping the test without it unless CI=true.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found on PATH, and CI=true (CI machines have it): %v", name, err)
	}
	t.Skipf("%s not found on PATH: %v", name, err)
	return ""
}
