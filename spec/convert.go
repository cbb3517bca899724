package spec

import (
	"fmt"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// Spec returns the run spec of seed, as the simulator takes it: the
// variant's bugs all in Bugs (the store's and the master's in
// Store.Bugs too), the plan's seed the file's or 0 (the simulator then
// seeds the faults with the run's seed, so that a config of one seed is
// that of another when its Seed alone is changed). A Script and Latency
// are the simulator's own: they are not in it.
func (sc *Scenario) Spec(seed uint64) Run {
	bugs, _ := sc.Bugs()
	return Run{
		Scenario: sc.Name,
		Seed:     seed,
		Workers:  sc.NumWorkers(),
		Ops:      sc.ops(),
		Duration: sc.Duration,
		Keys:     sc.keys(),
		Mix:      sc.Mix,
		Shape: workload.Shape{Hot: sc.Keys.Hot, ValueMin: sc.Values.Min, ValueMax: sc.Values.Max, TTL: sc.Store.TTL,
			TTLShare: sc.Store.TTLShare, Falsy: sc.Values.Falsy, Edges: sc.Values.Edges},
		Store:       shm.StoreOptions{MaxEntries: sc.Store.Entries, MaxBytes: sc.Store.Bytes, DedupWindow: sc.Store.DedupWindow, Bugs: bugs & storeBugs},
		Bugs:        bugs,
		Plan:        sc.plan(),
		CallTimeout: sc.Timeout,
		RetryAfter:  sc.Retry,
		Think:       sc.Think,
		Target:      sc.Target,
		Codec:       sc.Codec,
		MaxFrame:    sc.MaxFrame,
	}
}

// ProcessSpec returns the run spec of seed on real processes: Spec's,
// with the client's bugs alone in Bugs (the store's go in Store.Bugs)
// and the plan seeded by seed unless the file gives its own seed.
func (sc *Scenario) ProcessSpec(seed uint64) Run {
	r := sc.Spec(seed)
	r.Bugs &= shm.ClientBugs
	if r.Plan != nil && r.Plan.Seed == 0 {
		r.Plan.Seed = seed
	}
	return r
}

// storeBugs are the bugs the master's options carry (the store's and the
// master's own); shm.ClientBugs go to the workers.
const storeBugs = shm.StoreBugs | shm.MasterBugs

// keys returns the scenario's keys.
func (sc *Scenario) keys() []string {
	if len(sc.Keys.Names) > 0 {
		return sc.Keys.Names
	}
	n := sc.Keys.Count
	if n == 0 {
		n = 3
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	return keys
}

// ops is how many operations each worker makes: Ops, or 100 if neither
// Ops nor Duration is set.
func (sc *Scenario) ops() int {
	if sc.Ops == 0 && sc.Duration == 0 {
		return 100
	}
	return sc.Ops
}

// plan returns a copy of the fault plan (nil if it has no fault), its
// seed left 0 if the file gives none.
func (sc *Scenario) plan() *faultinject.Plan {
	p := sc.Faults
	if len(p.Messages)+len(p.Bytes)+len(p.Processes) == 0 {
		return nil
	}
	return &p
}
