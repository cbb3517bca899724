package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/spec"
)

// TestNotAppliedIsTrue: a fault event names an operation not_applied
// only if no copy of its request reached the master, even when the
// client resends: such an operation never got a reply. A dropped copy
// of a request that a resend carried to the master says no truth of the
// operation (and, with resends, some do: the case is real). The checker,
// which leaves the not_applied ones out, accepts every run.
func TestNotAppliedIsTrue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		retry time.Duration
		p     float64
	}{{"no resends", 0, 0.3}, {"resends", 20 * time.Millisecond, 0.6}} {
		t.Run(tc.name, func(t *testing.T) {
			var named, resent int
			for seed := uint64(1); seed <= 20; seed++ {
				r, err := Run(Config{Run: spec.Run{Seed: seed, Workers: 3, Ops: 40, RetryAfter: tc.retry, Plan: &faultinject.Plan{Seed: seed, Messages: []faultinject.MessageFault{
					{Kind: faultinject.Drop, P: tc.p, Dir: faultinject.Requests},
				}}, CallTimeout: 100 * time.Millisecond}})
				if err != nil {
					t.Fatal(err)
				}
				status := map[int64]history.Status{}
				for _, op := range r.History.Ops {
					status[op.ID] = op.Status
				}
				for _, e := range r.History.Events {
					if e.Op == 0 || !strings.HasSuffix(e.Link, ">master") {
						continue
					}
					switch {
					case e.Truth == history.TruthNotApplied && status[e.Op] != history.StatusUnknown:
						t.Errorf("seed %d: %s says not_applied of operation %d, which is %s", seed, e.Text, e.Op, status[e.Op])
					case e.Truth == history.TruthNotApplied:
						named++
					case e.Fault == "drop" && status[e.Op] == history.StatusOK:
						resent++
					}
				}
				if r.Check.Verdict != 0 {
					t.Errorf("seed %d: %v\n%s", seed, r.Check, r.Check.Details())
				}
			}
			t.Logf("%d operations not applied, %d dropped once and resent", named, resent)
			if named == 0 || (tc.retry > 0) != (resent > 0) {
				t.Errorf("%d operations named not applied, %d dropped and resent: want some of the first, and of the second with resends only", named, resent)
			}
		})
	}
}
