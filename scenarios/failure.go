package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/shmlab/shmlab/linearizability"
)

// The files of a failure folder.
const (
	ScenarioFile = "scenario.yaml"
	HistoryFile  = "history.jsonl"
	ReportFile   = "report.html"
	ReproFile    = "repro"
)

// FolderName is the name of o's failure folder: scenario, mode and seed.
func FolderName(o *Outcome) string {
	return o.Scenario.Name + "-" + string(o.Mode) + "-" + strconv.FormatUint(o.Seed, 10)
}

// WriteFailure writes the failing outcome o into the folder dir (made if
// needed): the scenario file as it was read, the history, the HTML report
// with the faults on their own tracks and the violations marked, and the
// command that runs it again, which it also returns. A run that failed
// before it recorded anything gets the scenario and the repro line only.
func WriteFailure(dir string, o *Outcome) (repro string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	scenario := filepath.Join(dir, ScenarioFile)
	if err := os.WriteFile(scenario, o.Scenario.Source, 0o644); err != nil {
		return "", err
	}
	if o.History != nil {
		if err := o.History.WriteFile(filepath.Join(dir, HistoryFile)); err != nil {
			return "", err
		}
		opts := linearizability.ReportOptions{Result: o.Check}
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
