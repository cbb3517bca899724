package sim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/race"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// restartRun drives the real store and client core through a worker
// that makes ops writes, is restarted, and makes ops more as a new
// incarnation, and returns the history recorded. sender says whom the
// store takes a request of incarnation id to come from: the reference
// keeps a duplicate window per incarnation, a store that keys it by
// worker alone (a test-only variant) lets the new incarnation, whose
// ids start again at 1, meet the old one's window.
func restartRun(t *testing.T, ops int, sender func(shm.Identity) shm.Identity) *history.History {
	t.Helper()
	store := shm.NewStore(shm.StoreOptions{})
	rec := history.NewRecorder(history.RecorderOptions{})
	s := rec.Session("w1")
	for inc := uint64(1); inc <= 2; inc++ {
		if inc == 2 {
			rec.Event(history.Event{Kind: history.EventRestart, Worker: "w1", Text: "w1 restarted as incarnation 2"})
		}
		id := shm.Identity{Worker: 1, Inc: inc}
		calls := shm.NewCalls(shm.CallsOptions{Identity: id})
		gen := workload.New(1, "w1", 1, inc, []string{"a", "b"}, workload.Mix{Set: 1})
		for range ops {
			o := gen.Next()
			p := s.Call(o.Method, o.Key, o.Input())
			var req, rep shm.Message
			o.RequestInto(&req)
			now := time.Now().UnixNano()
			if _, local := calls.Start(&req, now, now+int64(time.Second), &rep); !local {
				rep = store.Apply(now, sender(id), &req)
				if _, ok := calls.Finish(&rep); !ok {
					t.Fatalf("the reply to %s answers no call", req.Method)
				}
			}
			st, out := workload.Outcome(&rep, nil)
			p.Return(st, out)
			gen.Observe(&o, st, out)
		}
	}
	one := 1
	hd := history.NewHeader(history.ModelKV, "restart", 1)
	hd.Faults = &one
	return rec.History(hd)
}

// TestForgetfulStoreCaught: a store whose duplicate window outlives the
// incarnation that filled it answers the restarted worker's writes
// expired (ids below the old one's acknowledgement) or seq_reused (the
// old one's last id); the availability check catches it though every answer is
// linearizable, and the reference, driven the same way, passes.
func TestForgetfulStoreCaught(t *testing.T) {
	const ops = 6
	ref := linearizability.Check(restartRun(t, ops, func(id shm.Identity) shm.Identity { return id }), linearizability.Options{})
	if ref.Verdict != linearizability.Ok {
		t.Fatalf("the reference fails: %s", ref.Details())
	}
	h := restartRun(t, ops, func(id shm.Identity) shm.Identity { return shm.Identity{Worker: id.Worker} })
	r := linearizability.Check(h, linearizability.Options{})
	if r.Verdict != linearizability.Illegal || r.Unavailable() == 0 {
		t.Fatalf("the forgetful store passes: %s", r)
	}
	for _, v := range r.Liveness {
		if v.Check != linearizability.LivenessUnavailable {
			t.Errorf("unexpected %s: %s", v.Check, v.Text)
			continue
		}
		if op := v.Ops[0]; op.ID <= ops || op.Output.Error == nil ||
			(op.Output.Error.Code != linearizability.ErrorExpired && op.Output.Error.Code != linearizability.ErrorSeqReused) {
			t.Errorf("unavailable names %s, want a write of the new incarnation refused", &op)
		}
	}
	for _, k := range r.Keys {
		if k.Verdict != linearizability.Ok {
			t.Errorf("key %q: %v, want linearizable (only availability tells)", k.Key, k.Verdict)
		}
	}
	if !strings.Contains(r.Details(), "no planned fault explains it") {
		t.Errorf("details do not say why:\n%s", r.Details())
	}
	t.Log(r)
}

// TestNoRaceWrapIDsUnavailable: the client whose ids wrap (shm.BugWrapIDs) has
// its reused ids refused seq_reused with no fault planned; the reference
// never is, in the same runs.
func TestNoRaceWrapIDsUnavailable(t *testing.T) {
	race.Skip(t)
	caught := 0
	for seed := range uint64(20) {
		cfg := base(seed)
		cfg.Ops = 400
		if r := mustRun(t, cfg); r.Check.Unavailable() > 0 {
			t.Fatalf("seed %d: the reference is unavailable:\n%s", seed, r.Check.Details())
		}
		cfg.Bugs = shm.BugWrapIDs
		if r := mustRun(t, cfg); r.Check.Unavailable() > 0 {
			caught++
		}
	}
	if caught == 0 {
		t.Fatal("no seed of wrap-ids was found unavailable")
	}
	t.Logf("wrap-ids unavailable in %d of 20 seeds", caught)
}

// TestReferenceRefusalsExplained: the reference does refuse ids when a
// fault moved or damaged them (a corrupt-id request slides a small
// duplicate window past ids still to come; a corrupt-value request makes
// its resend look like another request), on top of the swarm's faults;
// every such refusal is explained, and none is reported unavailable.
func TestReferenceRefusalsExplained(t *testing.T) {
	refusals := map[string]int{}
	for seed := range uint64(20) {
		b := base(seed)
		b.Workers, b.Ops = 2, 300
		cfg := Swarm(b)
		cfg.Store.DedupWindow = 8
		var p faultinject.Plan
		if cfg.Plan != nil {
			p = *cfg.Plan
		}
		p.Messages = append(slices.Clip(p.Messages),
			faultinject.MessageFault{Kind: faultinject.Corrupt, Dir: faultinject.Requests, Corruption: faultinject.CorruptID, P: 0.01},
			faultinject.MessageFault{Kind: faultinject.Corrupt, Dir: faultinject.Requests, Corruption: faultinject.CorruptValue, P: 0.01})
		cfg.Plan = &p
		cfg.NoCheck = true // the damage fails the search; only availability is asked here
		r := mustRun(t, cfg)
		check := linearizability.Check(r.History, linearizability.Options{Timeout: time.Millisecond, NoSessions: true, NoCounters: true})
		for _, op := range r.History.Ops {
			if e := op.Output.Error; e != nil && (e.Code == linearizability.ErrorExpired || e.Code == linearizability.ErrorSeqReused) {
				refusals[e.Code]++
			}
		}
		if n := check.Unavailable(); n > 0 {
			t.Errorf("seed %d: %d operations unavailable:\n%s", seed, n, check.Details())
		}
	}
	if refusals[linearizability.ErrorExpired] == 0 || refusals[linearizability.ErrorSeqReused] == 0 {
		t.Errorf("refusals %v: want both kinds, to test their explanations", refusals)
	}
	t.Logf("refusals, all explained: %v", refusals)
}
