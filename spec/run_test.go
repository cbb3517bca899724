package spec_test

import (
	"fmt"
	"strings"
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

// TestDedupWindow: a run of the reference states its store's duplicate
// window, the default unless the run sets one; a Node target, whose
// window is not known, states none.
func TestDedupWindow(t *testing.T) {
	for _, c := range []struct {
		name string
		run  spec.Run
		want int
	}{
		{"the default", spec.Run{}, shm.DefaultDedupWindow},
		{"set", spec.Run{Store: shm.StoreOptions{DedupWindow: 64}}, 64},
		{"a Node target", spec.Run{Target: spec.Target{Kind: spec.Node}, Store: shm.StoreOptions{DedupWindow: 64}}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.run.DedupWindow(); got != c.want {
				t.Errorf("DedupWindow() = %d, want %d", got, c.want)
			}
		})
	}
}

// TestWorkerCodec: json and compact set every worker; mixed (and, in the
// simulator, no codec) draws each worker's from the seed, the same draw
// every time, both codecs occurring; on real processes no codec is
// compact, what the master offers a Go worker.
func TestWorkerCodec(t *testing.T) {
	count := func(r spec.Run, mixDefault bool) map[string]int {
		n := map[string]int{}
		for i := range 64 {
			n[r.WorkerCodec(i, mixDefault)]++
		}
		return n
	}
	for _, tt := range []struct {
		codec      string
		mixDefault bool
		want       map[string]int // nil: both, drawn
	}{
		{spec.CodecJSON, true, map[string]int{spec.CodecJSON: 64}},
		{spec.CodecCompact, false, map[string]int{spec.CodecCompact: 64}},
		{"", false, map[string]int{spec.CodecCompact: 64}},
		{"", true, nil},
		{spec.CodecMixed, false, nil},
	} {
		t.Run(fmt.Sprintf("%s/%v", tt.codec, tt.mixDefault), func(t *testing.T) {
			for seed := range uint64(20) {
				r := spec.Run{Seed: seed, Codec: tt.codec}
				got := count(r, tt.mixDefault)
				if tt.want != nil {
					if d := cmp.Diff(tt.want, got); d != "" {
						t.Fatalf("seed %d: mismatch (-want +got):\n%s", seed, d)
					}
					continue
				}
				if got[spec.CodecJSON] == 0 || got[spec.CodecCompact] == 0 || len(got) != 2 {
					t.Fatalf("seed %d: %v, want both codecs", seed, got)
				}
				if d := cmp.Diff(got, count(r, tt.mixDefault)); d != "" {
					t.Fatalf("seed %d: a second draw differs (-first +second):\n%s", seed, d)
				}
			}
			if tt.want == nil && draws(spec.Run{Seed: 1, Codec: tt.codec}, tt.mixDefault) == draws(spec.Run{Seed: 2, Codec: tt.codec}, tt.mixDefault) {
				t.Errorf("seeds 1 and 2 draw the same codecs")
			}
		})
	}
}

// draws is the codecs of r's first 64 workers, in order.
func draws(r spec.Run, mixDefault bool) string {
	var b strings.Builder
	for i := range 64 {
		b.WriteString(r.WorkerCodec(i, mixDefault)[:1])
	}
	return b.String()
}
