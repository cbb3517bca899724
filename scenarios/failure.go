package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/sim"
)

// The files of a failure folder: the simulator's (whose failure folders
// are the same, less the run and the faults), and two more.
const (
	ScenarioFile = sim.ScenarioFile
	HistoryFile  = sim.HistoryFile
	ReportFile   = sim.ReportFile
	ReproFile    = sim.ReproFile
	RunFile      = "run.json"     // the mode, the seed, the faults planned and happened
	FaultsFile   = "faults.jsonl" // the fault decisions, for shmlab replay
	LogFile      = "log.txt"      // the masters' and workers' log lines, if any
)

// runInfo is what a folder's run.json says.
type runInfo struct {
	Mode Mode   `json:"mode"`
	Seed uint64 `json:"seed"`
	// The process faults planned, and how many happened.
	FaultsPlanned  int `json:"faults_planned"`
	FaultsHappened int `json:"faults_happened"`
}

// FolderName is the name of o's failure folder: scenario, mode and seed,
// with anything but letters, digits, '-', '_' and '.' in the name made '_'
// (a name cannot lead the folder elsewhere).
func FolderName(o *Outcome) string {
	name := []rune(o.Scenario.Name)
	for i, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			name[i] = '_'
		}
	}
	s := strings.TrimLeft(string(name), ".")
	if s == "" {
		s = "scenario"
	}
	return s + "-" + string(o.Mode) + "-" + strconv.FormatUint(o.Seed, 10)
}

// WriteFailure writes the failing outcome o into the folder dir (made if
// needed): the scenario file as it was read, the history, the HTML report
// with the faults on their own tracks and the violations marked, and the
// command that runs it again, which it also returns. A run that failed
// before it recorded anything gets the scenario and the repro line only.
func WriteFailure(dir string, o *Outcome) (repro string, err error) {
	if err := os.RemoveAll(dir); err != nil { // nothing stale of an earlier run stays
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	scenario := filepath.Join(dir, ScenarioFile)
	if err := os.WriteFile(scenario, o.Scenario.Source, 0o644); err != nil {
		return "", err
	}
	if err := writeRun(dir, o); err != nil {
		return "", err
	}
	if len(o.Logs) > 0 {
		if err := os.WriteFile(filepath.Join(dir, LogFile), []byte(strings.Join(o.Logs, "\n")+"\n"), 0o644); err != nil {
			return "", err
		}
	}
	if o.History != nil {
		if err := o.History.WriteFile(filepath.Join(dir, HistoryFile)); err != nil {
			return "", err
		}
		opts := linearizability.ReportOptions{Result: o.Check, Timeout: DefaultCheckTimeout}
		if err := linearizability.WriteReportFile(filepath.Join(dir, ReportFile), o.History, opts); err != nil {
			return "", err
		}
	}
	repro = Repro(o, scenario)
	return repro, os.WriteFile(filepath.Join(dir, ReproFile), []byte(repro+"\n"), 0o644)
}

// Repro is the command that runs o's seed and mode of the scenario file at
// path again.
func Repro(o *Outcome, path string) string {
	return fmt.Sprintf("shmlab run --mode %s --seed %d %s", o.Mode, o.Seed, path)
}

// writeRun writes the folder's run.json and faults.jsonl.
func writeRun(dir string, o *Outcome) error {
	b, err := json.Marshal(runInfo{Mode: o.Mode, Seed: o.Seed, FaultsPlanned: o.FaultsPlanned, FaultsHappened: o.FaultsHappened})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, RunFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, FaultsFile))
	if err != nil {
		return err
	}
	if err := faultinject.WriteLog(f, o.Records); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Replay runs the failure saved in the folder dir again: its scenario, in
// its mode with its seed, the message faults decided by its fault log
// (byte and process faults come from the scenario's plan, as the seed
// makes them). Real processes' timing differs from run to run; the log
// makes the same messages meet the same faults. A folder without a
// run.json is an error: one of the simulator's gives its repro line.
func Replay(ctx context.Context, dir string) (*Outcome, error) {
	ri, err := readRun(dir)
	if err != nil {
		return nil, err
	}
	sc, err := Load(filepath.Join(dir, ScenarioFile))
	if err != nil {
		return nil, err
	}
	records, err := readFaults(filepath.Join(dir, FaultsFile))
	if err != nil {
		return nil, err
	}
	return sc.run(ctx, ri.Mode, ri.Seed, records), nil
}

// readRun reads the folder's run.json. A folder without one is not
// shmlab run's: a simulator's failure (shmlab sim, shmlab zoo) is run
// again by its repro line, which the error gives.
func readRun(dir string) (runInfo, error) {
	var ri runInfo
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
	repro, err := os.ReadFile(filepath.Join(dir, ReproFile))
	if err != nil {
		return fmt.Errorf("%s is not a failure folder of shmlab run: it has no %s", dir, RunFile)
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
