package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

func writeHistories(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
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
		{"violation", []string{p("stale.jsonl")}, exitFail, []string{"stale.jsonl: illegal", `#2 w2/0 get("x") -> absent (line 3) cannot be linearized`, "report: " + p("stale.html")}},
		{"bad input wins", []string{p("stale.jsonl"), p("bad.jsonl")}, exitUsage, []string{"stale.jsonl: illegal"}},
		{"no files", nil, exitUsage, nil},
		{"missing file", []string{p("nope.jsonl")}, exitUsage, nil},
		{"bad model", []string{"--model", "sql", p("ok.jsonl")}, exitUsage, nil},
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
	if _, err := os.Stat(p("stale.html")); err != nil {
		t.Errorf("no report next to the failing history: %v", err)
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
	if r.code != exitFail {
		t.Fatalf("exit %d, want %d; stderr %s", r.code, exitFail, r.stderr)
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
