package harness_test

import (
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
)

// TestByteFaultsHarmless: short reads and writes, a split read, a
// stall and a full pipe (shorter than a call's timeout) on every
// connection change how and when the bytes arrive, never what a worker
// sees: every call returns, and each fault is logged once a connection.
func TestByteFaultsHarmless(t *testing.T) {
	plan := &faultinject.Plan{Seed: 3, Bytes: []faultinject.ByteFault{
		{Kind: faultinject.ByteShort},
		{Kind: faultinject.ByteSplit, At: 70},
		{Kind: faultinject.ByteStall, At: 300, For: 20 * time.Millisecond},
		{Kind: faultinject.ByteFullPipe, At: 200, For: 20 * time.Millisecond},
	}}
	// The stall and the full pipe last 20ms; the calls' timeout is the
	// default 200ms scaled for a busy machine, so that no call gives up.
	res := run(t, harness.Config{Run: spec.Run{Scenario: "bytes-harmless", Workers: 2, Ops: 40, Seed: 8, Plan: plan, CallTimeout: patience.Bound(200 * time.Millisecond)}})
	requireSound(t, res)
	// Two connections, each with short reads, short writes, a split, a
	// stall and a full pipe.
	want := map[string]int{"short": 4, "split": 2, "stall": 2, "fullpipe": 2}
	if diff := gocmp.Diff(want, fired(res)); diff != "" {
		t.Errorf("fired mismatch (-want +got):\n%s", diff)
	}
	if n := events(res.History)[history.EventFault]; n != 10 {
		t.Errorf("%d fault events in the history, want 10", n)
	}
	for _, op := range res.History.Ops {
		if op.Status != history.StatusOK && op.Status != history.StatusFail {
			t.Fatalf("under harmless byte faults: %v", &op)
		}
	}
}

// cutWorker checks what a byte fault that ends w1's connection leaves:
// the fault logged once, as an event; w1 exited with status 3, its
// calls cut short or failed unknown, its pending call (if any) unknown;
// the run not a problem for it; w2 untouched.
func cutWorker(t *testing.T, res *harness.Result, kind faultinject.ByteKind, ops int) {
	t.Helper()
	requireSound(t, res)
	if got := fired(res); got[string(kind)] != 1 {
		t.Errorf("fired %v, want one %s", got, kind)
	}
	var ev []history.Event
	for _, e := range res.History.Events {
		if e.Kind == history.EventFault && e.Fault == string(kind) && e.Worker == "w1" {
			ev = append(ev, e)
		}
	}
	if len(ev) != 1 {
		t.Errorf("events %+v, want one %s on w1", res.History.Events, kind)
	}
	unknown, closed := 0, 0
	for _, op := range res.History.Ops {
		switch {
		case op.Worker != "w1":
		case op.Status == history.StatusUnknown:
			unknown++
		case op.Status == history.StatusFail && op.Output.Error != nil && op.Output.Error.Code == shm.CodeClosed:
			closed++
		}
	}
	for _, w := range res.Workers {
		switch {
		case w.Name == "w1" && (w.Cut != string(kind) || w.Exit != "exit status 3" || w.Unreturned > 1 || (w.Ops == ops && unknown+closed == 0)):
			// A worker may make its last calls, failing at once (closed:
			// nothing sent), before it notices the end of its connection
			// and exits.
			t.Errorf("w1: %+v, %d unknown calls, %d refused: want cut by %s, exit status 3, fewer than %d calls or some unknown or refused", w, unknown, closed, kind, ops)
		case w.Name != "w1" && (w.Cut != "" || w.Exit != "" || w.Ops != ops):
			t.Errorf("%s: %+v, want all %d calls made", w.Name, w, ops)
		}
	}
	var last *history.Op
	for i := range res.History.Ops {
		if op := &res.History.Ops[i]; op.Worker == "w1" && (last == nil || op.Call > last.Call) {
			last = op
		}
	}
	if w1Unreturned(res) == 1 && (last == nil || last.Status != history.StatusUnknown || last.Return != 0) {
		t.Errorf("w1's last call %v, pending when it exited: want it unknown, with no return", last)
	}
	t.Logf("%s: %+v", kind, ev)
}

func w1Unreturned(res *harness.Result) int {
	for _, w := range res.Workers {
		if w.Name == "w1" {
			return w.Unreturned
		}
	}
	return 0
}

// TestByteFaultsEndConnection: a torn reply, the end of the requests'
// stream, EPIPE or a half-close on w1's connection ends it: w1 exits 3,
// its pending call unknown, which is no problem of the run, and the
// history stays linearizable.
func TestByteFaultsEndConnection(t *testing.T) {
	const ops = 40
	for _, f := range []faultinject.ByteFault{
		{Kind: faultinject.ByteTorn, Worker: "w1", At: 150},
		{Kind: faultinject.ByteEOF, Worker: "w1", At: 250},
		{Kind: faultinject.ByteEPIPE, Worker: "w1", At: 150},
		{Kind: faultinject.ByteHalfClose, Worker: "w1", At: 150},
	} {
		t.Run(string(f.Kind), func(t *testing.T) {
			t.Parallel()
			plan := &faultinject.Plan{Seed: 4, Bytes: []faultinject.ByteFault{f}}
			res := run(t, harness.Config{
				Run: spec.Run{
					Scenario:    "bytes-" + string(f.Kind),
					Workers:     2,
					Ops:         ops,
					Seed:        9,
					CallTimeout: 100 * time.Millisecond,
					Plan:        plan,
				},
			})
			cutWorker(t, res, f.Kind, ops)
		})
	}
}

// TestByteFaultsMasterProcess: byte faults reach the workers of a
// master in a process of its own (a plan with a master fault), and are
// logged through its fault log.
func TestByteFaultsMasterProcess(t *testing.T) {
	const ops = 40
	plan := &faultinject.Plan{Seed: 5,
		Processes: []faultinject.ProcessFault{{Kind: faultinject.Pause, Target: faultinject.MasterTarget, At: 50 * time.Millisecond, For: 20 * time.Millisecond}},
		Bytes:     []faultinject.ByteFault{{Kind: faultinject.ByteTorn, Worker: "w1", At: 150}},
	}
	res := run(t, harness.Config{
		Run: spec.Run{
			Scenario: "bytes-master-process",
			Workers:  2,
			Ops:      ops,
			Seed:     10,
			Think:    2 * time.Millisecond,
			Plan:     plan,
		},
	})
	if len(res.Masters) != 1 || res.Masters[0].Pid == 0 {
		t.Fatalf("masters %+v, want one in a process of its own", res.Masters)
	}
	cutWorker(t, res, faultinject.ByteTorn, ops)
}
