package harness_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/spec"
)

// TestCodecs: a run's codec reaches its Go workers: json puts every one
// on JSON lines, none keeps them compact, mixed gives each the codec the
// seed draws. What each spoke is read from the master's side of its
// connection (WorkerResult.Codec), and the header's meta names it.
func TestCodecs(t *testing.T) {
	const workers = 3
	mixedSeed := uint64(1)
	for ; ; mixedSeed++ { // a seed that puts the workers on both codecs
		r := spec.Run{Seed: mixedSeed, Codec: spec.CodecMixed}
		if r.WorkerCodec(0, false) != r.WorkerCodec(1, false) || r.WorkerCodec(0, false) != r.WorkerCodec(2, false) {
			break
		}
	}
	for _, tt := range []struct {
		codec string
		seed  uint64
	}{{spec.CodecJSON, 1}, {"", 1}, {spec.CodecMixed, mixedSeed}} {
		t.Run("codec="+tt.codec, func(t *testing.T) {
			cfg := harness.Config{Run: spec.Run{Scenario: "codec", Workers: workers, Ops: 30, Seed: tt.seed, Codec: tt.codec,
				CallTimeout: patience.Bound(200 * time.Millisecond)}}
			res := run(t, cfg)
			requireSound(t, res)
			want := make([]string, workers)
			for i := range want {
				want[i] = cfg.WorkerCodec(i, false)
			}
			got := make([]string, workers)
			for _, w := range res.Workers {
				n, ok := faultinject.WorkerNumber(w.Name)
				if !ok || n > workers {
					t.Fatalf("worker %q", w.Name)
				}
				got[n-1] = w.Codec
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("codecs the master's connections spoke: mismatch (-want +got):\n%s", d)
			}
			var meta struct{ Codecs []string }
			if err := json.Unmarshal(res.History.Header.Meta, &meta); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, meta.Codecs); d != "" {
				t.Errorf("the header's codecs: mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestNodeCodecRefused: a Node target cannot be put on the compact codec.
func TestNodeCodecRefused(t *testing.T) {
	_, err := harness.Run(t.Context(), harness.Config{Run: spec.Run{Seed: 1, Codec: spec.CodecCompact,
		Target: spec.Target{Kind: spec.Node, Node: spec.NodeTarget{Adapter: "lib.js"}}}, Dir: t.TempDir()})
	if err == nil || !errors.Is(err, spec.ErrCodec) {
		t.Fatalf("err %v, want %v", err, spec.ErrCodec)
	}
}
