package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// Limits of a scenario, to keep a typo from asking for a week-long run.
const (
	MaxWorkers = 64
	// MaxSimWorkers bounds the workers of a scenario that runs in the
	// simulator only (mode sim): the simulator's bound.
	MaxSimWorkers = MaxRunWorkers
	MaxOps        = 1_000_000
	MaxKeys       = 100_000
	MaxSeeds      = 100_000
	// MaxTotalOps bounds workers × ops: the simulator's bound.
	MaxTotalOps = MaxRunOps
	// MaxLatency bounds the simulator's latency (its bound on every
	// wait): a message that takes an hour is already far past any call's
	// timeout, and much more would run the virtual clock past its end.
	MaxLatency = MaxWait
	// MaxDedupWindow bounds the replies the store keeps per worker
	// incarnation.
	MaxDedupWindow = 1 << 20
	// MaxPipeline bounds the calls a simulated worker keeps in flight
	// (pipeline).
	MaxPipeline = 16
	// MinMaxFrame is the least frame limit a scenario may give its master
	// (max_frame): room for a request and a reply around a short value.
	MinMaxFrame = 256
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
	if maxWorkers := sc.maxWorkers(); sc.Workers < 0 || sc.Workers > maxWorkers {
		if maxWorkers < MaxSimWorkers && sc.Workers <= MaxSimWorkers {
			add("$.workers", "workers %d: want 1 to %d on real processes (mode: sim allows up to %d)", sc.Workers, maxWorkers, MaxSimWorkers)
		} else {
			add("$.workers", "workers %d: want 1 to %d", sc.Workers, maxWorkers)
		}
	}
	if sc.Ops < 0 || sc.Ops > MaxOps {
		add("$.ops", "ops %d: want 1 to %d", sc.Ops, MaxOps)
	}
	if n := int64(sc.NumWorkers()) * int64(max(sc.Pipeline, 1)) * int64(max(sc.Ops, 1)); n > MaxTotalOps {
		add("$.ops", "%d workers × %d ops × %d lanes is %d operations a run: at most %d", sc.NumWorkers(), sc.Ops, max(sc.Pipeline, 1), n, MaxTotalOps)
	}
	sc.checkPipeline(add)
	if sc.Script != nil {
		sc.checkScript(add)
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
	if f := sc.Values.Falsy; f < 0 || f > 1 {
		add("$.values.falsy", "falsy share %v: want more than 0, at most 1", f)
	}
	if e := sc.Values.Edges; e < 0 || e > 1 {
		add("$.values.edges", "edges share %v: want more than 0, at most 1", e)
	}
	sc.checkStore(add)
	if _, err := sc.Bugs(); err != nil {
		add("$.variant", "variant %q: %v", sc.Variant, err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", sc.Timeout}, {"retry", sc.Retry}, {"think", sc.Think}, {"duration", sc.Duration}, {"latency", sc.Latency}} {
		if d.v < 0 {
			add("$."+d.name, "%s %v is negative", d.name, d.v)
		}
	}
	if sc.Latency > MaxLatency {
		add("$.latency", "latency %v: at most %v", sc.Latency, MaxLatency)
	}
	sc.checkGrid(add)
	sc.checkCodec(add)
	sc.checkMaxFrame(add)
	sc.checkFaults(add)
	if !sc.Target.IsReference() && sc.Mode == Sim {
		add("$.target", "target %v: the simulator runs the reference only: set mode: process", sc.Target)
	}
	if len(sc.Faults.Bytes) > 0 && sc.Mode != Process {
		add("$.faults.bytes", "byte faults need real streams: set mode: process")
	}
	for i, f := range sc.Faults.Processes {
		if f.Kind == faultinject.Poison && sc.Mode != Process {
			add(fmt.Sprintf("$.faults.processes[%d].kind", i), "a poison is raw frames a real worker sends: set mode: process")
		}
	}
	sc.checkSeeds(add)
	switch sc.Expect {
	case "", ExpectPass, ExpectViolation:
	default:
		add("$.expect", "expect %q: want pass or violation", sc.Expect)
	}
	sc.checkExpectCheck(add)
	return ps
}

type adder func(path, format string, args ...any)

// checkExpectCheck checks the check a violation is expected of: one of
// linearizability.CheckNames, and only with expect violation.
func (sc *Scenario) checkExpectCheck(add adder) {
	switch names := linearizability.CheckNames(); {
	case sc.ExpectCheck == "":
	case sc.Expect != ExpectViolation:
		add("$.expect", "a check (%s) is named, but the expectation is %q, not violation", sc.ExpectCheck, sc.Expect)
	case !slices.Contains(names, sc.ExpectCheck):
		add("$.expect.violation", "check %q: want one of %s", sc.ExpectCheck, strings.Join(names, ", "))
	}
}

// checkMaxFrame checks the master's frame limit: within bounds, and only
// where there is a reference master on a real process.
func (sc *Scenario) checkMaxFrame(add adder) {
	switch {
	case sc.MaxFrame == 0:
	case sc.MaxFrame < MinMaxFrame || sc.MaxFrame > shm.DefaultMaxFrame:
		add("$.max_frame", "max_frame %d: want %d to %d bytes", sc.MaxFrame, MinMaxFrame, shm.DefaultMaxFrame)
	case !sc.Target.IsReference():
		add("$.max_frame", "max_frame is the reference master's frame limit: target %v has its own", sc.Target)
	case sc.Mode != Process:
		add("$.max_frame", "max_frame is the master's frame limit, and the simulator has no master: set mode: process")
	}
}

// checkCodec checks the codec's name, and that a Node target is not asked
// for a codec its workers cannot speak.
func (sc *Scenario) checkCodec(add adder) {
	if err := CheckCodec(sc.Codec, sc.Target); err != nil {
		add("$.codec", "%v", err)
	}
}

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
	switch {
	case st.TTLShare < 0 || st.TTLShare > 1:
		add("$.store.ttl_share", "ttl_share %v: want more than 0, at most 1", st.TTLShare)
	case st.TTLShare > 0 && st.TTL == 0:
		add("$.store.ttl_share", "ttl_share %v of no ttl: set ttl too, or leave ttl_share out", st.TTLShare)
	}
	switch {
	case st.DedupWindow < 0:
		add("$.store.dedup_window", "dedup_window %d is negative", st.DedupWindow)
	case st.DedupWindow > MaxDedupWindow:
		add("$.store.dedup_window", "dedup_window %d: at most %d", st.DedupWindow, MaxDedupWindow)
	}
}

// checkScript checks that a script runs in the simulator, and that
// nothing is set that only a drawn workload uses.
func (sc *Scenario) checkScript(add adder) {
	if sc.Mode != Sim {
		add("$.script", "a script runs in the simulator only: set mode: sim")
	}
	switch {
	case len(sc.Script) == 0:
		add("$.script", "a script names its workers: w1: [...] (w1: [] for one that does nothing)")
	case len(sc.Script) > MaxSimWorkers:
		add("$.script", "%d workers in the script: at most %d", len(sc.Script), MaxSimWorkers)
	}
	if sc.Workers != 0 && sc.Workers != len(sc.Script) {
		add("$.workers", "workers %d, but the script has %d: leave workers out", sc.Workers, len(sc.Script))
	}
	drawn := []struct {
		path string
		set  bool
	}{{"$.ops", sc.Ops != 0}, {"$.mix", sc.Mix != (workload.Mix{})}, {"$.values", sc.Values != (Values{})},
		{"$.keys.distribution", sc.Keys.Distribution != ""}, {"$.store.ttl", sc.Store.TTL != 0},
		{"$.store.ttl_share", sc.Store.TTLShare != 0}}
	for _, d := range drawn {
		if d.set {
			add(d.path, "%s draws the workload, and the script replaces it: leave it out (a script's operations say their own)", d.path[2:])
		}
	}
	if n := scriptOps(sc.Script); n > MaxTotalOps {
		add("$.script", "%d operations in the script: at most %d", n, MaxTotalOps)
	}
}

func scriptOps(s Script) int {
	n := 0
	for _, ops := range s {
		n += len(ops)
	}
	return n
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
	workers := sc.NumWorkers()
	target := func(name string) bool { return name == "" || faultinject.IsTarget(name, workers) }
	for i, f := range p.Messages {
		if !target(f.Target.Worker) {
			add(fmt.Sprintf("$.faults.messages[%d].target.worker", i), "worker %q: want w1 to w%d", f.Target.Worker, workers)
		}
		if f.Hold != 0 && !sc.Target.IsReference() {
			add(fmt.Sprintf("$.faults.messages[%d].hold", i), "target %v: a hold counted in requests is not in the Node fault shim: run it on the reference, or use a reorder or delay", sc.Target)
		}
	}
	for i, f := range p.Processes {
		if !target(f.Target) {
			add(fmt.Sprintf("$.faults.processes[%d].target", i), "target %q: want master or w1 to w%d", f.Target, workers)
		}
		sc.checkReach(add, i, &f)
	}
	sc.checkOverlap(add)
	for i, f := range p.Bytes {
		if !target(f.Worker) {
			add(fmt.Sprintf("$.faults.bytes[%d].worker", i), "worker %q: want w1 to w%d", f.Worker, workers)
		}
	}
}

// checkReach refuses a process fault that the run the file describes can
// never reach: a time past the longest the workload can last (see
// lastCall), a point of progress past the operations its worker makes.
func (sc *Scenario) checkReach(add adder, i int, f *faultinject.ProcessFault) {
	path := fmt.Sprintf("$.faults.processes[%d]", i)
	if f.After == nil {
		if end := sc.lastCall(i); end > 0 && f.At > end {
			add(path+".at", "at %v is past the end of the workload: its duration, %v, with a last call's timeout and the other faults' pauses, %v in all; the fault could never happen",
				f.At, sc.Duration, end)
		}
		return
	}
	a := f.After
	n, ok := faultinject.WorkerNumber(a.Worker)
	if !ok || n > sc.NumWorkers() {
		add(path+".after.worker", "worker %q: want w1 to w%d", a.Worker, sc.NumWorkers())
		return
	}
	ops, what := sc.ops(), "ops"
	switch {
	case sc.Script != nil:
		ops, what = len(sc.Script[n-1]), "its script's operations"
	case ops == 0:
		ops, what = DurationOps, "the most a worker makes in a duration"
	case sc.Ops == 0:
		what = "ops (the default when ops is left out)"
	}
	if a.Ops > ops {
		add(path+".after.ops", "request %d of %s is past %s, %d: the fault could never happen", a.Ops, a.Worker, what, ops)
	}
}

// lastCall bounds how long a workload with a duration lasts for process
// fault i (0: no duration, no bound): no call begins after the duration,
// each ends within its timeout, and another fault's pause can hold one
// longer by its length (a fault's own length does not make it reachable).
func (sc *Scenario) lastCall(i int) time.Duration {
	if sc.Duration == 0 {
		return 0
	}
	end := sc.Duration + sc.Timeout
	if sc.Timeout == 0 {
		end += 200 * time.Millisecond // the harness's and the simulator's default
	}
	for j, f := range sc.Faults.Processes {
		if f.Kind == faultinject.Pause && j != i {
			end += f.For
		}
	}
	return end
}

// checkOverlap refuses two process faults that the file alone shows
// cannot both happen as it says (faultinject.Conflicts).
func (sc *Scenario) checkOverlap(add adder) {
	fs := sc.Faults.Processes
	for _, c := range faultinject.Conflicts(fs) {
		path := fmt.Sprintf("$.faults.processes[%d].at", c.Later)
		if fs[c.Later].After != nil {
			path = fmt.Sprintf("$.faults.processes[%d].after", c.Later)
		}
		add(path, "%v", c)
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

// Bugs returns the variant's bugs: none for the reference (Variant
// empty, "reference" or "none"), else the bugs joined by "+"
// (shm.ParseBugs).
func (sc *Scenario) Bugs() (shm.Bugs, error) {
	if sc.Variant == "" {
		return 0, nil
	}
	return shm.ParseBugs(sc.Variant)
}

// NumWorkers is how many workers run: the script's, or Workers (2 if
// 0).
func (sc *Scenario) NumWorkers() int {
	switch {
	case sc.Script != nil:
		return len(sc.Script)
	case sc.Workers == 0:
		return 2
	}
	return sc.Workers
}

// maxWorkers bounds the workers: more in the simulator only.
func (sc *Scenario) maxWorkers() int {
	if sc.Mode == Sim {
		return MaxSimWorkers
	}
	return MaxWorkers
}

// checkPipeline checks a pipeline: the simulator's only, and not with a
// script (whose workers make one call at a time).
func (sc *Scenario) checkPipeline(add adder) {
	switch p := sc.Pipeline; {
	case p == 0:
	case p < 0 || p > MaxPipeline:
		add("$.pipeline", "pipeline %d: want 1 to %d calls in flight per worker", p, MaxPipeline)
	case sc.Mode != Sim:
		add("$.pipeline", "a pipeline is the simulator's workers': set mode: sim")
	case sc.Script != nil:
		add("$.pipeline", "a script makes one call at a time: leave pipeline out")
	}
}

// checkGrid checks a grid: the simulator's only, without a latency (its
// messages take no time), and with a think time of whole steps, at least
// one.
func (sc *Scenario) checkGrid(add adder) {
	switch g := sc.Grid; {
	case g == 0:
	case g < 0 || g > MaxLatency:
		add("$.grid", "grid %v: want more than 0s, at most %v", g, MaxLatency)
	case sc.Mode != Sim:
		add("$.grid", "a grid is the simulator's clock: set mode: sim")
	case sc.Latency != 0:
		add("$.latency", "latency %v on a grid: there, messages take no time; leave latency out", sc.Latency)
	case sc.Think == 0:
		add("$.grid", "a grid of %v and no think: a worker's operations would share one instant; set think to a whole number of steps, 1 or more", g)
	case sc.Think%g != 0:
		add("$.think", "think %v is not a whole number of grid steps of %v, 1 or more", sc.Think, g)
	}
}
