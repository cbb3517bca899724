// Package scenarios runs scenario files (the format is package spec's):
// one seed of a scenario on real processes (package harness) or in the
// simulator (package sim), the same workload from (scenario, seed,
// worker) either way; suites with their expectations; the run store;
// shards, replay, JSON rows and JUnit. The bundled suite is embedded in
// the binary and kept as files in bundled/.
package scenarios

import "github.com/shmlab/shmlab/spec"

// The scenario file format is package spec's; these names are its, kept
// here for the many callers that run scenarios.
type (
	// Scenario is one scenario file (spec.Scenario).
	Scenario = spec.Scenario
	// Mode is where a scenario runs (spec.Mode).
	Mode = spec.Mode
)

// The modes and the expectations (spec's).
const (
	Process         = spec.Process
	Sim             = spec.Sim
	Both            = spec.Both
	ExpectPass      = spec.ExpectPass
	ExpectViolation = spec.ExpectViolation
)
