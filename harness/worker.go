package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// WorkerName is the name the harness's worker body is registered under
// (shm.Handle): a binary that imports harness and calls shm.Main first
// thing runs it when a master spawns it.
const WorkerName = "shmlab-harness"

// envWorker holds a worker's workerConfig, as JSON.
const envWorker = "SHMLAB_HARNESS_WORKER"

func init() {
	shm.HandleRaw(WorkerName, runWorker)
}

// workerConfig is what a worker process is told.
type workerConfig struct {
	Name string `json:"name"` // the worker's name in the history ("w1")
	Gen  int    `json:"gen"`  // its master's generation, from 1
	runSpec
}

// runWorker is the worker body: it runs its workload, recording every
// call into a journal of its own before the request leaves, so that a
// kill loses nothing it sent. It makes its own client, as shm.Main
// would, but with the run's timeout and retries.
func runWorker(ctx context.Context, nc net.Conn, _ []string) error {
	var cfg workerConfig
	if err := json.Unmarshal([]byte(os.Getenv(envWorker)), &cfg); err != nil {
		return fmt.Errorf("harness worker: $%s: %w", envWorker, err)
	}
	late := newLateWatch(cfg.Name)
	c := dial(nc, &cfg, late)
	defer c.Close()
	if cfg.poisoned() {
		defer listenPoison(cfg.Dir, c)()
	}
	inc := shm.WorkerIdentity().Inc
	j, err := history.CreateJournal(workerJournal(cfg.Dir, cfg.Gen, cfg.Name, inc), journalCapacity(cfg.Ops, cfg.Shape.ValueMax))
	if err != nil {
		return fmt.Errorf("harness worker %s: %w", cfg.Name, err)
	}
	if cfg.Start, err = awaitStart(&cfg); err != nil {
		return fmt.Errorf("harness worker %s: waiting for the workload to begin: %w", cfg.Name, err)
	}
	rec := history.NewRecorder(history.RecorderOptions{Journal: j})
	late.start(rec)
	s := rec.Session(cfg.Name)
	w := workload.NewShaped(cfg.Seed, cfg.Name, cfg.Gen, inc, cfg.Keys, cfg.Mix, cfg.Shape)
	runOps(w, &cfg.runSpec, cfg.Start, func(_ int, o *workload.Op) (history.Status, history.Output, bool) {
		p := s.Call(o.Method, o.Key, o.Input())
		st, out, seq := do(ctx, c, o, cfg.CallTimeout)
		p.Return(st, out)
		if st == history.StatusUnknown && out.Error != nil && out.Error.Code == linearizability.ErrorTimeout {
			late.gaveUp(seq, p)
		}
		return st, out, true
	})
	late.wait(lateWait(cfg.CallTimeout))
	return j.Close()
}

// runOps makes one worker process's operations, drawn by w, with do
// (which runs the nth, from 1, and says how it ended, or false to stop):
// at most sp.Ops, sp.Think apart, until sp.Duration has passed since
// start; the second half of an increment follows its first when that
// returned ok, and every outcome is shown to w, which may draw by it.
func runOps(w *workload.Generator, sp *runSpec, start int64,
	do func(n int, o *workload.Op) (history.Status, history.Output, bool)) {
	var then *workload.Op // the second half of an increment
	for i := range sp.Ops {
		if i > 0 && sp.Think > 0 {
			time.Sleep(sp.Think)
		}
		if sp.Duration > 0 && history.Now()-start >= int64(sp.Duration) {
			return
		}
		o := w.Next()
		if then != nil {
			o, then = *then, nil
		}
		st, out, ok := do(i+1, &o)
		if !ok {
			return
		}
		w.Observe(&o, st, out)
		if next, ok := o.Then(out); ok && st == history.StatusOK {
			then = &next
		}
	}
}

// do runs o on c within timeout, and says how it ended and the id its
// request had.
func do(ctx context.Context, c *shm.Client, o *workload.Op, timeout time.Duration) (history.Status, history.Output, uint64) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := o.Request()
	rep, err := c.Do(ctx, &req)
	st, out := workload.Outcome(&rep, err)
	return st, out, req.Seq
}

// dial makes the worker's client on its channel to the master, with the
// codec the master offers (as shm.Dial does) unless its run puts it on
// JSON lines (runSpec.codec) or it sends poison (raw JSON lines). A worker whose master is
// gone exits at once with status 3, as shm.Main's workers do: its
// journal holds its calls.
func dial(nc net.Conn, cfg *workerConfig, late *lateWatch) *shm.Client {
	compact := strings.Contains(os.Getenv(shm.EnvCodecs), "compact") && os.Getenv(shm.EnvCodec) != "json" && !cfg.poisoned() &&
		cfg.codec(cfg.Name) == spec.CodecCompact
	return shm.NewClient(shm.NewStreamConn(nc, shm.StreamOptions{Compact: compact}), shm.ClientOptions{
		Identity:    shm.WorkerIdentity(),
		Timeout:     cfg.CallTimeout,
		RetryAfter:  cfg.RetryAfter,
		Bugs:        cfg.Bugs,
		OnUnmatched: late.unmatched,
		OnLost: func(err error) {
			fmt.Fprintf(os.Stderr, "harness worker %s: master connection lost: %v\n", cfg.Name, err)
			os.Exit(lostExit)
		},
	})
}

// lostExit is the exit status of a worker whose master connection ended.
const lostExit = 3

// journalCapacity is room for ops operations whose values are up to
// valueMax bytes (a call and a return take a few hundred bytes, and a
// value may be in both); the file is sparse.
func journalCapacity(ops, valueMax int) int64 {
	return max(1<<20, int64(ops)*(2048+2*int64(valueMax)))
}

// workerJournal is the journal of one worker incarnation: a new file for
// every process.
func workerJournal(dir string, gen int, name string, inc uint64) string {
	return filepath.Join(dir, fmt.Sprintf("g%d-i%d-%s.journal", gen, inc, name))
}

// eventJournal is the journal of a master generation's events (gen 0:
// the harness's own).
func eventJournal(dir string, gen int) string {
	return filepath.Join(dir, fmt.Sprintf("g%d-events.journal", gen))
}

// replayLog is the file of the records a run replays, in its directory.
const replayLog = "replay.jsonl"

// faultLog is where a master generation writes its fault log records.
func faultLog(dir string, gen int) string {
	return filepath.Join(dir, fmt.Sprintf("g%d-faults.jsonl", gen))
}
