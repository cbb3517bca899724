package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/spec"
)

// TestSaveFailsIsError: a run the store should keep and cannot (here the
// scenario's folder became a file after the up-front check) is an ERROR
// (255), said on stderr; a latest link that cannot be made says the run
// folder was kept all the same, and is an ERROR too.
func TestSaveFailsIsError(t *testing.T) {
	sc, err := spec.Parse("p.yaml", []byte("name: p\nmode: sim\nops: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store := &scenarios.RunStore{Dir: dir, Keep: scenarios.KeepAll}
	if err := os.WriteFile(filepath.Join(dir, "p"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	o := scenarios.Run(context.Background(), sc, scenarios.Sim, 1)
	if code := save(store, o, "run", &stderr); code != exitError || !strings.Contains(stderr.String(), "p (sim) seed 1: not kept in the store: ") {
		t.Errorf("save into a file: exit %d, want %d; stderr %q", code, exitError, stderr.String())
	}
	if err := os.Remove(filepath.Join(dir, "p")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, scenarios.LatestLink, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := save(store, o, "run", &stderr); code != exitError || !strings.Contains(stderr.String(), "p (sim) seed 1: kept in "+o.Folder+", but its latest link could not be made") {
		t.Errorf("save beside a latest folder: exit %d, want %d; stderr %q", code, exitError, stderr.String())
	}
}
