package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/shmlab/shmlab/bench"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/shm"
)

// TestMain lets a re-executed copy of the test binary run its worker body
// (the bench and run commands spawn their workers from this binary), and
// the test scripts run it as the shmlab command.
func TestMain(m *testing.M) {
	shm.Main()
	testscript.Main(m, map[string]func(){"shmlab": main})
}

// TestScripts runs the end-to-end scripts in testdata/script: each
// subcommand, each exit code, broken input and failure folders.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script", RequireExplicitExec: true})
}

// result is what one call of run did.
type result struct {
	code           int
	stdout, stderr string
}

// runArgs calls run with an empty standard input, failing the test if it
// does not return within patience.Bound(30s) (a stuck worker then dies
// with the test binary): a guard against a hang, not a time limit.
func runArgs(t *testing.T, args ...string) result {
	t.Helper()
	return runStdin(t, "", args...)
}

// runStdin is runArgs with stdin as standard input.
func runStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := run(args, strings.NewReader(stdin), &out, &errOut)
		done <- result{code, out.String(), errOut.String()}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(patience.Bound(30 * time.Second)):
		t.Fatalf("run(%q) did not return within %v", args, patience.Bound(30*time.Second))
		return result{}
	}
}

// progressLines returns the lines of stderr that report progress.
func progressLines(stderr string) []string {
	var lines []string
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "bench: ") {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	return lines
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{
		{nil, exitBadInput},
		{[]string{"help"}, exitOK},
		{[]string{"--help"}, exitOK},
		{[]string{"-h"}, exitOK},
	} {
		r := runArgs(t, tt.args...)
		if r.code != tt.code {
			t.Errorf("run(%q) = %d, want %d", tt.args, r.code, tt.code)
		}
		for _, want := range []string{"usage: shmlab <command>", "\n  bench ", "shmlab <command> --help"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("run(%q): standard output %q lacks %q", tt.args, r.stdout, want)
			}
		}
		if r.stderr != "" {
			t.Errorf("run(%q): standard error %q, want none", tt.args, r.stderr)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	r := runArgs(t, "frobnicate", "--x")
	if r.code != exitBadInput {
		t.Errorf("run(frobnicate) = %d, want %d", r.code, exitBadInput)
	}
	if want := `shmlab: unknown command "frobnicate"`; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("standard error %q, want it to start with %q", r.stderr, want)
	}
	if !strings.Contains(r.stderr, "usage: shmlab") || r.stdout != "" {
		t.Errorf("standard output %q, standard error %q; want usage on standard error only", r.stdout, r.stderr)
	}
}

func TestBenchHelp(t *testing.T) {
	for _, flag := range []string{"--help", "-h"} {
		r := runArgs(t, "bench", flag)
		if r.code != exitOK {
			t.Errorf("bench %s = %d, want %d", flag, r.code, exitOK)
		}
		for _, want := range []string{"usage: shmlab bench", "example:\n  shmlab bench --workers", "-duration", "-codec", "-client"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("bench %s: help on standard output %q lacks %q", flag, r.stdout, want)
			}
		}
		if r.stderr != "" {
			t.Errorf("bench %s: standard error %q, want none", flag, r.stderr)
		}
	}
}

func TestBenchBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string // in standard error
	}{
		{[]string{"--duration", "0"}, "--duration must be positive, got 0s"},
		{[]string{"--duration", "-1s"}, "--duration must be positive"},
		{[]string{"--duration", "soon"}, `invalid value "soon" for flag -duration`},
		{[]string{"--warmup", "-1ms"}, "--warmup must not be negative"},
		{[]string{"--runs", "0"}, "--runs must be at least 1, got 0"},
		{[]string{"--workers", "x"}, `invalid value "x" for flag -workers: "x" is not a comma-separated list of integers`},
		{[]string{"--workers", "1,,2"}, `invalid value "1,,2" for flag -workers`},
		{[]string{"--workers", "0"}, "cell out of range: workers 0"},
		{[]string{"--workers", "257"}, "cell out of range: workers 257"},
		{[]string{"--inflight", "0"}, "inflight 0"},
		{[]string{"--client", "nope"}, `--client must be callbacks or goroutines, got "nope"`},
		{[]string{"--codec", "nope"}, `--codec must be compact or json, got "nope"`},
		{[]string{"--value", "1"}, "value 1 (2 B-4 MiB)"},
		{[]string{"--value", "16", "extra", "more"}, `unexpected arguments ["extra" "more"]`},
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"extra", "--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"extra", "--runs", "1"}, `unexpected arguments ["extra"]`},
		{[]string{"--", "--runs", "1"}, `unexpected arguments ["--runs" "1"]`},
	} {
		// A tiny valid run first, so that a check that is missing shows
		// as a quick exit 0 rather than the default matrix's minutes.
		args := append([]string{"bench", "--workers", "1", "--inflight", "1", "--value", "16", "--duration", "10ms", "--warmup", "0s", "-q"}, tt.args...)
		r := runArgs(t, args...)
		if r.code != exitBadInput {
			t.Errorf("bench %q = %d, want %d (standard error %q)", tt.args, r.code, exitBadInput, r.stderr)
		}
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("bench %q: standard error %q lacks %q", tt.args, r.stderr, tt.want)
		}
		if r.stdout != "" {
			t.Errorf("bench %q: standard output %q, want none", tt.args, r.stdout)
		}
	}
}

// TestBadFlag: a bad flag or flag value prints its one error line and
// where the usage is, not the whole usage.
func TestBadFlag(t *testing.T) {
	for _, cmd := range []string{"bench", "check", "run", "sim", "zoo", "merge", "replay", "list", "version"} {
		r := runArgs(t, cmd, "--no-such-flag")
		if r.code != exitBadInput {
			t.Errorf("%s --no-such-flag = %d, want %d", cmd, r.code, exitBadInput)
		}
		want := "flag provided but not defined: -no-such-flag\nrun 'shmlab " + cmd + " --help' for usage\n"
		if diff := cmp.Diff(want, r.stderr); diff != "" || r.stdout != "" {
			t.Errorf("%s --no-such-flag: standard output %q; standard error mismatch (-want +got):\n%s", cmd, r.stdout, diff)
		}
	}
	r := runArgs(t, "run", "--seeds", "x")
	want := "invalid value \"x\" for flag -seeds: parse error\nrun 'shmlab run --help' for usage\n"
	if diff := cmp.Diff(want, r.stderr); diff != "" || r.code != exitBadInput {
		t.Errorf("run --seeds x: exit %d; standard error mismatch (-want +got):\n%s", r.code, diff)
	}
}

// TestFlagErrorsNameTheFlag: an error about flag values names the one
// that is wrong.
func TestFlagErrorsNameTheFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"zoo", "--seeds", "0"}, "shmlab zoo: --seeds 0: want 1 to 100000\n"},
		{[]string{"zoo", "extra"}, "shmlab zoo: takes no operands, got [\"extra\"]\n"},
		{[]string{"zoo", "--matrix", "--seeds", "3"}, "shmlab zoo: --matrix takes no --seeds: it runs each scenario's own seeds, in the simulator\n"},
		{[]string{"run", "--timeout", "-1s"}, "shmlab run: --timeout -1s: must not be negative\n"},
		{[]string{"run", "--seeds", "-1"}, "shmlab run: --seeds -1: want 0 to 100000\n"},
		{[]string{"run", "--keep-last", "-1"}, "shmlab run: --keep-last must not be negative, got -1\n"},
		{[]string{"run", "--store", file}, "shmlab run: --store " + file + ": is a file, not a folder\n"},
		{[]string{"sim", "--check-timeout", "-1s"}, "shmlab sim: --check-timeout -1s: must not be negative\n"},
		{[]string{"sim", "--seeds", "0"}, "shmlab sim: --seeds 0: must be at least 1\n"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runArgs(t, tt.args...)
			if diff := cmp.Diff(tt.want, r.stderr); diff != "" || r.code != exitBadInput {
				t.Errorf("exit %d, want %d; standard error mismatch (-want +got):\n%s", r.code, exitBadInput, diff)
			}
		})
	}
}

var tinyBench = []string{"bench", "--workers", "1", "--inflight", "1", "--value", "16", "--duration", "50ms", "--warmup", "10ms"}

func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns worker processes")
	}
	r := runArgs(t, append(tinyBench, "-q", "--json")...)
	if r.code != exitOK {
		t.Fatalf("bench --json = %d, want %d; standard error:\n%s", r.code, exitOK, r.stderr)
	}
	if r.stderr != "" {
		t.Logf("standard error:\n%s", r.stderr)
	}
	if p := progressLines(r.stderr); len(p) != 0 {
		t.Errorf("bench -q: progress lines %q on standard error, want none", p)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("bench --json printed %d lines, want one per cell (1):\n%s", len(lines), r.stdout)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &fields); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	for _, name := range []string{"workers", "inflight", "value_bytes", "floor_ops_per_s", "ops_per_s", "ratio", "p50_us", "p99_us"} {
		if _, ok := fields[name].(float64); !ok {
			t.Errorf("line %q: %q is %#v, want a number", lines[0], name, fields[name])
		}
	}
	var row bench.Row
	if err := json.Unmarshal([]byte(lines[0]), &row); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	if diff := cmp.Diff(bench.Cell{Workers: 1, Inflight: 1, ValueBytes: 16}, row.Cell); diff != "" {
		t.Errorf("cell mismatch (-want +got):\n%s", diff)
	}
	if row.FloorOpsPerS <= 0 || row.OpsPerS <= 0 || math.Abs(row.Ratio-row.OpsPerS/row.FloorOpsPerS) > 1e-9*row.Ratio {
		t.Errorf("floor %v ops/s, reference %v ops/s, ratio %v; want positive rates and ratio = ops/floor", row.FloorOpsPerS, row.OpsPerS, row.Ratio)
	}
	if row.P50us <= 0 || row.P50us > row.P99us {
		t.Errorf("p50 %vµs, p99 %vµs; want 0 < p50 <= p99", row.P50us, row.P99us)
	}
	if row.Runs != 1 || row.Client != "callbacks" || row.Codec != "compact" {
		t.Errorf("runs %d, client %q, codec %q; want the defaults 1, callbacks, compact", row.Runs, row.Client, row.Codec)
	}
}

func TestBenchTable(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns worker processes")
	}
	r := runArgs(t, append(tinyBench, "--worker-procs", "1", "--codec", "json", "--client", "goroutines")...)
	if r.code != exitOK {
		t.Fatalf("bench = %d, want %d; standard error:\n%s", r.code, exitOK, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("bench printed %d lines, want a header and one row:\n%s", len(lines), r.stdout)
	}
	header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
	if diff := cmp.Diff([]string{"workers", "inflight", "value", "B", "floor", "ops/s"}, header[:6]); diff != "" {
		t.Errorf("header %q mismatch (-want +got):\n%s", lines[0], diff)
	}
	if len(row) != 12 {
		t.Fatalf("row %q has %d columns, want 12", lines[1], len(row))
	}
	if diff := cmp.Diff([]string{"1", "1", "16"}, row[:3]); diff != "" {
		t.Errorf("row %q: cell mismatch (-want +got):\n%s", lines[1], diff)
	}
	if row[3] == "0" || row[4] == "0" {
		t.Errorf("row %q: floor ops/s %s, ops/s %s; want both positive", lines[1], row[3], row[4])
	}
	wantProgress := []string{
		"bench: 1 workers, 1 in flight, 16 B: floor (run 1/1)",
		"bench: 1 workers, 1 in flight, 16 B: reference (run 1/1)",
	}
	if diff := cmp.Diff(wantProgress, progressLines(r.stderr)); diff != "" {
		t.Errorf("progress lines mismatch (-want +got):\n%s", diff)
	}
}

// TestBenchEmptyCellIsError: a cell that measured nothing on a side is an
// error (255), named on standard error; measured cells are not.
func TestBenchEmptyCellIsError(t *testing.T) {
	measured := bench.Row{Cell: bench.Cell{Workers: 1, Inflight: 1, ValueBytes: 16}, FloorOpsPerS: 100, OpsPerS: 90}
	empty := measured
	empty.Workers, empty.OpsPerS = 2, 0
	var errOut bytes.Buffer
	if code := emptyCells([]bench.Row{measured}, &errOut); code != exitOK || errOut.Len() != 0 {
		t.Errorf("a measured cell: exit %d, standard error %q; want %d and none", code, errOut.String(), exitOK)
	}
	if code := emptyCells([]bench.Row{measured, empty}, &errOut); code != exitError || !strings.Contains(errOut.String(), "2 workers, 1 in flight, 16 B: no samples") {
		t.Errorf("an empty cell: exit %d, standard error %q; want %d naming the cell", code, errOut.String(), exitError)
	}
}

// TestWorstExit: bad input wins, then a violation, then an error, then
// unknown, whatever the order they come in.
func TestWorstExit(t *testing.T) {
	order := []int{exitOK, exitUnknown, exitError, exitInvalid, exitBadInput}
	for i, a := range order {
		for j, b := range order {
			want := order[max(i, j)]
			if got := worstExit(a, b); got != want {
				t.Errorf("worstExit(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
}
