// Package simtest has test helpers for the simulator, in the manner of
// testing/fstest and net/http/httptest: Scenarios, a rapid generator of
// simulator configs drawn as lists that rapid shrinks element by
// element, and RequireLinearizable, the property that a drawn config
// runs to a linearizable history, which reports a failure shrunk further
// by sim.Shrink as a scenario file that `shmlab run` runs. A failing
// property ends about where `shmlab sim --shrink` does (the zoo's
// variants: 1 to 5 operations). It is the one place that imports rapid,
// so that the simulator and the commands built on it do not.
package simtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
// processes).
//
// It draws them as data that rapid shrinks well, so that a failing
// property shrinks to a small counterexample by rapid alone: the workers
// are a list, each a list of operations, and a message fault is drawn
// with the operation whose request or reply it hits (aimed at it by its
// number on the link), so that taking away an operation takes its fault
// with it and leaves every other fault on its own operation. Values
// are worked out from each operation's place, not drawn; a worker's
// process fault is drawn with the worker. Everything shrinks towards
// less: fewer workers, operations and faults, the first method of the
// mix, the first key. The run's schedule is still drawn from its seed
// (rapid draws the seed): taking an operation away moves the times of
// what comes after it, which RequireLinearizable's handing over to
// sim.Shrink (which tries other seeds) makes up for.
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
		sh := drawShape(t)
		workers := rapid.SliceOfN(workerGen(o, len(keys), sh), 1, o.MaxWorkers).Draw(t, "workers")
		cfg.Workers, cfg.Keys = len(workers), keys
		cfg.Plan = &faultinject.Plan{Seed: 1}
		if o.Processes {
			if f := maybeProcess(t, o); f != nil {
				cfg.Plan.Processes = addProcess(nil, *f, faultinject.MasterTarget)
			}
		}
		for w, dw := range workers {
			script, faults := build(w, dw.Ops, keys, sh)
			cfg.Script = append(cfg.Script, script)
			cfg.Plan.Messages = append(cfg.Plan.Messages, faults...)
			if f := dw.Process; f != nil {
				cfg.Plan.Processes = addProcess(cfg.Plan.Processes, *f, workerName(w))
			}
		}
		if o.Limits {
			cfg.Store.MaxEntries = rapid.IntRange(0, len(keys)).Draw(t, "max_entries")
			cfg.Store.MaxBytes = rapid.SampledFrom([]int64{0, 0, 200, 400, 1500}).Draw(t, "max_bytes")
			withTTL(cfg.Script, rapid.SampledFrom([]int64{0, 0, 1, 2, 5}).Draw(t, "ttl_ms"))
		}
		return cfg
	})
}

// drawnWorker is one worker as drawn: its operations, and the process
// fault it gets, if any (with Processes).
type drawnWorker struct {
	Ops     []drawnOp
	Process *faultinject.ProcessFault
}

// workerGen draws a worker.
func workerGen(o GenOptions, keys int, sh shape) *rapid.Generator[drawnWorker] {
	ops := opsOf(o, keys, sh)
	return rapid.Custom(func(t *rapid.T) drawnWorker {
		w := drawnWorker{Ops: ops.Draw(t, "ops")}
		if o.Processes {
			w.Process = maybeProcess(t, o)
		}
		return w
	})
}

// drawnOp is one operation as drawn: its method, its key (by its place
// among the keys), an add's delta, and the message fault aimed at its
// request or reply, if any.
type drawnOp struct {
	Method history.Method
	Key    int
	Delta  int64
	Fault  *faultinject.MessageFault
}

// opsOf draws one worker's operations, with the faults aimed at them
// (none with NoFaults).
func opsOf(o GenOptions, keys int, sh shape) *rapid.Generator[[]drawnOp] {
	op := rapid.Custom(func(t *rapid.T) drawnOp {
		d := drawnOp{Method: rapid.SampledFrom(sh.methods).Draw(t, "method"), Key: rapid.IntRange(0, keys-1).Draw(t, "key")}
		if d.Method == history.Add {
			d.Delta = rapid.Int64Range(1, 5).Draw(t, "delta")
		}
		// One operation in faultOdds+1 has a fault; "fault" shrinks to
		// 0, none.
		if !o.NoFaults && rapid.IntRange(0, faultOdds).Draw(t, "fault") == faultOdds {
			f := drawFault(t)
			d.Fault = &f
		}
		return d
	})
	// Runs of one to three operations, at most MaxOps in all: rapid draws
	// a list about five long whatever its bound, and runs make the mean
	// about MaxOps/2 (as a drawn count did), while each operation, and
	// each run, can still be taken away alone.
	runs := rapid.SliceOfN(rapid.SliceOfN(op, 1, 3), 0, o.MaxOps)
	return rapid.Map(runs, func(runs [][]drawnOp) []drawnOp {
		var ops []drawnOp
		for _, r := range runs {
			ops = append(ops, r...)
		}
		return ops[:min(len(ops), o.MaxOps)]
	})
}

// faultOdds makes one drawn operation in faultOdds+1 carry a fault (as
// many as the plans of a drawn count of faults had).
const faultOdds = 6

// build makes worker w's script of its drawn operations, and aims their
// faults at their messages: operation i's request is the worker's
// request number i+1, its reply reply number i+1, if each operation sends
// one request and gets one reply (a resent request moves the ones after
// it). Values are unique to the operation, so that a read names its
// writer; a cas expects the value the worker last wrote to the key (or
// the key absent). Adds go wrong on sized values (they are not
// integers), definitely: a fail is fine.
func build(w int, ops []drawnOp, keys []string, sh shape) ([]workload.Op, []faultinject.MessageFault) {
	last := map[string]shm.Value{}
	script := make([]workload.Op, len(ops))
	var faults []faultinject.MessageFault
	for i, d := range ops {
		o := workload.Op{Method: d.Method, Key: keys[d.Key], Delta: d.Delta}
		v := workload.Value(int64(w+1)*1_000_000+int64(i)+1, sh.valueSize)
		switch o.Method {
		case history.Set:
			o.Value, last[o.Key] = v, v
		case history.CAS:
			o.Old, o.Value, last[o.Key] = last[o.Key], v, v
		}
		script[i] = o
		if d.Fault != nil {
			f := *d.Fault
			f.Target = faultinject.Target{Worker: workerName(w), Nth: i + 1}
			faults = append(faults, f)
		}
	}
	return script, faults
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

// drawFault draws a message fault of a kind Swarm draws (SwarmFaults),
// its direction if the kind has none, its delay or copies; not its aim.
func drawFault(t *rapid.T) faultinject.MessageFault {
	k := rapid.SampledFrom(sim.SwarmFaults()).Draw(t, "kind")
	f := faultinject.MessageFault{Kind: k.Kind, Corruption: k.Corruption, Dir: k.Dir}
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

// processOdds gives the master and each worker a process fault once in
// processOdds+1 draws (about as many as a drawn count of them gave).
const processOdds = 3

// maybeProcess draws whether a process gets a fault and, if so, the
// fault, without its target: a restart, pause or kill within the time
// a run of o takes. "process" shrinks to 0, none.
func maybeProcess(t *rapid.T, o GenOptions) *faultinject.ProcessFault {
	if rapid.IntRange(0, processOdds).Draw(t, "process") != processOdds {
		return nil
	}
	span := int64(o.MaxOps) * int64(60*time.Microsecond)
	f := faultinject.ProcessFault{
		Kind: rapid.SampledFrom([]faultinject.ProcessKind{faultinject.Restart, faultinject.Pause, faultinject.Kill}).Draw(t, "process_kind"),
		At:   time.Duration(rapid.Int64Range(0, span).Draw(t, "at")),
		For:  time.Duration(rapid.Int64Range(1, int64(200*time.Millisecond)).Draw(t, "for")),
	}
	if f.Kind == faultinject.Kill {
		f.For = 0
	}
	return &f
}

// addProcess appends f, aimed at target, to fs, unless it conflicts with
// one of them (a scenario file would refuse it).
func addProcess(fs []faultinject.ProcessFault, f faultinject.ProcessFault, target string) []faultinject.ProcessFault {
	f.Target = target
	if out := append(fs, f); len(faultinject.Conflicts(out)) == 0 {
		return out
	}
	return fs
}

// workerName is the name of worker i (from 0): "w1", "w2", …
func workerName(i int) string { return fmt.Sprintf("w%d", i+1) }

// RequireLinearizable runs cfg in the simulator and fails t if the check
// finds a violation, or the run does not end. It fails with one message
// for every violation, so that rapid shrinks across them, and logs what
// was violated and the failure shrunk further by sim.Shrink (with the
// budget `shmlab sim --shrink` has), as a scenario file that `shmlab run`
// runs, with the line that does. With $SHMLAB_FAILURE_DIR set, that file,
// its history and report are written to a folder there named after the
// test, and the line names it.
//
// The shrinking is done when the log is printed, not when the run
// fails: rapid prints the log of the failure it ends with (the smallest
// it found), so sim.Shrink runs once, from there. (With -rapid.log,
// which prints every run's log, it runs for every failing run: slow.)
// It returns the run's result.
func RequireLinearizable(t *rapid.T, cfg sim.Config) *sim.Result {
	r, err := sim.Run(cfg)
	if err != nil {
		t.Fatalf("sim: %v", err)
	}
	if !r.Failed() {
		return r
	}
	dir := ""
	if root := os.Getenv("SHMLAB_FAILURE_DIR"); root != "" {
		dir = filepath.Join(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	}
	t.Logf("sim: %d operations, %d workers: %v\n%s\n%v", len(r.History.Ops), r.Config.Workers, r.Check, r.Check.Details(), &shrunk{cfg: cfg, dir: dir})
	// One message for every failure, so that rapid shrinks across them.
	t.Fatal("sim: the history is not linearizable")
	return r
}

// shrinkBudget is how many runs sim.Shrink may make of a failure that
// RequireLinearizable reports: `shmlab sim --shrink`'s.
const shrinkBudget = 5000

// shrunk is a failing config's report, made when it is printed: the
// config shrunk by sim.Shrink, as a scenario file and the line that runs
// it (and written to dir, if set).
type shrunk struct {
	cfg sim.Config
	dir string
}

// String shrinks the config and writes the report.
func (s *shrunk) String() string {
	key, err := json.Marshal(s.cfg)
	if err != nil {
		return fmt.Sprintf("sim.Shrink: %v", err)
	}
	k := string(key) + "\x00" + s.dir
	reports.Lock()
	text, ok := reports.text, reports.key == k
	reports.Unlock()
	if !ok {
		text = s.report()
		reports.Lock()
		reports.key, reports.text = k, text
		reports.Unlock()
	}
	return text
}

// reports keeps the last report made: rapid prints the same failure
// twice when it writes a fail file.
var reports struct {
	sync.Mutex
	key, text string
}

// report shrinks the config and says what came of it.
func (s *shrunk) report() string {
	small, r, err := sim.Shrink(s.cfg, shrinkBudget)
	if err != nil || r == nil || !r.Failed() {
		return fmt.Sprintf("sim.Shrink could not shrink it (%v); the config above is rapid's smallest", err)
	}
	repro := spec.Repro(spec.Sim, small.Seed, spec.ScenarioFile)
	where := "(with the file above saved as " + spec.ScenarioFile + ")"
	if s.dir != "" {
		line, err := sim.WriteFailure(s.dir, small, r)
		if err != nil {
			return fmt.Sprintf("sim.Shrink: writing %s: %v", s.dir, err)
		}
		repro, where = line, "(the file is in "+s.dir+")"
	}
	text, err := sim.FailureScenario(small, r, repro)
	if err != nil {
		return fmt.Sprintf("sim.Shrink: %v", err)
	}
	return fmt.Sprintf("%s %s (%s, %s), as a scenario file:\n%s%s %s: %s", shrunkBy, count(sim.Ops(r.History), "operation"),
		count(len(small.Script), "worker"), count(faults(small), "fault"), text, reproduce, where, repro)
}

// shrunkBy and reproduce begin the lines before and after the shrunk
// scenario file in a report.
const (
	shrunkBy  = "shrunk by sim.Shrink to"
	reproduce = "reproduce"
)

// count says "1 fault", "2 faults".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// faults counts cfg's message and process faults.
func faults(cfg sim.Config) int {
	if cfg.Plan == nil {
		return 0
	}
	return len(cfg.Plan.Messages) + len(cfg.Plan.Processes)
}
