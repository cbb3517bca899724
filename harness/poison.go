package harness

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// A poison fault (faultinject.Poison) reaches a worker process as a file
// and a signal: the master writes poison-PID.req in the run's directory
// and sends SIGWINCH, again every poisonPoll until the worker answers
// (a worker not yet listening ignores SIGWINCH, whose default is to do
// nothing, so no signal can kill it). The worker sends the poison frames
// raw on its channel through its client's own writer (so they never tear
// a frame of its calls), writes the times before and after into
// poison-PID.done, and removes the request. A worker that exits first
// did not send them: the fault did not happen (faultinject.ErrNotRunning).

// poisonSignal tells a worker to look for a poison request.
const poisonSignal = syscall.SIGWINCH

// poisonPoll is how often the master signals again, and poisonWait how
// long it waits for a worker that runs but does not answer.
const (
	poisonPoll = 20 * time.Millisecond
	poisonWait = 10 * time.Second
)

func poisonFile(dir string, pid int, ext string) string {
	return filepath.Join(dir, fmt.Sprintf("poison-%d.%s", pid, ext))
}

// Poison has worker target send the poison frames now
// (faultinject.Poisoner), and returns the poison event, at the time they
// were sent.
func (r *masterRun) Poison(target string) (history.Event, error) {
	p := r.Process(target)
	if p == nil {
		return history.Event{}, faultinject.ErrNotRunning
	}
	return sendPoison(r.sp.Dir, target, p)
}

// sendPoison asks process p of worker target to send the poison frames
// and waits until it has.
func sendPoison(dir, target string, p faultinject.Process) (history.Event, error) {
	select {
	case <-p.Done():
		return history.Event{}, faultinject.ErrNotRunning
	default:
	}
	req, done := poisonFile(dir, p.Pid(), "req"), poisonFile(dir, p.Pid(), "done")
	f, err := os.OpenFile(req, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return history.Event{}, fmt.Errorf("poison %s: %w", target, err)
	}
	f.Close()
	deadline := time.Now().Add(poisonWait)
	for {
		if e, ok := poisonSent(done, target); ok {
			return e, nil
		}
		if err := syscall.Kill(p.Pid(), poisonSignal); err != nil && !errors.Is(err, syscall.ESRCH) {
			return history.Event{}, fmt.Errorf("poison %s (pid %d): %w", target, p.Pid(), err)
		}
		select {
		case <-p.Done():
			if e, ok := poisonSent(done, target); ok {
				return e, nil
			}
			os.Remove(req)
			return history.Event{}, faultinject.ErrNotRunning
		case <-time.After(poisonPoll):
		}
		if time.Now().After(deadline) {
			os.Remove(req)
			return history.Event{}, fmt.Errorf("poison %s (pid %d): not sent within %v", target, p.Pid(), poisonWait)
		}
	}
}

// poisonSent reads the worker's answer, if it has come: the poison
// event.
func poisonSent(done, target string) (history.Event, bool) {
	b, err := os.ReadFile(done)
	if err != nil {
		return history.Event{}, false
	}
	os.Remove(done)
	var t0, t1 int64
	if f := strings.Fields(string(b)); len(f) == 2 {
		t0, _ = strconv.ParseInt(f[0], 10, 64)
		t1, _ = strconv.ParseInt(f[1], 10, 64)
	}
	return history.Event{Kind: history.EventPoison, Time: t0, End: max(t0, t1), Worker: target,
		Text: faultinject.PoisonText()}, true
}

// poisoned reports whether the plan has worker name send poison: its
// client then speaks JSON lines, the frames' own codec.
func (cfg *workerConfig) poisoned() bool {
	for _, f := range cfg.Plan.GetProcesses() {
		if f.Kind == faultinject.Poison && f.Target == cfg.Name {
			return true
		}
	}
	return false
}

// poisoner is a worker's side of poison faults.
type poisoner struct {
	dir  string
	conn shm.Conn
	sig  chan os.Signal
	mu   sync.Mutex
}

// listenPoison starts answering poison requests on c's channel, until
// the returned stop is called.
func listenPoison(dir string, c *shm.Client) (stop func()) {
	p := &poisoner{dir: dir, conn: c.Conn(), sig: make(chan os.Signal, 1)}
	signal.Notify(p.sig, poisonSignal)
	end := make(chan struct{})
	go func() {
		for {
			select {
			case <-p.sig:
				p.answer()
			case <-end:
				return
			}
		}
	}()
	return func() {
		signal.Stop(p.sig)
		close(end)
		p.answer() // one asked for as the worker finished
	}
}

// answer sends the poison frames if they are asked for.
func (p *poisoner) answer() {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := poisonFile(p.dir, os.Getpid(), "req")
	if _, err := os.Stat(req); err != nil {
		return
	}
	frames := faultinject.PoisonFrames()
	ms := make([]shm.Message, len(frames))
	for i, f := range frames {
		ms[i] = shm.Message{Kind: shm.KindOther, Raw: []byte(f)}
	}
	t0 := history.Now()
	if err := p.conn.Send(ms); err != nil {
		fmt.Fprintf(os.Stderr, "harness worker: sending poison: %v\n", err)
		return
	}
	t1 := history.Now()
	tmp := poisonFile(p.dir, os.Getpid(), "tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", t0, t1), 0o644); err == nil {
		os.Rename(tmp, poisonFile(p.dir, os.Getpid(), "done"))
	}
	os.Remove(req)
}
