package scenarios

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/linearizability"
)

// TestNodeFixtures runs the scenarios of the broken Node fixtures
// (node/testdata/scenarios, tinystore with one flaw each) on real
// processes: each must be caught by the check its flaw calls for, and
// the control, tinystore with no flaw under kills, poison and delays,
// must pass every seed.
func TestNodeFixtures(t *testing.T) {
	nodetest.Node(t)
	want := map[string]string{ // the check that must catch each
		"tinystore-never-fires": linearizability.LivenessNeverAnswered,
		"tinystore-null-crash":  linearizability.LivenessCrashed,
		"tinystore-lock-kept":   linearizability.LivenessNeverAnswered,
		"tinystore-control":     "",
	}
	paths, err := filepath.Glob(filepath.Join("..", "node", "testdata", "scenarios", "*.yaml"))
	if err != nil || len(paths) != len(want) {
		t.Fatalf("%d fixture scenarios (%v), want %d", len(paths), err, len(want))
	}
	scs, err := LoadAll(paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			check, ok := want[sc.Name]
			if !ok {
				t.Fatalf("no verdict known for %s", sc.Name)
			}
			var found []string
			for _, seed := range sc.Seeds.All() {
				o := Run(context.Background(), sc, Process, seed)
				if o.Err != nil {
					t.Fatalf("seed %d: %v", seed, o.Err)
				}
				if check == "" && o.Verdict() != linearizability.Ok {
					t.Fatalf("seed %d: %v\n%s", seed, o.Check, o.Check.Details())
				}
				for _, v := range o.Check.Liveness {
					found = append(found, v.Check)
				}
			}
			if check != "" && !slices.Contains(found, check) {
				t.Fatalf("no seed was caught by %s; liveness found [%s]", check, strings.Join(found, ", "))
			}
		})
	}
}
