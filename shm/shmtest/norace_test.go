//go:build !race

// The properties here are one goroutine's search, repeated thousands of
// times: the race detector multiplies their time by five to ten and has
// nothing to find in them, and beside a busy machine they alone would
// take make test past its ten minutes. make test runs them in its second
// pass, without the detector (TestNoRace*).

package shmtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/shm/shmtest"
	"pgregory.net/rapid"
)

// TestNoRaceCheckAcceptsBoundedReference: the checker accepts every history of
// the reference store, shm.Store itself, under random concurrency,
// limits of entries and bytes, TTLs and unknown outcomes: the bounded
// store's check never raises a false alarm. Each case drives four runs,
// so that rapid's hundred cases are 400 histories (about 0.2 s quiet;
// -rapid.checks=2500 makes them 10,000, which passed).
func TestNoRaceCheckAcceptsBoundedReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		for range 4 {
			cfg := drawConfig(t)
			ref := shmtest.NewReference(shm.StoreOptions{MaxEntries: cfg.MaxEntries, MaxBytes: cfg.MaxBytes})
			h := roundTrip(t, shmtest.Drive(rapid.Uint64().Draw(t, "seed"), cfg, ref))
			if r := linearizability.Check(h, linearizability.Options{NoSessions: true, NoCounters: true}); r.Linearizable != linearizability.Ok {
				t.Fatalf("the reference's history is %s:\n%s\n%s", r.Linearizable, r.Details(), text(h))
			}
		}
	})
}

// TestNoRaceVariantsCaught: each variant of the store is rejected on some of
// a fixed set of seeds, with an explanation that names the operation at
// fault; and the reference is accepted on all of them.
func TestNoRaceVariantsCaught(t *testing.T) {
	const seeds = 200
	for _, vr := range shmtest.Variants {
		t.Run(vr.Name, func(t *testing.T) {
			caught := 0
			for seed := range uint64(seeds) {
				cfg := variantConfig(vr.V, seed)
				ref := shmtest.NewReference(shm.StoreOptions{MaxEntries: cfg.MaxEntries, MaxBytes: cfg.MaxBytes})
				if r := linearizability.Check(shmtest.Drive(seed, cfg, ref), linearizability.Options{}); r.Linearizable != linearizability.Ok {
					t.Fatalf("seed %d: the reference is %s: %s", seed, r.Linearizable, r.Details())
				}
				h := shmtest.Drive(seed, cfg, shmtest.NewCopy(cfg.MaxEntries, cfg.MaxBytes, vr.V))
				r := linearizability.Check(h, linearizability.Options{NoSessions: true, NoCounters: true})
				if r.Linearizable != linearizability.Illegal {
					continue
				}
				caught++
				kr := r.Keys[0]
				if len(kr.Ops) == 0 || !strings.Contains(kr.Explanation, fmt.Sprintf("#%d ", kr.Ops[0].ID)) {
					t.Errorf("seed %d: the explanation names no operation:\n%s", seed, kr.Explanation)
				}
				if caught == 1 {
					t.Logf("seed %d:\n%s", seed, kr.Explanation)
				}
			}
			t.Logf("%s: caught on %d of %d seeds", vr.Name, caught, seeds)
			if caught == 0 {
				t.Errorf("%s: never caught in %d seeds", vr.Name, seeds)
			}
		})
	}
}
