package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shmlab/shmlab/linearizability"
)

// The files a failure folder holds.
const (
	ScenarioFile = "scenario.json"
	HistoryFile  = "history.jsonl"
	ReportFile   = "report.html"
	ReproFile    = "repro"
)

// WriteFailure writes a failing run to the folder dir (made if needed):
// its config as a scenario file the CLI runs again (`shmlab sim
// dir/scenario.json`), its history, an HTML report with its faults on
// their own tracks, and the one-line command that reproduces it, which it
// also returns. A Replay is not written: make the run Explicit first to
// keep its decisions.
func WriteFailure(dir string, cfg Config, r *Result) (repro string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	scenario := filepath.Join(dir, ScenarioFile)
	if err := SaveConfig(scenario, cfg); err != nil {
		return "", err
	}
	if err := r.History.WriteFile(filepath.Join(dir, HistoryFile)); err != nil {
		return "", err
	}
	opts := linearizability.ReportOptions{Result: r.Check}
	if err := linearizability.WriteReportFile(filepath.Join(dir, ReportFile), r.History, opts); err != nil {
		return "", err
	}
	repro = Repro(scenario)
	return repro, os.WriteFile(filepath.Join(dir, ReproFile), []byte(repro+"\n"), 0o644)
}

// Repro is the command that runs the scenario file at path again.
func Repro(path string) string { return "shmlab sim " + path }

// SaveConfig writes cfg as an indented JSON scenario file.
func SaveConfig(path string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadConfig reads a JSON scenario file strictly: an unknown field or a
// config that is not valid is an error naming the file.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return cfg, fmt.Errorf("%s: more after the scenario's closing brace", path)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
