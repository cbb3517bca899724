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
