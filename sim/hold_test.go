package sim

import (
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
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
