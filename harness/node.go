package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/npmcache"
	"github.com/shmlab/shmlab/node"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
	"github.com/shmlab/shmlab/workload"
)

// ErrNodeTarget is wrapped by the errors of a Node target that cannot run.
var ErrNodeTarget = errors.New("harness: node target")

// validateNode checks a Node target t against the run's spec.
func validateNode(t *spec.NodeTarget, sp *runSpec) error {
	if t.MasterOrDefault() == spec.ReferenceMaster && len(sp.masterFaults()) > 0 {
		return fmt.Errorf("%w: faults on the master need the adapter's master (the reference master runs inside shmlab)", ErrNodeTarget)
	}
	if sp.Plan != nil && len(sp.Plan.Bytes) > 0 {
		return fmt.Errorf("%w: byte faults need shmlab's own framing; a Node channel is Node's", ErrNodeTarget)
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
	called   chan *ctlMsg  // it called the library (an operation with Notify)

	masterDone <-chan struct{} // closed once its primary has exited (nil: none known)

	// What shmlab waits for it to do (its hello, an answer), since when
	// and for how long at most (stallWait); paused while a planned pause
	// stops it. Under mu.
	waitFor   string
	waitSince time.Time
	waitBound time.Duration
	paused    bool
}

func newNodeProc(name string, gen int, inc uint64) *nodeProc {
	return &nodeProc{name: name, gen: gen, inc: inc, pidSet: make(chan struct{}), done: make(chan struct{}), hello: make(chan struct{}),
		finished: make(chan struct{}), replies: make(chan *ctlMsg, 1), ctlGone: make(chan struct{}), poisoned: make(chan *ctlMsg, 1), called: make(chan *ctlMsg, 1)}
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
		select {
		case <-p.hello:
		default:
			p.expectLocked("its hello", nodeStartWait)
		}
		if p.shm == nil {
			go p.watchPid(pid)
		}
	}
}

// exitReportWait is how long a worker's pid may be gone before its
// primary's report of the exit: past it, the primary is taken to have
// died first.
const exitReportWait = 2 * time.Second

// watchPid closes done once pid is gone, in case no exit is reported
// (its primary died first).
func (p *nodeProc) watchPid(pid int) {
	for {
		select {
		case <-p.done:
			return
		case <-time.After(50 * time.Millisecond):
		}
		if gone(pid) {
			p.mu.Lock()
			reaped := p.shm != nil // the Go master's: its watcher says how it ended
			p.mu.Unlock()
			if reaped {
				return
			}
			// Its primary reports the exit (with the signal a planned kill
			// shows by) a little after the pid is gone: wait for that,
			// unless the primary is gone too, before saying it was not
			// reported.
			p.mu.Lock()
			masterDone := p.masterDone
			p.mu.Unlock()
			select {
			case <-p.done:
				return
			case <-masterDone:
			case <-time.After(exitReportWait):
			}
			// Its status is not known: not taken for a crash.
			p.exited(ProcessExit{Exit: Exit{Code: -1}, Planned: true, Why: "gone (its exit was not reported: its master died first)"})
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
	e.Process, e.Gen, e.Inc, e.Pid, e.Time = p.name, p.gen, p.inc, p.pid, history.Now()
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

// ProcessExit is how a process of a Node target's run ended: its Exit,
// which master and incarnation it was, and whether a fault or the end of
// the run explains it. (The liveness checker reports the unplanned ones
// as "crashed".)
type ProcessExit struct {
	Exit
	// Gen is its master generation, Inc its incarnation (0 for a master).
	Gen int    `json:"gen"`
	Inc uint64 `json:"inc,omitempty"`
	// Why is what else is known of its end.
	Why string `json:"why,omitempty"`
	// Planned says a fault or the end of the run explains it.
	Planned bool `json:"planned"`
}

// crash is the history event of an exit no fault planned.
func (e ProcessExit) crash() history.Event {
	ev := e.Exit.Crash()
	ev.Text = fmt.Sprintf("%s (master %d, pid %d)", e.Process, e.Gen, e.Pid)
	return ev
}

func (e ProcessExit) String() string {
	s := fmt.Sprintf("%s (master %d", e.Process, e.Gen)
	if e.Inc > 0 {
		s += fmt.Sprintf(", incarnation %d", e.Inc)
	}
	s += fmt.Sprintf(", pid %d) exited with %s", e.Pid, e.Status())
	if e.Why != "" {
		s += ": " + e.Why
	}
	return s
}

// EnvNode names the environment variable that, when set, is the node
// binary a Node target runs (else node on PATH).
const EnvNode = "SHMLAB_NODE"

// nodeCommand returns the node binary.
func nodeCommand() (string, error) {
	bin := os.Getenv(EnvNode)
	if bin == "" {
		bin = "node"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNodeTarget, err)
	}
	return p, nil
}

// adapterPath returns the adapter file's absolute path: t.Path, or, for
// an adapter in embedded files (a bundled scenario's), the copy written
// into dir.
func adapterPath(t *spec.NodeTarget, dir string) (string, error) {
	if t.FS != nil {
		b, err := t.ReadAdapter()
		if err != nil {
			return "", fmt.Errorf("%w: adapter: %w", ErrNodeTarget, err)
		}
		p := filepath.Join(dir, "adapter-"+path.Base(t.Path))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return "", fmt.Errorf("%w: adapter: %w", ErrNodeTarget, err)
		}
		return p, nil
	}
	p, err := filepath.Abs(t.Path)
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
	for _, m := range []string{"get", "set"} {
		if !has[m] {
			return mix, nil, fmt.Errorf("%w: the adapter's client has no %s, which every workload needs (it has %s)", ErrNodeTarget, m, strings.Join(methods, ", "))
		}
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

var _ = history.Now

// modulePath returns the NODE_PATH of a Node target's processes:
// shmlab's package (require('shmlab')), then each npm package the
// adapter needs, installed into the npm cache folder if missing.
func modulePath(ctx context.Context, pkg string, packages []string) (string, error) {
	dirs := []string{node.Modules(pkg)}
	if len(packages) > 0 {
		c, err := npmcache.Default()
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrNodeTarget, err)
		}
		for _, p := range packages {
			d, err := c.Install(ctx, p)
			if err != nil {
				return "", fmt.Errorf("%w: %w", ErrNodeTarget, err)
			}
			dirs = append(dirs, filepath.Join(d, "node_modules"))
		}
	}
	return strings.Join(dirs, string(os.PathListSeparator)), nil
}
