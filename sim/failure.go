package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/spec"
)

// WriteFailure writes a failing run to the folder dir (made if needed)
// as spec.WriteFailure does: its config as a scenario file that runs it
// again bit for bit (MarshalScenario), its history, an HTML report with
// its faults on their own tracks, and the one-line command that
// reproduces it, which it also returns. A Replay is not written: make
// the run Explicit first to keep its decisions. The process faults of r
// that did not happen are left out: they changed nothing, and a scenario
// whose fault does not happen is an error.
func WriteFailure(dir string, cfg Config, r *Result) (repro string, err error) {
	repro = spec.Repro(spec.Sim, cfg.Seed, filepath.Join(dir, spec.ScenarioFile))
	text, err := FailureScenario(cfg, r, repro)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return spec.WriteFailure(dir, &spec.Failure{Scenario: text, Mode: spec.Sim, Seed: cfg.Seed,
		History: r.History, Check: r.Check})
}

// FailureScenario returns the scenario file WriteFailure writes for r, a
// failing run of cfg: under a comment that says what the check found and
// gives repro, the line that runs it again, the file that makes the same
// run, without the process faults that did not happen.
func FailureScenario(cfg Config, r *Result, repro string) ([]byte, error) {
	text, err := MarshalScenario(r.onlyHappened(cfg))
	if err != nil {
		return nil, err
	}
	return append(header(repro, r), text...), nil
}

// onlyHappened returns cfg without the process faults that did not
// happen in r, if r is a run of cfg's plan.
func (r *Result) onlyHappened(cfg Config) Config {
	if cfg.Plan == nil || len(r.Missed) == 0 || r.Config.Plan == nil ||
		!slices.Equal(cfg.Plan.Processes, r.Config.Plan.Processes) || len(r.happened) != len(cfg.Plan.Processes) {
		return cfg
	}
	p := *cfg.Plan
	p.Processes = nil
	for i, f := range cfg.Plan.Processes {
		if r.happened[i] {
			p.Processes = append(p.Processes, f)
		}
	}
	cfg.Plan = &p
	return cfg
}

// header is the comment a failure's scenario file starts with: what the
// check said, and the line that runs it again.
func header(repro string, r *Result) []byte {
	said := "(not checked)"
	if r.Check != nil {
		said = r.Check.String()
	}
	said = strings.ReplaceAll(said, "\n", "\n#   ")
	repro = strings.ReplaceAll(repro, "\n", "\n#   ") // a path may hold one
	return fmt.Appendf(nil, "# A run of the simulator that the check rejects:\n#   %s\n# Run it again with\n#   %s\n", said, repro)
}

// SaveConfig writes cfg as indented JSON, the scenario file of older
// failure folders (scenario.json), which `shmlab sim` still runs.
func SaveConfig(path string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadConfig reads a JSON scenario file (SaveConfig's) strictly: an unknown field or a
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
