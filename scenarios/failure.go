package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/spec"
)

// The files a run folder holds beside a failure folder's
// (spec.ScenarioFile, spec.HistoryFile, spec.ReportFile, spec.ReproFile).
const (
	RunFile    = "run.json"     // the run: RunInfo
	FaultsFile = "faults.jsonl" // the fault decisions, for shmlab replay
	LogFile    = "log.txt"      // the masters' and workers' log lines, if any
)

// FolderName is the name of o's run folder as a RunStore names it:
// scenario, mode and seed, the scenario's name made safe (safeName).
func FolderName(o *Outcome) string {
	return safeName(o.Scenario.Name) + "-" + string(o.Mode) + "-" + strconv.FormatUint(o.Seed, 10)
}

// safeName is name with anything but letters, digits, '-', '_' and '.'
// made '_', no leading dot, and not LatestLink: a name that cannot lead a
// folder elsewhere, nor take the place of the store's link.
func safeName(name string) string {
	rs := []rune(name)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			rs[i] = '_'
		}
	}
	s := strings.TrimLeft(string(rs), ".")
	switch s {
	case "":
		return "scenario"
	case LatestLink:
		return s + "_"
	}
	return s
}

// writeFolder writes o into the new folder dir: run.json, the fault log
// and the log lines, each created there exclusively, then what every
// failure folder holds (spec.WriteFailure: the scenario file as it was
// read, the history, the HTML report with the faults on their own tracks
// and the violations marked, and the repro line, which it sets in
// o.Repro). A run that failed before it recorded anything gets no
// history and no report.
func writeFolder(dir string, o *Outcome, ri RunInfo, reproArgs ...string) error {
	b, err := json.MarshalIndent(ri, "", "  ")
	if err != nil {
		return err
	}
	if err := createNew(filepath.Join(dir, RunFile), bytesTo(append(b, '\n'))); err != nil {
		return err
	}
	if err := createNew(filepath.Join(dir, FaultsFile), func(w io.Writer) error { return faultinject.WriteLog(w, o.Records) }); err != nil {
		return err
	}
	if len(o.Logs) > 0 {
		if err := createNew(filepath.Join(dir, LogFile), bytesTo([]byte(strings.Join(o.Logs, "\n")+"\n"))); err != nil {
			return err
		}
	}
	o.Repro, err = spec.WriteFailure(dir, &spec.Failure{Scenario: o.Scenario.Source, Mode: o.Mode, Seed: o.Seed, ReproArgs: reproArgs,
		History: o.History, Check: o.Check, CheckTimeout: DefaultCheckTimeout, Target: o.Scenario.Target})
	return err
}

// Replay runs the run saved in the folder dir again: its scenario, in
// its mode with its seed, the message faults decided by its fault log
// (byte and process faults come from the scenario's plan, as the seed
// makes them). Real processes' timing differs from run to run; the log
// makes the same messages meet the same faults. A folder with no fault
// log replays with its faults decided by the seed (NoFaultLog says so).
// A folder without a run.json is an error: one of the simulator's gives
// its repro line.
func Replay(ctx context.Context, dir string) (*Outcome, error) {
	ri, err := readRun(dir)
	if err != nil {
		return nil, err
	}
	sc, err := spec.Load(filepath.Join(dir, spec.ScenarioFile))
	if err != nil {
		return nil, err
	}
	records, err := readFaults(filepath.Join(dir, FaultsFile))
	if err != nil {
		return nil, err
	}
	return run(ctx, sc, ri.Mode, ri.Seed, records), nil
}

// ReadRun reads the run.json of the run folder dir.
func ReadRun(dir string) (RunInfo, error) { return readRun(dir) }

// NoFaultLog reports whether the run folder dir has no fault log: Replay
// then decides its message faults by the seed, not as they were.
func NoFaultLog(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, FaultsFile))
	return errors.Is(err, fs.ErrNotExist)
}

// readRun reads the folder's run.json. A folder without one is not
// shmlab run's: a simulator's failure (shmlab sim, shmlab zoo) is run
// again by its repro line, which the error gives.
func readRun(dir string) (RunInfo, error) {
	var ri RunInfo
	path := filepath.Join(dir, RunFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ri, notRunFolder(dir)
	}
	if err != nil {
		return ri, err
	}
	if err := json.Unmarshal(b, &ri); err != nil {
		return ri, fmt.Errorf("%s: %w", path, err)
	}
	if ri.Mode != Process && ri.Mode != Sim {
		return ri, fmt.Errorf("%s: mode %q is not process or sim", path, ri.Mode)
	}
	return ri, nil
}

// notRunFolder says what the folder dir, which has no run.json, is.
func notRunFolder(dir string) error {
	repro, err := os.ReadFile(filepath.Join(dir, spec.ReproFile))
	if err != nil {
		if _, serr := os.Stat(dir); serr != nil {
			return fmt.Errorf("%s: no such run folder: %w", dir, serr)
		}
		return fmt.Errorf("%s is not a run folder of shmlab run: it has no %s", dir, RunFile)
	}
	return fmt.Errorf("%s is a failure of the simulator (shmlab sim or shmlab zoo wrote it, with no %s and no fault log to replay; the simulator repeats it from its seed): run it again with its repro line:\n  %s",
		dir, RunFile, strings.TrimSpace(string(repro)))
}

// readFaults reads a fault log; a folder without one replays by seed.
func readFaults(path string) ([]faultinject.Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	records, err := faultinject.ReadLog(f, path)
	if err != nil || len(records) == 0 {
		return nil, err
	}
	return records, nil
}
