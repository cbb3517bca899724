package sim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/spec"
)

// TestHoldReachesTheRingSlot: a reply held 64 requests (the client's
// pending ring) arrives while the call 64 ids later waits in its slot;
// the client ignores it, the call it answered has timed out, and the
// run passes. A duplicate's copy held so arrives there too, after its
// call was answered.
func TestHoldReachesTheRingSlot(t *testing.T) {
	const nth, ring = 5, 64
	for _, kind := range []faultinject.Kind{faultinject.Reorder, faultinject.Duplicate} {
		t.Run(string(kind), func(t *testing.T) {
			cfg := Config{Run: spec.Run{Seed: 3, Workers: 1, Ops: 100, Keys: []string{"a", "b"}, CallTimeout: 50 * time.Millisecond,
				Plan: &faultinject.Plan{Messages: []faultinject.MessageFault{{Kind: kind, Dir: faultinject.Replies, Hold: ring,
					Target: faultinject.Target{Nth: nth}}}}}}
			cfg = cfg.withDefaults()
			w := newWorld(cfg)
			var found []uint64 // the id of the call pending when the held message arrived
			for w.q.len() > 0 {
				e := w.q.pop()
				w.now = e.at
				if e.kind == evReply && e.held && w.slab.ms[e.msg].Seq == nth {
					wk := &w.workers[0].lanes[0]
					if !wk.busy {
						t.Fatalf("the held reply arrived with no call pending")
					}
					found = append(found, wk.wire)
				}
				w.dispatch(&e)
			}
			if len(found) != 1 || found[0] != nth+ring {
				t.Fatalf("the held reply arrived during the calls %v, want [%d]", found, nth+ring)
			}
			if n := len(w.workers[0].links[toWorker].byReq.held); n != 0 {
				t.Errorf("%d messages still held at the end", n)
			}
			r, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Failed() || len(r.Missed) > 0 {
				t.Fatalf("verdict %v, missed %v; want a pass with the fault fired", r.Check.Verdict, r.Missed)
			}
			want := history.StatusOK
			if kind == faultinject.Reorder {
				want = history.StatusUnknown // it timed out
			}
			if got := r.History.Ops[nth-1].Status; got != want {
				t.Errorf("operation %d: %s, want %s", nth, got, want)
			}
		})
	}
}

// TestSwarmDrawsAimed: Swarm's seeds draw each aimed combination, and
// the holds they plan fire and end (a held message let go).
func TestSwarmDrawsAimed(t *testing.T) {
	drawn := map[string]int{}
	fired := 0
	for seed := range uint64(200) {
		cfg := Swarm(base(seed))
		for _, f := range cfg.Plan.Messages {
			switch {
			case f.Hold > 0:
				drawn[string(f.Kind)+" "+string(f.Dir)]++
			case f.Kind == faultinject.Corrupt && f.Dir == faultinject.Requests && f.Target.Nth > 0:
				drawn["retry after corrupt"]++
			}
		}
		cfg.NoCheck = true
		r, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.Records {
			if rec.Decision.Hold > 0 {
				fired++
			}
		}
	}
	for _, k := range []string{"reorder replies", "reorder requests", "duplicate requests", "duplicate replies", "retry after corrupt"} {
		if drawn[k] == 0 {
			t.Errorf("no seed drew %s", k)
		}
	}
	if fired == 0 {
		t.Error("no hold fired")
	}
	t.Logf("drawn in 200 seeds: %v; holds fired: %d", drawn, fired)
}

// TestPipelinedSlowCallOutlivesItsSlot: with two calls in flight, a
// reply held 64 requests arrives while its own call is still pending and
// the other lane's call 64 ids later has taken its slot in the client's
// ring; the slow call is answered all the same (ok), and the history
// names the lanes w1.0 and w1.1.
func TestPipelinedSlowCallOutlivesItsSlot(t *testing.T) {
	const nth, ring = 5, 64
	cfg := Config{Run: spec.Run{Seed: 3, Workers: 1, Ops: 200, Keys: []string{"a", "b"}, CallTimeout: 10 * time.Millisecond,
		Plan: &faultinject.Plan{Messages: []faultinject.MessageFault{{Kind: faultinject.Reorder, Dir: faultinject.Replies, Hold: ring,
			Target: faultinject.Target{Nth: nth}}}}}, Pipeline: 2}
	cfg = cfg.withDefaults()
	w := newWorld(cfg)
	slow := -1 // the record of the call the held reply answers
	for w.q.len() > 0 {
		e := w.q.pop()
		w.now = e.at
		if e.kind == evReply && e.held {
			seq := w.slab.ms[e.msg].Seq
			ln := w.workers[0].laneOf(seq)
			if ln == nil {
				t.Fatalf("the held reply to %d arrived with its call no longer pending", seq)
			}
			other := &w.workers[0].lanes[1-ln.n]
			if !other.busy || other.call < seq+ring {
				t.Fatalf("the held reply to %d arrived during the call %d (busy %v), want one %d or more ids later", seq, other.call, other.busy, ring)
			}
			slow = ln.rec
		}
		w.dispatch(&e)
	}
	if slow < 0 {
		t.Fatal("no held reply arrived")
	}
	r, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() || len(r.Missed) > 0 {
		t.Fatalf("verdict %v, missed %v; want a pass with the fault fired", r.Check.Verdict, r.Missed)
	}
	if op := r.History.Ops[slow]; op.Status != history.StatusOK {
		t.Errorf("the slow call %v: %s, want ok", op, op.Status)
	}
	names := map[string]int{}
	for _, op := range r.History.Ops {
		names[op.Worker]++
	}
	want := map[string]int{"w1.0": cfg.Ops, "w1.1": cfg.Ops, FinalReader: len(cfg.Keys)}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("operations by worker: mismatch (-want +got)\n%s", diff)
	}
}

// TestShrinkKeepsAPipelinedRun: a failing pipelined run is returned as
// it is, still failing, rather than lost to a script that makes one call
// at a time.
func TestShrinkKeepsAPipelinedRun(t *testing.T) {
	cfg := Config{Run: spec.Run{Seed: 1, Workers: 2, Ops: 50, Bugs: shm.BugNoDedup, RetryAfter: 100 * time.Microsecond,
		Plan: &faultinject.Plan{Messages: []faultinject.MessageFault{{Kind: faultinject.Drop, Dir: faultinject.Replies, P: 0.2}}}}, Pipeline: 2}
	small, r, err := Shrink(cfg, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Failed() {
		t.Fatalf("the run passed (%v): no failure to keep", r.Check.Verdict)
	}
	if diff := cmp.Diff(cfg, small); diff != "" {
		t.Errorf("shrunk: mismatch (-want +got)\n%s", diff)
	}
}
