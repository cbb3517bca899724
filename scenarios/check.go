package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
)

// Limits of a scenario, to keep a typo from asking for a week-long run.
const (
	MaxWorkers = 64
	MaxOps     = 1_000_000
	MaxKeys    = 100_000
	MaxSeeds   = 100_000
	// MaxTotalOps bounds workers × ops, as the simulator does.
	MaxTotalOps = 50_000_000
)

// check returns the values out of range, at their YAML paths.
func (sc *Scenario) check() []problem {
	var ps []problem
	add := func(path, format string, args ...any) {
		ps = append(ps, problem{path: path, msg: fmt.Sprintf(format, args...)})
	}
	switch sc.Mode {
	case "", Process, Sim, Both:
	default:
		add("$.mode", "mode %q: want process, sim or both", sc.Mode)
	}
	if sc.Workers < 0 || sc.Workers > MaxWorkers {
		add("$.workers", "workers %d: want 1 to %d", sc.Workers, MaxWorkers)
	}
	if sc.Ops < 0 || sc.Ops > MaxOps {
		add("$.ops", "ops %d: want 1 to %d", sc.Ops, MaxOps)
	}
	if n := int64(sc.workers()) * int64(max(sc.Ops, 1)); n > MaxTotalOps {
		add("$.ops", "%d workers × %d ops is %d operations a run: at most %d", sc.workers(), sc.Ops, n, MaxTotalOps)
	}
	sc.checkKeys(add)
	for _, m := range []struct {
		name string
		w    int
	}{{"get", sc.Mix.Get}, {"set", sc.Mix.Set}, {"add", sc.Mix.Add}, {"cas", sc.Mix.CAS}, {"delete", sc.Mix.Delete}, {"incr", sc.Mix.Incr}} {
		if m.w < 0 {
			add("$.mix."+m.name, "weight %d is negative", m.w)
		}
	}
	if v := sc.Values; v.Min < 0 || v.Max < v.Min || v.Max > 1<<20 {
		add("$.values", "values from %d to %d bytes: want 0 <= min <= max <= 1048576", v.Min, v.Max)
	}
	sc.checkStore(add)
	if _, ok := sc.Bugs(); !ok {
		add("$.variant", "variant %q: want reference or one of %v", sc.Variant, shm.BugNames())
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", sc.Timeout}, {"retry", sc.Retry}, {"think", sc.Think}, {"duration", sc.Duration}} {
		if d.v < 0 {
			add("$."+d.name, "%s %v is negative", d.name, d.v)
		}
	}
	sc.checkFaults(add)
	if len(sc.Faults.Bytes) > 0 && sc.Mode != Process {
		add("$.faults.bytes", "byte faults need real streams: set mode: process")
	}
	sc.checkSeeds(add)
	switch sc.Expect {
	case "", ExpectPass, ExpectViolation:
	default:
		add("$.expect", "expect %q: want pass or violation", sc.Expect)
	}
	return ps
}

type adder func(path, format string, args ...any)

func (sc *Scenario) checkKeys(add adder) {
	k := sc.Keys
	switch {
	case k.Count < 0 || k.Count > MaxKeys:
		add("$.keys.count", "count %d: want 1 to %d", k.Count, MaxKeys)
	case k.Count > 0 && len(k.Names) > 0:
		add("$.keys", "give count or names, not both")
	case k.Distribution != "" && k.Distribution != "uniform" && k.Distribution != "hot":
		add("$.keys.distribution", "distribution %q: want uniform or hot", k.Distribution)
	case k.Distribution == "hot" && (k.Hot <= 0 || k.Hot > 1):
		add("$.keys.hot", "hot share %v: want more than 0, at most 1", k.Hot)
	case k.Distribution != "hot" && k.Hot != 0:
		add("$.keys.hot", "hot is set, but the distribution is not hot")
	}
	for i, n := range k.Names {
		if slices.Contains(k.Names[:i], n) {
			add(fmt.Sprintf("$.keys.names[%d]", i), "key %q is named twice", n)
		}
	}
}

func (sc *Scenario) checkStore(add adder) {
	st := sc.Store
	if st.Entries < 0 {
		add("$.store.entries", "entries %d is negative", st.Entries)
	}
	if st.Bytes < 0 {
		add("$.store.bytes", "bytes %d is negative", st.Bytes)
	}
	if st.TTL < 0 || (st.TTL > 0 && st.TTL < time.Millisecond) {
		add("$.store.ttl", "ttl %v: want 0, or 1ms or more", st.TTL)
	}
}

// checkFaults checks the plan, and that its targets are the master or
// the scenario's workers.
func (sc *Scenario) checkFaults(add adder) {
	p := sc.Faults
	if err := p.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			path := "$.faults"
			if m := faultPrefix.FindStringSubmatch(line); m != nil {
				path += "." + m[1]
			}
			add(path, "%s", line)
		}
	}
	workers := sc.workers()
	target := func(name string) bool { return name == "" || faultinject.IsTarget(name, workers) }
	for i, f := range p.Messages {
		if !target(f.Target.Worker) {
			add(fmt.Sprintf("$.faults.messages[%d].target.worker", i), "worker %q: want w1 to w%d", f.Target.Worker, workers)
		}
	}
	for i, f := range p.Processes {
		if !target(f.Target) {
			add(fmt.Sprintf("$.faults.processes[%d].target", i), "target %q: want master or w1 to w%d", f.Target, workers)
		}
	}
	for i, f := range p.Bytes {
		if !target(f.Worker) {
			add(fmt.Sprintf("$.faults.bytes[%d].worker", i), "worker %q: want w1 to w%d", f.Worker, workers)
		}
	}
}

// faultPrefix finds the fault a plan's error is about ("messages[2]: …").
var faultPrefix = regexp.MustCompile(`^((?:messages|processes|bytes)\[\d+\])`)

// checkSeeds checks the seed count or list without making the list.
func (sc *Scenario) checkSeeds(add adder) {
	s := sc.Seeds
	switch {
	case s.given && len(s.List) == 0 && (s.Count < 1 || s.Count > MaxSeeds):
		add("$.seeds", "seeds %d: want 1 to %d, or a list", s.Count, MaxSeeds)
	case len(s.List) > MaxSeeds:
		add("$.seeds", "%d seeds: at most %d", len(s.List), MaxSeeds)
	}
	seen := map[uint64]bool{}
	for i, v := range s.List {
		if seen[v] {
			add(fmt.Sprintf("$.seeds[%d]", i), "seed %d is listed twice", v)
		}
		seen[v] = true
	}
}

// Bugs returns the broken variant's bugs (0 for the reference); ok is
// false for a name that is neither.
func (sc *Scenario) Bugs() (shm.Bugs, bool) {
	if sc.Variant == "" || sc.Variant == "reference" {
		return 0, true
	}
	return shm.ParseBug(sc.Variant)
}

func (sc *Scenario) workers() int {
	if sc.Workers == 0 {
		return 2
	}
	return sc.Workers
}
