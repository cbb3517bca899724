package harness

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/shmlab/shmlab/history"
)

// Exit is how a process of a run ended: what a target's driver reports
// when the master or a worker exits, so that an exit no planned fault
// explains goes into the history as a crash (Exit.Crash), which the
// liveness check reports ("crashed"). The driver decides what is planned:
// a kill or restart it applied to that very process, the death of the
// master the process depended on, the end of the run; the reference's
// does so in masterRun.exited and runMasterProcesses.
type Exit struct {
	// Process is "master" (faultinject.MasterTarget) or the worker's
	// name ("w1").
	Process string `json:"process"`
	// Pid is the process's id (0 if unknown).
	Pid int `json:"pid"`
	// Time is when the exit was seen, on history.Now's clock (0:
	// now, when Crash is called).
	Time int64 `json:"time"`
	// Code is the exit status, or -1 when a signal ended the process;
	// Signal names that signal ("SIGSEGV"), empty otherwise.
	Code   int    `json:"code"`
	Signal string `json:"signal,omitempty"`
	// Stderr holds the last lines the process wrote to its standard
	// error (a Tail's), oldest first.
	Stderr []string `json:"stderr,omitempty"`
}

// ExitOf returns the Exit of process (its pid, its state once reaped,
// the last lines of its stderr).
func ExitOf(process string, pid int, ps *os.ProcessState, stderr []string) Exit {
	e := Exit{Process: process, Pid: pid, Time: history.Now(), Code: -1, Stderr: stderr}
	if ps == nil {
		return e
	}
	e.Code = ps.ExitCode()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Code, e.Signal = -1, SignalName(ws.Signal())
	}
	return e
}

// Status says how the process ended, as a history's crash event has it:
// "exit status 2", "signal SIGSEGV".
func (e *Exit) Status() string {
	if e.Signal != "" {
		return "signal " + e.Signal
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// Crash returns the history event that records e as a crash: an exit
// that no planned fault explains.
func (e *Exit) Crash() history.Event {
	t := e.Time
	if t == 0 {
		t = history.Now()
	}
	ev := history.Event{Kind: history.EventCrash, Time: t, Worker: e.Process, Exit: e.Status(),
		Stderr: strings.Join(e.Stderr, "\n")}
	if e.Pid != 0 {
		ev.Text = fmt.Sprintf("pid %d", e.Pid)
	}
	return ev
}

// signalNames are the names of the signals a crash usually shows.
var signalNames = map[syscall.Signal]string{
	syscall.SIGABRT: "SIGABRT", syscall.SIGALRM: "SIGALRM", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
	syscall.SIGHUP: "SIGHUP", syscall.SIGILL: "SIGILL", syscall.SIGINT: "SIGINT", syscall.SIGKILL: "SIGKILL",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGQUIT: "SIGQUIT", syscall.SIGSEGV: "SIGSEGV", syscall.SIGSYS: "SIGSYS",
	syscall.SIGTERM: "SIGTERM", syscall.SIGTRAP: "SIGTRAP", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ",
}

// SignalName names s as Node and kill(1) do ("SIGSEGV"), or by its
// number for one without a name here.
func SignalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("%d", int(s))
}

// TailLines is how many lines of a process's stderr a crash keeps.
const TailLines = 40

// Tail is an io.Writer that keeps the last lines written to it (a line
// longer than 1 KiB is cut), for a crash's Stderr. It is safe for
// concurrent use.
type Tail struct {
	mu      sync.Mutex
	n       int
	lines   []string
	partial []byte
	emit    func(line string) // each line as it ends (nil: none)
}

// NewTail returns a Tail that keeps n lines (TailLines if n <= 0).
func NewTail(n int) *Tail {
	if n <= 0 {
		n = TailLines
	}
	return &Tail{n: n}
}

// newTailEmit returns a Tail that keeps n lines (TailLines if n <= 0)
// and passes each line, as it ends, to emit.
func newTailEmit(n int, emit func(line string)) *Tail {
	t := NewTail(n)
	t.emit = emit
	return t
}

// maxTailLine is the longest line a Tail keeps whole.
const maxTailLine = 1 << 10

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(t.partial[:i])
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > maxTailLine {
		t.add(t.partial)
		t.partial = t.partial[:0]
	}
	return len(p), nil
}

func (t *Tail) add(line []byte) {
	if len(line) > maxTailLine {
		line = append(line[:maxTailLine:maxTailLine], "…"...)
	}
	t.lines = append(t.lines, string(line))
	if t.emit != nil {
		t.emit(t.lines[len(t.lines)-1])
	}
	if len(t.lines) > t.n {
		t.lines = append(t.lines[:0], t.lines[len(t.lines)-t.n:]...)
	}
}

// Lines returns the last lines written, oldest first, with a last line
// not yet ended by a newline.
func (t *Tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.n {
		out = out[len(out)-t.n:]
	}
	return out
}
