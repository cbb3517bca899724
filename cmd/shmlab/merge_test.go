package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shardOutputs runs shmlab sim --json over 3 seeds as n shards and
// returns each shard's standard output, checking that each exits 0.
func shardOutputs(t *testing.T, n int, extra ...string) []string {
	t.Helper()
	var outs []string
	for i := 1; i <= n; i++ {
		args := append([]string{"sim", "--json", "--seeds", "3", "--workers", "2", "--ops", "10", "--out", t.TempDir(), "--shard", fmt.Sprintf("%d/%d", i, n)}, extra...)
		r := runArgs(t, args...)
		if r.code != exitOK {
			t.Fatalf("sim %q: exit %d\n%s", args, r.code, r.stderr)
		}
		outs = append(outs, r.stdout)
	}
	return outs
}

// writeFiles writes each text to a file of its own, rows-1.jsonl, ...,
// and returns their paths.
func writeFiles(t *testing.T, texts ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, text := range texts {
		p := filepath.Join(dir, fmt.Sprintf("rows-%d.jsonl", i+1))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// editRow returns out with its first row changed by edit.
func editRow(t *testing.T, out string, edit func(map[string]any)) string {
	t.Helper()
	lines := strings.SplitAfter(out, "\n")
	var row map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &row); err != nil {
		t.Fatal(err)
	}
	edit(row)
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	lines[0] = string(b) + "\n"
	return strings.Join(lines, "")
}

// TestEmptyShard: a shard with no cells is complete: sim and run print
// its end line alone (the table: a note), exit 0, and merge counts it.
func TestEmptyShard(t *testing.T) {
	outs := shardOutputs(t, 4)
	if lines := strings.Count(outs[3], "\n"); lines != 1 || !strings.HasPrefix(outs[3], `{"end":true,"shard":"4/4",`) || !strings.Contains(outs[3], `"rows":0,"cells":0,"total_cells":3}`) {
		t.Errorf("shard 4/4 of 3 seeds printed %q, want its end line alone", outs[3])
	}
	r := runArgs(t, append([]string{"merge", "--json"}, writeFiles(t, outs...)...)...)
	if rows := jsonRows(t, r.stdout); r.code != exitOK || len(rows) != 1 || rows[0].Seeds != 3 || rows[0].Verdict != "pass" {
		t.Errorf("merge: exit %d, rows %+v; want 0 and one pass row of 3 seeds\n%s", r.code, rows, r.stderr)
	}
	r = runArgs(t, "sim", "--seeds", "3", "--workers", "2", "--ops", "10", "--shard", "4/4")
	if r.code != exitOK || !strings.Contains(r.stdout, "sim: shard 4/4 has none of the 3 seeds") {
		t.Errorf("sim --shard 4/4 (table): exit %d, stdout %q", r.code, r.stdout)
	}
	file := filepath.Join(t.TempDir(), "two.yaml")
	if err := os.WriteFile(file, []byte("name: two\nmode: sim\nworkers: 2\nops: 10\nseeds: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var runOuts []string
	for i := 1; i <= 4; i++ {
		r := runArgs(t, "run", "--json", "--keep", "none", "--shard", fmt.Sprintf("%d/4", i), file)
		if r.code != exitOK {
			t.Fatalf("run --shard %d/4: exit %d\n%s", i, r.code, r.stderr)
		}
		runOuts = append(runOuts, r.stdout)
	}
	if !strings.HasPrefix(runOuts[3], `{"end":true,"shard":"4/4"`) {
		t.Errorf("run --shard 4/4 of 2 cells printed %q, want its end line alone", runOuts[3])
	}
	if r := runArgs(t, append([]string{"merge"}, writeFiles(t, runOuts...)...)...); r.code != exitOK {
		t.Errorf("merge of run's 4 shards, 2 empty: exit %d\n%s", r.code, r.stderr)
	}
	r = runArgs(t, "run", "--keep", "none", "--shard", "4/4", file)
	if r.code != exitOK || !strings.Contains(r.stdout, "shard 4/4 has none of the 2 cells") {
		t.Errorf("run --shard 4/4 (table): exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestMergeRefuses: merge exits 254, naming what is wrong, unless it has
// all N shards of one run, each complete, and rows shmlab could print.
func TestMergeRefuses(t *testing.T) {
	outs := shardOutputs(t, 4)
	other := shardOutputs(t, 4, "--seed", "9")
	halves := shardOutputs(t, 2)
	for _, tt := range []struct {
		name  string
		texts []string
		want  string // in standard error; %1, %2... name the files
	}{
		{"shard 2 missing", []string{outs[0], outs[2], outs[3]}, "shard 2/4 missing: a merge needs all 4 shards"},
		{"an empty file", []string{outs[0], "", outs[2], outs[3]}, "rows-2.jsonl: no rows and no end line: not the output of a shard that finished"},
		{"cut short", []string{strings.SplitAfter(outs[0], "\n")[0], outs[1], outs[2], outs[3]}, "rows-1.jsonl:1: 1 row with no end line after them: the shard did not finish"},
		{"a shard twice", []string{outs[0], outs[1], outs[1], outs[2], outs[3]}, "shard 2/4 is in %2 and again in %3"},
		{"another run", []string{outs[0], other[1], outs[2], outs[3]}, "%1 (config "},
		{"1/2 and 2/4", []string{halves[0], outs[1], outs[3]}, "%1 (shard 1/2) and %2 (shard 2/4) split the run into different numbers of shards"},
		{"ERROR without errors", []string{editRow(t, outs[0], func(r map[string]any) { r["verdict"] = "ERROR"; r["met"] = false }), outs[1], outs[2], outs[3]},
			`rows-1.jsonl:1: not a row shmlab printed: verdict "ERROR", but its counts (0 violations, 0 errors, 0 undecided, expect pass) make it "pass"`},
		{"bogus verdict", []string{editRow(t, outs[0], func(r map[string]any) { r["verdict"] = "bogus" }), outs[1], outs[2], outs[3]}, `rows-1.jsonl:1: not a row shmlab printed: verdict "bogus": want one of`},
		{"expect maybe", []string{editRow(t, outs[0], func(r map[string]any) { r["expect"] = "maybe" }), outs[1], outs[2], outs[3]}, `rows-1.jsonl:1: not a row shmlab printed: expect "maybe"`},
		{"mode xx", []string{editRow(t, outs[0], func(r map[string]any) { r["mode"] = "xx" }), outs[1], outs[2], outs[3]}, `rows-1.jsonl:1: not a row shmlab printed: mode "xx"`},
		{"a failure of a seed not run", []string{editRow(t, outs[0], func(r map[string]any) {
			r["failures"] = []any{map[string]any{"seed": 99, "verdict": "illegal", "message": "x"}}
		}), outs[1], outs[2], outs[3]}, "rows-1.jsonl:1: not a row shmlab printed: a failure of seed 99, which is not in seed_list"},
		{"seeds 0 with seeds listed", []string{editRow(t, outs[0], func(r map[string]any) { r["seeds"] = 0 }), outs[1], outs[2], outs[3]}, "rows-1.jsonl:1: not a row shmlab printed: seeds 0, but 1 in seed_list"},
		{"a seed twice in a row", []string{editRow(t, outs[0], func(r map[string]any) { r["seed_list"] = []any{1, 1}; r["seeds"] = 2; r["cells"] = 2 }), outs[1], outs[2], outs[3]}, "rows-1.jsonl:1: not a row shmlab printed: seed 1 twice in seed_list"},
		{"a fault missed without an error", []string{editRow(t, outs[0], func(r map[string]any) { r["faults_planned"] = 2; r["faults_happened"] = 1 }), outs[1], outs[2], outs[3]},
			"rows-1.jsonl:1: not a row shmlab printed: 1 of 2 faults happened, and no error"},
		{"more faults than planned", []string{editRow(t, outs[0], func(r map[string]any) { r["faults_happened"] = 1 }), outs[1], outs[2], outs[3]},
			"rows-1.jsonl:1: not a row shmlab printed: 1 of 0 faults happened"},
		{"a row of another shard", []string{editRow(t, outs[0], func(r map[string]any) { r["shard"] = "2/4" }), outs[1], outs[2], outs[3]}, "rows-1.jsonl:2: row 1 is of shard 2/4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := writeFiles(t, tt.texts...)
			want := tt.want
			for i, f := range files {
				want = strings.ReplaceAll(want, fmt.Sprintf("%%%d", i+1), f)
			}
			r := runArgs(t, append([]string{"merge"}, files...)...)
			if r.code != exitBadInput || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, want %d; standard error %q, want it to hold %q", r.code, exitBadInput, r.stderr, want)
			}
		})
	}
	if r := runArgs(t, append([]string{"merge"}, writeFiles(t, outs...)...)...); r.code != exitOK {
		t.Errorf("merge of the 4 shards: exit %d, want 0\n%s", r.code, r.stderr)
	}
}

// TestMergeKeepsError: a shard's ERROR row stays ERROR merged (exit 255),
// and rows of one scenario run from different paths merge into one.
func TestMergeKeepsError(t *testing.T) {
	text := "name: slow\nworkers: 2\nops: 40\nseeds: 2\n"
	var outs []string
	for i := 1; i <= 2; i++ {
		file := filepath.Join(t.TempDir(), "checkout", "slow.yaml")
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runArgs(t, "run", "--json", "--keep", "none", "--mode", "process", "--timeout", "1ms", "--shard", fmt.Sprintf("%d/2", i), file)
		if r.code != exitError {
			t.Fatalf("shard %d/2: exit %d, want %d\n%s", i, r.code, exitError, r.stderr)
		}
		outs = append(outs, r.stdout)
	}
	r := runArgs(t, append([]string{"merge", "--json"}, writeFiles(t, outs...)...)...)
	rows := jsonRows(t, r.stdout)
	if r.code != exitError || len(rows) != 1 || rows[0].Verdict != "ERROR" || rows[0].Seeds != 2 {
		t.Errorf("merge: exit %d, rows %+v; want %d and one ERROR row of 2 seeds\n%s", r.code, rows, exitError, r.stderr)
	}
}
