package spec

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/shquote"
	"github.com/shmlab/shmlab/linearizability"
)

// The files every failure folder holds (the simulator's and shmlab
// run's; a run folder of shmlab run holds more: package scenarios).
const (
	ScenarioFile = "scenario.yaml"
	HistoryFile  = "history.jsonl"
	ReportFile   = "report.html"
	ReproFile    = "repro"
)

// Repro is the command that runs seed of the scenario file at path again
// in mode, with the flags args (--store, --timeout) before the path, its
// words shell-quoted (safe to paste).
func Repro(mode Mode, seed uint64, path string, args ...string) string {
	words := append([]string{"shmlab", "run", "--mode", string(mode), "--seed", strconv.FormatUint(seed, 10)}, args...)
	return shquote.Join(append(words, path)...)
}

// Failure is a run to keep in a folder: the scenario file that runs it
// again, what it recorded and what the check said of it.
type Failure struct {
	// Scenario is the scenario file's text.
	Scenario []byte
	// Mode and Seed are the run's; ReproArgs are flags its repro line
	// gives before the scenario's path.
	Mode      Mode
	Seed      uint64
	ReproArgs []string
	// History is what the run recorded (nil: nothing, and no report is
	// written); Check is the checkers' verdict of it (nil: not checked).
	History *history.History
	Check   *linearizability.Result
	// CheckTimeout is the check's bound the report states (0: none).
	CheckTimeout time.Duration
	// Target is the scenario's: a Node target's adapter is copied into
	// the folder, where the folder's scenario file names it.
	Target Target
}

// WriteFailure writes f into the folder dir, which must exist: the
// scenario file (ScenarioFile), the history (HistoryFile), an HTML
// report with the faults on their own tracks, the violations marked and
// the repro line in its header (ReportFile), and the repro line
// (ReproFile), which it returns. A file of the same name is replaced.
func WriteFailure(dir string, f *Failure) (repro string, err error) {
	scenario := filepath.Join(dir, ScenarioFile)
	if err := writeFile(scenario, bytesTo(f.Scenario)); err != nil {
		return "", err
	}
	repro = Repro(f.Mode, f.Seed, scenario, f.ReproArgs...)
	if f.History != nil {
		if err := writeFile(filepath.Join(dir, HistoryFile), f.History.Write); err != nil {
			return "", err
		}
		opts := linearizability.ReportOptions{Result: f.Check, Timeout: f.CheckTimeout, Repro: repro}
		report := func(w io.Writer) error { return linearizability.WriteReport(w, f.History, opts) }
		if err := writeFile(filepath.Join(dir, ReportFile), report); err != nil {
			return "", err
		}
	}
	if err := copyAdapter(dir, &f.Target); err != nil {
		return "", err
	}
	return repro, writeFile(filepath.Join(dir, ReproFile), bytesTo([]byte(repro+"\n")))
}

// writeFile writes the file at path with write, replacing it.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// bytesTo is a write function that writes b.
func bytesTo(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}

// copyAdapter copies a Node target's adapter into dir at its path
// relative to the scenario file, if that path lies within dir (an
// adapter named as ../lib.js is left where it is: the folder's scenario
// file finds it only from where it was).
func copyAdapter(dir string, t *Target) error {
	rel := filepath.FromSlash(t.Node.Adapter)
	if t.Kind != Node || !filepath.IsLocal(rel) {
		return nil
	}
	src, err := t.Node.ReadAdapter()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFile(path, bytesTo(src))
}
