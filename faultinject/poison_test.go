package faultinject_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
)

// poisoners are sleepers whose workers can be asked to send poison; a
// poison to one that exited is ErrNotRunning, as the harness says.
type poisoners struct {
	*sleepers
	mu   sync.Mutex
	sent []string
}

func (p *poisoners) Poison(target string) (history.Event, error) {
	if proc := p.Process(target); proc == nil || !isRunning(proc) {
		return history.Event{}, faultinject.ErrNotRunning
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, target)
	return history.Event{Kind: history.EventPoison, Worker: target, Text: faultinject.PoisonText()}, nil
}

// TestRunnerPoison: a poison is one action, at its time or its point,
// that takes nothing down (a later fault on its worker still happens);
// one on a worker that is gone did not happen, and targets that cannot
// send poison make it an error, not a silent pass.
func TestRunnerPoison(t *testing.T) {
	ss := &sleepers{t: t, ps: make(map[string]*sleeper)}
	for _, name := range []string{"w1", "w2"} {
		if _, err := ss.Start(name); err != nil {
			t.Skipf("cannot run sleep: %v", err)
		}
	}
	faults := []faultinject.ProcessFault{
		{Kind: faultinject.Poison, Target: "w1", At: 0},
		{Kind: faultinject.Kill, Target: "w1", At: 20 * time.Millisecond}, // after the poison: it happens
		{Kind: faultinject.Kill, Target: "w2", At: 0},
		{Kind: faultinject.Poison, Target: "w2", At: 40 * time.Millisecond}, // w2 is gone
	}
	if got := faultinject.Schedule(faults); len(got) != 4 {
		t.Fatalf("schedule %v: want one step a fault", got)
	}
	ps := &poisoners{sleepers: ss}
	var events []string
	r := faultinject.NewRunner(faultinject.RunnerOptions{Faults: faults, Start: time.Now(), Targets: ps,
		Record: func(e history.Event) { events = append(events, fmt.Sprintf("%s %s", e.Kind, e.Worker)) }})
	missed, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int]string{3: "w2 was not running: killed by processes[2] and not restarted"}, missed); diff != "" {
		t.Errorf("missed mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"poison w1", "kill w2", "kill w1"}, events); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}

	r = faultinject.NewRunner(faultinject.RunnerOptions{Faults: faults[:1], Start: time.Now(), Targets: ss,
		Record: func(history.Event) {}})
	missed, err = r.Run(context.Background())
	if !errors.Is(err, faultinject.ErrNoPoison) || missed[0] == "" {
		t.Errorf("targets that cannot poison: missed %v, error %v; want it missed, and %v", missed, err, faultinject.ErrNoPoison)
	}
}
