// Package simtest has test helpers for the simulator, in the manner of
// testing/fstest and net/http/httptest: Scenarios, a rapid generator of
// simulator configs, and RequireLinearizable, the property that a drawn
// config runs to a linearizable history. It is the one place that
// imports rapid, so that the simulator and the commands built on it do
// not.
package simtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/sim"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
	"pgregory.net/rapid"
)

// GenOptions bound the configs Scenarios draws. The zero value draws up
// to 3 workers of 20 operations on up to 3 keys, with message faults.
type GenOptions struct {
	MaxWorkers int // 3 if 0
	MaxOps     int // per worker; 20 if 0
	MaxKeys    int // 3 if 0
	// NoFaults draws no message faults, Processes adds process faults
	// (kills, restarts, pauses), Limits draws store limits (eviction).
	NoFaults, Processes, Limits bool
	// Bugs are passed to every config drawn, to hunt for them.
	Bugs shm.Bugs
}

func (o GenOptions) withDefaults() GenOptions {
	if o.MaxWorkers <= 0 {
		o.MaxWorkers = 3
	}
	if o.MaxOps <= 0 {
		o.MaxOps = 20
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 3
	}
	return o
}

// Scenarios returns a rapid generator of simulator configs: workers and
// their operations (as scripts, with a drawn method mix and value size),
// keys, store limits, and faults aimed at single messages (and
// processes). Everything it draws shrinks towards
// less: fewer workers, operations and faults, so that a failing property
// shrinks to a small counterexample.
func Scenarios(opts GenOptions) *rapid.Generator[sim.Config] {
	o := opts.withDefaults()
	return rapid.Custom(func(t *rapid.T) sim.Config {
		cfg := sim.Config{
			Run: spec.Run{
				Seed:        rapid.Uint64().Draw(t, "seed"),
				Bugs:        o.Bugs,
				CallTimeout: 100 * time.Millisecond,
				RetryAfter:  20 * time.Millisecond,
			},
		}
		keys := make([]string, rapid.IntRange(1, o.MaxKeys).Draw(t, "keys"))
		for i := range keys {
			keys[i] = string(rune('a' + i))
		}
		workers := rapid.IntRange(1, o.MaxWorkers).Draw(t, "workers")
		cfg.Workers, cfg.Keys = workers, keys
		sh := drawShape(t)
		for w := range workers {
			cfg.Script = append(cfg.Script, drawScript(t, w, keys, o.MaxOps, sh))
		}
		if o.Limits {
			cfg.Store.MaxEntries = rapid.IntRange(0, len(keys)).Draw(t, "max_entries")
			cfg.Store.MaxBytes = rapid.SampledFrom([]int64{0, 0, 200, 400, 1500}).Draw(t, "max_bytes")
			withTTL(cfg.Script, rapid.SampledFrom([]int64{0, 0, 1, 2, 5}).Draw(t, "ttl_ms"))
		}
		cfg.Plan = drawPlan(t, o, workers)
		return cfg
	})
}

// withTTL gives every set and cas of the scripts a TTL of ttl
// milliseconds (none if 0).
func withTTL(scripts [][]workload.Op, ttl int64) {
	for _, ops := range scripts {
		for i := range ops {
			if ops[i].Method == history.Set || ops[i].Method == history.CAS {
				ops[i].TTLms = ttl
			}
		}
	}
}

var methods = []history.Method{history.Get, history.Set, history.Add, history.CAS, history.Delete}

// shape is what a drawn scenario's operations look like: which methods
// they use (the mix), and the size of the values written (0: integers).
type shape struct {
	methods   []history.Method
	valueSize int
}

// drawShape draws a scenario's mix and value size.
func drawShape(t *rapid.T) shape {
	s := shape{methods: rapid.SliceOfNDistinct(rapid.SampledFrom(methods), 1, len(methods), rapid.ID).Draw(t, "mix")}
	if rapid.Bool().Draw(t, "sized_values") {
		s.valueSize = rapid.IntRange(8, 1024).Draw(t, "value_size")
	}
	return s
}

// drawScript draws worker w's operations. Values are unique to the
// operation, so that a read names its writer; a cas expects the value
// the worker last wrote to the key (or the key absent). Adds go wrong on
// sized values (they are not integers), definitely: a fail is fine.
func drawScript(t *rapid.T, w int, keys []string, maxOps int, sh shape) []workload.Op {
	n := rapid.IntRange(0, maxOps).Draw(t, fmt.Sprintf("w%d_ops", w+1))
	last := map[string]shm.Value{}
	ops := make([]workload.Op, n)
	for i := range ops {
		o := workload.Op{Method: rapid.SampledFrom(sh.methods).Draw(t, "method"), Key: rapid.SampledFrom(keys).Draw(t, "key")}
		v := workload.Value(int64(w+1)*1_000_000+int64(i)+1, sh.valueSize)
		switch o.Method {
		case history.Set:
			o.Value, last[o.Key] = v, v
		case history.CAS:
			o.Old, o.Value, last[o.Key] = last[o.Key], v, v
		case history.Add:
			o.Delta = rapid.Int64Range(1, 5).Draw(t, "delta")
		}
		ops[i] = o
	}
	return ops
}

// drawPlan draws faults aimed at single messages, and process faults.
func drawPlan(t *rapid.T, o GenOptions, workers int) *faultinject.Plan {
	p := &faultinject.Plan{Seed: 1}
	if !o.NoFaults {
		n := rapid.IntRange(0, 2*workers).Draw(t, "faults")
		for range n {
			p.Messages = append(p.Messages, drawFault(t, workers, o.MaxOps))
		}
	}
	if o.Processes {
		for range rapid.IntRange(0, 2).Draw(t, "processes") {
			p.Processes = append(p.Processes, drawProcess(t, workers, o.MaxOps))
			if len(faultinject.Conflicts(p.Processes)) > 0 {
				p.Processes = p.Processes[:len(p.Processes)-1] // a scenario file would refuse it
			}
		}
	}
	return p
}

func drawFault(t *rapid.T, workers, maxOps int) faultinject.MessageFault {
	k := rapid.SampledFrom(sim.SwarmFaults()).Draw(t, "fault")
	f := faultinject.MessageFault{Kind: k.Kind, Corruption: k.Corruption, Dir: k.Dir,
		Target: faultinject.Target{Worker: workerName(rapid.IntRange(0, workers-1).Draw(t, "fault_worker")),
			Nth: rapid.IntRange(1, maxOps+1).Draw(t, "nth")}}
	if f.Dir == "" {
		f.Dir = rapid.SampledFrom([]faultinject.Direction{faultinject.Requests, faultinject.Replies}).Draw(t, "dir")
	}
	switch f.Kind {
	case faultinject.Delay:
		f.Delay = faultinject.Dist{Kind: faultinject.Fixed, Min: time.Duration(rapid.Int64Range(1, 300).Draw(t, "delay_ms")) * time.Millisecond}
	case faultinject.Duplicate:
		f.Copies = rapid.IntRange(1, 2).Draw(t, "copies")
	}
	return f
}

func drawProcess(t *rapid.T, workers, maxOps int) faultinject.ProcessFault {
	span := int64(maxOps) * int64(60*time.Microsecond)
	f := faultinject.ProcessFault{
		Kind:   rapid.SampledFrom([]faultinject.ProcessKind{faultinject.Restart, faultinject.Pause, faultinject.Kill}).Draw(t, "process"),
		Target: rapid.SampledFrom(append([]string{faultinject.MasterTarget}, workerNames(workers)...)).Draw(t, "target"),
		At:     time.Duration(rapid.Int64Range(0, span).Draw(t, "at")),
		For:    time.Duration(rapid.Int64Range(1, int64(200*time.Millisecond)).Draw(t, "for")),
	}
	if f.Kind == faultinject.Kill {
		f.For = 0
	}
	return f
}

func workerNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = workerName(i)
	}
	return names
}

// workerName is the name of worker i (from 0): "w1", "w2", …
func workerName(i int) string { return fmt.Sprintf("w%d", i+1) }

// RequireLinearizable runs cfg in the simulator and fails t if the check
// finds a violation, or the run does not end. The failure logs what was
// violated and the one line that reproduces it (rapid prints its own
// too), and fails with one message for every violation, so that rapid
// shrinks across them; with $SHMLAB_FAILURE_DIR
// set, the failing scenario (scenario.yaml, which `shmlab run` runs
// again), its history and report are written there too (rapid shrinks
// before it reports, so what is left there is the smallest failure it
// found). It returns the run's result.
func RequireLinearizable(t *rapid.T, cfg sim.Config) *sim.Result {
	r, err := sim.Run(cfg)
	if err != nil {
		t.Fatalf("sim: %v", err)
	}
	if !r.Failed() {
		return r
	}
	repro := "the rapid failure line below"
	if dir := os.Getenv("SHMLAB_FAILURE_DIR"); dir != "" {
		name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
		if line, err := sim.WriteFailure(filepath.Join(dir, name), cfg, r); err == nil {
			repro = line
		}
	}
	t.Logf("sim: %d operations, %d workers: %v\n%s\nreproduce: %s", len(r.History.Ops), r.Config.Workers, r.Check, r.Check.Details(), repro)
	// One message for every failure, so that rapid shrinks across them.
	t.Fatal("sim: the history is not linearizable")
	return r
}
