package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/bench"
)

// TestBenchTableSpread: with several runs, each main figure shows its
// spread beside its median; with one run, the median alone.
func TestBenchTableSpread(t *testing.T) {
	row := bench.Row{Cell: bench.Cell{Workers: 2, Inflight: 64, ValueBytes: 16}, Runs: 3,
		FloorOpsPerS: 200, FloorOpsPerSSpread: bench.Spread{Min: 150, Max: 260},
		OpsPerS: 100, OpsPerSSpread: bench.Spread{Min: 90, Max: 130},
		Ratio: 0.5, RatioSpread: bench.Spread{Min: 0.35, Max: 0.87},
		P50us: 12, P50usSpread: bench.Spread{Min: 11, Max: 13},
		P99us: 40, P99usSpread: bench.Spread{Min: 30, Max: 55}}
	var out bytes.Buffer
	printTable(&out, []bench.Row{row})
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{"2", "64", "16", "200", "[150-260]", "100", "[90-130]", "0.50", "[0.35-0.87]",
		"12.0", "[11.0-13.0]", "40.0", "[30.0-55.0]", "0.0", "0.0", "0", "0"}
	if diff := cmp.Diff(want, strings.Fields(lines[1])); diff != "" {
		t.Errorf("row with 3 runs mismatch (-want +got):\n%s", diff)
	}
	row.Runs = 1
	out.Reset()
	printTable(&out, []bench.Row{row})
	lines = strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if got := len(strings.Fields(lines[1])); got != 12 {
		t.Errorf("row with one run %q has %d columns, want 12 (no spread)", lines[1], got)
	}
}
