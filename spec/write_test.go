package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// scenarioDiff compares scenarios as the file says them: File and
// Source are where and how it was read, not what it says.
var scenarioDiff = []cmp.Option{cmp.AllowUnexported(Seeds{}), cmpopts.IgnoreFields(Scenario{}, "File", "Source"), cmpopts.EquateEmpty()}

// TestMarshalRoundTripBundled: every bundled scenario, written and read
// back, is the same scenario.
func TestMarshalRoundTripBundled(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "scenarios", "bundled", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bundled scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, f, sc)
		})
	}
}

// roundTrip writes sc, parses it as the file path and compares.
func roundTrip(t *testing.T, path string, sc *Scenario) {
	t.Helper()
	text, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(path, text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if d := cmp.Diff(sc, again, scenarioDiff...); d != "" {
		t.Errorf("mismatch (-want +got):\n%s\n%s", d, text)
	}
}

// writeAdapter makes dir/adapters/lib.js and returns the scenario path
// dir/s.yaml beside it.
func writeAdapter(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "adapters"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "adapters", "lib.js"), []byte("module.exports = {};\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "s.yaml")
}

const nodeScenario = `name: lib
mode: process
target:
  node:
    adapter: adapters/lib.js
    packages: [memored@1.1.1, "@scope/pkg@2.0.0"]
    master: reference
workers: 2
ops: 20
expect: violation
`

// TestParseNodeTarget: a Node target reads with its adapter resolved
// beside the file, and round-trips.
func TestParseNodeTarget(t *testing.T) {
	path := writeAdapter(t)
	sc, err := Parse(path, []byte(nodeScenario))
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Kind: Node, Node: NodeTarget{Adapter: "adapters/lib.js", Path: filepath.Join(filepath.Dir(path), "adapters", "lib.js"),
		Packages: []string{"memored@1.1.1", "@scope/pkg@2.0.0"}, Master: ReferenceMaster}}
	if d := cmp.Diff(want, sc.Target); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
	if got := sc.ProcessSpec(1).Target; got.Node.Path != want.Node.Path {
		t.Errorf("run spec target %+v, want the scenario's", got)
	}
	roundTrip(t, path, sc)
	for _, ref := range []string{"", "target: reference\n"} {
		sc, err := Parse(path, []byte(ref+"ops: 5\n"))
		if err != nil || !sc.Target.IsReference() {
			t.Errorf("%q: target %v, %v; want the reference", ref, sc.Target, err)
		}
	}
}

// TestParseFSTarget: a bundled scenario's adapter resolves in its FS.
func TestParseFSTarget(t *testing.T) {
	fsys := fstest.MapFS{"bundled/adapters/lib.js": {Data: []byte("module.exports = {};\n")}}
	sc, err := ParseFS(fsys, "bundled/lib.yaml", []byte(nodeScenario))
	if err != nil {
		t.Fatal(err)
	}
	if n := sc.Target.Node; n.Path != "bundled/adapters/lib.js" || n.FS == nil {
		t.Fatalf("adapter at %q (FS %v), want bundled/adapters/lib.js in the FS", n.Path, n.FS)
	}
	src, err := sc.Target.Node.ReadAdapter()
	if err != nil || string(src) != "module.exports = {};\n" {
		t.Fatalf("ReadAdapter = %q, %v", src, err)
	}
	if _, err := ParseFS(fsys, "bundled/lib.yaml", []byte(strings.Replace(nodeScenario, "adapters/lib.js", "../../etc/x.js", 1))); err == nil ||
		!strings.Contains(err.Error(), "lies within the bundled files") {
		t.Errorf("an adapter outside the bundled files: %v", err)
	}
}

// TestParseTargetErrors: each broken target is refused at its place.
func TestParseTargetErrors(t *testing.T) {
	path := writeAdapter(t)
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"unknown kind", "target: python\n", []string{"s.yaml:1:9:", `target "python": want reference`}},
		{"unknown target", "target:\n  rust: {adapter: a.js}\n", []string{"s.yaml:2:3:", `unknown target "rust"`}},
		{"unknown member", "target:\n  node:\n    adapter: adapters/lib.js\n    adaptor: x\n", []string{"s.yaml:4:5:", `unknown member "adaptor" of target.node`}},
		{"empty adapter", "target:\n  node: {adapter: \"\"}\n", []string{"s.yaml:2:19:", "target.node.adapter: want the adapter file"}},
		{"no adapter", "target:\n  node: {packages: [memored@1.1.1]}\n", []string{"s.yaml:2:9:", "target.node needs its adapter"}},
		{"bad package", "target:\n  node: {adapter: adapters/lib.js, packages: [x@]}\n", []string{"s.yaml:2:47:", `package "x@": no version after @`}},
		{"package without version", "target:\n  node: {adapter: adapters/lib.js, packages: [memored]}\n", []string{"s.yaml:2:47:", "want name@version"}},
		{"bad master", "target:\n  node: {adapter: adapters/lib.js, master: go}\n", []string{"s.yaml:2:44:", "target.node.master go"}},
		{"missing adapter file", "target:\n  node: {adapter: adapters/nope.js}\n", []string{"s.yaml:2:19:", "adapter adapters/nope.js", "relative to the scenario file's folder"}},
		{"compact for node", "codec: compact\ntarget:\n  node: {adapter: adapters/lib.js}\n", []string{"s.yaml:1:8:", `codec "compact": target node:adapters/lib.js speaks JSON lines only`}},
		{"mixed for node", "codec: mixed\ntarget:\n  node: {adapter: adapters/lib.js}\n", []string{"s.yaml:1:8:", `codec "mixed"`, "JSON lines only"}},
		{"node in sim", "mode: sim\ntarget:\n  node: {adapter: adapters/lib.js}\n", []string{"s.yaml:3:", "the simulator runs the reference only"}},
		{"hold on node", "mode: process\ntarget:\n  node: {adapter: adapters/lib.js}\nfaults:\n  messages:\n    - {kind: reorder, p: 0.1, hold: 4}\n", []string{"s.yaml:6:", "not in the Node fault shim"}},
		{"empty target", "target: {}\n", []string{"s.yaml:1:9:", "target is empty"}},
		{"node twice", "target:\n  node: {adapter: adapters/lib.js}\n  node: {adapter: adapters/lib.js}\n", []string{"s.yaml:3:"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(path, []byte(tt.src))
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestMarshalRefuses: what the format cannot hold is an error.
func TestMarshalRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		sc   Scenario
		want string
	}{
		{"name not UTF-8", Scenario{Name: "\xff"}, "not UTF-8"},
		{"unknown target kind", Scenario{Target: Target{Kind: "rust"}}, `target kind "rust"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Marshal(&tt.sc); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestCodecRoundTrip: each codec a file can name is parsed, written and
// read back as itself, and reaches the run spec.
func TestCodecRoundTrip(t *testing.T) {
	for _, c := range []string{"", CodecJSON, CodecCompact, CodecMixed} {
		t.Run("codec="+c, func(t *testing.T) {
			src := "name: c\nworkers: 2\n"
			if c != "" {
				src += "codec: " + c + "\n"
			}
			sc, err := Parse("c.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if sc.Codec != c || sc.Spec(1).Codec != c || sc.ProcessSpec(1).Codec != c {
				t.Errorf("codec %q: scenario %q, spec %q, process spec %q", c, sc.Codec, sc.Spec(1).Codec, sc.ProcessSpec(1).Codec)
			}
			roundTrip(t, "c.yaml", sc)
		})
	}
}

// TestExpectCheck: expect: {violation: CHECK} reads as violation with
// the check kept, and writes back as it was.
func TestExpectCheck(t *testing.T) {
	for _, text := range []string{"expect: {violation: linearizable}\n", "expect:\n  violation: never-answered\n"} {
		path := filepath.Join(t.TempDir(), "s.yaml")
		sc, err := Parse(path, []byte(text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if sc.Expect != ExpectViolation || sc.ExpectCheck == "" {
			t.Errorf("%q: expect %q, check %q; want violation and its check", text, sc.Expect, sc.ExpectCheck)
		}
		roundTrip(t, path, sc)
	}
	sc, err := Parse("s.yaml", []byte("expect: violation\n"))
	if err != nil || sc.ExpectCheck != "" {
		t.Errorf("expect: violation: check %q, %v; want none", sc.ExpectCheck, err)
	}
}
