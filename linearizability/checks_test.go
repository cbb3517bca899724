package linearizability

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestViolates: each check name is true of a result that holds a
// violation of that check, and of no other.
func TestViolates(t *testing.T) {
	cases := []struct {
		name string
		r    Result
		want []string
	}{
		{"none", Result{Linearizable: Ok}, nil},
		{"linearizable", Result{Linearizable: Illegal}, []string{CheckLinearizable}},
		{"session", Result{Linearizable: Ok, Sessions: []Violation{{Check: "monotonic-reads"}}}, []string{"monotonic-reads"}},
		{"counter", Result{Linearizable: Ok, Invariants: []Violation{{Check: invariantCounter}}}, []string{"counter"}},
		{"liveness", Result{Linearizable: Ok, Liveness: []Violation{{Check: LivenessCrashed}, {Check: LivenessUnavailable}}},
			[]string{LivenessCrashed, LivenessUnavailable}},
		{"answers and deadlines", Result{Linearizable: Ok, Invariants: []Violation{{Check: CheckAnswer}, {Check: invariantReadBack}}, Liveness: []Violation{{Check: LivenessOverdue}}},
			[]string{invariantReadBack, CheckAnswer, LivenessOverdue}},
		{"undecided is no violation", Result{Linearizable: Unknown}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, name := range CheckNames() {
				if c.r.Violates(name) {
					got = append(got, name)
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if c.r.Violates("no-such-check") {
				t.Error("a name that is no check is violated")
			}
		})
	}
}
