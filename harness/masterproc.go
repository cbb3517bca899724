package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// MasterName is the name the harness's master body is registered under:
// a master process of its own, for plans with faults on the master. It
// is a worker of a small control master in the harness's process, whose
// store carries what the master process reports (its workers' pids, its
// result): the harness kills it, pauses it and starts it again, and
// never runs the store under test itself.
const MasterName = "shmlab-harness-master"

// envMaster holds the run's spec, as JSON, for a master process.
const envMaster = "SHMLAB_HARNESS_MASTER"

func init() {
	shm.Handle(MasterName, runMasterProcess)
}

// controlTimeout bounds a master process's calls to the control master.
const controlTimeout = 5 * time.Second

// runMasterProcess is the body of a master process: one master
// generation (its incarnation under the control master) of the run.
func runMasterProcess(ctx context.Context, c *shm.Client, _ []string) error {
	var sp runSpec
	if err := json.Unmarshal([]byte(os.Getenv(envMaster)), &sp); err != nil {
		return fmt.Errorf("harness master: $%s: %w", envMaster, err)
	}
	gen := int(shm.WorkerIdentity().Inc)
	r := newMasterRun(&sp, gen, nil)
	var mu sync.Mutex
	var pids []int
	r.onStart = func(w *shm.Worker) {
		mu.Lock()
		defer mu.Unlock()
		pids = append(pids, w.Pid())
		publish(ctx, c, pidsKey(gen), pids)
	}
	rep, err := r.run(ctx)
	if err != nil {
		return err
	}
	return publish(ctx, c, reportKey(gen), rep)
}

func pidsKey(gen int) string   { return "pids/" + strconv.Itoa(gen) }
func reportKey(gen int) string { return "report/" + strconv.Itoa(gen) }

// publish sets key in the control master's store to v as JSON.
func publish(ctx context.Context, c *shm.Client, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	return c.Set(ctx, key, shm.Value(data))
}

// masterProcs are the master processes of a run, as the target of
// process faults ("master").
type masterProcs struct {
	ctl   *shm.Master
	dir   string // the run's directory
	mu    sync.Mutex
	gens  []*masterProc // by generation - 1
	kills int           // the master's kills recorded
}

func (mp *masterProcs) latest() *masterProc {
	mp.mu.Lock()
	defer mp.mu.Unlock()
	return mp.gens[len(mp.gens)-1]
}

func (mp *masterProcs) Process(name string) faultinject.Process {
	if name != faultinject.MasterTarget {
		return nil
	}
	return mp.latest()
}

func (mp *masterProcs) Start(name string) (faultinject.Process, error) {
	if name != faultinject.MasterTarget {
		return nil, fmt.Errorf("no process %s", name)
	}
	mp.mu.Lock()
	gen := len(mp.gens) + 1
	mp.mu.Unlock()
	if err := writeTime(genBegan(mp.dir, gen), history.Now()); err != nil {
		return nil, err
	}
	w, err := mp.ctl.Restart(mp.latest().Worker)
	if err != nil {
		return nil, err
	}
	p := &masterProc{Worker: w, ctl: mp.ctl}
	mp.mu.Lock()
	mp.gens = append(mp.gens, p)
	mp.mu.Unlock()
	return p, nil
}

// masterProc is a master process. It is Done only once its workers are
// gone too (they die by their parent-death signal, a moment after it),
// so that nothing of its generation runs after its successor starts.
type masterProc struct {
	*shm.Worker
	ctl  *shm.Master
	once sync.Once
	done chan struct{}
}

func (p *masterProc) Done() <-chan struct{} {
	p.once.Do(func() {
		p.done = make(chan struct{})
		go func() {
			<-p.Worker.Done()
			waitGone(p.workerPids(), controlTimeout)
			close(p.done)
		}()
	})
	return p.done
}

// workerPids returns the pids the master process said it started.
func (p *masterProc) workerPids() []int {
	v, ok := p.ctl.Get(pidsKey(int(p.Inc)))
	var pids []int
	if ok {
		json.Unmarshal(v, &pids)
	}
	return pids
}

// waitGone waits, at most d, until none of pids runs: each has exited
// (or is a zombie waiting to be reaped, which runs no more).
func waitGone(pids []int, d time.Duration) {
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for !gone(pid) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
}

func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// runMasterProcesses runs the run's master in processes of their own,
// applies the master faults to them, and gathers their reports.
func runMasterProcesses(ctx context.Context, sp *runSpec, logf func(string, ...any)) ([]masterReport, map[int]string, error, error) {
	j, events, err := openEvents(sp.Dir, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	defer j.Close()
	ctl := shm.NewMaster(shm.MasterOptions{JSONOnly: true, Logf: logf})
	defer ctl.Close()
	env, err := json.Marshal(sp)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("harness: %w", err)
	}
	// Its stderr goes to logf, if set, as it comes; its last lines go
	// into a crash's event, or its report's logs when it exited with an
	// error (never to the terminal of the run).
	tail := newTailEmit(TailLines, func(line string) {
		if logf != nil {
			logf("master process: %s", line)
		}
	})
	w, err := ctl.Spawn(shm.WorkerSpec{Name: MasterName, Env: []string{envMaster + "=" + string(env)}, Stderr: tail})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("harness: start the master: %w", err)
	}
	mp := &masterProcs{ctl: ctl, dir: sp.Dir, gens: []*masterProc{{Worker: w, ctl: ctl}}}
	var missed map[int]string
	var faults error
	if start, err := waitStart(ctx, sp.Dir, mp.latest().Done()); err != nil {
		faults = err
	} else {
		all := sp.faults()
		r := faultinject.NewRunner(faultinject.RunnerOptions{Faults: all, Start: asTime(start), Targets: mp, Record: mp.record(events),
			Skip:     func(i int) bool { return all[i].Target != faultinject.MasterTarget },
			Happened: func(i int) { markHappened(sp.Dir, i) },
			Over:     func() <-chan struct{} { return mp.latest().Done() }})
		missed, faults = r.Run(ctx)
	}
	select {
	case <-mp.latest().Done():
	case <-ctx.Done():
		return nil, nil, nil, fmt.Errorf("harness: waiting for the master: %w", ctx.Err())
	}
	reports, ferrs := mp.reports(tail, events)
	return reports, missed, errors.Join(append([]error{faults}, ferrs...)...), nil
}

// record returns the runner's Record: it writes the master's process
// events into events, and counts the master's kills (a restart's first
// step records one too), each of which explains one master
// generation's SIGKILL.
func (mp *masterProcs) record(events *history.Recorder) func(history.Event) {
	return func(e history.Event) {
		if e.Kind == history.EventMasterKill {
			mp.mu.Lock()
			mp.kills++
			mp.mu.Unlock()
		}
		events.Event(e)
	}
}

// reports reads each master generation's report, or makes one for a
// generation that died before it could send it. A generation that
// exited with an error that no planned kill or restart explains is
// recorded in events as a crash, with the last lines of stderr.
func (mp *masterProcs) reports(stderr *Tail, events *history.Recorder) ([]masterReport, []error) {
	var out []masterReport
	var errs []error
	mp.mu.Lock()
	kills := mp.kills
	mp.mu.Unlock()
	for _, p := range mp.gens {
		gen, w := int(p.Inc), p.Worker
		rep := masterReport{MasterResult: MasterResult{Gen: gen, Pid: w.Pid()}}
		if v, ok := mp.ctl.Get(reportKey(gen)); ok {
			if err := json.Unmarshal(v, &rep); err != nil {
				errs = append(errs, fmt.Errorf("master %d: report: %w", gen, err))
			}
			rep.Pid = w.Pid()
		}
		err := w.Wait() // before ProcessState, which is nil until the process is reaped
		rep.Killed = killed(w.ProcessState())
		if err != nil && !rep.Killed {
			rep.Logs = append(rep.Logs, "exited: "+err.Error())
			for _, l := range stderr.Lines() {
				rep.Logs = append(rep.Logs, "stderr: "+l)
			}
		}
		switch {
		case err == nil:
		case rep.Killed && kills > 0:
			kills--
		default:
			e := ExitOf(faultinject.MasterTarget, w.Pid(), w.ProcessState(), stderr.Lines())
			rep.Crashed, rep.Killed = true, false
			events.Event(e.Crash())
		}
		if f := rep.faultErr(); f != nil {
			errs = append(errs, fmt.Errorf("master %d: %w", gen, f))
		}
		out = append(out, rep)
	}
	return out, errs
}
