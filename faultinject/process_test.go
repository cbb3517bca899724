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
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/patience"
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
		{faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", After: &faultinject.Progress{Worker: "w2", Ops: 5}}, ""},
		{faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", At: 1, After: &faultinject.Progress{Worker: "w2", Ops: 5}}, "give at or after, not both"},
		{faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", After: &faultinject.Progress{Worker: "master", Ops: 5}}, `worker "master" is not a worker's name`},
		{faultinject.ProcessFault{Kind: faultinject.Kill, Target: "w1", After: &faultinject.Progress{Worker: "w2"}}, "ops 0: want 1 or more"},
		{faultinject.ProcessFault{Kind: faultinject.Restart, Target: "master", After: &faultinject.Progress{Worker: "w2", Ops: 1}}, "the master's faults go by time"},
		{faultinject.ProcessFault{Kind: faultinject.Poison, Target: "w1", At: time.Second}, ""},
		{faultinject.ProcessFault{Kind: faultinject.Poison, Target: "w1", After: &faultinject.Progress{Worker: "w2", Ops: 5}}, ""},
		{faultinject.ProcessFault{Kind: faultinject.Poison, Target: "master"}, "a poison is sent by a worker"},
		{faultinject.ProcessFault{Kind: faultinject.Poison, Target: "w1", For: time.Millisecond}, "a poison has no for"},
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

// stateWithin returns pid's state once it is want, or its state when
// bound has passed (a signal's effect is not immediate).
func stateWithin(pid int, want string, bound time.Duration) string {
	deadline := time.Now().Add(bound)
	for {
		s := state(pid)
		if s == want || time.Now().After(deadline) {
			return s
		}
		time.Sleep(time.Millisecond)
	}
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
	var events []history.Event
	record := func(e history.Event) {
		if e.Kind == history.EventPause && e.Worker == "w1" {
			// The pause is recorded once w1 is sent its stop, and its
			// resume waits for this: w1 must be seen stopped now, however
			// late a busy machine runs this.
			if s := stateWithin(w1.Pid(), "T", patience.Bound(time.Second)); s != "T" {
				t.Errorf("w1 is in state %s during its pause, want T (stopped)", s)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	if err := faultinject.ApplyProcesses(context.Background(), faults, time.Now(), ss, record); err != nil {
		t.Fatal(err)
	}
	type ev struct {
		Kind   history.EventKind
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
		{history.EventPause, "w1", false},
		{history.EventKill, "w2", false},
		{history.EventKill, "w3", false},
		{history.EventRestart, "w3", false},
		{history.EventMasterKill, "master", false},
		{history.EventMasterRestart, "master", true},
		{history.EventResume, "w1", false},
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
	var kinds []history.EventKind
	err := faultinject.ApplyProcesses(ctx, []faultinject.ProcessFault{{Kind: faultinject.Pause, Target: "w1", For: time.Hour}},
		time.Now(), ss, func(e history.Event) { kinds = append(kinds, e.Kind) })
	if err == nil {
		t.Fatal("no error from a cancelled schedule")
	}
	if want := []history.EventKind{history.EventPause, history.EventResume}; !cmp.Equal(want, kinds) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	if stopped(ss.ps["w1"].Pid()) {
		t.Errorf("w1 left stopped")
	}
}

// TestRunner: a fault aimed by progress happens when it is triggered, and
// not before; a first action on a process gone does not happen, nor does
// a fault still to come when the workload is over; the Runner says which
// and why, and is told of each that happened.
func TestRunner(t *testing.T) {
	ss := &sleepers{t: t, ps: make(map[string]*sleeper)}
	for _, name := range []string{"w1", "w2", "w3"} {
		if _, err := ss.Start(name); err != nil {
			t.Skipf("cannot run sleep: %v", err)
		}
	}
	faults := []faultinject.ProcessFault{
		{Kind: faultinject.Kill, Target: "w1", After: &faultinject.Progress{Worker: "w2", Ops: 3}},
		{Kind: faultinject.Kill, Target: "w2", At: 0},
		{Kind: faultinject.Pause, Target: "w2", At: 0, For: time.Millisecond},                      // w2 is gone
		{Kind: faultinject.Kill, Target: "w3", At: time.Hour},                                      // the workload is over first
		{Kind: faultinject.Kill, Target: "w3", After: &faultinject.Progress{Worker: "w3", Ops: 9}}, // never triggered
		{Kind: faultinject.Kill, Target: "w3", After: &faultinject.Progress{Worker: "w2", Ops: 7}}, // w2 killed first
	}
	var mu sync.Mutex
	var kinds []string
	var happened []int
	over := make(chan struct{})
	r := faultinject.NewRunner(faultinject.RunnerOptions{Faults: faults, Start: time.Now(), Targets: ss,
		Record: func(e history.Event) {
			mu.Lock()
			defer mu.Unlock()
			kinds = append(kinds, string(e.Kind)+" "+e.Worker)
		},
		Happened: func(i int) { happened = append(happened, i) },
		Over:     func() <-chan struct{} { return over }})
	type result struct {
		missed map[int]string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		m, err := r.Run(context.Background())
		res <- result{m, err}
	}()
	w1, w2 := ss.Process("w1"), ss.Process("w2")
	<-w2.Done() // the kill at 0 is done; w1's has not been triggered
	if !isRunning(w1) {
		t.Fatal("w1 killed before its fault was triggered")
	}
	<-r.Trigger(0)
	if isRunning(w1) {
		t.Fatal("w1 runs after its triggered kill was done")
	}
	r.Received("w3", 4)
	r.Received("w3", 2) // another connection's count: the most is kept
	close(over)
	got := <-res
	if got.err != nil {
		t.Fatal(got.err)
	}
	want := map[int]string{
		2: "w2 was not running: killed by processes[1] and not restarted",
		3: "the workload was over before it came",
		4: "the master received only 4 of w3's requests on any one connection, never request 9 (the workload was over before it came)",
		5: "the master received only 0 of w2's requests on any one connection, never request 7; w2 was killed by processes[1] and not restarted",
	}
	if diff := cmp.Diff(want, got.missed); diff != "" {
		t.Errorf("missed mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"kill w2", "kill w1"}, kinds); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 0}, happened); diff != "" {
		t.Errorf("happened mismatch (-want +got):\n%s", diff)
	}
	select {
	case <-r.Trigger(4):
	case <-time.After(time.Minute):
		t.Fatal("a trigger after the end of Run blocks")
	}
}

func isRunning(p faultinject.Process) bool {
	select {
	case <-p.Done():
		return false
	default:
		return true
	}
}

// TestProgressMissedSaysWhy: a fault aimed by progress that missed its
// point says whether the plan's message faults may have lost requests
// (after counts what the master received), and a worker taken down says
// by which fault.
func TestProgressMissedSaysWhy(t *testing.T) {
	a := &faultinject.Progress{Worker: "w2", Ops: 35}
	lossy := (&faultinject.Plan{Messages: []faultinject.MessageFault{{Kind: faultinject.Drop, P: 0.2, Dir: faultinject.Requests}}}).MayLoseRequests()
	replies := (&faultinject.Plan{Messages: []faultinject.MessageFault{{Kind: faultinject.Drop, P: 0.2, Dir: faultinject.Replies}}}).MayLoseRequests()
	for _, tc := range []struct {
		name, got, want string
	}{
		{"lossy", faultinject.ProgressMissed(a, 31, nil, lossy, "over"),
			"the master received only 31 of w2's requests on any one connection, never request 35 (the plan's message faults lost some of its requests; after counts the requests the master received)"},
		{"replies only", faultinject.ProgressMissed(a, 31, nil, replies, "over"),
			"the master received only 31 of w2's requests on any one connection, never request 35 (over)"},
		{"finished", faultinject.NotRunning("w1", nil), "w1 was not running: it had finished its operations"},
		{"restarting", faultinject.NotRunning("w1", &faultinject.Down{Fault: 2, Kind: faultinject.Restart}),
			"w1 was not running: down, being restarted by processes[2]"},
		{"master killed", faultinject.NotRunning("w1", &faultinject.Down{Fault: 0, Kind: faultinject.Kill, Master: true}),
			"w1 was not running: killed with the master by processes[0]"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
