package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/node"
)

// TestInitAdapter writes the template once, and leaves it alone after.
func TestInitAdapter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.js")
	if r := runArgs(t, "init-adapter", path); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != string(node.Template()) {
		t.Fatalf("wrote %d bytes (%v), want the template", len(b), err)
	}
	for _, want := range []string{"master(shmlab)", "worker(shmlab)", "finalRead", "module.exports"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the template has no %q", want)
		}
	}
	if r := runArgs(t, "init-adapter", path); r.code != exitBadInput || !strings.Contains(r.stderr, "exists") {
		t.Errorf("a second write: exit %d, %q; want %d, exists", r.code, r.stderr, exitBadInput)
	}
	if r := runArgs(t, "init-adapter", "a", "b"); r.code != exitBadInput {
		t.Errorf("two files: exit %d, want %d", r.code, exitBadInput)
	}
	if r := runArgs(t, "init-adapter", "-"); r.code != exitOK || r.stdout != string(node.Template()) {
		t.Errorf("- : exit %d, %d bytes; want the template on standard output", r.code, len(r.stdout))
	}
}
