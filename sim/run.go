package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// Result is what a run did and what the check found.
type Result struct {
	// Config is the run's configuration, with its defaults filled in.
	Config Config
	// History is the recorded history, faults and process events included.
	History *history.History
	// Check is the checkers' verdict (nil with Config.NoCheck).
	Check *linearizability.Result
	// Records are the fault decisions that changed something, with their
	// ground truth.
	Records []faultinject.Record
	// Ops is how many operations were called, Events how many events the
	// run handled, Virtual how long its operations lasted on the virtual
	// clock, and Wall how long it took.
	Ops, Events int
	Virtual     time.Duration
	Wall        time.Duration
	// FaultsPlanned is how many process faults the plan has, and
	// FaultsHappened how many happened (their first step took effect);
	// Missed names each of the others, with why (its target was not
	// running, or its time or point of progress did not come before the
	// workload was over).
	FaultsPlanned, FaultsHappened int
	Missed                        []string
	happened                      []bool
}

// Run runs cfg and checks its history. It returns an error only for a
// Config that is not valid or a run that does not end; a violation is in
// Result.Check.
func Run(cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	began := time.Now()
	cfg = cfg.withDefaults()
	w := newWorld(cfg)
	if err := w.run(); err != nil {
		return nil, err
	}
	w.finalReads()
	res := &Result{Config: cfg, Records: w.log.Records(), Ops: w.ops, Events: w.events,
		Virtual: time.Duration(w.rec.last - w.t0), FaultsPlanned: len(w.faults.happened), Missed: w.missedFaults(), happened: w.faults.happened}
	res.FaultsHappened = res.FaultsPlanned - len(res.Missed)
	res.History = w.history()
	if !cfg.NoCheck {
		res.Check = linearizability.Check(res.History, linearizability.Options{Parallel: 1, Timeout: cfg.CheckTimeout})
	}
	res.Wall = time.Since(began)
	return res, nil
}

// finalReads records the master's own read of every key once the workers
// have finished (if it is up): the final read the counter check needs.
func (w *world) finalReads() {
	if !w.master.up {
		return
	}
	fr := &lane{name: int32(len(w.rec.names) - 1), stream: noStream}
	for _, k := range w.cfg.Keys {
		w.now++
		fr.op = workload.Op{Method: history.Get, Key: k}
		i := w.rec.call(fr, w.now)
		rep := w.master.store.Apply(w.now, shm.Identity{}, &shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Key: []byte(k), Has: shm.HasKey})
		st, out := workload.Outcome(&rep, nil)
		w.rec.ret(fr, i, w.now, st, out)
	}
}

// FinalReader is the worker name of the final reads in a history: the
// master's own reads of every key once the workers have finished.
const FinalReader = "final"

// history returns what the recorder holds, under the run's header.
func (w *world) history() *history.History {
	model := history.ModelKV
	if w.cfg.Store.MaxEntries > 0 || w.cfg.Store.MaxBytes > 0 {
		model = history.ModelKVEvict
	}
	hd := history.NewHeader(model, w.cfg.Scenario, w.cfg.Seed)
	n := w.cfg.PlannedFaults()
	hd.Faults = &n
	hd.Meta = w.meta()
	h := w.rec.history(hd)
	h.Header.Store = w.cfg.StoreLimits(h.Ops, 0) // the store and the history share the virtual clock
	h.Header.DedupWindow = w.cfg.DedupWindow()
	h.Header.Calls = w.cfg.CallLimits(0) // a call's timeout fires on the virtual clock, exactly
	return h
}

// Meta is what a simulated history's header says of its run beyond the
// header's fields (history.Header.Meta).
type Meta struct {
	// Codecs are the codecs the workers' connections spoke, by worker
	// ("json" or "compact").
	Codecs []string `json:"codecs"`
}

// meta returns the header's meta: the workers' codecs.
func (w *world) meta() json.RawMessage {
	m := Meta{Codecs: make([]string, len(w.workers))}
	for i, wk := range w.workers {
		m.Codecs[i] = wk.links[toMaster].codec.String()
	}
	b, err := json.Marshal(&m)
	if err != nil {
		panic(fmt.Sprintf("sim: the header's meta: %v", err)) // plain strings always marshal
	}
	return b
}

func newStore(cfg Config) *shm.Store { return shm.NewStore(cfg.Store) }

// Failed reports whether the check found a violation.
func (r *Result) Failed() bool {
	return r.Check != nil && r.Check.Verdict == linearizability.Illegal
}

// Hash returns a digest of the history, as it would be written: the same
// Config and seed give the same hash.
func (r *Result) Hash() string {
	h := sha256.New()
	if err := r.History.Write(h); err != nil {
		panic(fmt.Sprintf("sim: hashing a history: %v", err)) // a hash never fails to write
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
