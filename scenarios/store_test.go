package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStoreNeverOverwrites: two runs that start in the same millisecond
// get two folders; a link planted where a run's folder would go is not
// followed (its target stays empty) and the run takes the next name; the
// latest links point at the newest run; run.json says what ran.
func TestStoreNeverOverwrites(t *testing.T) {
	sc := mustParse(t, "name: twice\nmode: sim\nops: 5\n")
	o := sc.Run(context.Background(), Sim, 3)
	o.Start = time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	s := &RunStore{Dir: dir, Keep: KeepAll, Command: []string{"shmlab", "run"}}
	elsewhere := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "twice"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "twice", "20261207T130000.000Z-sim-3")); err != nil {
		t.Fatal(err)
	}
	var folders []string
	for range 2 {
		if err := s.Save(o); err != nil {
			t.Fatal(err)
		}
		folders = append(folders, filepath.Base(o.Folder))
	}
	if diff := cmp.Diff([]string{"20261207T130000.000Z-sim-3-2", "20261207T130000.000Z-sim-3-3"}, folders); diff != "" {
		t.Errorf("folders mismatch (-want +got):\n%s", diff)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("the planted link's target holds %d files, want none", len(entries))
	}
	for link, want := range map[string]string{
		filepath.Join(dir, LatestLink):          "twice/20261207T130000.000Z-sim-3-3",
		filepath.Join(dir, "twice", LatestLink): "20261207T130000.000Z-sim-3-3",
	} {
		if got, err := os.Readlink(link); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %q", link, got, err, want)
		}
	}
	var ri RunInfo
	b, err := os.ReadFile(filepath.Join(o.Folder, RunFile))
	if err != nil || json.Unmarshal(b, &ri) != nil {
		t.Fatalf("run.json: %v\n%s", err, b)
	}
	if ri.Scenario != "twice" || ri.Mode != Sim || ri.Seed != 3 || ri.Verdict != "ok" || ri.Failed || ri.GoVersion == "" || !ri.Start.Equal(o.Start) || len(ri.Command) != 2 {
		t.Errorf("run.json %+v", ri)
	}
	if want := "shmlab run --mode sim --seed 3 " + filepath.Join(o.Folder, ScenarioFile); o.Repro != want && o.Repro != strings.Replace(want, " /", " '/", 1)+"'" {
		t.Errorf("repro %q, want %q (quoted if the temporary folder needs it)", o.Repro, want)
	}
	again, err := Replay(context.Background(), o.Folder)
	if err != nil || again.Sim.Hash() != o.Sim.Hash() {
		t.Errorf("replay of the store's folder: %v, history %v, want %s", err, again, o.Sim.Hash())
	}
}

// TestStoreKeep: --keep failures keeps only runs against the expectation;
// none keeps nothing.
func TestStoreKeep(t *testing.T) {
	pass := mustParse(t, "name: p\nmode: sim\nops: 5\n").Run(context.Background(), Sim, 1)
	fail := mustParse(t, "name: f\nmode: sim\nvariant: no-dedup\nkeys: {count: 1}\nmix: {add: 1}\nfaults: {messages: [{kind: duplicate, p: 0.3}]}\n").Run(context.Background(), Sim, 1)
	if !fail.Failed() || pass.Failed() {
		t.Fatalf("failed: pass %v, fail %v", pass.Failed(), fail.Failed())
	}
	for _, tt := range []struct {
		keep       Keep
		pass, fail bool
	}{{KeepAll, true, true}, {KeepFailures, false, true}, {KeepNone, false, false}} {
		s := &RunStore{Dir: t.TempDir(), Keep: tt.keep}
		if s.Keeps(pass) != tt.pass || s.Keeps(fail) != tt.fail {
			t.Errorf("--keep %s: keeps pass %v, fail %v; want %v, %v", tt.keep, s.Keeps(pass), s.Keeps(fail), tt.pass, tt.fail)
		}
	}
}

func ExampleParseShard() {
	s, _ := ParseShard("2/3")
	var mine []uint64
	for k := range uint64(7) {
		if s.Has(k) {
			mine = append(mine, k)
		}
	}
	fmt.Println("shard", s, "runs cells", mine)
	_, err := ParseShard("0/3")
	fmt.Println(err)
	// Output:
	// shard 2/3 runs cells [1 4]
	// --shard "0/3": want I/N with 1 ≤ I ≤ N ≤ 100000, as 1/4
}
