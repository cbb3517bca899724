package faultinject_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
)

func TestProcessFaultValidate(t *testing.T) {
	for _, tc := range []struct {
		f    faultinject.ProcessFault
		want string // in the error; "" for none
	}{
		{faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", At: time.Second}, ""},
		{faultinject.ProcessFault{Kind: faultinject.Restart, Target: "master"}, ""},
		{faultinject.ProcessFault{Kind: faultinject.Pause, Target: "w1", For: time.Millisecond}, ""},
		{faultinject.ProcessFault{Kind: "stop", Target: "w1"}, `unknown kind "stop"`},
		{faultinject.ProcessFault{Kind: faultinject.Kill}, "no target"},
		{faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", At: -1}, "negative"},
		{faultinject.ProcessFault{Kind: faultinject.Restart, Target: "w1", For: -1}, "negative"},
		{faultinject.ProcessFault{Kind: faultinject.Pause, Target: "w1"}, "a pause needs for > 0"},
	} {
		p := faultinject.Plan{Processes: []faultinject.ProcessFault{tc.f}}
		err := p.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", &tc.f, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want one with %q", &tc.f, err, tc.want)
		case err != nil && !strings.HasPrefix(err.Error(), "processes[0]: "):
			t.Errorf("%v: error %v does not name the fault", &tc.f, err)
		}
	}
}

// sleeper is a process that sleeps until it is killed.
type sleeper struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *sleeper) Pid() int              { return s.cmd.Process.Pid }
func (s *sleeper) Done() <-chan struct{} { return s.done }

// sleepers are targets made of sleep processes.
type sleepers struct {
	t  *testing.T
	mu sync.Mutex
	ps map[string]*sleeper
}

func (ss *sleepers) Process(name string) faultinject.Process {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if p := ss.ps[name]; p != nil {
		return p
	}
	return nil
}

func (ss *sleepers) Start(name string) (faultinject.Process, error) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &sleeper{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	ss.t.Cleanup(func() { cmd.Process.Kill(); <-s.done })
	ss.mu.Lock()
	ss.ps[name] = s
	ss.mu.Unlock()
	return s, nil
}

// state returns a process's state letter from /proc (R, S, T, …), or
// "?" if it cannot be read.
func state(pid int) string {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if err != nil || i < 0 || i+3 > len(s) {
		return "?"
	}
	return s[i+2 : i+3]
}

// stopped reports whether pid stays stopped for a while (a second at
// most, for a process just resumed to leave the state).
func stopped(pid int) bool {
	for range 100 {
		if state(pid) != "T" {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func TestApplyProcesses(t *testing.T) {
	ss := &sleepers{t: t, ps: make(map[string]*sleeper)}
	for _, name := range []string{"w1", "w2", "w3", "master"} {
		if _, err := ss.Start(name); err != nil {
			t.Skipf("cannot run sleep: %v", err)
		}
	}
	w1, w2, w3, m := ss.ps["w1"], ss.ps["w2"], ss.ps["w3"], ss.ps["master"]
	faults := []faultinject.ProcessFault{
		{Kind: faultinject.Pause, Target: "w1", At: 0, For: 100 * time.Millisecond},
		{Kind: faultinject.Kill, Target: "w2", At: 10 * time.Millisecond},
		{Kind: faultinject.Kill, Target: "w2", At: 20 * time.Millisecond}, // dead already: nothing
		{Kind: faultinject.Restart, Target: "w3", At: 30 * time.Millisecond, For: 10 * time.Millisecond},
		{Kind: faultinject.Restart, Target: "master", At: 50 * time.Millisecond},
	}
	var mu sync.Mutex
	var events []linearizability.Event
	record := func(e linearizability.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	go func() {
		time.Sleep(60 * time.Millisecond)
		if s := state(w1.Pid()); s != "T" {
			t.Errorf("w1 is in state %s during its pause, want T (stopped)", s)
		}
	}()
	if err := faultinject.ApplyProcesses(context.Background(), faults, time.Now(), ss, record); err != nil {
		t.Fatal(err)
	}
	type ev struct {
		Kind   linearizability.EventKind
		Worker string
		Reset  bool
	}
	var got []ev
	for _, e := range events {
		got = append(got, ev{e.Kind, e.Worker, e.Reset})
		if e.Time == 0 || e.Text == "" {
			t.Errorf("event %+v has no time or text", e)
		}
	}
	want := []ev{
		{linearizability.EventPause, "w1", false},
		{linearizability.EventKill, "w2", false},
		{linearizability.EventKill, "w3", false},
		{linearizability.EventRestart, "w3", false},
		{linearizability.EventMasterKill, "master", false},
		{linearizability.EventMasterRestart, "master", true},
		{linearizability.EventResume, "w1", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events mismatch (-want +got):\n%s", diff)
	}
	for name, old := range map[string]*sleeper{"w2": w2, "w3": w3, "master": m} {
		select {
		case <-old.done:
		default:
			t.Errorf("%s's first process runs still", name)
		}
	}
	if ss.ps["w3"] == w3 || ss.ps["master"] == m || ss.ps["w2"] != w2 {
		t.Errorf("restarts: want new processes for w3 and master only")
	}
	if stopped(w1.Pid()) {
		t.Errorf("w1 still stopped after its pause")
	}
}

// TestApplyProcessesResumesOnCancel: a run that ends early leaves no
// process stopped.
func TestApplyProcessesResumesOnCancel(t *testing.T) {
	ss := &sleepers{t: t, ps: make(map[string]*sleeper)}
	if _, err := ss.Start("w1"); err != nil {
		t.Skipf("cannot run sleep: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var kinds []linearizability.EventKind
	err := faultinject.ApplyProcesses(ctx, []faultinject.ProcessFault{{Kind: faultinject.Pause, Target: "w1", For: time.Hour}},
		time.Now(), ss, func(e linearizability.Event) { kinds = append(kinds, e.Kind) })
	if err == nil {
		t.Fatal("no error from a cancelled schedule")
	}
	if want := []linearizability.EventKind{linearizability.EventPause, linearizability.EventResume}; !cmp.Equal(want, kinds) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	if stopped(ss.ps["w1"].Pid()) {
		t.Errorf("w1 left stopped")
	}
}
