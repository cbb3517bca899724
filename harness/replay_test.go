package harness_test

import (
	"cmp"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/spec"
)

// decided is a message decision of a run, without its time.
type decided struct {
	Link     faultinject.Link
	N        int
	Decision faultinject.Decision
}

// decisions returns the message decisions among res's records, by link
// and number.
func decisions(res *harness.Result) []decided {
	var out []decided
	for _, r := range res.Records {
		if r.Bytes == nil {
			out = append(out, decided{r.Link, r.N, r.Decision})
		}
	}
	slices.SortFunc(out, func(a, b decided) int {
		return cmp.Or(cmp.Compare(a.Link.String(), b.Link.String()), cmp.Compare(a.N, b.N))
	})
	return out
}

// TestReplay: a run replayed from the records of another makes the same
// message decisions for the same messages (link and number), although
// its plan's seed differs and its timing does; byte faults still come
// from the plan.
func TestReplay(t *testing.T) {
	t.Parallel()
	messages := []faultinject.MessageFault{
		{Kind: faultinject.Drop, P: 0.05},
		{Kind: faultinject.Duplicate, Dir: faultinject.Requests, P: 0.1},
		{Kind: faultinject.Delay, P: 0.1, Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: time.Millisecond, Max: 10 * time.Millisecond}},
		{Kind: faultinject.Reorder, P: 0.05},
	}
	short := []faultinject.ByteFault{{Kind: faultinject.ByteShort}}
	cfg := harness.Config{
		Run: spec.Run{
			Scenario:    "replay",
			Workers:     2,
			Ops:         30,
			Seed:        12,
			CallTimeout: 100 * time.Millisecond,
			Plan:        &faultinject.Plan{Seed: 11, Messages: messages, Bytes: short},
		},
	}
	first := run(t, cfg)
	requireSound(t, first)
	want := decisions(first)
	if len(want) < 5 {
		t.Fatalf("only %d decisions in the first run: too few to replay", len(want))
	}

	cfg.Plan = &faultinject.Plan{Seed: 99, Messages: messages, Bytes: short}
	cfg.Replay = first.Records
	second := run(t, cfg)
	requireSound(t, second)
	if diff := gocmp.Diff(want, decisions(second)); diff != "" {
		t.Errorf("replayed decisions mismatch (-want +got):\n%s", diff)
	}
	if got := fired(second); got["short"] != 4 {
		t.Errorf("fired %v in the replay, want the plan's short reads and writes on both connections", got)
	}

	cfg.Replay = nil
	if diff := gocmp.Diff(want, decisions(run(t, cfg))); diff == "" {
		t.Errorf("plan seeds 11 and 99 made the same decisions: the replay proves nothing")
	}
}
