package scenarios

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
)

func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	sc, err := spec.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestSuiteExpectations: pass needs every seed to pass; violation needs
// one seed to fail, and stops there; {violation: CHECK} one seed that
// CHECK fails.
func TestSuiteExpectations(t *testing.T) {
	const broken = "variant: no-dedup\nworkers: 2\nops: 60\nkeys: {count: 1}\nmix: {add: 1}\nfaults: {messages: [{kind: duplicate, dir: requests, p: 0.2}]}\n"
	for _, tt := range []struct {
		name, src      string
		verdict        string
		met            bool
		seedsRun, fail int
	}{
		{"pass", "mode: sim\nseeds: 3\n", "pass", true, 3, 0},
		{"caught", "mode: sim\nseeds: 3\nexpect: violation\n" + broken, "caught", true, 1, 0},
		{"failed", "mode: sim\nseeds: 2\n" + broken, "FAILED", false, 2, 2},
		{"missed", "mode: sim\nseeds: 2\nexpect: violation\nmix: {get: 1}\n", "MISSED", false, 2, 0},
		// A named check counts only its own violations.
		{"caught by its check", "mode: sim\nseeds: 3\nexpect: {violation: linearizable}\n" + broken, "caught", true, 1, 0},
		{"missed by its check", "mode: sim\nseeds: 2\nexpect: {violation: crashed}\n" + broken, "MISSED", false, 2, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := RunSuite(context.Background(), []*Scenario{mustParse(t, tt.src)}, Options{}, nil)
			if len(rs) != 1 {
				t.Fatalf("%d results", len(rs))
			}
			r := rs[0]
			got := []any{r.Verdict(), r.Met, len(r.Outcomes), len(r.Failures())}
			if diff := cmp.Diff([]any{tt.verdict, tt.met, tt.seedsRun, tt.fail}, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSuiteModes: both modes by default, --mode overrides, byte faults
// nor poison never run in the simulator, nor a script on processes.
func TestSuiteModes(t *testing.T) {
	sc := mustParse(t, "mode: both\nops: 5\n")
	if m, _ := (Options{}).modes(sc); !cmp.Equal(m, []Mode{Sim, Process}) {
		t.Errorf("modes %v", m)
	}
	if m, _ := (Options{Mode: Sim}).modes(sc); !cmp.Equal(m, []Mode{Sim}) {
		t.Errorf("--mode sim: modes %v", m)
	}
	bytesSc := mustParse(t, "mode: process\nfaults: {bytes: [{kind: short}]}\n")
	if m, skipped := (Options{Mode: Both}).modes(bytesSc); !cmp.Equal(m, []Mode{Process}) || len(skipped) != 1 || skipped[0].Mode != Sim {
		t.Errorf("byte faults: modes %v (skipped %d)", m, len(skipped))
	}
	rs := RunSuite(context.Background(), []*Scenario{bytesSc}, Options{Mode: Sim}, nil)
	if len(rs) != 1 || rs[0].Verdict() != "skipped" {
		t.Errorf("byte faults in sim: %d results, verdict %q", len(rs), rs[0].Verdict())
	}
	poisonSc := mustParse(t, "mode: process\nfaults: {processes: [{kind: poison, target: w1, at: 1ms}]}\n")
	rs = RunSuite(context.Background(), []*Scenario{poisonSc}, Options{Mode: Sim}, nil)
	if len(rs) != 1 || rs[0].Verdict() != "skipped" {
		t.Errorf("poison in sim: %d results, verdict %q", len(rs), rs[0].Verdict())
	}
	scripted := mustParse(t, "mode: sim\nscript: {w1: [{get: k0}]}\n")
	if m, skipped := (Options{Mode: Both}).modes(scripted); !cmp.Equal(m, []Mode{Sim}) || len(skipped) != 1 || skipped[0].Mode != Process {
		t.Errorf("a script: modes %v (skipped %d)", m, len(skipped))
	}
}

// TestSuiteWorkersOfTheSimulator: a mode: sim scenario with more workers
// than real processes may have is skipped in process mode, and not run
// there when asked directly; one within the bound runs where --mode says.
func TestSuiteWorkersOfTheSimulator(t *testing.T) {
	many := mustParse(t, "mode: sim\nworkers: 65\nops: 1\n")
	m, skipped := (Options{Mode: Both}).modes(many)
	if !cmp.Equal(m, []Mode{Sim}) || len(skipped) != 1 || skipped[0].Mode != Process {
		t.Fatalf("65 workers: modes %v (skipped %d)", m, len(skipped))
	}
	if want := "65 workers: real processes run at most 64"; !strings.Contains(skipped[0].Skipped, want) {
		t.Errorf("skipped because %q, want it to say %q", skipped[0].Skipped, want)
	}
	if o := Run(context.Background(), many, Process, 1); o.Err == nil || !strings.Contains(o.Err.Error(), "at most 64") {
		t.Errorf("65 workers on processes: error %v", o.Err)
	}
	few := mustParse(t, "mode: sim\nworkers: 64\nops: 1\n")
	if m, _ := (Options{Mode: Process}).modes(few); !cmp.Equal(m, []Mode{Process}) {
		t.Errorf("64 workers, --mode process: modes %v", m)
	}
}

// TestJUnit: one test case per scenario and mode, failures counted.
func TestJUnit(t *testing.T) {
	rs := RunSuite(context.Background(), []*Scenario{
		mustParse(t, "name: ok\nmode: sim\n"),
		mustParse(t, "name: bad\nmode: sim\nvariant: no-dedup\nkeys: {count: 1}\nmix: {add: 1}\nfaults: {messages: [{kind: duplicate, p: 0.3}]}\n"),
	}, Options{}, nil)
	var buf bytes.Buffer
	var rows []Row
	for _, r := range rs {
		rows = append(rows, RowOf(r))
	}
	if err := WriteJUnit(&buf, rows); err != nil {
		t.Fatal(err)
	}
	var ts struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &ts); err != nil {
		t.Fatal(err)
	}
	if ts.Tests != 2 || ts.Failures != 1 || ts.Cases[0].Failure != nil || ts.Cases[1].Failure == nil {
		t.Errorf("junit %+v\n%s", ts, buf.String())
	}
}

// TestReplaySimFolder: a failure folder runs again to the same history.
func TestReplaySimFolder(t *testing.T) {
	sc := mustParse(t, "name: bad\nmode: sim\nvariant: no-dedup\nkeys: {count: 1}\nmix: {add: 1}\nfaults: {messages: [{kind: duplicate, p: 0.3}]}\n")
	o := Run(context.Background(), sc, Sim, 1)
	if o.Verdict().String() != "illegal" {
		t.Fatalf("verdict %v", o.Verdict())
	}
	dir := filepath.Join(t.TempDir(), FolderName(o))
	if err := writeRunFolder(dir, o); err != nil {
		t.Fatal(err)
	}
	again, err := Replay(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Sim.Hash() != o.Sim.Hash() {
		t.Errorf("replayed history %s, want %s", again.Sim.Hash(), o.Sim.Hash())
	}
}

// TestReplaySimulatorFolder: a folder that shmlab sim or shmlab zoo wrote
// has no run.json; Replay says what it is and gives its repro line.
func TestReplaySimulatorFolder(t *testing.T) {
	sc := mustParse(t, "name: bad\nmode: sim\nvariant: no-dedup\nkeys: {count: 1}\nmix: {add: 1}\nfaults: {messages: [{kind: duplicate, p: 0.3}]}\n")
	o := Run(context.Background(), sc, Sim, 1)
	dir := filepath.Join(t.TempDir(), "seed-1")
	repro, err := sim.WriteFailure(dir, o.Sim.Config, o.Sim)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Replay(context.Background(), dir)
	for _, want := range []string{dir + " is a failure of the simulator", "run it again with its repro line:\n  " + repro} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Replay: error %v, want it to say %q", err, want)
		}
	}
	if err := os.Remove(filepath.Join(dir, spec.ReproFile)); err != nil {
		t.Fatal(err)
	}
	if _, err = Replay(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "not a run folder of shmlab run") {
		t.Errorf("Replay without repro: error %v", err)
	}
}

// writeRunFolder writes o into the new folder dir as a RunStore writes a
// run folder (its run.json without a command line).
func writeRunFolder(dir string, o *Outcome) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	return writeFolder(dir, o, (&RunStore{}).info(o))
}

// TestLiveRows: the liveness violations of a row's runs are counted in
// its JSON row and its JUnit failure text, summed by MergeRows, and a
// row with negative counts is refused.
func TestLiveRows(t *testing.T) {
	rs := RunSuite(context.Background(), []*Scenario{
		mustParse(t, "name: mute\nmode: sim\nvariant: no-reply\nkeys: {count: 1}\nmix: {get: 1, delete: 1}\nops: 20\ntimeout: 50ms\nseeds: [1, 2]\n"),
		mustParse(t, "name: crash\nmode: sim\nvariant: crash-key\nkeys: {names: [a, crash]}\nmix: {get: 1}\nops: 20\nseeds: [1]\n"),
	}, Options{}, nil)
	mute, crash := RowOf(rs[0]), RowOf(rs[1])
	if mute.NeverAnswered == 0 || mute.Crashed != 0 || mute.Verdict != "FAILED" {
		t.Errorf("mute: %d never answered, %d crashed, verdict %s; want some, none, FAILED", mute.NeverAnswered, mute.Crashed, mute.Verdict)
	}
	if crash.Crashed != 1 || crash.Liveness() != "1 crashed" {
		t.Errorf("crash: %d crashed (%q), want 1", crash.Crashed, crash.Liveness())
	}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, []Row{mute}); err != nil {
		t.Fatal(err)
	}
	if want := "liveness: " + mute.Liveness(); !strings.Contains(buf.String(), want) || !strings.Contains(buf.String(), "never-answered") {
		t.Errorf("junit lacks %q and the violations:\n%s", want, buf.String())
	}
	a, b := mute, mute
	a.Seeds, a.SeedList, a.Cells, a.Failures, a.Violations = 1, a.SeedList[:1], 1, a.Failures[:1], 1
	b.Seeds, b.SeedList, b.Cells, b.Failures, b.Violations = 1, b.SeedList[1:], 1, b.Failures[1:], 1
	a.NeverAnswered, b.NeverAnswered = 3, 4
	merged, err := MergeRows([]Row{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if merged[0].NeverAnswered != 7 {
		t.Errorf("merged: %d never answered, want 7", merged[0].NeverAnswered)
	}
	a.Crashed = -1
	if err := a.Validate(); err == nil {
		t.Error("a row with -1 crashes is valid")
	}
}

// TestLeftOutRows: the methods a Node adapter lacks are named in its
// row, once each, and merged rows name those of every shard.
func TestLeftOutRows(t *testing.T) {
	sc := mustParse(t, "name: lo\nmode: sim\nseeds: [1, 2]\n")
	row := RowOf(&Result{Scenario: sc, Mode: Process, Met: true, Outcomes: []*Outcome{
		{Scenario: sc, Seed: 1, LeftOut: []string{"cas", "add"}, Check: &linearizability.Result{Verdict: linearizability.Ok}},
		{Scenario: sc, Seed: 2, LeftOut: []string{"add", "lock"}, Check: &linearizability.Result{Verdict: linearizability.Ok}},
	}})
	if diff := cmp.Diff([]string{"cas", "add", "lock"}, row.LeftOut); diff != "" {
		t.Errorf("row's left out: mismatch (-want +got)\n%s", diff)
	}
	a, b := row, row
	a.SeedList, a.Seeds, a.Cells, a.LeftOut = []uint64{1}, 1, 1, []string{"cas"}
	b.SeedList, b.Seeds, b.Cells, b.LeftOut = []uint64{2}, 1, 1, []string{"delete", "cas"}
	merged, err := MergeRows([]Row{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cas", "delete"}, merged[0].LeftOut); diff != "" {
		t.Errorf("merged left out: mismatch (-want +got)\n%s", diff)
	}
}
