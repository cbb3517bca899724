package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// Target says which system a run puts under test.
type Target struct {
	// Node, if set, runs a Node.js target (package node): the adapter's
	// library in node processes, or Node workers against shmlab's Go
	// master. Nil runs the reference: the Go master and Go workers.
	Node *NodeTarget
}

// NodeTarget is a Node.js system under test.
type NodeTarget struct {
	// Adapter is the adapter file (node/README.md). Empty with Master
	// MasterReference: shmlab's own client in the article's wire format.
	Adapter string
	// Master is "" (MasterAdapter: the adapter's master hook, in a
	// cluster primary run by shmlab's package) or MasterReference
	// (shmlab's Go master, which spawns the Node workers itself).
	Master string
	// Node is the node binary ("node" on PATH if empty).
	Node string
}

// The masters of a Node target.
const (
	MasterAdapter   = ""
	MasterReference = "reference"
)

// ErrNodeTarget is wrapped by the errors of a Node target that cannot run.
var ErrNodeTarget = errors.New("harness: node target")

// validate checks t against the run's spec.
func (t *NodeTarget) validate(sp *spec) error {
	switch t.Master {
	case MasterAdapter:
		if t.Adapter == "" {
			return fmt.Errorf("%w: no adapter file", ErrNodeTarget)
		}
	case MasterReference:
		if len(sp.masterFaults()) > 0 {
			return fmt.Errorf("%w: faults on the master need master: adapter (the reference master runs inside shmlab)", ErrNodeTarget)
		}
	default:
		return fmt.Errorf("%w: master %q: want the adapter's (empty) or %q", ErrNodeTarget, t.Master, MasterReference)
	}
	if sp.Plan != nil && len(sp.Plan.Bytes) > 0 {
		return fmt.Errorf("%w: byte faults need shmlab's own framing; a Node channel is Node's", ErrNodeTarget)
	}
	for i, f := range sp.faults() {
		if f.After != nil {
			return fmt.Errorf("%w: processes[%d]: a fault aimed by progress (after) needs the Go master's view of requests; aim it by time (at)", ErrNodeTarget, i)
		}
	}
	if sp.Bugs != 0 {
		return fmt.Errorf("%w: client bugs are the Go client's", ErrNodeTarget)
	}
	return nil
}

// nodeProc is one worker process of a Node target: forked by the
// cluster primary (its pid reported over the control socket) or spawned
// by the Go master. It is a faultinject.Process.
type nodeProc struct {
	name string
	gen  int
	inc  uint64

	mu     sync.Mutex
	pid    int
	pidSet chan struct{} // closed once pid is known
	done   chan struct{} // closed once it has exited
	exit   ProcessExit
	ended  bool // shmlab told it to end: an exit then is planned
	ctl    *ctlConn
	hello  chan struct{} // closed at its hello

	finished chan struct{} // closed once it has made its operations
	replies  chan *ctlMsg  // its answers
	ctlGone  chan struct{} // closed when its control connection ended
	shm      *shm.Worker   // its process, under the Go master
	poisoned chan *ctlMsg  // it sent the poison messages
}

func newNodeProc(name string, gen int, inc uint64) *nodeProc {
	return &nodeProc{name: name, gen: gen, inc: inc, pidSet: make(chan struct{}), done: make(chan struct{}), hello: make(chan struct{}),
		finished: make(chan struct{}), replies: make(chan *ctlMsg, 1), ctlGone: make(chan struct{}), poisoned: make(chan *ctlMsg, 1)}
}

func (p *nodeProc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

func (p *nodeProc) Done() <-chan struct{} { return p.done }

// setPid records the process id, once. A process forked by a primary
// is watched, in case its exit is never reported; one of the Go master
// (p.shm) is reaped by it.
func (p *nodeProc) setPid(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pid == 0 && pid > 0 {
		p.pid = pid
		close(p.pidSet)
		if p.shm == nil {
			go p.watchPid(pid)
		}
	}
}

// watchPid closes done once pid is gone, in case no exit is reported
// (its primary died first).
func (p *nodeProc) watchPid(pid int) {
	for {
		select {
		case <-p.done:
			return
		case <-time.After(50 * time.Millisecond):
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			p.mu.Lock()
			reaped := p.shm != nil // the Go master's: its watcher says how it ended
			p.mu.Unlock()
			if reaped {
				return
			}
			p.exited(ProcessExit{Why: "gone (its exit was not reported: its master died first)"})
			return
		}
	}
}

// exited records how it ended and closes done, once.
func (p *nodeProc) exited(e ProcessExit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return
	default:
	}
	e.Who, e.Gen, e.Inc, e.Pid = p.name, p.gen, p.inc, p.pid
	e.Planned = e.Planned || p.ended
	p.exit = e
	close(p.done)
}

func (p *nodeProc) exitInfo() ProcessExit {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// ProcessExit is how a process of a run ended: a worker or a master of a
// Node target. (The liveness checker reports the unplanned ones as
// "crashed".)
type ProcessExit struct {
	// Who is the worker's name or "master"; Gen its master generation,
	// Inc its incarnation (0 for a master), Pid its process id.
	Who string `json:"who"`
	Gen int    `json:"gen"`
	Inc uint64 `json:"inc,omitempty"`
	Pid int    `json:"pid"`
	// Code is its exit status, Signal the signal that ended it ("" if
	// none), Why what else is known.
	Code   int    `json:"code"`
	Signal string `json:"signal,omitempty"`
	Why    string `json:"why,omitempty"`
	// Planned says a fault or the end of the run explains it.
	Planned bool `json:"planned"`
	// Stderr holds the last lines it wrote to its standard error.
	Stderr []string `json:"stderr,omitempty"`
}

func (e ProcessExit) String() string {
	s := fmt.Sprintf("%s (master %d", e.Who, e.Gen)
	if e.Inc > 0 {
		s += fmt.Sprintf(", incarnation %d", e.Inc)
	}
	s += fmt.Sprintf(", pid %d) exited", e.Pid)
	switch {
	case e.Signal != "":
		s += " by signal " + e.Signal
	default:
		s += fmt.Sprintf(" with status %d", e.Code)
	}
	if e.Why != "" {
		s += ": " + e.Why
	}
	return s
}

// nodeCommand returns the node binary and checks it runs.
func nodeCommand(t *NodeTarget) (string, error) {
	bin := t.Node
	if bin == "" {
		bin = "node"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNodeTarget, err)
	}
	return p, nil
}

// adapterPath returns the adapter file's absolute path, or the
// reference client's in the installed package.
func adapterPath(t *NodeTarget, pkg string) (string, error) {
	if t.Adapter == "" {
		return filepath.Join(pkg, "adapters", "reference.js"), nil
	}
	p, err := filepath.Abs(t.Adapter)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNodeTarget, err)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: adapter: %w", ErrNodeTarget, err)
	}
	return p, nil
}

// mixFor leaves out of mix the methods the adapter's client lacks, and
// names them.
func mixFor(mix workload.Mix, methods []string) (workload.Mix, []string, error) {
	if mix.Sum() == 0 {
		mix = workload.DefaultMix
	}
	has := map[string]bool{}
	for _, m := range methods {
		has[m] = true
	}
	var out []string
	drop := func(w *int, name string) {
		if *w > 0 && !has[name] {
			*w = 0
			out = append(out, name)
		}
	}
	if !has["get"] || !has["set"] {
		return mix, nil, fmt.Errorf("%w: the adapter's client has no get or set (it has %v)", ErrNodeTarget, methods)
	}
	drop(&mix.Delete, "delete")
	drop(&mix.CAS, "cas")
	drop(&mix.Add, "add")
	if mix.Sum() == 0 {
		return mix, out, fmt.Errorf("%w: nothing left of the mix without %v", ErrNodeTarget, out)
	}
	return mix, out, nil
}

// nodeStartWait bounds the wait for node processes to start and say
// hello (node starts in tens of milliseconds; a busy machine is slower).
const nodeStartWait = 60 * time.Second

// Is it aimed at a master?
func isMaster(name string) bool { return name == faultinject.MasterTarget }

var _ = linearizability.Now
