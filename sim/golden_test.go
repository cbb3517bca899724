package sim

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/hashes.golden")

// goldenRuns are runs whose history hashes are kept in
// testdata/hashes.golden: every fault kind and strength, swarms and bug
// variants.
func goldenRuns() []Config {
	var cs []Config
	for _, f := range benchFaults {
		for seed := uint64(1); seed <= 3; seed++ {
			cs = append(cs, Config{Run: spec.Run{Scenario: "faults-" + f.name, Seed: seed, Workers: 4, Ops: 300, Plan: benchPlan(f.p * 5), RetryAfter: 20 * time.Millisecond}})
		}
	}
	for seed := uint64(1); seed <= 12; seed++ {
		cs = append(cs, Swarm(Config{Run: spec.Run{Scenario: "swarm", Seed: seed, Workers: 3, Ops: 200, RetryAfter: 20 * time.Millisecond}}))
	}
	for _, b := range []shm.Bugs{shm.BugNoDedup, shm.BugAddGetSet, shm.BugWrapIDs, shm.BugReadCache} {
		for seed := uint64(1); seed <= 2; seed++ {
			cs = append(cs, Swarm(Config{Run: spec.Run{Scenario: "bug", Seed: seed, Workers: 3, Ops: 200, RetryAfter: 20 * time.Millisecond, Bugs: b}}))
		}
	}
	return cs
}

// TestGoldenHashes: the simulator makes the same histories as when
// testdata/hashes.golden was written (go test -run TestGoldenHashes
// -update rewrites it, for a change meant to change them). A change that
// only makes the simulator faster must not change one.
func TestGoldenHashes(t *testing.T) {
	var got strings.Builder
	for _, c := range goldenRuns() {
		c.NoCheck = true
		r, err := Run(c)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&got, "%s seed %d bugs %v: %s\n", c.Scenario, c.Seed, c.Bugs, r.Hash())
	}
	path := filepath.Join("testdata", "hashes.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got.String()); d != "" {
		t.Errorf("histories changed (-golden +now):\n%s", d)
	}
}

// TestCodes: the recorder's codes stand for what they code.
func TestCodes(t *testing.T) {
	for i, m := range opMethods {
		if got := methodCode(m); got != uint8(i) {
			t.Errorf("methodCode(%s) = %d, want %d", m, got, i)
		}
	}
	for i, st := range opStatuses {
		if got := statusCode(st); got != uint8(i) {
			t.Errorf("statusCode(%s) = %d, want %d", st, got, i)
		}
	}
}
