package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
)

// porcupineDir returns the folder of the porcupine module shmlab builds
// with, in the module cache (go test has downloaded it).
func porcupineDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/anishathalye/porcupine").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("cannot find porcupine's module: %v %s", err, out)
	}
	return dir
}

// porcupineVerdicts reads, from porcupine's own tests, which of its test
// histories are linearizable: the path of each, relative to dir, and
// porcupine's verdict.
func porcupineVerdicts(t testing.TB, dir string) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "porcupine_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, m := range regexp.MustCompile(`checkJepsen\(t, (\d+), (true|false)\)`).FindAllStringSubmatch(string(src), -1) {
		var n int
		fmt.Sscan(m[1], &n)
		want[fmt.Sprintf("test_data/jepsen/etcd_%03d.log", n)] = m[2] == "true"
	}
	for _, m := range regexp.MustCompile(`checkKv\(t, "([\w-]+)", (true|false), true\)`).FindAllStringSubmatch(string(src), -1) {
		want["test_data/kv/"+m[1]+".txt"] = m[2] == "true"
	}
	return want
}

// checkVerdicts runs shmlab check --json on files with args and returns
// the verdict of each file.
func checkVerdicts(t *testing.T, args []string, files []string) map[string]string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	run(append(append([]string{"check", "--json", "--out", t.TempDir()}, args...), files...), nil, &stdout, &stderr)
	got := map[string]string{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var row struct{ File, Verdict, Error string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("a --json line: %v\n%s", err, sc.Bytes())
		}
		got[row.File] = row.Verdict + row.Error
	}
	if len(got) != len(files) {
		t.Fatalf("%d verdicts for %d files; stderr:\n%s", len(got), len(files), stderr.String())
	}
	return got
}

// bareOp is an operation as barePorcupine's models see it: a value is
// a string, the empty one for absence (JSON texts are never empty).
type bareOp struct {
	method          history.Method
	key, value, old string
	result          string // the answer: "true" or "false" for a cas, the value read for a get
	unknown         bool
}

// barePorcupine checks the history at f, as check reads it, with
// porcupine alone and models of its own (porcupine's etcd model, and its
// kv model partitioned by key, on strings), and returns its verdict: a
// second opinion on both the import and shmlab's checker.
func barePorcupine(t *testing.T, f string) string {
	t.Helper()
	h, err := readInput(f, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return bareCheck(bareOps(h))
}

// bareOps are h's operations for bareCheck.
func bareOps(h *history.History) []porcupine.Operation {
	text := func(v json.RawMessage) string {
		var s string
		if h.Header.Model == history.ModelKV && json.Unmarshal(v, &s) == nil {
			return s // kv logs: strings, decoded
		}
		return string(v)
	}
	clients := map[string]int{}
	inf := int64(0)
	for _, op := range h.Ops {
		inf = max(inf, op.Call, op.Return)
	}
	var ops []porcupine.Operation
	for _, op := range h.Ops {
		if op.Status == history.StatusFail {
			continue
		}
		c, ok := clients[fmt.Sprint(op.Worker, op.Stream)]
		if !ok {
			c = len(clients)
			clients[fmt.Sprint(op.Worker, op.Stream)] = c
		}
		o := bareOp{method: op.Method, key: op.Key, value: text(op.Input.Value), old: text(op.Input.Old),
			result: text(op.Output.Value), unknown: op.Status == history.StatusUnknown}
		ret := op.Return
		if o.unknown {
			ret = inf + 1
		}
		ops = append(ops, porcupine.Operation{ClientId: c, Input: o, Call: op.Call, Return: ret})
	}
	return ops
}

// bareCheck checks ops with porcupine alone.
func bareCheck(ops []porcupine.Operation) string {
	model := porcupine.Model{
		Init: func() any { return "" },
		Step: func(state, input, _ any) (bool, any) {
			st, o := state.(string), input.(bareOp)
			switch o.method {
			case history.Get:
				return o.unknown || o.result == st, st
			case history.Set:
				return true, o.value
			case history.Append:
				return true, st + o.value
			case history.CAS:
				if st == o.old {
					return o.unknown || o.result == "true", o.value
				}
				return o.unknown || o.result == "false", st
			}
			return false, st
		},
		Hash: func(state any) uint64 {
			h := fnv.New64a()
			h.Write([]byte(state.(string)))
			return h.Sum64()
		},
		Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range ops {
				k := op.Input.(bareOp).key
				if byKey[k] == nil {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			var out [][]porcupine.Operation
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
	}
	switch porcupine.CheckOperationsTimeout(model, ops, time.Minute) {
	case porcupine.Ok:
		return "ok"
	case porcupine.Illegal:
		return "illegal"
	}
	return "unknown"
}

// TestImport checks shmlab import: the history written is the one check
// reads from the foreign file directly, and bad input is exit 254 with
// the file and line.
func TestImport(t *testing.T) {
	dir := writeHistories(t, map[string]string{
		"h.edn":   "{:type :invoke, :f :write, :value 1, :process 0}\n{:type :ok, :f :write, :value 1, :process 0}\n",
		"kv.txt":  "{:process 0, :type :invoke, :f :append, :key \"k\", :value \"a\"}\n",
		"bad.edn": "{:type :invoke, :f :write, :value 1, :process 0}\n{:type :ok, :f :read, :process 0}\n",
	})
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"jepsen", []string{"jepsen", p("h.edn")}, exitOK, []string{`"model":"register"`, `"method":"set","key":"r","input":{"value":1},"output":{},"call":1,"return":2,"status":"ok"`}, ""},
		{"porcupine-kv", []string{"porcupine-kv", p("kv.txt")}, exitOK, []string{`"method":"append","key":"k","input":{"value":"a"},"output":{},"call":1,"status":"unknown"`}, ""},
		{"bad input", []string{"jepsen", p("bad.edn")}, exitBadInput, nil, p("bad.edn") + `:2: field ":f": completes :read, but process 0 invoked :write on line 1`},
		{"unknown format", []string{"knossos", p("h.edn")}, exitBadInput, nil, "want FORMAT FILE"},
		{"no file", []string{"jepsen"}, exitBadInput, nil, "want FORMAT FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"import"}, tc.args...), nil, &stdout, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %s:\n%s", s, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
			if tc.code == exitOK {
				if _, err := history.Read(&stdout, "out.jsonl"); err != nil {
					t.Errorf("the import does not read as a history: %v", err)
				}
			}
		})
	}
	t.Run("to a file, then checked", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"import", "--out", p("h.jsonl"), "jepsen", p("h.edn")}, nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
		got := checkVerdicts(t, nil, []string{p("h.jsonl"), p("h.edn")})
		if got[p("h.jsonl")] != "ok" || got[p("h.edn")] != "ok" {
			t.Errorf("verdicts %v; want ok for both", got)
		}
	})
}

// TestCheckFormats checks that check tells the formats apart from their
// first bytes, and that --format overrides it.
func TestCheckFormats(t *testing.T) {
	for _, tc := range []struct{ name, head, want string }{
		{"history", okHistory, formatHistory},
		{"history with a BOM and spaces", "\xef\xbb\xbf { \"type\":\"header\"}", formatHistory},
		{"EDN maps", "{:type :invoke, :f :read, :process 0}", formatJepsen},
		{"a vector of tagged maps", "[#jepsen.history.Op{:index 0, :type :invoke}", formatJepsen},
		{"a Jepsen log", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n", formatJepsen},
		{"a kv log", `{:process 0, :type :invoke, :f :get, :key "4", :value nil}`, formatPorcupineKV},
		{"nothing known", "hello", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sniff([]byte(tc.head)); got != tc.want {
				t.Errorf("sniff = %q; want %q", got, tc.want)
			}
		})
	}
	dir := writeHistories(t, map[string]string{"ok.jsonl": okHistory})
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "--format", "jepsen", filepath.Join(dir, "ok.jsonl")}, nil, &stdout, &stderr)
	if code != exitBadInput || !strings.Contains(stderr.String(), "ok.jsonl:1: ") {
		t.Errorf("a history read as Jepsen's: exit %d, stderr:\n%s", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"check", "--format", "edn", "x"}, nil, &stdout, &stderr); code != exitBadInput || !strings.Contains(stderr.String(), "--format must be") {
		t.Errorf("an unknown --format: exit %d, stderr:\n%s", code, stderr.String())
	}
}

// BenchmarkPorcupineData times shmlab's check (the library's, from the
// history in memory) and bare porcupine (bareCheck) side by side on
// porcupine's test data: the etcd histories porcupine's tests call
// linearizable, those they do not, and the kv logs but c50-bad, whose
// slow keys take minutes.
func BenchmarkPorcupineData(b *testing.B) {
	dir := porcupineDir(b)
	verdicts := porcupineVerdicts(b, dir)
	groups := map[string][]*history.History{}
	for rel, ok := range verdicts {
		if strings.HasSuffix(rel, "c50-bad.txt") {
			continue
		}
		h, err := readInput(filepath.Join(dir, rel), "", nil)
		if err != nil {
			b.Fatal(err)
		}
		g := "etcd-illegal"
		switch {
		case strings.Contains(rel, "/kv/"):
			g = "kv"
		case ok:
			g = "etcd-ok"
		}
		groups[g] = append(groups[g], h)
	}
	for _, g := range []string{"etcd-ok", "etcd-illegal", "kv"} {
		hs := groups[g]
		b.Run("shmlab/"+g, func(b *testing.B) {
			for b.Loop() {
				for _, h := range hs {
					linearizability.Check(h, linearizability.Options{})
				}
			}
		})
		b.Run("porcupine/"+g, func(b *testing.B) {
			for b.Loop() {
				for _, h := range hs {
					bareCheck(bareOps(h))
				}
			}
		})
	}
}
