package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/internal/race"
	"github.com/shmlab/shmlab/scenarios"
)

// jsonRows parses the JSON rows a command printed, less its end line.
func jsonRows(t *testing.T, stdout string) []scenarios.Row {
	t.Helper()
	var rows []scenarios.Row
	for line := range strings.Lines(stdout) {
		if strings.HasPrefix(line, `{"end":`) {
			continue
		}
		var r scenarios.Row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	return rows
}

// sweepSummary is what must not change when a sweep is sharded.
type sweepSummary struct {
	Verdict                string
	Seeds, Violations, Ops int
	SeedList, FailingSeeds []uint64
}

func summarize(r scenarios.Row) sweepSummary {
	s := sweepSummary{Verdict: r.Verdict, Seeds: r.Seeds, Violations: r.Violations, Ops: r.Ops, SeedList: slices.Sorted(slices.Values(r.SeedList))}
	for _, f := range r.Failures {
		s.FailingSeeds = append(s.FailingSeeds, f.Seed)
	}
	slices.Sort(s.FailingSeeds)
	return s
}

// TestNoRaceSimShards: 4 shards of 1,000 simulator seeds run exactly the seeds
// of the unsharded sweep, each once, and shmlab merge gives its verdict,
// its counts and its exit code; so does a sweep with failures.
func TestNoRaceSimShards(t *testing.T) {
	race.Skip(t)
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"reference", []string{"--seeds", "1000", "--swarm", "--workers", "2", "--ops", "20"}, exitOK},
		{"bug", []string{"--seeds", "30", "--seed", "7", "--swarm", "--workers", "2", "--ops", "30", "--bug", "no-dedup"}, exitInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			whole := runArgs(t, append([]string{"sim", "--json", "--out", filepath.Join(dir, "whole")}, tt.args...)...)
			if whole.code != tt.code {
				t.Fatalf("unsharded: exit %d, want %d\n%s", whole.code, tt.code, whole.stderr)
			}
			want := jsonRows(t, whole.stdout)
			var files []string
			for i := 1; i <= 4; i++ {
				r := runArgs(t, append([]string{"sim", "--json", "--shard", fmt.Sprintf("%d/4", i), "--out", filepath.Join(dir, "shards")}, tt.args...)...)
				if r.code != exitOK && r.code != tt.code {
					t.Fatalf("shard %d/4: exit %d\n%s", i, r.code, r.stderr)
				}
				if rows := jsonRows(t, r.stdout); len(rows) != 1 || rows[0].Seeds == 0 {
					t.Fatalf("shard %d/4: rows %+v, want one with seeds", i, rows)
				}
				files = append(files, filepath.Join(dir, fmt.Sprintf("s%d.jsonl", i)))
				if err := os.WriteFile(files[i-1], []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			merged := runArgs(t, append([]string{"merge", "--json"}, files...)...)
			if merged.code != tt.code {
				t.Errorf("merge: exit %d, want %d (the unsharded sweep's)\n%s", merged.code, tt.code, merged.stderr)
			}
			got := jsonRows(t, merged.stdout)
			if len(want) != 1 || len(got) != 1 {
				t.Fatalf("rows: unsharded %d, merged %d; want 1 each", len(want), len(got))
			}
			if diff := cmp.Diff(summarize(want[0]), summarize(got[0])); diff != "" {
				t.Errorf("merged shards mismatch (-unsharded +merged):\n%s", diff)
			}
			if n := len(got[0].SeedList); n != want[0].Seeds {
				t.Errorf("merged seed list holds %d seeds, want %d", n, want[0].Seeds)
			}
		})
	}
}

// TestRunShards: shards of shmlab run deal its scenario × mode × seed
// cells so that, merged, the scenarios that expect a pass ran exactly the
// unsharded seeds, and every verdict and the exit code are the unsharded
// run's; overlapping shards are refused.
func TestRunShards(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"good.yaml": "name: good\nmode: sim\nworkers: 2\nops: 30\nseeds: 7\n",
		"bad.yaml":  "name: bad\nmode: sim\nvariant: no-dedup\nworkers: 2\nops: 60\nkeys: {count: 2}\nmix: {add: 2, get: 1}\nfaults: {messages: [{kind: duplicate, dir: requests, p: 0.1}]}\nseeds: 3\n",
		"zoo.yaml":  "name: zoo\nmode: sim\nvariant: no-dedup\nworkers: 2\nops: 60\nkeys: {count: 2}\nmix: {add: 2, get: 1}\nfaults: {messages: [{kind: duplicate, dir: requests, p: 0.1}]}\nseeds: 5\nexpect: violation\n",
	}
	var paths []string
	for _, name := range []string{"good.yaml", "bad.yaml", "zoo.yaml"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	store := filepath.Join(dir, "store")
	whole := runArgs(t, append([]string{"run", "--json", "--keep", "none", "--store", store}, paths...)...)
	var shardFiles []string
	for i := 1; i <= 3; i++ {
		r := runArgs(t, append([]string{"run", "--json", "--keep", "none", "--store", store, "--shard", fmt.Sprintf("%d/3", i)}, paths...)...)
		f := filepath.Join(dir, fmt.Sprintf("s%d.jsonl", i))
		if err := os.WriteFile(f, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		shardFiles = append(shardFiles, f)
	}
	merged := runArgs(t, append([]string{"merge", "--json"}, shardFiles...)...)
	if merged.code != whole.code || whole.code != exitInvalid {
		t.Errorf("exit: unsharded %d, merged %d; want %d both (bad FAILED)", whole.code, merged.code, exitInvalid)
	}
	type cell struct {
		Scenario, Verdict string
		Seeds             []uint64
	}
	key := func(rows []scenarios.Row) []cell {
		var out []cell
		for _, r := range rows {
			c := cell{Scenario: r.Scenario, Verdict: r.Verdict}
			if r.Expect == scenarios.ExpectPass { // one that expects a violation stops at its first in each shard
				c.Seeds = slices.Sorted(slices.Values(r.SeedList))
			}
			out = append(out, c)
		}
		slices.SortFunc(out, func(a, b cell) int { return strings.Compare(a.Scenario, b.Scenario) })
		return out
	}
	if diff := cmp.Diff(key(jsonRows(t, whole.stdout)), key(jsonRows(t, merged.stdout))); diff != "" {
		t.Errorf("merged shards mismatch (-unsharded +merged):\n%s", diff)
	}
	overlap := runArgs(t, "merge", shardFiles[0], shardFiles[1], shardFiles[2], shardFiles[0])
	if overlap.code != exitBadInput || !strings.Contains(overlap.stderr, "shard 1/3 is in "+shardFiles[0]+" and again in "+shardFiles[0]) {
		t.Errorf("merge of a shard with itself: exit %d, stderr %q; want %d, twice", overlap.code, overlap.stderr, exitBadInput)
	}
	if r := runArgs(t, "run", "--shard", "4/3", paths[0]); r.code != exitBadInput || !strings.Contains(r.stderr, `--shard "4/3": want I/N`) {
		t.Errorf("--shard 4/3: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestShardDeal: the cells are dealt round-robin, each to one shard.
func TestShardDeal(t *testing.T) {
	for n := 1; n <= 5; n++ {
		count := make([]int, 23)
		for i := 1; i <= n; i++ {
			s, err := scenarios.ParseShard(fmt.Sprintf("%d/%d", i, n))
			if err != nil {
				t.Fatal(err)
			}
			for k := range count {
				if s.Has(uint64(k)) {
					count[k]++
				}
			}
		}
		for k, c := range count {
			if c != 1 {
				t.Errorf("%d shards: cell %d in %d shards, want 1", n, k, c)
			}
		}
	}
}
