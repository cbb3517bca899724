package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/node"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// nodeRun is a run of a Node target: its control socket, its masters
// (cluster primaries, or the Go master for MasterReference) and their
// worker processes, driven one operation at a time.
type nodeRun struct {
	sp   *runSpec
	t    *spec.NodeTarget
	logf func(string, ...any)

	node, pkg, adapter string
	nodePath           string // NODE_PATH: shmlab's package and the adapter's npm packages
	sockDir, sock      string
	ln                 net.Listener

	journal *history.Journal
	events  *history.Recorder

	mu        sync.Mutex
	gen       int
	masters   []*nodeMaster
	procs     map[procKey]*nodeProc
	current   map[string]*nodeProc
	all       []*nodeProc
	nextInc   uint64 // the last incarnation given under the current primary
	methods   []string
	locking   bool // the adapter has lock and unlock: increments are made under the lock
	leftOut   []string
	mix       workload.Mix
	start     int64
	started   chan struct{} // closed when the workload begins
	runner    *faultinject.Runner
	logs      []string
	closed    bool
	finals    []history.Op // the final reads
	missed    map[int]string
	faultErr  error
	stuck     error              // a stuck worker ended the run (fail)
	stuckProc *nodeProc          // that worker
	cancel    context.CancelFunc // cancels the run's context
	stop      chan struct{}      // closed at shutdown: the watchdog stops

	ref        *shm.Master          // MasterReference: the Go master
	refRecords []faultinject.Record // its message faults' decisions
}

type procKey struct {
	gen int
	inc uint64
}

// nodeMaster is one master generation of a Node target: a cluster
// primary process, or (pid 0) the Go master.
type nodeMaster struct {
	gen       int
	cmd       *exec.Cmd
	done      chan struct{}
	hello     chan struct{}
	ctl       *ctlConn
	finalRead bool
	final     chan *ctlMsg
	stderr    *Tail
	stopping  bool
	paused    bool // a planned pause stops it (under nodeRun.mu)
	exit      ProcessExit
}

func (m *nodeMaster) Pid() int {
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

func (m *nodeMaster) Done() <-chan struct{} { return m.done }

// runNodeTarget runs a Node target (Config.Target.Node).
func runNodeTarget(ctx context.Context, sp *runSpec, c *Config) (*Result, error) {
	t := &c.Target.Node
	if err := validateNode(t, sp); err != nil {
		return nil, err
	}
	r := &nodeRun{sp: sp, t: t, logf: c.Logf, procs: make(map[procKey]*nodeProc), current: make(map[string]*nodeProc),
		started: make(chan struct{}), stop: make(chan struct{})}
	var err error
	if r.node, err = nodeCommand(); err != nil {
		return nil, err
	}
	if r.pkg, err = node.Install(node.CacheRoot()); err != nil {
		return nil, err
	}
	if r.adapter, err = adapterPath(t, sp.Dir); err != nil {
		return nil, err
	}
	if err := checkPins(r.adapter, t.Packages); err != nil {
		return nil, err
	}
	if r.nodePath, err = modulePath(ctx, r.pkg, t.Packages); err != nil {
		return nil, err
	}
	if err := r.listen(); err != nil {
		return nil, err
	}
	defer os.RemoveAll(r.sockDir)
	defer r.ln.Close()
	if r.journal, r.events, err = openEvents(sp.Dir, 0); err != nil {
		return nil, err
	}
	ctx, r.cancel = context.WithCancel(ctx)
	defer r.cancel()
	go r.accept(ctx)
	rerr := r.run(ctx)
	r.shutdown()
	r.closeEvents()
	res, err := r.result()
	if err != nil {
		return nil, errors.Join(rerr, err)
	}
	return res, rerr
}

// listen makes the control socket, in a short folder of its own (a Unix
// socket's path is at most 107 bytes).
func (r *nodeRun) listen() error {
	var err error
	if r.sockDir, err = os.MkdirTemp("", "shmlab-ctl-"); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	r.sock = r.sockDir + "/ctl.sock"
	if r.ln, err = net.Listen("unix", r.sock); err != nil {
		os.RemoveAll(r.sockDir)
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// run starts the first master and its workers, begins the workload once
// every worker said hello, applies the process faults, and ends with
// the final reads.
//
// A current worker that makes no progress (stuckWorker) ends the run
// with an error naming it.
func (r *nodeRun) run(ctx context.Context) error {
	if _, err := r.startMaster(ctx); err != nil {
		return err
	}
	if err := r.awaitHellos(ctx); err != nil {
		return err
	}
	r.begin()
	missed, ferr := r.runner.Run(ctx)
	r.mu.Lock()
	r.missed, r.faultErr = missed, ferr
	r.mu.Unlock()
	select {
	case <-r.over():
	case <-ctx.Done():
		return r.cause(fmt.Errorf("harness: waiting for the workers: %w", ctx.Err()))
	}
	r.finalReads(ctx)
	return r.cause(nil)
}

// workerEnv is the environment every worker process is given.
func (r *nodeRun) env(gen int) []string {
	e := []string{
		"SHMLAB_NODE_CONTROL=" + r.sock,
		"SHMLAB_NODE_ADAPTER=" + r.adapter,
		"SHMLAB_NODE_DIR=" + r.sp.Dir,
		"SHMLAB_NODE_GEN=" + strconv.Itoa(gen),
		"SHMLAB_NODE_WORKERS=" + strconv.Itoa(r.sp.Workers),
		"SHMLAB_NODE_TIMEOUT_MS=" + strconv.FormatInt(max(1, r.sp.CallTimeout.Milliseconds()), 10),
	}
	if r.nodePath != "" {
		e = append(e, "NODE_PATH="+r.nodePath)
	}
	if r.t.MasterOrDefault() == spec.NodeMaster && r.sp.Plan != nil && len(r.sp.Plan.Messages) > 0 {
		plan, err := json.Marshal(&faultinject.Plan{Seed: r.sp.Plan.Seed, Messages: r.sp.Plan.Messages})
		if err != nil {
			panic(err) // a plan is plain data
		}
		e = append(e, "SHMLAB_NODE_PLAN="+string(plan), "SHMLAB_NODE_FAULTS=master")
	}
	return e
}

// startMaster starts the next master generation with its workers.
func (r *nodeRun) startMaster(ctx context.Context) (*nodeMaster, error) {
	r.mu.Lock()
	r.gen++
	gen := r.gen
	r.nextInc = 0
	m := &nodeMaster{gen: gen, done: make(chan struct{}), hello: make(chan struct{}), final: make(chan *ctlMsg, 1),
		stderr: newTailEmit(0, func(s string) { r.log("master %d: %s", gen, s) })}
	if r.t.MasterOrDefault() != spec.ReferenceMaster {
		// Made under the lock: procLocked reads m.cmd.
		m.cmd = exec.Command(r.node, r.pkg+"/lib/primary.js")
		m.cmd.Env = append(os.Environ(), r.env(gen)...)
		m.cmd.Stdout, m.cmd.Stderr = m.stderr, m.stderr
		m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		m.cmd.WaitDelay = aliveWait // its stderr's readers end even if a child kept it open
	}
	r.masters = append(r.masters, m)
	r.mu.Unlock()
	if m.cmd == nil {
		close(m.hello)
		return m, r.startReference(m)
	}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start node: %w", ErrNodeTarget, err)
	}
	go r.waitMaster(m)
	select {
	case <-m.hello:
	case <-m.done:
		return m, fmt.Errorf("%w: the primary exited before its hello: %v%s", ErrNodeTarget, m.exit, stderrText(m.exit.Stderr))
	case <-time.After(nodeStartWait):
		return m, fmt.Errorf("%w: the primary said no hello within %v", ErrNodeTarget, nodeStartWait)
	case <-ctx.Done():
		return m, ctx.Err()
	}
	return m, nil
}

// waitMaster waits for a primary to exit and records how.
func (r *nodeRun) waitMaster(m *nodeMaster) {
	err := m.cmd.Wait()
	r.mu.Lock()
	m.exit = exitOf(faultinject.MasterTarget, m.gen, 0, m.cmd.Process.Pid, m.cmd.ProcessState, err)
	m.exit.Time = history.Now()
	m.exit.Planned = m.stopping || m.exit.Signal == sigKill
	m.exit.Stderr = m.stderr.Lines()
	r.mu.Unlock()
	close(m.done)
}

// stderrText shows the last lines of a process's stderr in an error.
func stderrText(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "; its stderr ends:\n  " + strings.Join(lines, "\n  ")
}

// exitOf describes an exited process.
func exitOf(who string, gen int, inc uint64, pid int, ps *os.ProcessState, err error) ProcessExit {
	e := ProcessExit{Exit: ExitOf(who, pid, ps, nil), Gen: gen, Inc: inc}
	if ps == nil {
		e.Why = fmt.Sprint(err)
	}
	return e
}

// awaitHellos waits for every worker of the first master to say hello,
// and fixes the workload's mix by the methods they have.
func (r *nodeRun) awaitHellos(ctx context.Context) error {
	deadline := time.After(nodeStartWait)
	for i := 1; i <= r.sp.Workers; i++ {
		p := r.proc(1, uint64(i), "")
		if r.t.MasterOrDefault() == spec.ReferenceMaster {
			p = r.currentProc(fmt.Sprintf("w%d", i))
		}
		select {
		case <-p.hello:
		case <-p.done:
			e := p.exitInfo()
			return fmt.Errorf("%w: worker %s exited before its hello: %v%s", ErrNodeTarget, p.name, e, stderrText(e.Stderr))
		case <-deadline:
			return fmt.Errorf("%w: worker %s said no hello within %v", ErrNodeTarget, p.name, nodeStartWait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mix, r.leftOut, err = mixFor(r.sp.Mix, r.methods)
	r.locking = slices.Contains(r.methods, "lock") && slices.Contains(r.methods, "unlock")
	if len(r.leftOut) > 0 {
		r.logLocked("the adapter's client has no %v: left out of the mix", r.leftOut)
	}
	return err
}

// begin begins the workload: the start time, told to every process, and
// the process faults' runner.
func (r *nodeRun) begin() {
	r.mu.Lock()
	r.start = history.Now()
	at := strconv.FormatInt(r.start, 10)
	var ctls []*ctlConn
	for _, m := range r.masters {
		if m.ctl != nil {
			ctls = append(ctls, m.ctl)
		}
	}
	for _, p := range r.all {
		if p.ctl != nil {
			ctls = append(ctls, p.ctl)
		}
	}
	r.runner = faultinject.NewRunner(faultinject.RunnerOptions{Faults: r.sp.faults(), Start: asTime(r.start),
		Targets: nodeTargets{r}, Record: r.event, Over: r.over, Lossy: r.sp.Plan.MayLoseRequests()})
	r.mu.Unlock()
	for _, c := range ctls {
		c.send(&ctlMsg{T: "start", At: at})
	}
	close(r.started)
	go r.watch(r.stop)
}

// event records a process event.
func (r *nodeRun) event(e history.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notePause(e, time.Now())
	if !r.closed {
		r.events.Event(e)
	}
}

func (r *nodeRun) log(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logLocked(format, args...)
}

func (r *nodeRun) logLocked(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.logs = append(r.logs, line)
	if r.logf != nil {
		r.logf("%s", line)
	}
}

// proc returns the worker process (gen, inc), made if new; name, if
// given, names it.
func (r *nodeRun) proc(gen int, inc uint64, name string) *nodeProc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.procLocked(gen, inc, name)
}

func (r *nodeRun) procLocked(gen int, inc uint64, name string) *nodeProc {
	k := procKey{gen, inc}
	p := r.procs[k]
	if p == nil {
		p = newNodeProc(name, gen, inc)
		p.expectLocked(fmt.Sprintf("its fork by master %d (its pid)", gen), nodeStartWait)
		for _, m := range r.masters {
			if m.gen == gen && m.cmd != nil {
				p.masterDone = m.done
			}
		}
		r.procs[k] = p
		r.all = append(r.all, p)
	}
	if p.name == "" {
		p.name = name
	}
	if name != "" && gen == r.gen {
		if cur := r.current[name]; cur == nil || cur.gen < gen || (cur.gen == gen && cur.inc <= inc) {
			r.current[name] = p
		}
	}
	return p
}

func (r *nodeRun) currentProc(name string) *nodeProc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current[name]
}

// over returns a channel closed once every worker's current process has
// made its operations or exited.
func (r *nodeRun) over() <-chan struct{} {
	r.mu.Lock()
	ps := make([]*nodeProc, 0, len(r.current))
	for _, p := range r.current {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	ch := make(chan struct{})
	go func() {
		for _, p := range ps {
			select {
			case <-p.finished:
			case <-p.done:
			}
		}
		close(ch)
	}()
	return ch
}

// closeEvents closes the event journal.
func (r *nodeRun) closeEvents() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.journal.Close()
}

// nodeTargets makes a Node target's processes the targets of process
// faults.
type nodeTargets struct{ r *nodeRun }

func (t nodeTargets) Process(name string) faultinject.Process {
	r := t.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if isMaster(name) {
		if len(r.masters) == 0 {
			return nil
		}
		return r.masters[len(r.masters)-1]
	}
	if p := r.current[name]; p != nil && p.Pid() != 0 {
		return p
	}
	return nil
}

func (t nodeTargets) Start(name string) (faultinject.Process, error) {
	r := t.r
	if isMaster(name) {
		m, err := r.startMaster(context.Background())
		if err != nil {
			return nil, err
		}
		for i := 1; i <= r.sp.Workers; i++ {
			p := r.proc(m.gen, uint64(i), fmt.Sprintf("w%d", i))
			select {
			case <-p.pidSet:
			case <-time.After(nodeStartWait):
				return m, fmt.Errorf("%w: master %d did not fork %s within %v", ErrNodeTarget, m.gen, p.name, nodeStartWait)
			}
		}
		return m, nil
	}
	return r.restartWorker(name)
}

// Poison has worker target send the poison messages
// (faultinject.PoisonFrames) into its master's channel, around the
// fault shim, and returns the event saying so: a faultinject.Poisoner.
func (t nodeTargets) Poison(target string) (history.Event, error) {
	r := t.r
	p := r.currentProc(target)
	if p == nil || p.ctl == nil {
		return history.Event{}, faultinject.ErrNotRunning
	}
	if err := p.ctl.send(&ctlMsg{T: "poison"}); err != nil {
		return history.Event{}, faultinject.ErrNotRunning
	}
	select {
	case msg := <-p.poisoned:
		at, err := strconv.ParseInt(msg.At, 10, 64)
		end, err2 := strconv.ParseInt(msg.End, 10, 64)
		if err != nil || err2 != nil {
			return history.Event{}, fmt.Errorf("%w: poisoned at %q to %q", ErrNodeTarget, msg.At, msg.End)
		}
		return history.Event{Kind: history.EventPoison, Time: at, End: max(at, end), Worker: target,
			Text: faultinject.PoisonText()}, nil
	case <-p.ctlGone:
		return history.Event{}, faultinject.ErrNotRunning
	case <-time.After(nodeStartWait):
		return history.Event{}, fmt.Errorf("%w: %s did not send the poison within %v", ErrNodeTarget, target, nodeStartWait)
	}
}

// restartWorker starts name's worker again as a new incarnation.
func (r *nodeRun) restartWorker(name string) (*nodeProc, error) {
	if r.t.MasterOrDefault() == spec.ReferenceMaster {
		return r.restartReference(name)
	}
	r.mu.Lock()
	m := r.masters[len(r.masters)-1]
	inc := max(r.nextInc, uint64(r.sp.Workers)) + 1
	r.nextInc = inc
	p := r.procLocked(m.gen, inc, name)
	r.mu.Unlock()
	never := func(err error) (*nodeProc, error) {
		p.exited(ProcessExit{Planned: true, Why: "never forked: " + err.Error()})
		return nil, err
	}
	if m.ctl == nil {
		return never(fmt.Errorf("%w: no primary to fork %s", ErrNodeTarget, name))
	}
	if err := m.ctl.send(&ctlMsg{T: "fork", Worker: name, Inc: inc}); err != nil {
		return never(fmt.Errorf("%w: fork %s: %w", ErrNodeTarget, name, err))
	}
	select {
	case <-p.pidSet:
		return p, nil
	case <-m.done:
		select {
		case <-p.pidSet: // reported just before it went
			return p, nil
		default:
		}
		return never(fmt.Errorf("%w: the primary exited before it forked %s", ErrNodeTarget, name))
	case <-time.After(nodeStartWait):
		return nil, fmt.Errorf("%w: the primary did not fork %s within %v", ErrNodeTarget, name, nodeStartWait)
	}
}
