package shmtest_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/shm/shmtest"
	"github.com/shmlab/shmlab/workload"
	"pgregory.net/rapid"
)

// drawConfig draws a driven run: few keys, limits that bite, TTLs of a
// few milliseconds, values of several sizes, some unknown outcomes.
func drawConfig(t *rapid.T) shmtest.DriveConfig {
	keys := []string{"a", "bb", "ccc", "dddd"}[:rapid.IntRange(1, 4).Draw(t, "keys")]
	cfg := shmtest.DriveConfig{
		Workers:    rapid.IntRange(1, 4).Draw(t, "workers"),
		Ops:        rapid.IntRange(1, 12).Draw(t, "ops"),
		Keys:       keys,
		MaxLatency: rapid.IntRange(0, 3).Draw(t, "latency"),
		MaxPad:     rapid.SampledFrom([]int{0, 8, 40}).Draw(t, "pad"),
		Unknown:    rapid.SampledFrom([]int{0, 0, 5, 15}).Draw(t, "unknown"),
	}
	if rapid.IntRange(0, 3).Draw(t, "resend") == 0 {
		cfg.ResendAfter = rapid.IntRange(2, 5).Draw(t, "resend_after")
		cfg.MaxLatency = max(cfg.MaxLatency, 3)
	}
	if rapid.Bool().Draw(t, "entries") {
		cfg.MaxEntries = rapid.IntRange(1, len(keys)).Draw(t, "max_entries")
	}
	if rapid.Bool().Draw(t, "bytes") {
		cfg.MaxBytes = rapid.Int64Range(shm.EntryOverhead+8, 3*shm.EntryOverhead+120).Draw(t, "max_bytes")
	}
	if rapid.Bool().Draw(t, "ttl") {
		cfg.TTLs = rapid.SliceOfN(rapid.SampledFrom([]int64{0, 1, 2, 3, 5, 8}), 1, 4).Draw(t, "ttls")
	}
	return cfg
}

// tee applies each operation to both stores and fails when they answer
// differently.
type tee struct {
	t    *rapid.T
	a, b shmtest.Store
}

func (s tee) Apply(now int64, worker int, op *workload.Op) (history.Status, history.Output) {
	st, out := s.a.Apply(now, worker, op)
	st2, out2 := s.b.Apply(now, worker, op)
	if st != st2 || string(out.Value) != string(out2.Value) || (out.Error == nil) != (out2.Error == nil) {
		s.t.Fatalf("%s %s at %d: the reference answers %s %s %v, the copy %s %s %v", op.Method, op.Key, now, st, out.Value, out.Error, st2, out2.Value, out2.Error)
	}
	return st, out
}

// TestCopyIsTheReference: without a variant, Copy answers every
// operation as shm.Store does, so a variant differs from the reference
// by its departure alone.
func TestCopyIsTheReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		ref := shmtest.NewReference(shm.StoreOptions{MaxEntries: cfg.MaxEntries, MaxBytes: cfg.MaxBytes})
		shmtest.Drive(rapid.Uint64().Draw(t, "seed"), cfg, tee{t, ref, shmtest.NewCopy(cfg.MaxEntries, cfg.MaxBytes, 0)})
	})
}

// roundTrip writes h and reads it back, so that the histories checked
// are ones the reader accepts.
func roundTrip(t *rapid.T, h *history.History) *history.History {
	var b bytes.Buffer
	if err := h.Write(&b); err != nil {
		t.Fatal(err)
	}
	h2, err := history.Read(&b, "drive.jsonl")
	if err != nil {
		t.Fatalf("the reader rejects a driven history: %v", err)
	}
	if d := cmp.Diff(h.Header, h2.Header); d != "" {
		t.Fatalf("header read back: mismatch (-want +got):\n%s", d)
	}
	return h2
}

func text(h *history.History) string {
	var b strings.Builder
	h.Write(&b)
	return b.String()
}

// variantConfig is the run each variant is driven through: a store whose
// limits or TTLs give its departure a chance to show.
func variantConfig(v shmtest.Variant, seed uint64) shmtest.DriveConfig {
	cfg := shmtest.DriveConfig{Workers: 1 + int(seed%3), Ops: 12, Keys: []string{"a", "bb", "ccc"}, MaxLatency: int(seed % 2), MaxPad: 8}
	switch v {
	case shmtest.KeepOldTTL: // a TTL long enough to be read past, then a plain set
		cfg.TTLs, cfg.Keys = []int64{0, 5}, cfg.Keys[:2]
	case shmtest.ExpireLate:
		cfg.TTLs = []int64{0, 1, 2, 3}
	case shmtest.KeyBytesUncounted:
		cfg.MaxBytes = 2*shm.EntryOverhead + 20
	default:
		cfg.MaxEntries = 2
	}
	return cfg
}
