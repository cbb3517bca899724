package scenarios

import (
	"context"
	"testing"

	"github.com/shmlab/shmlab/internal/race"
	"github.com/shmlab/shmlab/linearizability"
)

// TestNoRaceBundledMeetExpectationsInSim: every bundled scenario parses, and in
// the simulator meets what it expects (pass on every seed, or a violation
// on at least one), and each seed run twice gives the same history, bit
// for bit.
func TestNoRaceBundledMeetExpectationsInSim(t *testing.T) {
	race.Skip(t)
	scs, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 15 {
		t.Fatalf("%d bundled scenarios", len(scs))
	}
	for _, sc := range scs {
		if sc.Mode == Process {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			caught := false
			for _, seed := range sc.Seeds.All() {
				o := Run(context.Background(), sc, Sim, seed)
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				if again := Run(context.Background(), sc, Sim, seed); again.Sim.Hash() != o.Sim.Hash() {
					t.Fatalf("seed %d: two runs, two histories: %s and %s", seed, o.Sim.Hash(), again.Sim.Hash())
				}
				switch v := o.Verdict(); {
				case v == linearizability.Illegal && sc.Expect != ExpectViolation:
					t.Fatalf("seed %d: %v\n%s", seed, o.Check, o.Check.Details())
				case v == linearizability.Illegal:
					caught = true
				}
			}
			if sc.Expect == ExpectViolation && !caught {
				t.Fatalf("no seed of %d caught the violation", len(sc.Seeds.All()))
			}
		})
	}
}
