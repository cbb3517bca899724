package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
)

// TestSimExitCodesAndFolders: passing seeds exit 0; a bug variant exits 1
// with a shrunk failure folder whose scenario fails again from its repro
// line; bad flags and files exit 3.
func TestSimExitCodesAndFolders(t *testing.T) {
	out := t.TempDir()
	bad := filepath.Join(out, "bad.json")
	os.WriteFile(bad, []byte(`{"seed": 1, "wrkers": 2}`), 0o644)
	for _, tt := range []struct {
		name  string
		args  []string
		code  int
		inOut []string
	}{
		{"passes", []string{"--seeds", "20", "--swarm", "--ops", "50"}, exitOK, []string{"sim: 20 seeds", "0 failed"}},
		{"bug caught", []string{"--seed", "4", "--seeds", "3", "--swarm", "--ops", "50", "--bug", "no-dedup", "--shrink", "--out", out}, exitInvalid, []string{"illegal", "repro: shmlab run --mode sim --seed "}},
		{"unknown bug", []string{"--bug", "nope"}, exitBadInput, nil},
		{"unknown field", []string{bad}, exitBadInput, nil},
		{"two files", []string{bad, bad}, exitBadInput, nil},
		{"help", []string{"--help"}, exitOK, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runArgs(t, append([]string{"sim"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range tt.inOut {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
	folders, _ := filepath.Glob(filepath.Join(out, "seed-*", "scenario.yaml"))
	if len(folders) == 0 {
		t.Fatal("no failure folder written")
	}
	for _, name := range []string{"history.jsonl", "report.html", "repro"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(folders[0]), name)); err != nil {
			t.Errorf("failure folder: %v", err)
		}
	}
	r := runArgs(t, "sim", "--out", t.TempDir(), folders[0])
	if r.code != exitInvalid {
		t.Errorf("shmlab sim: the saved scenario exits %d, want %d:\n%s", r.code, exitInvalid, r.stdout)
	}
	repro, err := os.ReadFile(filepath.Join(filepath.Dir(folders[0]), "repro"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"run", "--store", t.TempDir()}, strings.Fields(string(repro))[2:]...) // after "shmlab run"
	if r := runArgs(t, args...); r.code != exitInvalid || !strings.Contains(r.stdout, "FAILED") {
		t.Errorf("%s: exits %d, want %d (FAILED):\n%s", repro, r.code, exitInvalid, r.stdout)
	}
}

// TestSimFolderNotWritten: a failing seed whose folder cannot be written
// (here --out is made a file after the up-front check) still gets a
// repro line, of the seed unshrunk, and the sweep an ERROR, which the
// violation's exit 1 wins over.
func TestSimFolderNotWritten(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(out, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	sf := &simFlags{out: out, swarm: true, reproArgs: []string{"--swarm", "--bug", "no-dedup"}, sc: &scenarios.Scenario{Name: "sim"}}
	cfg := sim.Config{Run: spec.Run{Seed: 1, Workers: 2, Ops: 50, Bugs: shm.BugNoDedup, RetryAfter: 50 * time.Millisecond}}
	for ; cfg.Seed < 50; cfg.Seed++ {
		c := sim.Swarm(cfg)
		r, err := sim.Run(c)
		if err != nil || !r.Failed() {
			continue
		}
		var stdout, stderr strings.Builder
		t1 := tally{res: scenarios.NewResult(sf.sc, scenarios.Sim)}
		sf.seedDone(&t1, c, r, &stdout, &stderr)
		want := "repro: shmlab sim --seed " + strconv.FormatUint(c.Seed, 10) + " --swarm --bug no-dedup\n"
		if t1.code != exitInvalid || !strings.Contains(stdout.String(), want) || !strings.Contains(stderr.String(), "writing its folder") {
			t.Errorf("exit %d, want %d; stdout %q, want %q; stderr %q", t1.code, exitInvalid, stdout.String(), want, stderr.String())
		}
		return
	}
	t.Fatal("no failing seed in 50")
}

// TestSimMissedFaultIsError: shmlab sim on a file whose process fault
// never comes (the workload is over before 10h) is an ERROR naming the
// fault (exit 255), and its JSON row says 0 of 1 faults happened; the
// same fault with time to happen passes.
func TestSimMissedFaultIsError(t *testing.T) {
	text := "name: late\nmode: sim\nworkers: 2\nops: 30\nseeds: 2\nfaults:\n  processes: [{kind: kill, target: w1, at: %s}]\n"
	dir := t.TempDir()
	late, soon := filepath.Join(dir, "late.yaml"), filepath.Join(dir, "soon.yaml")
	if err := os.WriteFile(late, fmt.Appendf(nil, text, "10h"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(soon, fmt.Appendf(nil, text, "0s"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runArgs(t, "sim", "--seeds", "2", "--out", filepath.Join(dir, "out"), "--json", late)
	if r.code != exitError || !strings.Contains(r.stderr, "seed 1: ERROR: a planned fault did not happen: processes[0] (kill w1 at 10h0m0s) did not happen") {
		t.Errorf("sim on a fault at 10h: exit %d, want %d; standard error:\n%s", r.code, exitError, r.stderr)
	}
	if !strings.Contains(r.stdout, `"verdict":"ERROR"`) || !strings.Contains(r.stdout, `"faults_planned":2,"faults_happened":0`) {
		t.Errorf("sim on a fault at 10h: rows %s, want an ERROR row with 0 of 2 faults happened", r.stdout)
	}
	r = runArgs(t, "sim", "--seeds", "2", "--out", filepath.Join(dir, "out"), late)
	if want := "sim: 2 seeds, 120 operations, 0 failed, 2 ERROR (a planned fault did not happen)"; r.code != exitError || !strings.Contains(r.stdout, want) {
		t.Errorf("sim on a fault at 10h: exit %d, want %d; standard output %q, want it to say %q", r.code, exitError, r.stdout, want)
	}
	r = runArgs(t, "sim", "--seeds", "2", "--out", filepath.Join(dir, "out"), "--json", soon)
	if r.code != exitOK || !strings.Contains(r.stdout, `"faults_planned":2,"faults_happened":2`) {
		t.Errorf("sim on a fault at 0s: exit %d, want %d; rows %s; standard error:\n%s", r.code, exitOK, r.stdout, r.stderr)
	}
}
