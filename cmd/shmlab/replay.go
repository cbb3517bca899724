package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/spec"
)

const replayUsage = `usage: shmlab replay DIR

Runs a run folder of shmlab run's store (or one of an older shmlab)
again: its scenario, in its mode with its seed, with the message faults
decided by its fault log (faults.jsonl) rather than by the seed, so that
on real processes, whose timing differs from run to run, the same
messages meet the same faults; a process folder without a fault log
replays with its faults decided by the seed, and a warning says so.
Prints the verdict now and the verdict saved (the saved history checked
again, or, for a run that could not be done, its saved error). A folder
that shmlab sim or shmlab zoo wrote has no run.json (the simulator
repeats a run from its seed): shmlab replay says so and prints its repro
line (exit 254).

Exit status: 0 the run passed this time, 1 a violation (again), 2 the
check could not decide, 254 bad input or usage (a folder that cannot be
read), 255 the run could not be done (ERROR).

examples:
  shmlab replay shmlab-store/latest
  shmlab replay shmlab-store/drop/20261207T132238.157Z-process-2

flags:
`

func runReplay(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	dirs, err := parseArgs(newFlagSet("replay"), replayUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	if len(dirs) != 1 {
		fmt.Fprintf(stderr, "shmlab replay: want one run folder, got %d (see --help)\n", len(dirs))
		return exitBadInput
	}
	dir := dirs[0]
	o, err := scenarios.Replay(context.Background(), dir)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab replay: %v\n", err)
		return exitBadInput
	}
	ri, _ := scenarios.ReadRun(dir) // Replay read it
	if ri.Mode == scenarios.Process && scenarios.NoFaultLog(dir) {
		fmt.Fprintf(stderr, "shmlab replay: warning: %s: no fault log (%s): its message faults are decided by the seed, not as they were\n", dir, scenarios.FaultsFile)
	}
	fmt.Fprintf(stdout, "%s (%s) seed %d, replayed: ", o.Scenario.Name, o.Mode, o.Seed)
	if o.Err != nil {
		fmt.Fprintf(stdout, "error: %v\n", o.Err)
	} else {
		fmt.Fprintf(stdout, "%v\n%s", o.Check, o.Check.Details())
	}
	printSaved(stdout, dir, ri)
	if o.Err != nil {
		return exitError
	}
	switch o.Verdict() {
	case linearizability.Illegal:
		return exitInvalid
	case linearizability.Unknown:
		return exitUnknown
	}
	return exitOK
}

// printSaved prints the verdict the folder saved: a run that could not
// be done says its error first (with what its kept history, if any,
// checks to now), a run with a history the history checked again.
func printSaved(stdout io.Writer, dir string, ri scenarios.RunInfo) {
	saved, err := savedVerdict(dir)
	switch {
	case ri.Error != "" && err == nil:
		fmt.Fprintf(stdout, "saved: error: %s (the history it kept, checked again: %s)\n", ri.Error, saved)
	case ri.Error != "":
		fmt.Fprintf(stdout, "saved: error: %s\n", ri.Error)
	case err == nil:
		fmt.Fprintf(stdout, "saved: %s\n", saved)
	case ri.Verdict != "":
		fmt.Fprintf(stdout, "saved: %s (run.json; no history to check again)\n", ri.Verdict)
	}
}

// savedVerdict checks the folder's saved history again.
func savedVerdict(dir string) (string, error) {
	f, err := os.Open(filepath.Join(dir, spec.HistoryFile))
	if err != nil {
		return "", err
	}
	defer f.Close()
	h, err := history.Read(f, filepath.Join(dir, spec.HistoryFile))
	if err != nil {
		return "", err
	}
	return linearizability.Check(h, linearizability.Options{Timeout: scenarios.DefaultCheckTimeout}).String(), nil
}
