package spec_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
)

// TestStoreLimits: a run of the reference states its store's limits for
// the history's header when the store has a limit or an operation a TTL;
// a Node target, whose limits are not known, never does.
func TestStoreLimits(t *testing.T) {
	ttl := []history.Op{{Method: history.Set, Key: "k", Input: history.Input{Value: history.Value(1), TTL: 5}}}
	plain := []history.Op{{Method: history.Set, Key: "k", Input: history.Input{Value: history.Value(1)}}}
	bounded := spec.Run{Store: shm.StoreOptions{MaxEntries: 3, MaxBytes: 500}, RetryAfter: 20 * time.Millisecond}
	node := bounded
	node.Target = spec.Target{Kind: spec.Node}
	want := &history.StoreLimits{MaxEntries: 3, MaxBytes: 500, EntryOverhead: shm.EntryOverhead, Sweep: shm.ExpireSweep,
		ClockTolerance: int64(time.Millisecond), ResendAfter: int64(20 * time.Millisecond)}
	for _, c := range []struct {
		name string
		run  spec.Run
		ops  []history.Op
		want *history.StoreLimits
	}{
		{"bounded", bounded, plain, want},
		{"unbounded with a TTL", spec.Run{}, ttl, &history.StoreLimits{EntryOverhead: shm.EntryOverhead, Sweep: shm.ExpireSweep, ClockTolerance: int64(time.Millisecond)}},
		{"unbounded without a TTL", spec.Run{}, plain, nil},
		{"a Node target", node, ttl, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if d := cmp.Diff(c.want, c.run.StoreLimits(c.ops, time.Millisecond)); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}
