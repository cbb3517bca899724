package sim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// TestStoreHeader: a run whose store has limits, or whose writes have
// TTLs, writes the store's limits into its history's header, with no
// clock tolerance (the store reads the virtual clock the history is
// recorded on); a run of an unbounded store without TTLs does not.
func TestStoreHeader(t *testing.T) {
	bounded := Config{Run: spec.Run{Seed: 1, Workers: 2, Ops: 20, Store: shm.StoreOptions{MaxEntries: 2}, RetryAfter: 20 * time.Millisecond}}
	ttl := Config{Run: spec.Run{Seed: 1, Workers: 2, Ops: 20, Shape: workload.Shape{TTL: 5 * time.Millisecond}}}
	plain := Config{Run: spec.Run{Seed: 1, Workers: 2, Ops: 20}}
	for _, c := range []struct {
		name string
		cfg  Config
		want *history.StoreLimits
	}{
		{"bounded", bounded, &history.StoreLimits{MaxEntries: 2, EntryOverhead: shm.EntryOverhead, Sweep: shm.ExpireSweep, ResendAfter: int64(20 * time.Millisecond)}},
		{"ttl", ttl, &history.StoreLimits{EntryOverhead: shm.EntryOverhead, Sweep: shm.ExpireSweep}},
		{"plain", plain, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Run(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, r.History.Header.Store); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
			if r.Failed() {
				t.Errorf("the reference failed: %s", r.Check.Details())
			}
		})
	}
}
