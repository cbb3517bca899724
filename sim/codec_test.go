package sim

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/race"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
)

// codecsOf returns the codecs a run's history says its workers spoke.
func codecsOf(t *testing.T, r *Result) []string {
	t.Helper()
	var m Meta
	if err := json.Unmarshal(r.History.Header.Meta, &m); err != nil {
		t.Fatalf("meta %s: %v", r.History.Header.Meta, err)
	}
	return m.Codecs
}

// TestCodecBugVisible: a bug in one codec's encoder (here, the last digit
// of a set's value written wrong, as the bytes leave the encoder) makes a
// run whose workers speak that codec fail the check, and leaves a run on
// the other codec alone: the simulator's messages go through the codecs.
func TestCodecBugVisible(t *testing.T) {
	for _, buggy := range []shm.Codec{shm.CodecJSON, shm.CodecCompact} {
		t.Run(buggy.String(), func(t *testing.T) {
			tamper = func(c shm.Codec, m *shm.Message, frame []byte) {
				if c != buggy || m.Kind != shm.KindRequest || m.Method != shm.MethodSet {
					return
				}
				end := len(frame) - 1 // compact: the value is the frame's last member
				if c == shm.CodecJSON {
					end = len(frame) - 3 // ...}\n
				}
				frame[end] ^= 1 // a digit stays a digit
			}
			t.Cleanup(func() { tamper = nil })
			for _, codec := range []shm.Codec{shm.CodecJSON, shm.CodecCompact} {
				r, err := Run(Config{Run: spec.Run{Seed: 3, Workers: 3, Ops: 200, Codec: codec.String()}})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := r.Failed(), codec == buggy; got != want {
					t.Errorf("workers on %s, the %s encoder broken: failed %v, want %v (%v)", codec, buggy, got, want, r.Check)
				}
			}
		})
	}
}

// TestNoRaceCodecsAgree: the two codecs carry every message alike, so a run's
// history is the same on either, faults included, but for the codecs its
// header names.
func TestNoRaceCodecsAgree(t *testing.T) {
	race.Skip(t)
	for seed := uint64(1); seed <= 8; seed++ {
		var hs []*history.History
		for _, codec := range []string{spec.CodecJSON, spec.CodecCompact, spec.CodecMixed} {
			cfg := Swarm(Config{Run: spec.Run{Seed: seed, Workers: 3, Ops: 150, RetryAfter: 20 * time.Millisecond}})
			cfg.Codec, cfg.NoCheck = codec, true
			r, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r.History.Header.Meta = nil
			hs = append(hs, r.History)
		}
		for i := 1; i < len(hs); i++ {
			if d := cmp.Diff(hs[0], hs[i]); d != "" {
				t.Fatalf("seed %d: histories differ by codec: mismatch (-json +other):\n%s", seed, d)
			}
		}
	}
}

// TestCodecDraw: json and compact put every worker on one codec; mixed,
// and no codec, draw each worker's from the seed: the same on every run
// of a seed, both codecs occurring over a few seeds.
func TestCodecDraw(t *testing.T) {
	for _, tt := range []struct {
		codec string
		all   string // "" if drawn
	}{{spec.CodecJSON, "json"}, {spec.CodecCompact, "compact"}, {spec.CodecMixed, ""}, {"", ""}} {
		t.Run("codec="+tt.codec, func(t *testing.T) {
			seen := map[string]int{}
			for seed := uint64(1); seed <= 6; seed++ {
				cfg := Config{Run: spec.Run{Seed: seed, Workers: 4, Ops: 20, Codec: tt.codec}, NoCheck: true}
				a, err := Run(cfg)
				if err != nil {
					t.Fatal(err)
				}
				b, err := Run(cfg)
				if err != nil {
					t.Fatal(err)
				}
				got := codecsOf(t, a)
				if d := cmp.Diff(got, codecsOf(t, b)); d != "" || a.Hash() != b.Hash() {
					t.Fatalf("seed %d: two runs differ: mismatch (-first +second):\n%s", seed, d)
				}
				for i, c := range got {
					if want := cfg.WorkerCodec(i, true); c != want {
						t.Errorf("seed %d: worker %d spoke %s, its draw is %s", seed, i, c, want)
					}
					seen[c]++
				}
			}
			if tt.all != "" {
				if d := cmp.Diff(map[string]int{tt.all: 24}, seen); d != "" {
					t.Errorf("mismatch (-want +got):\n%s", d)
				}
				return
			}
			if seen["json"] == 0 || seen["compact"] == 0 {
				t.Errorf("codecs over 6 seeds of 4 workers: %v, want both", seen)
			}
		})
	}
}

// TestCodecKeepsNothing: a worker keeps the last value it read of a key
// (the workload's cas expects it) after the slot the reply came in is
// reused: a run of cas on few keys on one codec, where each reply slot
// is reused at once, agrees with a run on the other.
func TestCodecKeepsNothing(t *testing.T) {
	var hashes []string
	for _, codec := range []string{spec.CodecJSON, spec.CodecCompact} {
		cfg := Config{Run: spec.Run{Seed: 5, Workers: 2, Ops: 300, Keys: []string{"k"}, Codec: codec}}
		cfg.Mix.Get, cfg.Mix.CAS = 1, 3
		r, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed() {
			t.Fatalf("%s: %v", codec, r.Check)
		}
		ok := slices.ContainsFunc(r.History.Ops, func(op history.Op) bool {
			return op.Method == history.CAS && string(op.Output.Value) == "true"
		})
		if !ok {
			t.Fatalf("%s: no cas succeeded: the expected values were not the ones read", codec)
		}
		r.History.Header.Meta = nil
		hashes = append(hashes, r.Hash())
	}
	if hashes[0] != hashes[1] {
		t.Errorf("json and compact runs differ: %v", hashes)
	}
}

// TestCodecRefused: a codec that is not one is refused before the run.
func TestCodecRefused(t *testing.T) {
	_, err := Run(Config{Run: spec.Run{Seed: 1, Codec: "yaml"}})
	if !errors.Is(err, spec.ErrCodec) {
		t.Fatalf("err %v, want %v", err, spec.ErrCodec)
	}
}

// TestSlabLetsLargeFramesGo: a slot freed after a large frame keeps no
// buffer past maxKeptFrame, and one after small frames keeps its buffer,
// so that the next message encodes without allocating.
func TestSlabLetsLargeFramesGo(t *testing.T) {
	for _, size := range []int{16, 100 << 10} {
		cfg := Config{Run: spec.Run{Seed: 1, Workers: 2, Ops: 20}}
		cfg.Shape.ValueMin, cfg.Shape.ValueMax = size, size
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		w := newWorld(cfg.withDefaults())
		if err := w.run(); err != nil {
			t.Fatal(err)
		}
		kept := 0
		for i, b := range w.slab.bufs {
			if cap(b) > maxKeptFrame {
				t.Errorf("values of %d bytes: slot %d keeps %d bytes", size, i, cap(b))
			}
			if b != nil {
				kept++
			}
		}
		if size < maxKeptFrame && kept == 0 {
			t.Errorf("values of %d bytes: no slot kept its buffer", size)
		}
	}
}
