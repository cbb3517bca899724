// Package spec is what a run of shmlab is made of, apart from where it
// runs: the run spec (Run) that the simulator's sim.Config and the
// harness's harness.Config both embed, the system under test (Target),
// and the scenario file format that names them: YAML files that name a
// workload, its faults, the implementation variant, the target, the
// seeds and the verdict expected, decoded strictly (an unknown field, a
// duplicate key, a wrong type or a value out of range is an error that
// names file:line:col and shows the line: Parse), and written through
// goccy/go-yaml (Marshal). A scenario runs on real processes (package
// harness) or in the simulator (package sim), the same workload from
// (scenario, seed, worker) either way; package scenarios runs them and
// holds the bundled suite.
//
// It imports the packages that define a run's parts (workload, shm,
// faultinject, linearizability) and none of those that run one: sim,
// harness and scenarios import it.
package spec

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// Run is one run's spec, the same in the simulator and on real
// processes: its workload, its faults, the variant under test and its
// target. sim.Config and harness.Config embed it, so that its fields are
// theirs (cfg.Workers). The zero value (with a seed) is one worker making
// 100 operations on keys a, b and c against the reference, with no
// faults; each runner fills in its defaults.
//
// Its JSON is the simulator's config's (shmlab sim's fingerprints hash
// it): the names and omissions below are fixed.
type Run struct {
	// Scenario names the run in its history.
	Scenario string `json:"scenario,omitempty"`
	// Seed draws the workload (and, in the simulator, the schedule); the
	// faults too, unless the plan has a seed of its own.
	Seed uint64 `json:"seed"`
	// Workers is how many workers run at once (1 if 0).
	Workers int `json:"workers,omitempty"`
	// Ops is how many operations each worker incarnation makes (100 in
	// the simulator if 0 and no Duration); a restarted worker makes Ops
	// more, under the same name.
	Ops int `json:"ops,omitempty"`
	// Duration, if set, makes each worker stop making operations once it
	// has passed since the workload began (on the virtual clock in the
	// simulator); Ops then caps them (DurationOps if 0).
	Duration time.Duration `json:"duration,omitempty"`
	// Keys are the keys the operations use (a, b and c if empty): few
	// keys make operations meet.
	Keys []string `json:"keys,omitempty"`
	// Mix weighs the methods (workload.DefaultMix if zero).
	Mix workload.Mix `json:"mix,omitzero"`
	// Shape is the rest of the workload's look: a hot key, value sizes,
	// a TTL on writes.
	Shape workload.Shape `json:"shape,omitzero"`
	// Store limits the master's store; its Bugs are the store's (and the
	// master's) bugs.
	Store shm.StoreOptions `json:"store,omitzero"`
	// Bugs are the variant's bugs, for testing the testers. The
	// simulator takes all of them here (a store bug is passed to the
	// store as well); the harness takes the client's here
	// (shm.ClientBugs) and the store's in Store.Bugs.
	Bugs shm.Bugs `json:"bugs,omitempty"`
	// Plan holds the faults: message and process faults (and, on real
	// processes, byte faults). Their decisions are seeded by Plan.Seed, or
	// by Seed if that is 0.
	Plan *faultinject.Plan `json:"plan,omitempty"`
	// Replay, if set, decides the message faults instead of the plan's
	// seed: the records of an earlier run.
	Replay []faultinject.Record `json:"-"`
	// CallTimeout bounds each call (200ms if 0); a call that times out
	// is recorded unknown.
	CallTimeout time.Duration `json:"call_timeout,omitempty"`
	// RetryAfter, if positive, resends an unanswered request with the
	// same id after that long (never if 0).
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Think is the longest pause between a worker's operations (0: none).
	Think time.Duration `json:"think,omitempty"`
	// Target is the system under test: the reference (the zero value)
	// or a Node library by its adapter.
	Target Target `json:"target,omitzero"`
	// Codec is the wire codec of the workers' connections: CodecJSON,
	// CodecCompact, CodecMixed (each worker's drawn from the seed:
	// WorkerCodec), or "" (the simulator mixes; real processes keep
	// their negotiation: Go workers compact, Node workers JSON lines).
	Codec string `json:"codec,omitempty"`
	// MaxFrame is the master's frame limit (shm.DefaultMaxFrame if 0), on
	// real processes (Scenario.MaxFrame); the simulator has no master.
	MaxFrame int `json:"max_frame,omitempty"`
}

// The codecs a run's connections may speak (Run.Codec).
const (
	CodecJSON    = "json"    // JSON lines
	CodecCompact = "compact" // the compact binary framing (Go workers only)
	CodecMixed   = "mixed"   // each worker's drawn from the seed
)

// ErrCodec is the error of a codec a run cannot have.
var ErrCodec = errors.New("bad codec")

// CheckCodec reports whether codec is one a run of target can have: "",
// json, compact or mixed; a Node target's workers speak JSON lines only,
// so compact and mixed are refused for it.
func CheckCodec(codec string, target Target) error {
	switch codec {
	case "", CodecJSON:
		return nil
	case CodecCompact, CodecMixed:
		if !target.IsReference() {
			return fmt.Errorf("%w: codec %q: target %v speaks JSON lines only (want json, or none)", ErrCodec, codec, target)
		}
		return nil
	}
	return fmt.Errorf("%w: codec %q: want json, compact or mixed", ErrCodec, codec)
}

// WorkerCodec returns the codec worker i (from 0) speaks, CodecJSON or
// CodecCompact: Codec's, or for mixed drawn from the seed and i alone (no
// other draw of the run changes it, nor does it change one). mixDefault
// says what "" means: mixed (the simulator) or compact (a Go worker on
// real processes, which the master offers it).
func (r *Run) WorkerCodec(i int, mixDefault bool) string {
	switch {
	case r.Codec == CodecJSON || r.Codec == CodecCompact:
		return r.Codec
	case r.Codec == "" && !mixDefault:
		return CodecCompact
	}
	if splitmix(r.Seed^0xc0dec5eed^uint64(i)*0x9e3779b97f4a7c15)&1 == 0 {
		return CodecJSON
	}
	return CodecCompact
}

// splitmix is SplitMix64's finaliser: a bijection that mixes every bit.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// PlannedFaults returns how many faults r injects, for the history's
// header (history.Header.Faults): its plan's message, process and byte
// faults; with none, the records of a replay (a replay decides the
// plan's faults, so it adds none of its own to a plan). Zero means the
// run is fault-free, and the checker then holds every unknown outcome
// against the system.
func (r *Run) PlannedFaults() int {
	n := 0
	if p := r.Plan; p != nil {
		n = len(p.Messages) + len(p.Processes) + len(p.Bytes)
	}
	if n == 0 {
		n = len(r.Replay)
	}
	return n
}

// DurationOps caps each worker's operations in a run with a Duration and
// no Ops.
const DurationOps = 100_000

// MaxRunWorkers and MaxRunOps bound a run: its workers, and its
// operations in all (for each incarnation of each worker); MaxWait
// bounds each of its waits (a think time, a timeout, a latency), so that
// the simulator's virtual clock stays far from the end of int64. A
// scenario file's own limits (MaxWorkers, MaxOps, ...) are within them.
const (
	MaxRunWorkers = 1024
	MaxRunOps     = 50_000_000
	MaxWait       = time.Hour
)

// DedupWindow returns how many request ids the run's store remembers per
// sender at least (history.Header.DedupWindow): the reference's
// StoreOptions.DedupWindow, or its default, which the store rounds up;
// 0, not known, for a target other than the reference.
func (r *Run) DedupWindow() int {
	switch {
	case !r.Target.IsReference():
		return 0
	case r.Store.DedupWindow > 0:
		return r.Store.DedupWindow
	}
	return shm.DefaultDedupWindow
}

// StoreLimits returns the limits the run's store holds to, for the
// header of its history of ops (history.Header.Store), with the clock
// tolerance given: the reference store's limits, its size rule and its
// sweep. It returns nil when the store has no limit and no operation a
// TTL (the per-key check is exact there), and for a target other than
// the reference, whose limits are not known.
func (r *Run) StoreLimits(ops []history.Op, tolerance time.Duration) *history.StoreLimits {
	if !r.Target.IsReference() {
		return nil
	}
	l := &history.StoreLimits{MaxEntries: r.Store.MaxEntries, MaxBytes: r.Store.MaxBytes, EntryOverhead: shm.EntryOverhead,
		Sweep: shm.ExpireSweep, ClockTolerance: int64(tolerance), ResendAfter: int64(r.RetryAfter)}
	if l.Bounded() || slices.ContainsFunc(ops, func(op history.Op) bool { return op.Input.TTL > 0 }) {
		return l
	}
	return nil
}

// CallLimits returns how long the run's calls may last, for the header
// of its history (history.Header.Calls): its call timeout (200ms if 0),
// with the slack given for a return recorded late. It returns nil for a
// target other than the reference, whose clients' timeouts are their
// own.
func (r *Run) CallLimits(slack time.Duration) *history.CallLimits {
	if !r.Target.IsReference() {
		return nil
	}
	t := r.CallTimeout
	if t <= 0 {
		t = 200 * time.Millisecond
	}
	return &history.CallLimits{Timeout: int64(t), Slack: int64(slack)}
}
