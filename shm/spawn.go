package shm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/shmlab/shmlab/internal/pipe"
)

// Environment variables that tell a re-executed process it is a worker.
const (
	EnvWorker      = "SHMLAB_WORKER"      // the registered WorkerFunc to run
	EnvWorkerID    = "SHMLAB_WORKER_ID"   // the worker id
	EnvIncarnation = "SHMLAB_INCARNATION" // the incarnation
	EnvChannelFD   = "NODE_CHANNEL_FD"    // the fd of the channel (always 3), as Node's
	EnvUniqueID    = "NODE_UNIQUE_ID"     // the worker id, as Node's cluster
)

// WorkerSpec says what process to run as a worker.
type WorkerSpec struct {
	// Name is the WorkerFunc (registered with Handle) that a re-executed
	// copy of this binary runs. Ignored when Command is set.
	Name string
	// Args are passed to the WorkerFunc (or appended to Command's args).
	Args []string
	// Command, if set, makes the command to run instead, such as a node
	// script. It is called again for each restart. The master adds the
	// channel at fd 3 and the environment variables.
	Command func() *exec.Cmd
	// Env holds extra environment variables ("KEY=value") for the process.
	Env []string
	// Stdout and Stderr receive the worker's output (os.Stderr for both if nil).
	Stdout, Stderr io.Writer
	// Serve, if set, takes the master's end of the channel instead of the
	// master serving it: benchmarks use it for a raw floor, tests for a
	// master that misbehaves on purpose. It owns the connection.
	Serve func(c net.Conn) error
}

// Worker is a worker process with its connection to the master.
type Worker struct {
	ID   int64  // stable across restarts
	Inc  uint64 // incarnation: new for every process, never reused
	Spec WorkerSpec

	cmd  *exec.Cmd
	raw  net.Conn
	conn Conn
	done chan struct{}
	err  error // exit status, valid after done
	serr error // why serving ended, valid after done
}

// Pid returns the process id.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

// Done is closed when the process has exited and its connection has ended.
func (w *Worker) Done() <-chan struct{} { return w.done }

// Wait waits for the process to exit and returns its exit status.
func (w *Worker) Wait() error {
	<-w.done
	return w.err
}

// ServeErr returns why the master stopped serving the worker (nil for a
// normal end), once Done is closed.
func (w *Worker) ServeErr() error {
	<-w.done
	return w.serr
}

// ProcessState returns the exited process's state (resource usage
// included), waiting for the exit.
func (w *Worker) ProcessState() *os.ProcessState {
	<-w.done
	return w.cmd.ProcessState
}

// Signal sends sig to the process.
func (w *Worker) Signal(sig os.Signal) error { return w.cmd.Process.Signal(sig) }

// Kill kills the process with SIGKILL.
func (w *Worker) Kill() error { return w.cmd.Process.Kill() }

// spawner starts processes from one locked OS thread: a worker is killed
// when the thread that forked it dies (PR_SET_PDEATHSIG), so that thread
// must live as long as the master.
type spawner struct {
	m        *Master
	threadMu sync.Mutex
	reqs     chan func()
	mu       sync.Mutex
	nextID   int64
	nextInc  uint64
	workers  map[int64]*Worker
}

func (s *spawner) init(m *Master) {
	s.m, s.workers = m, make(map[int64]*Worker)
}

// onThread runs f on the spawning thread, starting it if needed.
func (s *spawner) onThread(f func()) {
	s.threadMu.Lock()
	defer s.threadMu.Unlock()
	if s.reqs == nil {
		s.reqs = make(chan func())
		go func(reqs chan func()) {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			for f := range reqs {
				f()
			}
		}(s.reqs)
	}
	done := make(chan struct{})
	s.reqs <- func() { f(); close(done) }
	<-done
}

// stopThread ends the spawning thread once no worker is left to need it.
func (s *spawner) stopThread() {
	s.threadMu.Lock()
	defer s.threadMu.Unlock()
	if s.reqs != nil {
		close(s.reqs)
		s.reqs = nil
	}
}

// Spawn starts a new worker process with the next worker id.
func (m *Master) Spawn(spec WorkerSpec) (*Worker, error) {
	m.spawner.mu.Lock()
	m.nextID++
	id := m.nextID
	m.spawner.mu.Unlock()
	return m.startWorker(id, spec)
}

// Fork starts n workers from the same spec, like Node's cluster.fork.
func (m *Master) Fork(n int, spec WorkerSpec) ([]*Worker, error) {
	ws := make([]*Worker, 0, n)
	for range n {
		w, err := m.Spawn(spec)
		if err != nil {
			return ws, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// Restart kills w if it is still running, waits for it, and starts the same
// spec again under the same worker id with a new incarnation.
func (m *Master) Restart(w *Worker) (*Worker, error) {
	w.Kill()
	<-w.done
	return m.startWorker(w.ID, w.Spec)
}

// Workers returns the current process of each worker id, in id order.
func (m *Master) Workers() []*Worker {
	m.spawner.mu.Lock()
	defer m.spawner.mu.Unlock()
	ws := make([]*Worker, 0, len(m.workers))
	for id := int64(1); id <= m.nextID; id++ {
		if w := m.workers[id]; w != nil {
			ws = append(ws, w)
		}
	}
	return ws
}

func (m *Master) startWorker(id int64, spec WorkerSpec) (*Worker, error) {
	m.spawner.mu.Lock()
	m.nextInc++
	w := &Worker{ID: id, Inc: m.nextInc, Spec: spec, done: make(chan struct{})}
	m.spawner.mu.Unlock()
	cmd, err := command(spec)
	if err != nil {
		return nil, err
	}
	w.cmd = cmd
	if err := m.launch(w); err != nil {
		return nil, err
	}
	m.spawner.mu.Lock()
	m.workers[id] = w
	m.spawner.mu.Unlock()
	go m.watch(w)
	return w, nil
}

func command(spec WorkerSpec) (*exec.Cmd, error) {
	if spec.Command != nil {
		cmd := spec.Command()
		cmd.Args = append(cmd.Args, spec.Args...)
		return cmd, nil
	}
	if spec.Name == "" {
		return nil, errors.New("shm: spawn: WorkerSpec needs a Name or a Command")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("shm: spawn: %w", err)
	}
	cmd := exec.Command(exe, spec.Args...)
	cmd.Env = append(os.Environ(), EnvWorker+"="+spec.Name)
	return cmd, nil
}

// launch makes the socket pair, starts the process with one end at fd 3,
// and keeps the other end as the worker's connection.
func (m *Master) launch(w *Worker) error {
	parent, child, err := pipe.SocketPair("shm-master", "shm-worker")
	if err != nil {
		return fmt.Errorf("shm: spawn: %w", err)
	}
	defer parent.Close()
	defer child.Close()
	prepare(w, child)
	if !m.opts.JSONOnly {
		w.cmd.Env = append(w.cmd.Env, EnvCodecs+"=compact")
	}
	m.onThread(func() { err = w.cmd.Start() })
	if err != nil {
		return fmt.Errorf("shm: spawn worker %d: %w", w.ID, err)
	}
	nc, err := net.FileConn(parent)
	if err != nil {
		w.cmd.Process.Kill()
		w.cmd.Wait()
		return fmt.Errorf("shm: spawn: %w", err)
	}
	w.raw = nc
	so := m.opts.Stream
	so.AcceptCompact = !m.opts.JSONOnly
	var rw io.ReadWriteCloser = nc
	if m.opts.WrapStream != nil {
		rw = m.opts.WrapStream(w, nc)
	}
	w.conn = NewStreamConn(rw, so)
	if m.opts.WrapConn != nil {
		w.conn = m.opts.WrapConn(w, w.conn)
	}
	return nil
}

func prepare(w *Worker, child *os.File) {
	cmd := w.cmd
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env,
		EnvWorkerID+"="+strconv.FormatInt(w.ID, 10),
		EnvIncarnation+"="+strconv.FormatUint(w.Inc, 10),
		EnvChannelFD+"=3", EnvUniqueID+"="+strconv.FormatInt(w.ID, 10),
		"NODE_CHANNEL_SERIALIZATION_MODE=json", raceEnv())
	cmd.Env = append(cmd.Env, w.Spec.Env...)
	cmd.ExtraFiles = []*os.File{child}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if cmd.Stdout == nil {
		cmd.Stdout = orStderr(w.Spec.Stdout)
	}
	if cmd.Stderr == nil {
		cmd.Stderr = orStderr(w.Spec.Stderr)
	}
}

func orStderr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}

// raceEnv keeps a race-enabled worker from sleeping a second at exit.
func raceEnv() string {
	g := os.Getenv("GORACE")
	if strings.Contains(g, "atexit_sleep_ms") {
		return "GORACE=" + g
	}
	return strings.TrimSpace("GORACE=" + g + " atexit_sleep_ms=0")
}

// watch serves the worker until its connection ends, then reaps the process.
func (m *Master) watch(w *Worker) {
	serveDone := make(chan error, 1)
	go func() {
		if w.Spec.Serve != nil {
			serveDone <- w.Spec.Serve(w.raw)
			return
		}
		serveDone <- m.Serve(w.conn, Identity{Worker: w.ID, Inc: w.Inc})
	}()
	w.err = w.cmd.Wait()
	w.conn.Close() // a grandchild may hold the socket open
	w.serr = <-serveDone
	close(w.done)
	if w.err != nil && !m.closing.Load() {
		m.logf("shm: master: worker %d (incarnation %d, pid %d) exited: %v", w.ID, w.Inc, w.cmd.Process.Pid, w.err)
	}
	if m.opts.OnExit != nil {
		m.opts.OnExit(w, w.err)
	}
}

// Close kills every worker process, waits for them, and ends their
// connections. The store stays readable through Apply. Spawning again
// after Close works; spawning while Close runs is a race the caller must
// avoid (a worker forked meanwhile may be killed with the spawning thread).
func (m *Master) Close() error {
	m.closing.Store(true) // the kills below are not news
	defer m.closing.Store(false)
	for _, w := range m.Workers() {
		w.Kill()
		<-w.done
	}
	m.stopThread()
	return nil
}
