package faultinject_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fi "github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
)

// decideAll decides n messages on link l (method set, key k, ids from 1)
// at the given elapsed time.
func decideAll(d fi.Decisions, l fi.Link, n int, elapsed time.Duration) []fi.Decision {
	out := make([]fi.Decision, n)
	for i := range out {
		out[i] = d.Decide(l, fi.Message{Method: "set", Key: "k", Seq: uint64(i + 1)}, elapsed)
	}
	return out
}

// TestDecideTargets: a fault fires on exactly the messages its target and
// direction match.
func TestDecideTargets(t *testing.T) {
	msg := fi.Message{Method: "set", Key: "k", Seq: 3}
	for _, tc := range []struct {
		name    string
		f       fi.MessageFault
		l       fi.Link
		m       fi.Message
		n       int // the message's place on its link
		elapsed time.Duration
		fires   bool
	}{
		{"zero target", fi.MessageFault{P: 1}, msgReqLink, msg, 1, 0, true},
		{"nth matches", fi.MessageFault{Target: fi.Target{Nth: 3}}, msgReqLink, msg, 3, 0, true},
		{"nth differs", fi.MessageFault{Target: fi.Target{Nth: 3}}, msgReqLink, msg, 2, 0, false},
		{"method matches", fi.MessageFault{P: 1, Target: fi.Target{Method: "set"}}, msgReqLink, msg, 1, 0, true},
		{"method differs", fi.MessageFault{P: 1, Target: fi.Target{Method: "get"}}, msgReqLink, msg, 1, 0, false},
		{"key matches", fi.MessageFault{P: 1, Target: fi.Target{Key: "k"}}, msgReqLink, msg, 1, 0, true},
		{"key differs", fi.MessageFault{P: 1, Target: fi.Target{Key: "j"}}, msgReqLink, msg, 1, 0, false},
		{"worker matches", fi.MessageFault{P: 1, Target: fi.Target{Worker: "w1"}}, msgReqLink, msg, 1, 0, true},
		{"worker differs", fi.MessageFault{P: 1, Target: fi.Target{Worker: "w2"}}, msgReqLink, msg, 1, 0, false},
		{"dir matches", fi.MessageFault{P: 1, Dir: fi.Replies}, msgRepLink, msg, 1, 0, true},
		{"dir differs", fi.MessageFault{P: 1, Dir: fi.Replies}, msgReqLink, msg, 1, 0, false},
		{"dir both", fi.MessageFault{P: 1, Dir: fi.Both}, msgRepLink, msg, 1, 0, true},
		{"before from", fi.MessageFault{P: 1, Target: fi.Target{From: time.Second}}, msgReqLink, msg, 1, time.Second - 1, false},
		{"at from", fi.MessageFault{P: 1, Target: fi.Target{From: time.Second}}, msgReqLink, msg, 1, time.Second, true},
		{"before until", fi.MessageFault{P: 1, Target: fi.Target{Until: time.Second}}, msgReqLink, msg, 1, time.Second - 1, true},
		{"at until", fi.MessageFault{P: 1, Target: fi.Target{Until: time.Second}}, msgReqLink, msg, 1, time.Second, false},
		{"all match", fi.MessageFault{Target: fi.Target{Worker: "w1", Method: "set", Key: "k", Nth: 2, From: 1, Until: 3}}, msgReqLink, msg, 2, 2, true},
	} {
		tc.f.Kind = fi.Drop
		plan := fi.Plan{Seed: 1, Messages: []fi.MessageFault{tc.f}}
		if err := plan.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d := fi.NewDecider(&plan)
		for range tc.n - 1 {
			d.Decide(tc.l, tc.m, tc.elapsed)
		}
		if got := d.Decide(tc.l, tc.m, tc.elapsed); got.Drop != tc.fires || got.N != tc.n {
			t.Errorf("%s: decision %+v, want drop %v as message %d", tc.name, got, tc.fires, tc.n)
		}
	}
}

// TestDecideEffects: each kind of fault sets its part of the decision,
// with defaults, and the decision lists the faults that fired.
func TestDecideEffects(t *testing.T) {
	plan := fi.Plan{Seed: 1, Messages: []fi.MessageFault{
		{Kind: fi.Drop, P: 1, Target: fi.Target{Key: "other"}},
		{Kind: fi.Delay, P: 1, Delay: fi.Dist{Kind: fi.Fixed, Min: time.Millisecond}},
		{Kind: fi.Duplicate, P: 1},
		{Kind: fi.Duplicate, P: 1, Copies: 2},
		{Kind: fi.Reorder, P: 1},
		{Kind: fi.Corrupt, P: 1},
	}}
	got := fi.NewDecider(&plan).Decide(msgReqLink, fi.Message{Method: "get", Key: "k"}, 0)
	want := fi.Decision{Delay: time.Millisecond, Copies: 3, Reorder: true, Corruption: fi.CorruptFrame, Fired: []int{1, 2, 3, 4, 5}, N: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decision mismatch (-want +got):\n%s", diff)
	}
}

// TestDecideSeeds: the same seed makes the same decisions; another seed
// makes others.
func TestDecideSeeds(t *testing.T) {
	plan := func(seed uint64) *fi.Plan {
		return &fi.Plan{Seed: seed, Messages: []fi.MessageFault{{Kind: fi.Drop, P: 0.5}}}
	}
	a := decideAll(fi.NewDecider(plan(1)), msgReqLink, 200, 0)
	if diff := cmp.Diff(a, decideAll(fi.NewDecider(plan(1)), msgReqLink, 200, 0)); diff != "" {
		t.Errorf("seed 1 twice: decisions mismatch (-want +got):\n%s", diff)
	}
	if cmp.Equal(a, decideAll(fi.NewDecider(plan(2)), msgReqLink, 200, 0)) {
		t.Error("seeds 1 and 2 made the same 200 decisions")
	}
	if cmp.Equal(a, decideAll(fi.NewDecider(plan(1)), msgRepLink, 200, 0)) {
		t.Error("the two directions of a link made the same 200 decisions")
	}
}

// TestDecideLinksIndependent: a link's decisions do not depend on the
// traffic of other links, nor on whether earlier messages matched.
func TestDecideLinksIndependent(t *testing.T) {
	plan := &fi.Plan{Seed: 3, Messages: []fi.MessageFault{
		{Kind: fi.Drop, P: 0.3},
		{Kind: fi.Delay, P: 0.3, Target: fi.Target{Method: "set"}, Delay: fi.Dist{Kind: fi.Exponential, Mean: time.Millisecond}},
	}}
	alone := decideAll(fi.NewDecider(plan), msgReqLink, 100, 0)
	d := fi.NewDecider(plan)
	other := fi.Link{Worker: "w2", Dir: fi.Requests}
	var mixed []fi.Decision
	for i := range 100 {
		d.Decide(other, fi.Message{Method: "get"}, 0)
		d.Decide(msgRepLink, fi.Message{Method: "set"}, 0)
		mixed = append(mixed, d.Decide(msgReqLink, fi.Message{Method: "set", Key: "k", Seq: uint64(i + 1)}, 0))
	}
	if diff := cmp.Diff(alone, mixed); diff != "" {
		t.Errorf("w1's decisions with other links busy mismatch (-want +got):\n%s", diff)
	}
}

// TestLinkDeciderSameDecisions: a link's LinkDecider makes the decisions
// the Decider makes for that link.
func TestLinkDeciderSameDecisions(t *testing.T) {
	plan := &fi.Plan{Seed: 9, Messages: []fi.MessageFault{
		{Kind: fi.Drop, P: 0.2}, {Kind: fi.Duplicate, P: 0.2, Copies: 2},
		{Kind: fi.Delay, P: 0.2, Delay: fi.Dist{Kind: fi.Uniform, Max: time.Second}},
	}}
	want := decideAll(fi.NewDecider(plan), msgRepLink, 300, 0)
	got := decideAll(fi.NewDecider(plan).On(msgRepLink), msgRepLink, 300, 0)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestDecideDelays: delays stay within their distribution's bounds, and
// vary.
func TestDecideDelays(t *testing.T) {
	for _, tc := range []struct {
		dist     fi.Dist
		min, max time.Duration
	}{
		{fi.Dist{Kind: fi.Fixed, Min: 5 * time.Millisecond}, 5 * time.Millisecond, 5 * time.Millisecond},
		{fi.Dist{Kind: fi.Uniform, Min: time.Millisecond, Max: 3 * time.Millisecond}, time.Millisecond, 3*time.Millisecond - 1},
		{fi.Dist{Kind: fi.Exponential, Mean: time.Millisecond, Cap: 2 * time.Millisecond}, 0, 2 * time.Millisecond},
	} {
		plan := &fi.Plan{Seed: 1, Messages: []fi.MessageFault{{Kind: fi.Delay, P: 1, Delay: tc.dist}}}
		seen := map[time.Duration]bool{}
		for _, dec := range decideAll(fi.NewDecider(plan), msgReqLink, 500, 0) {
			if dec.Delay < tc.min || dec.Delay > tc.max {
				t.Errorf("%s: delay %v outside [%v, %v]", tc.dist.Kind, dec.Delay, tc.min, tc.max)
			}
			seen[dec.Delay] = true
		}
		if tc.dist.Kind != fi.Fixed && len(seen) < 100 {
			t.Errorf("%s: only %d distinct delays in 500", tc.dist.Kind, len(seen))
		}
		if tc.dist.Kind == fi.Exponential && !seen[tc.max] {
			t.Errorf("exponential: the cap %v was never reached in 500 draws of mean %v", tc.max, tc.dist.Mean)
		}
	}
}

// TestReplayDecisions: a Replay of the records of a run repeats its
// decisions on every link, and decides nothing for other messages.
func TestReplayDecisions(t *testing.T) {
	plan := &fi.Plan{Seed: 9, Messages: []fi.MessageFault{
		{Kind: fi.Drop, P: 0.1},
		{Kind: fi.Duplicate, P: 0.1, Dir: fi.Requests},
		{Kind: fi.Corrupt, Corruption: fi.CorruptID, P: 0.1, Dir: fi.Replies},
		{Kind: fi.Delay, P: 0.1, Delay: fi.Dist{Kind: fi.Uniform, Min: 1, Max: time.Second}},
	}}
	links := []fi.Link{msgReqLink, msgRepLink, {Worker: "w2", Dir: fi.Requests}}
	d, log := fi.NewDecider(plan), &fi.Log{}
	want := map[fi.Link][]fi.Decision{}
	for i := range 300 {
		l := links[i%len(links)]
		m := fi.Message{Method: "add", Key: "n", Seq: uint64(i)}
		dec := d.Decide(l, m, 0)
		want[l] = append(want[l], dec)
		if !dec.None() {
			log.Add(fi.Record{Link: l, N: dec.N, Msg: m, Decision: dec})
		}
	}
	r := fi.NewReplay(log.Records())
	for _, l := range links {
		if diff := cmp.Diff(want[l], decideAll(r, l, 100, 0)); diff != "" {
			t.Errorf("%s: replayed decisions mismatch (-want +got):\n%s", l, diff)
		}
	}
	if dec := r.Decide(msgReqLink, fi.Message{}, 0); !dec.None() || dec.N != 101 {
		t.Errorf("decision %+v past the log, want none as message 101", dec)
	}
}

// TestPlanValidate: every problem of a plan is reported, naming the
// fault.
func TestPlanValidate(t *testing.T) {
	ok := fi.Plan{Messages: []fi.MessageFault{
		{Kind: fi.Drop, P: 0.5},
		{Kind: fi.Delay, Target: fi.Target{Nth: 2}, Delay: fi.Dist{Kind: fi.Uniform, Max: time.Second}},
		{Kind: fi.Corrupt, P: 1, Dir: fi.Replies, Corruption: fi.CorruptValue},
	}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid plan: %v", err)
	}
	for _, tc := range []struct {
		f    fi.MessageFault
		want string
	}{
		{fi.MessageFault{Kind: "lose", P: 1}, `unknown kind "lose"`},
		{fi.MessageFault{Kind: fi.Drop, P: 1, Dir: "up"}, `unknown dir "up"`},
		{fi.MessageFault{Kind: fi.Drop, P: 1.5}, "p 1.5 is not a probability"},
		{fi.MessageFault{Kind: fi.Drop}, "would never fire"},
		{fi.MessageFault{Kind: fi.Duplicate, P: 1, Copies: -1}, "copies -1 is not from 0 to 100"},
		{fi.MessageFault{Kind: fi.Duplicate, P: 1, Copies: 1_000_000_000}, "copies 1000000000 is not from 0 to 100"},
		{fi.MessageFault{Kind: fi.Drop, P: math.NaN()}, "p NaN is not a probability"},
		{fi.MessageFault{Kind: fi.Delay, P: 1, Delay: fi.Dist{Kind: fi.Fixed, Min: 2 * time.Hour}}, "a delay is at most 1h0m0s"},
		{fi.MessageFault{Kind: fi.Drop, P: 1, Target: fi.Target{Nth: -2}}, "nth -2 is negative"},
		{fi.MessageFault{Kind: fi.Drop, P: 1, Target: fi.Target{From: 2, Until: 1}}, "until 1ns is before from 2ns"},
		{fi.MessageFault{Kind: fi.Corrupt, P: 1, Corruption: "bits"}, `unknown corruption "bits"`},
		{fi.MessageFault{Kind: fi.Delay, P: 1}, `unknown delay kind ""`},
		{fi.MessageFault{Kind: fi.Delay, P: 1, Delay: fi.Dist{Kind: fi.Fixed}}, "fixed delay needs min > 0"},
		{fi.MessageFault{Kind: fi.Delay, P: 1, Delay: fi.Dist{Kind: fi.Uniform, Min: 2, Max: 2}}, "uniform delay needs 0 <= min < max"},
		{fi.MessageFault{Kind: fi.Delay, P: 1, Delay: fi.Dist{Kind: fi.Exponential}}, "exponential delay needs mean > 0"},
		{fi.MessageFault{Kind: fi.Drop, P: 1, Target: fi.Target{Method: "put"}}, `target method "put" is not a method`},
		{fi.MessageFault{Kind: fi.Drop, P: 1, Copies: 2}, "copies is set on a drop fault"},
		{fi.MessageFault{Kind: fi.Drop, P: 1, Delay: fi.Dist{Kind: fi.Fixed, Min: 1}}, "delay is set on a drop fault"},
		{fi.MessageFault{Kind: fi.Reorder, P: 1, Corruption: fi.CorruptID}, "corruption is set on a reorder fault"},
	} {
		p := fi.Plan{Messages: []fi.MessageFault{{Kind: fi.Drop, P: 1}, tc.f}}
		err := p.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "messages[1]: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want messages[1]: …%s…", tc.f, err, tc.want)
		}
	}
	two := fi.Plan{Messages: []fi.MessageFault{{Kind: "a", P: 1}, {Kind: "b", P: 1}}}
	if err := two.Validate(); err == nil || strings.Count(err.Error(), "unknown kind") != 2 {
		t.Errorf("two bad faults: error %v, want both reported", err)
	}
}

// TestLogTruth: the log works out what each decision did to its
// operation.
func TestLogTruth(t *testing.T) {
	for _, tc := range []struct {
		dir  fi.Direction
		dec  fi.Decision
		want history.Truth
	}{
		{fi.Requests, fi.Decision{Drop: true}, history.TruthNotApplied},
		{fi.Requests, fi.Decision{Corruption: fi.CorruptFrame}, history.TruthNotApplied},
		{fi.Requests, fi.Decision{Copies: 1}, history.TruthDuplicated},
		{fi.Requests, fi.Decision{Corruption: fi.CorruptID}, history.TruthApplied},
		{fi.Requests, fi.Decision{Corruption: fi.CorruptValue}, history.TruthApplied},
		{fi.Requests, fi.Decision{Delay: time.Second}, history.TruthDelayed},
		{fi.Requests, fi.Decision{Reorder: true}, history.TruthDelayed},
		{fi.Replies, fi.Decision{Drop: true}, history.TruthApplied},
		{fi.Replies, fi.Decision{Corruption: fi.CorruptFrame}, history.TruthApplied},
		{fi.Replies, fi.Decision{Copies: 2}, history.TruthNone},
		{fi.Replies, fi.Decision{Delay: time.Second}, history.TruthDelayed},
	} {
		var log fi.Log
		var seen []fi.Record
		log.OnRecord = func(r fi.Record) { seen = append(seen, r) }
		log.Add(fi.Record{Link: fi.Link{Worker: "w1", Dir: tc.dir}, Decision: tc.dec})
		recs := log.Records()
		if len(recs) != 1 || recs[0].Truth != tc.want {
			t.Errorf("%s %+v: records %+v, want truth %q", tc.dir, tc.dec, recs, tc.want)
		}
		if diff := cmp.Diff(recs, seen); diff != "" {
			t.Errorf("OnRecord mismatch (-want +got):\n%s", diff)
		}
	}
}

// TestRecordEvent: a record becomes a fault event of the history.
func TestRecordEvent(t *testing.T) {
	var log fi.Log
	log.Add(fi.Record{Time: 1000, Link: msgRepLink, N: 4, Msg: fi.Message{Method: "cas", Key: "lock", Seq: 12},
		Decision: fi.Decision{Delay: 50, Copies: 1, Corruption: fi.CorruptValue}})
	want := history.Event{Kind: history.EventFault, Time: 1000, End: 1050, Worker: "w1",
		Link: "master>w1", Fault: "delay+duplicate+corrupt-value", Truth: history.TruthApplied,
		Text: `message 4 on master>w1: cas "lock", id 12`}
	got := log.Records()[0]
	if diff := cmp.Diff(want, got.Event()); diff != "" {
		t.Errorf("event mismatch (-want +got):\n%s", diff)
	}
	drop := fi.Record{Time: 5, Link: msgReqLink, Decision: fi.Decision{Drop: true, Reorder: true}}
	if ev := drop.Event(); ev.Fault != "drop+reorder" || ev.Link != "w1>master" || ev.End != 5 {
		t.Errorf("event %+v, want fault drop+reorder on w1>master ending at 5", ev)
	}
}

// TestLogFile: records survive WriteLog and ReadLog, and a damaged line
// is reported by its place.
func TestLogFile(t *testing.T) {
	recs := []fi.Record{
		{Time: 1, Link: msgReqLink, N: 1, Msg: fi.Message{Method: "set", Key: "k", Seq: 1}, Decision: fi.Decision{Drop: true, Fired: []int{0}}, Truth: history.TruthNotApplied},
		{Time: 2, Link: msgRepLink, N: 3, Msg: fi.Message{Seq: 7}, Decision: fi.Decision{Delay: time.Millisecond, Fired: []int{1}}, Truth: history.TruthDelayed},
	}
	var buf strings.Builder
	if err := fi.WriteLog(&buf, recs); err != nil {
		t.Fatal(err)
	}
	got, err := fi.ReadLog(strings.NewReader(buf.String()), "faults.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("read back mismatch (-want +got):\n%s", diff)
	}
	bad := buf.String() + `{"time":3,"surprise":true}` + "\n"
	_, err = fi.ReadLog(strings.NewReader(bad), "faults.jsonl")
	if want := "faults.jsonl:3:"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("ReadLog of an unknown member: error %v, want one starting %q", err, want)
	}
}

// TestDecideRate: a fault hits each message with its probability (its
// gaps are geometric), hitting two in a row as often as independent
// throws would, within five standard deviations over 200,000 messages.
func TestDecideRate(t *testing.T) {
	const n = 200_000
	for _, p := range []float64{0.001, 0.05, 0.5, 0.9} {
		plan := &fi.Plan{Seed: 7, Messages: []fi.MessageFault{{Kind: fi.Drop, P: p}}}
		ld := fi.NewDecider(plan).On(msgReqLink)
		hits, pairs, last := 0, 0, false
		for range n {
			d := ld.Decide(msgReqLink, fi.Message{Method: "set", Key: "k"}, 0)
			if d.Drop {
				hits++
				if last {
					pairs++
				}
			}
			last = d.Drop
		}
		within := func(what string, got int, q float64) {
			want, sd := n*q, math.Sqrt(n*q*(1-q))
			if math.Abs(float64(got)-want) > 5*sd+1 {
				t.Errorf("p %v: %d %s in %d messages, want about %.0f (sd %.1f)", p, got, what, n, want, sd)
			}
		}
		within("hits", hits, p)
		within("hits right after a hit", pairs, p*p)
	}
}

// TestDecideFaultsIndependent: a fault's decisions on a link do not
// depend on what the other faults of the plan are, nor on the messages
// only they match.
func TestDecideFaultsIndependent(t *testing.T) {
	drops := func(other fi.MessageFault) []int {
		plan := &fi.Plan{Seed: 5, Messages: []fi.MessageFault{{Kind: fi.Drop, P: 0.2}, other}}
		d := fi.NewDecider(plan)
		var hit []int
		for i := range 500 {
			method := []string{"get", "set"}[i%2]
			if dec := d.Decide(msgReqLink, fi.Message{Method: method, Key: "k"}, 0); dec.Drop {
				hit = append(hit, i)
			}
		}
		return hit
	}
	want := drops(fi.MessageFault{Kind: fi.Delay, P: 0.5, Delay: fi.Dist{Kind: fi.Fixed, Min: time.Millisecond}})
	got := drops(fi.MessageFault{Kind: fi.Duplicate, P: 0.9, Target: fi.Target{Method: "get"}})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drops with another second fault mismatch (-want +got):\n%s", diff)
	}
}
