package spec

import (
	"fmt"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/workload"
)

// Scenario is one scenario file.
type Scenario struct {
	// Name names it in tables and reports (the file's name if empty).
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Mode says where it runs: process, sim or both (both if empty).
	Mode Mode `yaml:"mode"`
	// Target is the system under test: the reference (if absent, or
	// "reference"), or a Node library by its adapter, whose path the
	// file gives relative to its own folder and Parse resolves
	// (NodeTarget.Path). The simulator runs the reference only.
	Target Target `yaml:"target"`
	// Workers is how many workers run at once (2 if 0; at most
	// MaxWorkers, or MaxSimWorkers in mode sim, which does not run on
	// processes beyond MaxWorkers).
	Workers int `yaml:"workers"`
	// Ops is how many operations each worker makes (100 if 0 and there
	// is no Duration).
	Ops int `yaml:"ops"`
	// Duration, if set, makes each worker stop once it has passed (real
	// time on processes, virtual time in the simulator); Ops, if set,
	// caps the operations.
	Duration time.Duration `yaml:"duration"`
	// Keys are the keys and how they are drawn.
	Keys Keys `yaml:"keys"`
	// Mix weighs the methods (get 4, set 3, add 2, cas 1, delete 1 if
	// empty).
	Mix workload.Mix `yaml:"mix"`
	// Values sizes the values written (plain integers if empty).
	Values Values `yaml:"values"`
	// Store limits the master's store.
	Store Store `yaml:"store"`
	// Variant is the implementation: reference (if empty, "reference" or
	// "none"), or one of the bug zoo's broken variants by name (several
	// joined by "+", each once: shm.ParseBugs).
	Variant string `yaml:"variant"`
	// Timeout bounds each call (200ms if 0); Retry resends an unanswered
	// request after that long (never if 0); Think is the longest pause
	// between a worker's operations.
	Timeout time.Duration `yaml:"timeout"`
	Retry   time.Duration `yaml:"retry"`
	Think   time.Duration `yaml:"think"`
	// Latency is the simulator's one-way latency of a message (20µs if
	// 0, at most MaxLatency): each message draws from Latency to twice
	// Latency. Real processes have their own.
	Latency time.Duration `yaml:"latency"`
	// Grid puts a simulated run on a grid of that step (sim.Config.Grid):
	// messages take no time, think times are whole steps (from 1 to
	// Think), and each operation happens at one instant of the grid.
	// Simulator only.
	Grid time.Duration `yaml:"grid"`
	// Pipeline is how many calls each simulated worker keeps in flight
	// (sim.Config.Pipeline; 1 if 0, at most MaxPipeline): each of its
	// lanes makes ops operations, one at a time, recorded as "w1.0",
	// "w1.1", …. Simulator only; not with a script.
	Pipeline int `yaml:"pipeline"`
	// Codec is the wire codec of the workers' connections (Run.Codec):
	// json (JSON lines), compact, or mixed (each worker's drawn from the
	// seed); if empty, the simulator mixes and real processes keep their
	// negotiation (Go workers compact, Node workers JSON lines). A Node
	// target speaks JSON lines only: compact and mixed are refused.
	Codec string `yaml:"codec"`
	// MaxFrame is the master's frame limit in bytes (shm.DefaultMaxFrame
	// if 0; from MinMaxFrame to shm.DefaultMaxFrame): it stores values of
	// at most MaxFrame − 67 bytes (shm.MaxValueBytes), so that each reads
	// back. The workers keep the default limit on their own requests, so
	// the master's alone decides. Real processes only, with the reference
	// master: the simulator has no master.
	MaxFrame int `yaml:"max_frame"`
	// Script, if set, is the workload written out instead of drawn: each
	// worker's operations (the workers are its workers). It runs in the
	// simulator only; a failure the simulator shrinks is written as one.
	Script Script `yaml:"script"`
	// Faults are the message, byte and process faults. Their decisions
	// are seeded by each run's seed (unless the plan has a seed of its
	// own, which fixes them across seeds).
	Faults faultinject.Plan `yaml:"faults"`
	// Seeds are the seeds to run: a count (seeds 1 to n) or a list.
	Seeds Seeds `yaml:"seeds"`
	// Expect is the verdict expected: pass (every seed linearizable), or
	// violation (some seed not: a broken variant must be caught). The
	// file may name the check that must find it, as
	// {violation: CHECK}: Expect is then violation, and ExpectCheck
	// the check.
	Expect Expect `yaml:"expect"`
	// ExpectCheck, if set (with Expect violation), is the check whose
	// violation is expected, one of linearizability.CheckNames: a seed
	// counts as caught only if that check found a violation in it, so
	// that a weakened check is not hidden by another that also fails.
	ExpectCheck string `yaml:"-"`

	// File is where it was read from ("bundled/NAME.yaml" for the
	// bundled suite).
	File string `yaml:"-"`
	// Source is the file's text.
	Source []byte `yaml:"-"`
}

// Mode is where a scenario runs.
type Mode string

// The modes.
const (
	Process Mode = "process"
	Sim     Mode = "sim"
	Both    Mode = "both"
)

// Modes returns the modes m stands for, in the order they run.
func (m Mode) Modes() []Mode {
	switch m {
	case Process:
		return []Mode{Process}
	case Sim:
		return []Mode{Sim}
	}
	return []Mode{Sim, Process}
}

// Keys are a scenario's keys.
type Keys struct {
	// Count is how many keys there are, named k0, k1, … (3 if 0 and
	// Names is empty).
	Count int `yaml:"count"`
	// Names names the keys instead.
	Names []string `yaml:"names"`
	// Distribution is uniform (if empty) or hot: then Hot of the
	// operations go to the first key.
	Distribution string  `yaml:"distribution"`
	Hot          float64 `yaml:"hot"`
}

// Values sizes the values written, in bytes: each is drawn from Min to
// Max (a JSON string that begins with its writer's unique number).
// Falsy, if set, is the share of writes that write 0, "" or false
// instead (workload.Shape.Falsy). Edges, if set, is the share of
// operations whose values, arguments or keys are drawn from the edges
// (workload.Shape.Edges).
type Values struct {
	Min   int     `yaml:"min"`
	Max   int     `yaml:"max"`
	Falsy float64 `yaml:"falsy"`
	Edges float64 `yaml:"edges"`
}

// Store limits the master's store: at most Entries entries and Bytes
// bytes (least recently used go first); TTL, if set, is given to every
// drawn write, or with TTLShare to that share of them (the others have
// none: workload.Shape.TTLShare). DedupWindow is how many replies the store remembers per
// worker incarnation for the clients that send no ack
// (shm.DefaultDedupWindow if 0, at most MaxDedupWindow).
type Store struct {
	Entries     int           `yaml:"entries"`
	Bytes       int64         `yaml:"bytes"`
	TTL         time.Duration `yaml:"ttl"`
	TTLShare    float64       `yaml:"ttl_share"`
	DedupWindow int           `yaml:"dedup_window"`
}

// Seeds are the seeds a scenario runs: Count seeds from 1, or List.
type Seeds struct {
	Count int
	List  []uint64
	given bool // the file names its seeds
}

// Expect is the verdict a scenario expects.
type Expect string

// UnmarshalYAML reads an expectation: a word (pass, violation), or
// {violation: CHECK}, which is violation (the parser keeps the check in
// Scenario.ExpectCheck).
func (e *Expect) UnmarshalYAML(node ast.Node) error {
	if _, ok := expectedCheck(node); ok {
		*e = ExpectViolation
		return nil
	}
	if n, ok := node.(*ast.StringNode); ok {
		*e = Expect(n.Value)
		return nil
	}
	return fmt.Errorf("expect: want pass, violation or {violation: CHECK}, not %s", node.String())
}

// expectedCheck returns the check named by an expectation written as
// {violation: CHECK}; ok is false for any other node.
func expectedCheck(node ast.Node) (check string, ok bool) {
	kvs := mappingValues(node)
	if len(kvs) != 1 || kvs[0].Key.String() != string(ExpectViolation) {
		return "", false
	}
	n, isStr := kvs[0].Value.(*ast.StringNode)
	if !isStr {
		return "", false
	}
	return n.Value, true
}

// The expectations.
const (
	ExpectPass      Expect = "pass"
	ExpectViolation Expect = "violation"
)
