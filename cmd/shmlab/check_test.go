package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/linearizability"
)

const historyHeader = `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}` + "\n"

// okHistory is linearizable; staleHistory holds a stale read.
const (
	okHistory = historyHeader +
		`{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}` + "\n" +
		`{"type":"op","id":2,"worker":"w2","method":"get","key":"x","output":{"value":1},"call":30,"return":40,"status":"ok"}` + "\n"
	staleHistory = historyHeader +
		`{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}` + "\n" +
		`{"type":"op","id":2,"worker":"w2","method":"get","key":"x","output":{},"call":30,"return":40,"status":"ok"}` + "\n"
	badHistory = historyHeader +
		`{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"call":10,"return":5,"status":"ok"}` + "\n"
)

// writeHistories writes files, named by slash-separated paths, to a new
// directory and returns it.
func writeHistories(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckExitCodes(t *testing.T) {
	dir := writeHistories(t, map[string]string{"ok.jsonl": okHistory, "stale.jsonl": staleHistory, "bad.jsonl": badHistory})
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, tt := range []struct {
		name  string
		args  []string
		code  int
		inOut []string
	}{
		{"linearizable", []string{p("ok.jsonl")}, exitOK, []string{"ok.jsonl: ok: 2 operations"}},
		{"violation", []string{p("stale.jsonl")}, exitInvalid, []string{"stale.jsonl: illegal", `#2 w2/0 get("x") -> absent (line 3) cannot be linearized`, "report: " + p("stale.html")}},
		{"bad input wins", []string{p("stale.jsonl"), p("bad.jsonl")}, exitBadInput, []string{"stale.jsonl: illegal"}},
		{"no files", nil, exitBadInput, nil},
		{"missing file", []string{p("nope.jsonl")}, exitBadInput, nil},
		{"bad model", []string{"--model", "sql", p("ok.jsonl")}, exitBadInput, nil},
		{"help", []string{"--help"}, exitOK, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runArgs(t, append([]string{"check"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range tt.inOut {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
	if page, err := os.ReadFile(p("stale.html")); err != nil {
		t.Errorf("no report next to the failing history: %v", err)
	} else {
		text := html.UnescapeString(string(page))
		for _, want := range []string{"shmlab check -- " + p("stale.jsonl"), `class="verdict illegal"`, `#2 w2/0 get("x") -> absent (line 3) cannot be linearized`, `<a class="focus" href="#op-2">`} {
			if !strings.Contains(text, want) {
				t.Errorf("the report lacks %q", want)
			}
		}
	}
	if _, err := os.Stat(p("ok.html")); err == nil {
		t.Errorf("a report for a passing history without --report")
	}
}

func TestCheckBadInputNamesLineAndField(t *testing.T) {
	dir := writeHistories(t, map[string]string{"bad.jsonl": badHistory})
	r := runArgs(t, "check", filepath.Join(dir, "bad.jsonl"))
	want := "shmlab check: " + filepath.Join(dir, "bad.jsonl") + `:2: field "return": return time 5 before call time 10` + "\n"
	if diff := cmp.Diff(want, r.stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestCheckJSONAndOut(t *testing.T) {
	dir := writeHistories(t, map[string]string{"ok.jsonl": okHistory, "stale.jsonl": staleHistory})
	out := filepath.Join(t.TempDir(), "reports")
	r := runArgs(t, "check", "--json", "--report", "--out", out, filepath.Join(dir, "ok.jsonl"), filepath.Join(dir, "stale.jsonl"))
	if r.code != exitInvalid {
		t.Fatalf("exit %d, want %d; stderr %s", r.code, exitInvalid, r.stderr)
	}
	type row struct {
		File    string `json:"file"`
		Verdict string `json:"verdict"`
		Ops     int    `json:"ops"`
		Report  string `json:"report"`
		Keys    []struct {
			Key string `json:"key"`
		} `json:"keys"`
	}
	var got []row
	for line := range strings.Lines(r.stdout) {
		var rw row
		if err := json.Unmarshal([]byte(line), &rw); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		got = append(got, rw)
	}
	want := []row{
		{File: filepath.Join(dir, "ok.jsonl"), Verdict: "ok", Ops: 2, Report: filepath.Join(out, "ok.html")},
		{File: filepath.Join(dir, "stale.jsonl"), Verdict: "illegal", Ops: 2, Report: filepath.Join(out, "stale.html"),
			Keys: []struct {
				Key string `json:"key"`
			}{{"x"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--json rows (-want +got):\n%s", diff)
	}
	for line := range strings.Lines(r.stdout) {
		for _, member := range []string{`"unknown_ops":0`, `"expired":0`, `"late_replies":0`, `"counters":{}`} {
			if !strings.Contains(line, member) {
				t.Errorf("--json row lacks %s: %s", member, line)
			}
		}
	}
	for _, w := range want {
		if _, err := os.Stat(w.Report); err != nil {
			t.Errorf("report missing: %v", err)
		}
	}
}

func TestCheckTimeoutExitsUnknown(t *testing.T) {
	var b strings.Builder
	b.WriteString(historyHeader)
	for i := range 40 {
		fmt.Fprintf(&b, `{"type":"op","id":%d,"worker":"w%d","method":"set","key":"k","input":{"value":%d},"output":{"value":"OK"},"call":0,"return":100,"status":"ok"}`+"\n", i+1, i, i)
	}
	b.WriteString(`{"type":"op","id":41,"worker":"r","method":"get","key":"k","output":{"value":"nowhere"},"call":200,"return":300,"status":"ok"}` + "\n")
	dir := writeHistories(t, map[string]string{"hard.jsonl": b.String()})
	r := runArgs(t, "check", "--timeout", "50ms", filepath.Join(dir, "hard.jsonl"))
	if r.code != exitUnknown || !strings.Contains(r.stdout, "hard.jsonl: unknown:") {
		t.Errorf("exit %d, want %d (unknown)\n%s%s", r.code, exitUnknown, r.stdout, r.stderr)
	}
}

func TestSearchTimeout(t *testing.T) {
	if got := searchTimeout(time.Time{}); got != 0 {
		t.Errorf("no deadline: %v, want 0 (none)", got)
	}
	if got := searchTimeout(time.Now().Add(-time.Second)); got != 1 {
		t.Errorf("a deadline passed: %v, want 1ns", got)
	}
	if got := searchTimeout(time.Now().Add(time.Hour)); got > 54*time.Minute || got < 53*time.Minute {
		t.Errorf("an hour left: %v, want nine tenths of it", got)
	}
}

// reportLines returns the paths that the "report: " lines of stdout name.
func reportLines(stdout string) []string {
	var paths []string
	for line := range strings.Lines(stdout) {
		if p, ok := strings.CutPrefix(line, "report: "); ok {
			paths = append(paths, strings.TrimSuffix(p, "\n"))
		}
	}
	return paths
}

func TestCheckReportNamesUnique(t *testing.T) {
	dir := writeHistories(t, map[string]string{"a/run.jsonl": staleHistory, "b/run.jsonl": staleHistory,
		"c/run.jsonl": okHistory, "c/run.json": staleHistory})
	p := func(n string) string { return filepath.Join(dir, filepath.FromSlash(n)) }
	out := filepath.Join(t.TempDir(), "reports")
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"in --out", []string{"--out", out, p("a/run.jsonl"), p("b/run.jsonl"), p("a/run.jsonl")},
			[]string{filepath.Join(out, "run.html"), filepath.Join(out, "run-2.html"), filepath.Join(out, "run-3.html")}},
		{"next to the histories", []string{"--report", p("c/run.jsonl"), p("c/run.json"), p("a/run.jsonl")},
			[]string{p("c/run.html"), p("c/run-2.html"), p("a/run.html")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runArgs(t, append([]string{"check"}, tt.args...)...)
			if r.code != exitInvalid {
				t.Errorf("exit %d, want %d; standard error:\n%s", r.code, exitInvalid, r.stderr)
			}
			if diff := cmp.Diff(tt.want, reportLines(r.stdout)); diff != "" {
				t.Errorf("reports (-want +got):\n%s", diff)
			}
			for _, w := range tt.want {
				if _, err := os.Stat(w); err != nil {
					t.Errorf("report missing: %v", err)
				}
			}
		})
	}
}

func TestCheckVerbose(t *testing.T) {
	dir := writeHistories(t, map[string]string{"ok.jsonl": okHistory})
	r := runArgs(t, "check", "-v", filepath.Join(dir, "ok.jsonl"))
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != exitOK || len(lines) != 6 {
		t.Fatalf("exit %d, want %d, and six lines, got:\n%s%s", r.code, exitOK, r.stdout, r.stderr)
	}
	for i, want := range []string{"linearizability", "session guarantees", "counter invariant", "liveness", "unknown outcomes"} {
		if f := strings.Fields(lines[i+1]); len(f) == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), want) {
			t.Errorf("line %d %q, want the row of %s", i+2, lines[i+1], want)
		}
	}
	if r := runArgs(t, "check", filepath.Join(dir, "ok.jsonl")); strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("without -v: %q, want one line", r.stdout)
	}
}

func TestCheckedTable(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		name string
		r    linearizability.Result
		want string
	}{
		{"all well", linearizability.Result{Linearizable: linearizability.Ok, Ops: 3, Checked: 3, Duration: 2 * ms, Search: ms,
			Counters: linearizability.CounterKeys{Checked: []string{"c"}}}, `
  linearizability     ok: 3 operations checked in 2ms (search 1ms)
  session guarantees  no violation
  counter invariant   1 counter checked
  liveness            no violation
  unknown outcomes    none
`},
		{"no final read, unknowns", linearizability.Result{Linearizable: linearizability.Ok, Ops: 1, Checked: 1, Duration: 2 * ms, Search: ms,
			Counters: linearizability.CounterKeys{NoFinalRead: []string{"n"}}, Outcomes: linearizability.Outcomes{Unknown: 3, Expired: 1, Late: 2}}, `
  linearizability     ok: 1 operation checked in 2ms (search 1ms)
  session guarantees  no violation
  counter invariant   not checked: no final read (key "n")
  liveness            no violation
  unknown outcomes    3 (1 expired, 2 answered late)
`},
		{"undecided, sessions by cause", linearizability.Result{Linearizable: linearizability.Unknown, Ops: 5, Checked: 4, Duration: 2 * ms, Search: ms,
			Sessions: []linearizability.Violation{{More: 70}, {}}}, `
  linearizability     unknown: 4 of 5 operations checked in 2ms (search 1ms)
  session guarantees  72 violations (2 causes)
  counter invariant   no counters
  liveness            no violation
  unknown outcomes    none
`},
		{"counter and liveness", linearizability.Result{Linearizable: linearizability.Illegal, Ops: 2, Checked: 2, Duration: 2 * ms, Search: ms,
			Invariants: make([]linearizability.Violation, 1),
			Liveness: []linearizability.Violation{{Check: linearizability.LivenessNeverAnswered, More: 2}, {Check: linearizability.LivenessCrashed},
				{Check: linearizability.LivenessUnavailable}}}, `
  linearizability     illegal: 2 operations checked in 2ms (search 1ms)
  session guarantees  no violation
  counter invariant   1 violation
  liveness            5 violations
  unknown outcomes    none
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(strings.TrimPrefix(tt.want, "\n"), checkedTable(&tt.r)); diff != "" {
				t.Errorf("checkedTable mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		operands []string
		flags    checkFlags
	}{
		{[]string{"a", "--json", "b", "-v"}, []string{"a", "b"}, checkFlags{asJSON: true, verbose: true}},
		{[]string{"a", "--out", "o", "b"}, []string{"a", "b"}, checkFlags{out: "o"}},
		{[]string{"-", "--report"}, []string{"-"}, checkFlags{report: true}},
		{[]string{"a", "--", "--json", "-v"}, []string{"a", "--json", "-v"}, checkFlags{}},
		{[]string{"-v", "--", "--", "b"}, []string{"--", "b"}, checkFlags{verbose: true}},
		{[]string{"--out", "--", "a", "-v"}, []string{"a"}, checkFlags{out: "--", verbose: true}},
		{[]string{"--out", "--model", "--", "a", "-v"}, []string{"a", "-v"}, checkFlags{out: "--model"}},
		{[]string{"--out=x", "--", "-v"}, []string{"-v"}, checkFlags{out: "x"}},
		{[]string{"--json=false", "a", "--", "-v"}, []string{"a", "-v"}, checkFlags{}},
		{nil, nil, checkFlags{}},
	} {
		var cf checkFlags
		operands, err := parseInterspersed(cf.flagSet(), tt.args)
		if err != nil {
			t.Errorf("parseInterspersed(%q): %v", tt.args, err)
			continue
		}
		cf.timeout = 0
		if diff := cmp.Diff(tt.operands, operands); diff != "" {
			t.Errorf("parseInterspersed(%q) operands (-want +got):\n%s", tt.args, diff)
		}
		if diff := cmp.Diff(tt.flags, cf, cmp.AllowUnexported(checkFlags{})); diff != "" {
			t.Errorf("parseInterspersed(%q) flags (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestCheckFlagsAfterFiles(t *testing.T) {
	dir := writeHistories(t, map[string]string{"ok.jsonl": okHistory, "-v.jsonl": staleHistory})
	r := runArgs(t, "check", filepath.Join(dir, "ok.jsonl"), "--json")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, `{"file":`) {
		t.Errorf("check FILE --json: exit %d, want %d, and JSON, got:\n%s%s", r.code, exitOK, r.stdout, r.stderr)
	}
	t.Chdir(dir)
	r = runArgs(t, "check", "--", "-v.jsonl")
	if r.code != exitInvalid || !strings.HasPrefix(r.stdout, "-v.jsonl: illegal") {
		t.Errorf("check -- -v.jsonl: exit %d, want %d, and its verdict, got:\n%s%s", r.code, exitInvalid, r.stdout, r.stderr)
	}
}

func TestCheckHelp(t *testing.T) {
	for _, flag := range []string{"--help", "-h"} {
		r := runArgs(t, "check", "ok.jsonl", flag)
		if r.code != exitOK || r.stderr != "" {
			t.Errorf("check %s: exit %d, standard error %q; want %d and none", flag, r.code, r.stderr, exitOK)
		}
		for _, want := range []string{"usage: shmlab check [flags] FILE...", "examples:\n  shmlab check", "-timeout duration"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("check %s: help on standard output %q lacks %q", flag, r.stdout, want)
			}
		}
	}
}

// TestCheckUsageExamples parses the examples of check's usage as check
// would: each must hold files and valid flags.
func TestCheckUsageExamples(t *testing.T) {
	n := 0
	for line := range strings.Lines(checkUsage) {
		cmdline, ok := strings.CutPrefix(line, "  shmlab check ")
		if !ok {
			continue
		}
		n++
		cmdline, _, _ = strings.Cut(cmdline, "<") // a shell redirection
		var cf checkFlags
		fs := cf.flagSet()
		fs.SetOutput(io.Discard)
		files, err := parseInterspersed(fs, strings.Fields(cmdline))
		if err == nil {
			err = cf.validate(files)
		}
		if err != nil {
			t.Errorf("example %q: %v", strings.TrimSpace(line), err)
		}
	}
	if n == 0 {
		t.Errorf("no examples in the usage:\n%s", checkUsage)
	}
}

func TestCheckStdin(t *testing.T) {
	out := t.TempDir()
	r := runStdin(t, staleHistory, "check", "--out", out, "-")
	if r.code != exitInvalid || !strings.HasPrefix(r.stdout, "stdin: illegal") {
		t.Errorf("check - (stale): exit %d, want %d, and a verdict on stdin, got:\n%s%s", r.code, exitInvalid, r.stdout, r.stderr)
	}
	if diff := cmp.Diff([]string{filepath.Join(out, "stdin.html")}, reportLines(r.stdout)); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}

	t.Chdir(t.TempDir())
	r = runStdin(t, okHistory, "check", "--report", "--json", "-")
	want := []string{`"file":"stdin"`, `"verdict":"ok"`, `"report":"stdin.html"`}
	for _, w := range want {
		if r.code != exitOK || !strings.Contains(r.stdout, w) {
			t.Errorf("check --report --json -: exit %d, want %d, and %s, got:\n%s%s", r.code, exitOK, w, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat("stdin.html"); err != nil {
		t.Errorf("no report in the current directory: %v", err)
	}

	r = runStdin(t, badHistory, "check", "-")
	wantErr := "shmlab check: stdin:2: field \"return\": return time 5 before call time 10\n"
	if diff := cmp.Diff(wantErr, r.stderr); r.code != exitBadInput || diff != "" {
		t.Errorf("check - (bad): exit %d, want %d; standard error (-want +got):\n%s", r.code, exitBadInput, diff)
	}

	r = runStdin(t, okHistory, "check", "-", "-")
	if diff := cmp.Diff("shmlab check: standard input (-) given 2 times\n", r.stderr); r.code != exitBadInput || diff != "" {
		t.Errorf("check - -: exit %d, want %d; standard error (-want +got):\n%s", r.code, exitBadInput, diff)
	}
}

func TestCheckUnwritableReport(t *testing.T) {
	dir := writeHistories(t, map[string]string{"ok.jsonl": okHistory, "stale.jsonl": staleHistory, "file": "not a directory"})
	for _, tt := range []struct {
		name, out, history string
	}{
		{"--out is a file", filepath.Join(dir, "file"), "stale.jsonl"},
		{"--out is under a file", filepath.Join(dir, "file", "reports"), "stale.jsonl"},
		{"passing history with --report", filepath.Join(dir, "file"), "ok.jsonl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runArgs(t, "check", "--report", "--out", tt.out, filepath.Join(dir, tt.history))
			if r.code != exitBadInput {
				t.Errorf("exit %d, want %d", r.code, exitBadInput)
			}
			want := "shmlab check: --out " + tt.out + ": "
			if !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "not a") {
				t.Errorf("standard error %q, want %q... not a folder", r.stderr, want)
			}
			if r.stdout != "" {
				t.Errorf("standard output %q, want none: the path is checked before any history", r.stdout)
			}
		})
	}
}

// TestCheckReportWriteFails: a report that cannot be written where the
// path given was fine (here: next to its history, where a folder of the
// report's name is in the way of the rename) is an ERROR (255), after
// the verdict (a violation, exit 1, would win over it).
func TestCheckReportWriteFails(t *testing.T) {
	dir := writeHistories(t, map[string]string{"ok.jsonl": okHistory, "ok.html/x": "in the way"})
	r := runArgs(t, "check", "--report", filepath.Join(dir, "ok.jsonl"))
	if r.code != exitError || !strings.Contains(r.stderr, "cannot write the report") {
		t.Errorf("exit %d, want %d; standard error %q", r.code, exitError, r.stderr)
	}
}

func TestCheckJSONOpLines(t *testing.T) {
	dir := writeHistories(t, map[string]string{"stale.jsonl": staleHistory})
	r := runArgs(t, "check", "--json", "--out", t.TempDir(), filepath.Join(dir, "stale.jsonl"))
	type op struct {
		ID   int64 `json:"id"`
		Line int   `json:"line"`
	}
	var row struct {
		Keys []struct {
			Ops []op `json:"ops"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &row); err != nil || len(row.Keys) != 1 {
		t.Fatalf("output %q: %v, want one key", r.stdout, err)
	}
	if diff := cmp.Diff([]op{{ID: 2, Line: 3}, {ID: 1, Line: 2}}, row.Keys[0].Ops); diff != "" {
		t.Errorf("ops of the key (-want +got):\n%s", diff)
	}
}

// TestCheckTimeoutBoundsTheReport: --timeout bounds the report too: one
// spent before the report is written leaves it out, saying so, and the
// exit code is the verdict's.
func TestCheckTimeoutBoundsTheReport(t *testing.T) {
	stale := historyHeader +
		`{"type":"op","id":1,"worker":"w1","method":"set","key":"k","input":{"value":1},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"}` + "\n" +
		`{"type":"op","id":2,"worker":"w1","method":"get","key":"k","output":{"value":2},"call":20,"return":30,"status":"ok"}` + "\n"
	dir := writeHistories(t, map[string]string{"stale.jsonl": stale})
	r := runArgs(t, "check", "--timeout", "1ns", filepath.Join(dir, "stale.jsonl"))
	if r.code != exitUnknown || !strings.Contains(r.stderr, "stale.jsonl: no report: --timeout 1ns ran out while writing it") {
		t.Errorf("exit %d, want %d (unknown), and no report said\n%s%s", r.code, exitUnknown, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "report:") {
		t.Errorf("a report named:\n%s", r.stdout)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 1 {
		t.Errorf("files beside the history: %v", files)
	}
}
