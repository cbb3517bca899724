//go:build !race

// The properties here are one goroutine's search, repeated thousands of
// times: the race detector multiplies their time by five to ten and has
// nothing to find in them, and beside a busy machine they alone would
// take make test past its ten minutes. make test runs them in its second
// pass, without the detector (TestNoRace*).

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
)

// TestNoRaceCheckPorcupineJepsen: on every Jepsen etcd history porcupine ships
// (102; etcd_095 is empty), shmlab check, reading the log as it is,
// gives the verdict porcupine's own tests expect, and so does bare
// porcupine with a model of this test's on the history imported.
func TestNoRaceCheckPorcupineJepsen(t *testing.T) {
	dir := porcupineDir(t)
	verdicts := porcupineVerdicts(t, dir)
	logs, _ := filepath.Glob(filepath.Join(dir, "test_data/jepsen/etcd_*.log"))
	var files []string
	want := map[string]string{}
	for _, f := range logs {
		rel, _ := filepath.Rel(dir, f)
		ok, known := verdicts[rel]
		if !known {
			if fi, err := os.Stat(f); err == nil && fi.Size() == 0 {
				continue // porcupine has no verdict on the empty log
			}
			t.Errorf("porcupine's tests give no verdict on %s", rel)
			continue
		}
		files = append(files, f)
		want[f] = map[bool]string{true: "ok", false: "illegal"}[ok]
	}
	if len(files) < 100 {
		t.Fatalf("only %d of porcupine's etcd histories have a verdict in its tests; want 102", len(files))
	}
	if diff := cmp.Diff(want, checkVerdicts(t, []string{"--timeout", "5m"}, files)); diff != "" {
		t.Errorf("verdicts: mismatch (-porcupine +shmlab):\n%s", diff)
	}
	for _, f := range files {
		if got := barePorcupine(t, f); got != want[f] {
			t.Errorf("%s: bare porcupine on the import says %s; its tests %s", filepath.Base(f), got, want[f])
		}
	}
}

// TestNoRaceCheckPorcupineKV: on porcupine's get/put/append logs, shmlab check
// gives the verdict porcupine's tests expect, as bare porcupine does on
// the history imported. c50-bad has two keys whose
// search takes minutes (porcupine stops at the first key that fails, so
// its test never meets them): it is checked with every key searched at
// once for 3s, the verdict illegal from the four keys that fail at once
// (check's own order could leave them waiting behind the slow ones on a
// machine of one processor).
func TestNoRaceCheckPorcupineKV(t *testing.T) {
	dir := porcupineDir(t)
	verdicts := porcupineVerdicts(t, dir)
	for _, tc := range []struct {
		name    string
		timeout string
	}{{"c01-ok", "5m"}, {"c01-bad", "5m"}, {"c10-ok", "5m"}, {"c10-bad", "5m"}, {"c50-ok", "5m"}, {"c50-bad", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			rel := "test_data/kv/" + tc.name + ".txt"
			ok, known := verdicts[rel]
			if !known {
				t.Fatalf("porcupine's tests give no verdict on %s", rel)
			}
			f := filepath.Join(dir, rel)
			want := map[bool]string{true: "ok", false: "illegal"}[ok]
			if got := barePorcupine(t, f); got != want {
				t.Errorf("%s: bare porcupine on the import says %s; its tests %s", tc.name, got, want)
			}
			if tc.timeout == "" {
				h, err := readInput(f, "", nil)
				if err != nil {
					t.Fatal(err)
				}
				r := linearizability.Check(h, linearizability.Options{Timeout: 3 * time.Second, Parallel: 16})
				if got := r.Verdict.String(); got != want {
					t.Errorf("%s: shmlab says %s, porcupine %s:\n%s", tc.name, got, want, r.Details())
				}
				return
			}
			if got := checkVerdicts(t, []string{"--timeout", tc.timeout}, []string{f})[f]; got != want {
				t.Errorf("%s: shmlab says %s, porcupine %s", tc.name, got, want)
			}
		})
	}
}

// TestNoRaceZooMatrixCommand: shmlab zoo --matrix prints a row per scenario it
// runs, none of them the zoo's, and each variant's catchers, and exits 0
// when each variant has two.
func TestNoRaceZooMatrixCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every variant in every scenario")
	}
	// Not runArgs: on a busy machine the matrix's runs and checks
	// can take longer than its bound, and each run is bounded itself.
	var out, errOut bytes.Buffer
	r := result{run([]string{"zoo", "--matrix"}, strings.NewReader(""), &out, &errOut), out.String(), errOut.String()}
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if want := "scenario " + strings.Join(shm.BugNames(), " "); strings.Join(strings.Fields(lines[0]), " ") != want {
		t.Errorf("header %q, want the variants %q", lines[0], want)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "caught by") {
		t.Errorf("last line %q, want the catchers' counts", last)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if strings.HasPrefix(l, "zoo-") {
			t.Errorf("the zoo's own scenario runs: %q", l)
		}
	}
}
