package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const goodPatch = `Mutant: delete answers true
Area: store
diff --git a/f.txt b/f.txt
--- a/f.txt
+++ b/f.txt
@@ -1,2 +1,2 @@
 one
-two
+TWO
`

func TestParseMutant(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             Mutant
		err              string // a part of the error; "" for none
	}{
		{name: "good", file: "07-delete-true.patch", text: goodPatch,
			want: Mutant{Name: "07-delete-true", Path: "07-delete-true.patch", What: "delete answers true", Area: "store"}},
		{name: "survives", file: "08-x.patch", text: "Mutant: m\nArea: ttl\nSurvives: equivalent: never reached\n--- a/f\n+++ b/f\n",
			want: Mutant{Name: "08-x", Path: "08-x.patch", What: "m", Area: "ttl", Survives: "equivalent: never reached"}},
		{name: "bad name", file: "delete.patch", text: goodPatch, err: "NN-slug.patch"},
		{name: "no area", file: "01-a.patch", text: "Mutant: m\n--- a/f\n", err: "no Area: line"},
		{name: "unknown area", file: "01-a.patch", text: "Mutant: m\nArea: disk\n--- a/f\n", err: `area "disk" is none of`},
		{name: "unknown header", file: "01-a.patch", text: "Mutant: m\nArea: store\nAuthor: me\n--- a/f\n", err: `01-a.patch:3: bad mutant file: unknown header "Author"`},
		{name: "twice", file: "01-a.patch", text: "Mutant: m\nMutant: n\n--- a/f\n", err: "01-a.patch:2: bad mutant file: Mutant: given twice"},
		{name: "no diff", file: "01-a.patch", text: "Mutant: m\nArea: store\n", err: "no diff"},
		{name: "prose", file: "01-a.patch", text: "Mutant: m\nthis is the bug\n--- a/f\n", err: "01-a.patch:2: bad mutant file: want a header line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMutant(tc.file, []byte(tc.text))
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrBadMutant) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one wrapping ErrBadMutant containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestMutantSet reads the project's mutant set: every file parses, and
// no two share a number.
func TestMutantSet(t *testing.T) {
	ms, err := LoadMutants(filepath.Join("..", "..", "..", "mutants"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 30 {
		t.Errorf("%d mutants, want at least 30", len(ms))
	}
	seen := map[string]string{}
	for _, m := range ms {
		n, _, _ := strings.Cut(m.Name, "-")
		if other, ok := seen[n]; ok {
			t.Errorf("%s and %s share the number %s", other, m.Name, n)
		}
		seen[n] = m.Name
	}
	// The committed figures are of this set: its size, its names.
	scores, err := ReadScores(filepath.Join("..", "..", "..", "mutants", "score"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range ms {
		names[m.Name] = true
	}
	for _, sc := range scores {
		if sc.Total != len(ms) {
			t.Errorf("mutants/score: %s figure of %d mutants, the set has %d", sc.Suite, sc.Total, len(ms))
		}
		for _, n := range sc.Survivors {
			if !names[n] {
				t.Errorf("mutants/score: %s survivor %s is no mutant of the set", sc.Suite, n)
			}
		}
	}
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git:", err)
	}
}

// patchedTree makes a tree holding f.txt with text, and goodPatch beside
// it; it returns both paths.
func patchedTree(t *testing.T, text string) (tree, patch string) {
	t.Helper()
	needGit(t)
	dir := t.TempDir()
	tree, patch = filepath.Join(dir, "tree"), filepath.Join(dir, "01-two.patch")
	write(t, filepath.Join(tree, "f.txt"), text)
	write(t, patch, goodPatch)
	return tree, patch
}

func TestApplyPatch(t *testing.T) {
	tree, patch := patchedTree(t, "one\ntwo\n")
	if err := ApplyPatch(context.Background(), tree, patch); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(tree, "f.txt")); got != "one\nTWO\n" {
		t.Errorf("after the patch f.txt holds %q, want %q", got, "one\nTWO\n")
	}
}

// TestApplyPatchRefused: a patch whose context is not in the tree is an
// error, and the tree is left as it was (never a silent pass).
func TestApplyPatchRefused(t *testing.T) {
	tree, patch := patchedTree(t, "one\nthree\n")
	err := ApplyPatch(context.Background(), tree, patch)
	if !errors.Is(err, ErrPatch) || !strings.Contains(err.Error(), "01-two.patch") {
		t.Fatalf("error %v, want one wrapping ErrPatch naming the patch", err)
	}
	if got := read(t, filepath.Join(tree, "f.txt")); got != "one\nthree\n" {
		t.Errorf("a refused patch changed f.txt to %q", got)
	}
}

func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	for _, f := range []string{"go.mod", "shm/store.go", ".git/HEAD", "bin/shmlab", "shmlab-store/x/run.json", "node/lib/call.js"} {
		write(t, filepath.Join(src, f), f)
	}
	if err := CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	want := []string{"go.mod", "node/lib/call.js", "shm/store.go"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}

func TestScoreArithmetic(t *testing.T) {
	res := func(name string, killed bool, err error) Result {
		return Result{Mutant: Mutant{Name: name}, Killed: killed, Err: err}
	}
	s := Tally("full", []Result{res("03-c", false, nil), res("01-a", true, nil), res("02-b", false, nil), res("04-d", true, nil), res("05-e", false, ErrPatch)})
	want := Score{Suite: "full", Killed: 2, Total: 4, Survivors: []string{"02-b", "03-c"}}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
	if got := s.String(); got != "2/4 killed (50.0 %)" {
		t.Errorf("String() = %q", got)
	}
	for _, tc := range []struct {
		s, ref Score
		below  bool
	}{
		{Score{Killed: 2, Total: 4}, Score{Killed: 1, Total: 2}, false},
		{Score{Killed: 2, Total: 4}, Score{Killed: 3, Total: 5}, true},
		{Score{Killed: 28, Total: 31}, Score{Killed: 27, Total: 30}, false}, // 90.3 % against 90 %
		{Score{Killed: 27, Total: 31}, Score{Killed: 27, Total: 30}, true},
		{Score{}, Score{}, false},
		{Score{Killed: 0, Total: 3}, Score{}, false},
	} {
		if got := tc.s.Below(tc.ref); got != tc.below {
			t.Errorf("%v.Below(%v) = %v, want %v", tc.s, tc.ref, got, tc.below)
		}
	}
}

func TestCompare(t *testing.T) {
	ref := Score{Suite: "short", Killed: 3, Total: 5, Survivors: []string{"02-b", "04-d"}}
	t.Run("below", func(t *testing.T) {
		now := Score{Suite: "short", Killed: 2, Total: 5, Survivors: []string{"01-a", "02-b", "04-d"}}
		ok, lines := Compare(ref, now)
		if ok {
			t.Errorf("Compare passed a score below the committed one")
		}
		want := []string{
			"short score 2/5 killed (40.0 %): BELOW the committed 3/5 killed (60.0 %)",
			"  dropped: 01-a survives now; it was killed (or not in the set) when the figure was committed",
		}
		if d := cmp.Diff(want, lines); d != "" {
			t.Errorf("mismatch (-want +got):\n%s", d)
		}
	})
	t.Run("gained", func(t *testing.T) {
		now := Score{Suite: "short", Killed: 4, Total: 5, Survivors: []string{"02-b"}}
		ok, lines := Compare(ref, now)
		if !ok || len(lines) != 2 || !strings.HasPrefix(lines[1], "  gained: 04-d") {
			t.Errorf("Compare = %v, %q; want a pass naming 04-d gained", ok, lines)
		}
	})
}

func TestScoreFile(t *testing.T) {
	scores := map[string]Score{
		"full":  {Suite: "full", Killed: 2, Total: 4, Survivors: []string{"02-b", "03-c"}},
		"short": {Suite: "short", Killed: 3, Total: 3},
	}
	text := FormatScores(scores)
	got, err := ParseScores("score", text)
	if err != nil {
		t.Fatalf("%v in:\n%s", err, text)
	}
	if d := cmp.Diff(scores, got); d != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", d)
	}
	for _, bad := range []string{
		"full 2/4 survived: 02-b\n",  // one survivor short
		"full 5/4 survived: \n",      // more killed than run
		"full two/4 survived: a,b\n", // not a number
		"full 2/4 02-b,03-c\n",       // no survived:
		"full 1/1 survived: \nfull 1/1 survived: \n",
	} {
		if _, err := ParseScores("score", []byte(bad)); !errors.Is(err, ErrScoreFile) || !strings.HasPrefix(err.Error(), "score:") {
			t.Errorf("ParseScores(%q) = %v, want an error wrapping ErrScoreFile naming score:LINE", bad, err)
		}
	}
}

func TestJudge(t *testing.T) {
	suite := Stage{Name: "suite-sim"}
	swarm := Stage{Name: "swarm"}
	base := Outcome{Exit: 255, Complete: true, Rows: map[string]Row{
		"drop (sim)":   {Scenario: "drop", Mode: "sim", Verdict: "pass", Met: true},
		"poison (sim)": {Scenario: "poison", Mode: "sim", Verdict: "ERROR"},
	}}
	failed := Row{Scenario: "drop", Mode: "sim", Verdict: "FAILED", Failures: []Failure{{Seed: 2, Verdict: "illegal", Message: "1 key\nnot linearizable"}}}
	for _, tc := range []struct {
		name  string
		stage Stage
		base  Outcome
		got   Outcome
		want  string
	}{
		{"same", suite, base, base, ""},
		{"row not met", suite, base, Outcome{Exit: 1, Complete: true, Rows: map[string]Row{"drop (sim)": failed, "poison (sim)": base.Rows["poison (sim)"]}},
			"drop (sim): FAILED, seed 2 (1 key not linearizable)"},
		{"unmet in both", suite, base, Outcome{Exit: 255, Complete: true, Rows: map[string]Row{"drop (sim)": base.Rows["drop (sim)"], "poison (sim)": {Verdict: "ERROR"}}}, ""},
		{"swarm seed", swarm, Outcome{Complete: true, Rows: map[string]Row{"sim (sim)": {Met: true}}},
			Outcome{Exit: 1, Complete: true, Rows: map[string]Row{"sim (sim)": {Scenario: "sim", Mode: "sim", Failures: []Failure{{Seed: 41, Verdict: "illegal"}}}}},
			"swarm seed 41: illegal"},
		{"exit", suite, base, Outcome{Exit: 254, Complete: true, Rows: base.Rows, Stderr: "shmlab: bad flag\n"},
			"exit 254, bad input (the unmutated tree exits 255: the mutant's doing): shmlab: bad flag"},
		{"exit 0 where the unmutated tree failed", suite, base, Outcome{Exit: 0, Complete: true, Rows: base.Rows}, ""},
		{"cut short", suite, base, Outcome{Exit: 255, Rows: base.Rows}, "output ended before its end line (exit 255)"},
		{"timeout", suite, base, Outcome{TimedOut: true}, "timed out (the unmutated tree finished)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Judge(tc.stage, tc.base, tc.got); got != tc.want {
				t.Errorf("Judge = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseRows(t *testing.T) {
	out := `{"scenario":"drop","mode":"sim","verdict":"pass","met":true}
{"scenario":"zoo-no-dedup","mode":"process","verdict":"caught","met":true}
{"end":true,"shard":"1/1"}
`
	rows, complete, err := ParseRows([]byte(out))
	if err != nil || !complete || len(rows) != 2 || !rows["zoo-no-dedup (process)"].Met {
		t.Errorf("ParseRows = %v, %v, %v", rows, complete, err)
	}
	if _, _, err := ParseRows([]byte("panic: oops\n")); err == nil {
		t.Errorf("ParseRows took a line that is no JSON row")
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"--parallel", "3"}, {"--run", "("}, {"--run", "01", "--write"}, {"extra"}} {
		if _, err := parseFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("parseFlags(%q) took bad usage", args)
		}
	}
	o, err := parseFlags([]string{"--short"}, &strings.Builder{})
	if err != nil || o.seeds != 300 || len(Stages(o.short, o.seeds)) != 2 {
		t.Errorf("--short: seeds %d, %d stages, %v; want 300 seeds, 2 stages", o.seeds, len(Stages(o.short, o.seeds)), err)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFirstFailure(t *testing.T) {
	base := Outcome{Rows: map[string]Row{
		"drop (sim)":         {Scenario: "drop", Mode: "sim", Expect: "pass", Met: true},
		"poison (sim)":       {Scenario: "poison", Mode: "sim", Expect: "pass"},
		"zoo-no-dedup (sim)": {Scenario: "zoo-no-dedup", Mode: "sim", Expect: "violation", Met: true},
	}}
	stop := FirstFailure(Stage{Name: "suite-sim"}, base)
	for line, want := range map[string]string{
		"run: drop (sim) seed 1: ok, 453 operations in 4ms":           "",
		"run: drop (sim) seed 2: illegal, 453 operations in 4ms":      "drop (sim): illegal, seed 2 (453 operations in 4ms)",
		"run: poison (sim) seed 1: error: sim: poison faults need...": "", // not met by the unmutated tree either
		"run: zoo-no-dedup (sim) seed 1: illegal, 452 operations":     "", // expected
		"seed 3: illegal: 1003 operations":                            "",
	} {
		if got := stop(line); got != want {
			t.Errorf("suite stopper(%q) = %q, want %q", line, got, want)
		}
	}
	swarm := FirstFailure(Stage{Name: "swarm"}, Outcome{Rows: map[string]Row{"sim (sim)": {Failures: []Failure{{Seed: 7}}}}})
	for line, want := range map[string]string{
		"sim: 200/2000 seeds, 0 failed, 0 undecided, 600ms":          "",
		"seed 7: illegal: 10 operations":                             "", // failed on the unmutated tree too
		"seed 113: illegal: 1030 operations, 1 key not linearizable": "swarm seed 113: illegal (1030 operations, 1 key not linearizable)",
		`key "a": illegal`: "",
	} {
		if got := swarm(line); got != want {
			t.Errorf("swarm stopper(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestRunStageStops runs a stage that would print forever, and stops it
// at the first failing line.
func TestRunStageStops(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake")
	write(t, bin, "#!"+sh+"\necho 'seed 1: ok' >&2\necho 'seed 2: illegal: 5 operations' >&2\nwhile :; do sleep 1; done\n")
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	stop := func(line string) string {
		if strings.Contains(line, "illegal") {
			return "stopped at: " + line
		}
		return ""
	}
	o, err := RunStage(context.Background(), bin, filepath.Join(dir, "stage"), Stage{Name: "swarm"}, time.Hour, stop)
	if err != nil {
		t.Fatal(err)
	}
	if o.Stopped != "stopped at: seed 2: illegal: 5 operations" || o.TimedOut {
		t.Errorf("outcome %+v, want stopped at the seed 2 line", o)
	}
	if got := Judge(Stage{Name: "swarm"}, Outcome{Complete: true}, o); got != o.Stopped {
		t.Errorf("Judge = %q, want the stop's reason", got)
	}
}
