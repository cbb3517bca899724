package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoTestingInBinary: the shmlab binary is built without package
// testing and without rapid; test helpers live in packages of their own
// (linearizability/checktest, sim/simtest, history/historytest), which
// only tests import. It asks `go list -deps` and names, for each package
// that should not be there, the packages of the build that import it.
func TestNoTestingInBinary(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the binary's packages")
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	importers := map[string][]string{}
	var pkgs []string
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		f := strings.Fields(line)
		pkgs = append(pkgs, f[0])
		for _, imp := range f[1:] {
			importers[imp] = append(importers[imp], f[0])
		}
	}
	if !slices.Contains(pkgs, "github.com/shmlab/shmlab/linearizability") || !slices.Contains(pkgs, "github.com/shmlab/shmlab/sim") {
		t.Fatalf("go list gave %d packages, without the checkers or the simulator: not the shmlab binary's list", len(pkgs))
	}
	for _, p := range pkgs {
		if forbidden(p) {
			t.Errorf("the binary imports %s, through %s", p, strings.Join(importers[p], ", "))
		}
	}
}

// forbidden reports whether the binary must not import package p.
func forbidden(p string) bool {
	return p == "testing" || strings.HasPrefix(p, "testing/") || p == "pgregory.net/rapid" || strings.HasPrefix(p, "pgregory.net/rapid/")
}
