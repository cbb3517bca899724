package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/spec"
)

// TestStoreNeverOverwrites: two runs that start in the same millisecond
// get two folders; a link planted where a run's folder would go is not
// followed (its target stays empty) and the run takes the next name; the
// latest links point at the newest run; run.json says what ran.
func TestStoreNeverOverwrites(t *testing.T) {
	sc := mustParse(t, "name: twice\nmode: sim\nops: 5\n")
	o := Run(context.Background(), sc, Sim, 3)
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
	if want := "shmlab run --mode sim --seed 3 " + filepath.Join(o.Folder, spec.ScenarioFile); o.Repro != want && o.Repro != strings.Replace(want, " /", " '/", 1)+"'" {
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
	pass := Run(context.Background(), mustParse(t, "name: p\nmode: sim\nops: 5\n"), Sim, 1)
	fail := Run(context.Background(), mustParse(t, "name: f\nmode: sim\nvariant: no-dedup\nkeys: {count: 1}\nmix: {add: 1}\nfaults: {messages: [{kind: duplicate, p: 0.3}]}\n"), Sim, 1)
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

// TestStorePruneSparesNewer: Prune removes only runs that began before
// the store did: its own are kept (all of them, past KeepLast), and so
// are those of another invocation that began later (a shard sharing the
// store); a latest link left dangling by pruning moves to the newest run
// left.
func TestStorePruneSparesNewer(t *testing.T) {
	sc := mustParse(t, "name: p\nmode: sim\nops: 5\n")
	dir := t.TempDir()
	began := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	save := func(s *RunStore, seed uint64, start time.Time) string {
		o := Run(context.Background(), sc, Sim, seed)
		o.Start = start
		if err := s.Save(o); err != nil {
			t.Fatal(err)
		}
		return filepath.Base(o.Folder)
	}
	older := &RunStore{Dir: dir, Keep: KeepAll}
	old := save(older, 1, began.Add(-time.Hour))
	mine := &RunStore{Dir: dir, Keep: KeepAll, KeepLast: 1, Began: began}
	var own []string
	for seed := uint64(2); seed <= 4; seed++ {
		own = append(own, save(mine, seed, began.Add(time.Duration(seed)*time.Second)))
	}
	later := &RunStore{Dir: dir, Keep: KeepAll}
	other := save(later, 9, began.Add(time.Minute))
	n, err := mine.Prune()
	if err != nil || n != 1 {
		t.Errorf("Prune = %d, %v; want 1 (the older run), nil", n, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "p"))
	var got []string
	for _, e := range entries {
		if e.IsDir() {
			got = append(got, e.Name())
		}
	}
	if diff := cmp.Diff(append(own, other), got); diff != "" {
		t.Errorf("runs left mismatch (-want +got):\n%s (the older %s pruned)", diff, old)
	}
	// A --keep-bytes prune by a store that began after every run removes
	// them all: the latest links, pointing at nothing, go.
	last := &RunStore{Dir: dir, Keep: KeepAll, KeepBytes: 1, Began: began.Add(time.Hour), touched: map[string]bool{filepath.Join(dir, "p"): true}}
	if n, err := last.Prune(); err != nil || n != 4 {
		t.Errorf("Prune with --keep-bytes 1 = %d, %v; want 4, nil", n, err)
	}
	for _, l := range []string{filepath.Join(dir, LatestLink), filepath.Join(dir, "p", LatestLink)} {
		if _, err := os.Lstat(l); err == nil {
			t.Errorf("%s is left pointing at a pruned run", l)
		}
	}
}

// TestStoreLinkError: a latest link that cannot be made (a folder in its
// place) is an error that says the run folder was written all the same.
func TestStoreLinkError(t *testing.T) {
	sc := mustParse(t, "name: p\nmode: sim\nops: 5\n")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "p", LatestLink, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &RunStore{Dir: dir, Keep: KeepAll}
	if err := s.Ready([]string{"p"}); err == nil || !strings.Contains(err.Error(), "is not a link") {
		t.Errorf("Ready = %v, want: is not a link", err)
	}
	o := Run(context.Background(), sc, Sim, 1)
	err := s.Save(o)
	var le *LinkError
	if !errors.As(err, &le) || le.Folder != o.Folder || !strings.HasPrefix(err.Error(), "kept in "+o.Folder+", but its latest link could not be made") {
		t.Fatalf("Save = %v, want a LinkError naming %s", err, o.Folder)
	}
	if _, err := os.Stat(filepath.Join(o.Folder, RunFile)); err != nil {
		t.Errorf("the run folder: %v", err)
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

// TestRunInfoTarget: a run's run.json names its target, and for a Node
// target the npm packages it pinned and the node binary's version.
func TestRunInfoTarget(t *testing.T) {
	ref := &Outcome{Scenario: mustParse(t, "name: r\n"), Mode: Sim, Seed: 1}
	if got := (&RunStore{}).info(ref); got.Target != "reference" || got.Packages != nil || got.NodeVersion != "" {
		t.Errorf("reference run: target %q, packages %q, node %q; want reference and nothing else", got.Target, got.Packages, got.NodeVersion)
	}
	sc := mustParse(t, "name: n\nmode: process\n")
	sc.Target = spec.Target{Kind: spec.Node, Node: spec.NodeTarget{Adapter: "a.js", Packages: []string{"memored@1.1.1"}}}
	got := (&RunStore{}).info(&Outcome{Scenario: sc, Mode: Process, Seed: 1})
	if diff := cmp.Diff([]string{"memored@1.1.1"}, got.Packages); got.Target != "node:a.js" || diff != "" {
		t.Errorf("node run: target %q, packages mismatch (-want +got)\n%s", got.Target, diff)
	}
	if got.NodeVersion != harness.NodeVersion() {
		t.Errorf("node run: node version %q, want %q", got.NodeVersion, harness.NodeVersion())
	}
}
