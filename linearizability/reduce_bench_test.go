package linearizability

import (
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
)

var fixtureDir = flag.String("unknown-fixtures", "", "write the unknown-heavy histories of the benchmarks into this directory, to measure `shmlab check` on them")

// unknownWrites is the benchmarks' history of 10,000 operations on one
// key of which 1,000 are sets of unknown outcome (4 workers), linearizable
// or, with stale, with one get made to return an overwritten value.
func unknownWrites(tb testing.TB, n, unknown int, stale bool) *history.History {
	h := historytest.UnknownWrites(historytest.NewSeededChooser(14), n, unknown, 4)
	if stale && historytest.StaleRead(h) < 0 {
		tb.Fatal("no get of the history can be made stale")
	}
	return h
}

// BenchmarkUnknownWrites: one key, 10,000 operations of which 1,000 are
// sets of unknown outcome, checked from memory to the verdict, the
// history linearizable and not. The target: under 1 s each.
func BenchmarkUnknownWrites(b *testing.B) {
	for _, tc := range []struct {
		name  string
		stale bool
		want  Verdict
	}{{"linearizable", false, Ok}, {"not", true, Illegal}} {
		h := unknownWrites(b, 10_000, 1_000, tc.stale)
		b.Run(tc.name, func(b *testing.B) {
			var r *Result
			for b.Loop() {
				if r = Check(h, Options{}); r.Linearizable != tc.want {
					b.Fatalf("verdict %s; want %s\n%s", r.Linearizable, tc.want, explanations(r))
				}
			}
			b.ReportMetric(float64(r.Reduced.Total()), "reduced")
		})
	}
}

// BenchmarkUnknownSets: "set 0, then K sets of unknown outcome, then 100
// gets reading 0", for K = 10,000. The target: decided at once.
func BenchmarkUnknownSets(b *testing.B) {
	h := historytest.UnknownSets(10_000)
	var r *Result
	for b.Loop() {
		if r = Check(h, Options{}); r.Linearizable != Ok {
			b.Fatalf("verdict %s; want ok\n%s", r.Linearizable, explanations(r))
		}
	}
	b.ReportMetric(float64(r.Reduced.Total()), "reduced")
}

// TestUnknownHeavyDecided checks the benchmarks' histories, made smaller,
// with the reductions (they must be decided, rightly, and the reductions
// must be what decides them), and writes them full size when
// -unknown-fixtures is set.
func TestUnknownHeavyDecided(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *history.History
		want Verdict
	}{
		{"unknown-sets", historytest.UnknownSets(2000), Ok},
		{"unknown-writes", unknownWrites(t, 2000, 200, false), Ok},
		{"unknown-writes-stale", unknownWrites(t, 2000, 200, true), Illegal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.h, Options{Timeout: time.Minute})
			if r.Linearizable != tc.want {
				t.Fatalf("verdict %s; want %s (invalid: %v)\n%s", r.Linearizable, tc.want, r.Invalid, explanations(r))
			}
			if r.Reduced.Unobserved == 0 {
				t.Errorf("reduced %+v: want unknown sets nobody read left out", r.Reduced)
			}
		})
	}
	if *fixtureDir == "" {
		return
	}
	fixtures := map[string]*history.History{
		"unknown-writes-10000.jsonl":       unknownWrites(t, 10_000, 1_000, false),
		"unknown-writes-10000-stale.jsonl": unknownWrites(t, 10_000, 1_000, true),
	}
	for _, k := range []int{10, 16, 20, 10_000} {
		fixtures[fmt.Sprintf("unknown-sets-%d.jsonl", k)] = historytest.UnknownSets(k)
	}
	for _, k := range []int{10, 1000} {
		fixtures[fmt.Sprintf("unknown-appends-%d.jsonl", k)] = historytest.UnknownAppends(k)
	}
	for _, k := range []int{40, 1000} {
		fixtures[fmt.Sprintf("unknown-adds-%d.jsonl", k)] = historytest.UnknownAdds(k)
	}
	for name, h := range fixtures {
		if err := h.WriteFile(filepath.Join(*fixtureDir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkUnknownAppendsAdds: the histories of UnknownAppends and
// UnknownAdds (historytest), decided. The target: K = 40 adds well under a second,
// and K = 1,000 of each.
func BenchmarkUnknownAppendsAdds(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    *history.History
	}{
		{"appends-1000", historytest.UnknownAppends(1000)},
		{"adds-40", historytest.UnknownAdds(40)},
		{"adds-1000", historytest.UnknownAdds(1000)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var r *Result
			for b.Loop() {
				if r = Check(tc.h, Options{}); r.Linearizable != Ok {
					b.Fatalf("verdict %s; want ok\n%s", r.Linearizable, explanations(r))
				}
			}
			b.ReportMetric(float64(r.Reduced.Total()), "reduced")
		})
	}
}

// TestUnknownAppendsAddsDecided: the benchmark's histories, and the same
// made not linearizable (a get reading a count the adds cannot have
// reached, or a get reading "a" after one read an append), are decided
// rightly, by what the reductions do: the appends left out, the adds
// ordered.
func TestUnknownAppendsAddsDecided(t *testing.T) {
	tooMany := historytest.UnknownAdds(200)
	tooMany.Ops[len(tooMany.Ops)-1].Output.Value = json.RawMessage("201")
	lost := historytest.UnknownAppends(200)
	lost.Ops[len(lost.Ops)-2].Output.Value = json.RawMessage(`"ax5;"`)
	for _, tc := range []struct {
		name string
		h    *history.History
		want Verdict
		red  func(Reduced) int
	}{
		{"appends", historytest.UnknownAppends(200), Ok, func(r Reduced) int { return r.Unobserved }},
		{"appends-lost", lost, Illegal, func(r Reduced) int { return r.Unobserved }},
		{"adds", historytest.UnknownAdds(200), Ok, func(r Reduced) int { return r.Ordered }},
		{"adds-too-many", tooMany, Illegal, func(r Reduced) int { return r.Ordered }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.h, Options{Timeout: time.Minute, NoSessions: true})
			if r.Linearizable != tc.want {
				t.Fatalf("verdict %s; want %s (invalid: %v)\n%s", r.Linearizable, tc.want, r.Invalid, explanations(r))
			}
			if got := tc.red(r.Reduced); got < 199 {
				t.Errorf("reduced %+v: want the 200 unknown operations but one left out or ordered", r.Reduced)
			}
		})
	}
}
