package scenarios

import (
	"slices"
	"testing"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/patience"
)

// bundled returns the bundled scenario named name.
func bundledNamed(t *testing.T, name string) *Scenario {
	t.Helper()
	scs, err := Bundled()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(scs, func(sc *Scenario) bool { return sc.Name == name })
	if i < 0 {
		t.Fatalf("no bundled %s", name)
	}
	return scs[i]
}

// runAimed runs seed of the bundled scenario name in mode and fails the
// test unless it passed with every planned fault fired. On processes,
// its calls' timeout is given patience (a busy machine's stall must not
// time out a call the test expects to end ok).
func runAimed(t *testing.T, name string, mode Mode, seed uint64) *Outcome {
	t.Helper()
	sc := *bundledNamed(t, name)
	if mode == Process {
		sc.Timeout = patience.Bound(sc.Timeout)
	}
	o := Run(runCtx(t), &sc, mode, seed)
	if o.Err != nil || o.Failed() {
		t.Fatalf("%s %s seed %d: verdict %v, error %v", name, mode, seed, o.Verdict(), o.Err)
	}
	if o.FaultsHappened != o.FaultsPlanned {
		t.Fatalf("%s %s seed %d: %d of %d faults happened", name, mode, seed, o.FaultsHappened, o.FaultsPlanned)
	}
	return o
}

// TestAimedLateReplies: the replies aimed-late-reply-wrap holds leave
// their calls timed out, and arrive (a late reply, in process mode,
// where the workers note them) rather than being lost.
func TestAimedLateReplies(t *testing.T) {
	for _, mode := range []Mode{Sim, Process} {
		o := runAimed(t, "aimed-late-reply-wrap", mode, 1)
		w1 := o.History.WorkerOps("w1")
		for _, n := range []int{5, 80} {
			if st := w1[n-1].Status; st != history.StatusUnknown {
				t.Errorf("%s: w1's call %d is %s, want unknown (its reply held past its timeout)", mode, n, st)
			}
		}
		if mode != Process {
			continue
		}
		late := 0
		for _, e := range o.History.Events {
			if e.Kind == history.EventLateReply {
				late++
			}
		}
		if late < 3 {
			t.Errorf("%s: %d late replies noted, want the 3 held replies", mode, late)
		}
	}
}

// TestAimedRetryAfterCorrupt: in aimed-retry-corrupt, the request whose
// first copy was damaged, and the call whose first reply was, end ok: the
// resent copy was applied (or answered from the master's memory).
func TestAimedRetryAfterCorrupt(t *testing.T) {
	for _, mode := range []Mode{Sim, Process} {
		o := runAimed(t, "aimed-retry-corrupt", mode, 2)
		for _, c := range []struct {
			worker string
			n      int
		}{{"w1", 3}, {"w2", 5}} {
			if op := o.History.WorkerOps(c.worker)[c.n-1]; op.Status != history.StatusOK {
				t.Errorf("%s: %s's call %d is %s, want ok after its resend", mode, c.worker, c.n, op.Status)
			}
		}
	}
}
