package linearizability

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"pgregory.net/rapid"
)

// timeout makes the last operation one its worker gave up on at the call
// timeout, at time gaveUp.
func (b *handHistory) timeout(gaveUp int64) *handHistory {
	o := b.last()
	o.Status, o.Return = history.StatusUnknown, gaveUp
	o.Output = history.Output{Error: &history.ErrorInfo{Code: ErrorTimeout, Message: "no reply"}}
	return b
}

// checkLivenessCase checks b and compares its liveness violations with
// want.
func checkLivenessCase(t *testing.T, b *handHistory, want []foundViolation) *Result {
	t.Helper()
	r := Check(&b.h, Options{})
	if r.Invalid != nil {
		t.Fatal(r.Invalid)
	}
	if diff := cmp.Diff(want, summarizeViolations(r.Liveness)); diff != "" {
		t.Errorf("liveness violations mismatch (-want +got):\n%s", diff)
	}
	return r
}

func (b *handHistory) event(e history.Event) *handHistory {
	b.h.Events = append(b.h.Events, e)
	return b
}

func TestLiveLiveness(t *testing.T) {
	never := func(ids ...int64) []foundViolation {
		var out []foundViolation
		for _, id := range ids {
			out = append(out, foundViolation{Check: LivenessNeverAnswered, Key: "a", IDs: []int64{id}})
		}
		return out
	}
	// w1's get at 10 gives up at 20; w2's set is answered.
	base := func() *handHistory {
		return newHand(history.ModelKV).get("w1", "a", "", 10, 0).timeout(20).set("w2", "a", "1", 12, 14)
	}
	crash := history.Event{Kind: history.EventCrash, Time: 30, Worker: "master", Exit: "exit status 2", Stderr: "panic: boom\ngoroutine 1"}
	for _, tc := range []struct {
		name string
		h    *handHistory
		want []foundViolation
	}{
		{name: "a timeout with no late reply and no fault", h: base(), want: never(1)},
		{name: "answered late", h: base().event(history.Event{Kind: history.EventLateReply, Time: 25, Worker: "w1", Op: 1})},
		{name: "a fault names it", h: base().event(history.Event{Kind: history.EventFault, Time: 11, Worker: "w1", Fault: "drop", Truth: history.TruthNotApplied, Op: 1})},
		{name: "a fault names another call", h: base().event(history.Event{Kind: history.EventFault, Time: 11, Worker: "w1", Fault: "drop", Op: 2}), want: never(1)},
		{name: "a message fault on its link after the call", h: base().event(history.Event{Kind: history.EventFault, Time: 11, Link: "w1>master", Fault: "drop"})},
		{name: "a delay on its link that ends after the call", h: base().event(history.Event{Kind: history.EventFault, Time: 5, End: 11, Worker: "w1", Fault: "delay"})},
		{name: "a message fault on its link before the call", h: base().event(history.Event{Kind: history.EventFault, Time: 5, Worker: "w1", Fault: "drop"}), want: never(1)},
		{name: "a message fault on another link", h: base().event(history.Event{Kind: history.EventFault, Time: 11, Worker: "w2", Link: "master>w2", Fault: "drop"}), want: never(1)},
		{name: "a byte fault on its connection before the call", h: base().event(history.Event{Kind: history.EventFault, Time: 1, Worker: "w1", Fault: "bitflip"})},
		{name: "a fault that names no place", h: base().event(history.Event{Kind: history.EventFault, Time: 1, Fault: "drop"})},
		{name: "its worker killed later", h: base().event(history.Event{Kind: history.EventKill, Time: 500, Worker: "w1"})},
		{name: "its worker killed before the call", h: base().event(history.Event{Kind: history.EventKill, Time: 5, End: 6, Worker: "w1"}), want: never(1)},
		{name: "another worker killed", h: base().event(history.Event{Kind: history.EventKill, Time: 15, Worker: "w2"}), want: never(1)},
		{name: "the master paused across the call", h: base().event(history.Event{Kind: history.EventPause, Time: 5, End: 15, Worker: "master"})},
		{name: "the master paused before the call", h: base().event(history.Event{Kind: history.EventPause, Time: 5, End: 9, Worker: "master"}), want: never(1)},
		{name: "the master restarted later", h: base().event(history.Event{Kind: history.EventMasterRestart, Time: 40, Reset: true})},
		{name: "the master killed before the call", h: base().event(history.Event{Kind: history.EventMasterKill, Time: 2, End: 3}), want: never(1)},
		{name: "a note touches nothing", h: base().event(history.Event{Kind: history.EventNote, Time: 15, Worker: "w1"}), want: never(1)},
		{name: "a pipelined sequence of its worker", h: newHand(history.ModelKV).get("w1.3", "a", "", 10, 0).timeout(20).event(history.Event{Kind: history.EventPause, Time: 12, End: 14, Worker: "w1"})},
		{name: "another error is no timeout", h: func() *handHistory {
			b := base()
			b.h.Ops[0].Output.Error.Code = "conn_lost"
			return b
		}()},
		{name: "a crash is reported, and explains the calls it left", h: base().event(crash),
			want: []foundViolation{{Check: LivenessCrashed}}},
		{name: "a crash of a worker", h: newHand(history.ModelKV).set("w1", "a", "1", 1, 2).event(history.Event{Kind: history.EventCrash, Time: 3, Worker: "w1", Exit: "signal SIGSEGV"}),
			want: []foundViolation{{Check: LivenessCrashed}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkLivenessCase(t, tc.h, tc.want)
			if want := len(tc.want) > 0; (r.Verdict == Illegal) != want {
				t.Errorf("verdict %v, want illegal: %v", r.Verdict, want)
			}
			if r.Verdict == Illegal && (!strings.Contains(r.String(), "never answered") && !strings.Contains(r.String(), "crash")) {
				t.Errorf("summary %q names no liveness violation", r.String())
			}
			if n := len(tc.want); n > 0 && r.Crashes()+r.NeverAnswered() != n {
				t.Errorf("Crashes %d + NeverAnswered %d, want %d", r.Crashes(), r.NeverAnswered(), n)
			}
			if off := Check(&tc.h.h, Options{NoLiveness: true}); len(off.Liveness) > 0 {
				t.Errorf("NoLiveness: %d liveness violations", len(off.Liveness))
			}
		})
	}
}

func TestLiveCrashDetails(t *testing.T) {
	h := newHand(history.ModelKV).set("w1", "a", "1", 1, 2).event(history.Event{Kind: history.EventCrash, Time: 3, Worker: "master",
		Exit: "exit status 2", Stderr: "panic: crash on key\n\ngoroutine 7 [running]:", Text: "pid 42"}).h
	r := Check(&h, Options{})
	d := r.Details()
	for _, want := range []string{"crashed:", "master crashed (exit status 2)", "pid 42", "panic: crash on key", "goroutine 7 [running]:"} {
		if !strings.Contains(d, want) {
			t.Errorf("details lack %q:\n%s", want, d)
		}
	}
	if got := r.String(); !strings.Contains(got, "1 crash,") {
		t.Errorf("summary %q does not count the crash", got)
	}
	if v := r.Liveness[0]; v.Event == nil || v.Event.Exit != "exit status 2" {
		t.Errorf("violation's event %+v, want the crash", v.Event)
	}
}

func TestLiveNeverAnsweredCapped(t *testing.T) {
	b := newHand(history.ModelKV)
	for i := range int64(maxShownPerCheck + 5) {
		b.get("w1", "a", "", 10*i+1, 0).timeout(10*i + 5)
		b.last().Stream = int(i)
	}
	r := Check(&b.h, Options{})
	if len(r.Liveness) != maxShownPerCheck || r.NeverAnswered() != maxShownPerCheck+5 {
		t.Fatalf("%d listed, %d counted; want %d and %d", len(r.Liveness), r.NeverAnswered(), maxShownPerCheck, maxShownPerCheck+5)
	}
	if !strings.Contains(r.Liveness[len(r.Liveness)-1].Text, "5 more") {
		t.Errorf("the last one listed does not count the rest: %s", r.Liveness[len(r.Liveness)-1].Text)
	}
}

// TestLiveEventsRoundTrip writes crash and late_reply events and reads
// them back.
func TestLiveEventsRoundTrip(t *testing.T) {
	h := newHand(history.ModelKV).get("w1", "a", "", 10, 0).timeout(20).
		event(history.Event{Kind: history.EventLateReply, Time: 25, Worker: "w1", Op: 1}).
		event(history.Event{Kind: history.EventCrash, Time: 30, Worker: "master", Exit: "signal SIGSEGV", Stderr: "line \"1\"\nline 2", Text: "pid 7"}).h
	var buf bytes.Buffer
	if err := h.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := history.Read(&buf, "rt.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for i := range got.Events {
		got.Events[i].Line = 0
	}
	if diff := cmp.Diff(h.Events, got.Events); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

func TestLiveReadRejects(t *testing.T) {
	const head = `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}` + "\n" +
		`{"type":"op","id":1,"worker":"w1","method":"get","key":"a","input":{},"output":{"error":{"code":"timeout"}},"call":1,"return":2,"status":"unknown"}` + "\n"
	for _, tc := range []struct{ line, want string }{
		{`{"type":"event","kind":"late_reply","time":3,"worker":"w1"}`, `x.jsonl:3: field "op": missing`},
		{`{"type":"event","kind":"late_reply","time":3,"op":9}`, `x.jsonl:3: field "op": no operation has id 9`},
		{`{"type":"event","kind":"kill","time":3,"exit":"exit status 1"}`, `x.jsonl:3: field "exit": only a crash has it, not a kill`},
		{`{"type":"event","kind":"note","time":3,"stderr":"x"}`, `x.jsonl:3: field "stderr": only a crash has it, not a note`},
		{`{"type":"event","kind":"crash","time":3,"exit":2}`, `x.jsonl:3: field "exit"`},
		{`{"type":"op","id":2,"worker":"w2","method":"get","key":"a","input":{},"output":{},"call":1,"return":2,"status":"ok","exit":"x"}`, `x.jsonl:3: field "exit": not a member of an op line`},
	} {
		t.Run(tc.line, func(t *testing.T) {
			_, err := history.Read(strings.NewReader(head+tc.line+"\n"), "x.jsonl")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLiveProperty draws histories of workers whose calls end ok, fail,
// time out (answered late or not) or are cut by a kill, with faults
// aimed at some calls, and checks that the liveness check reports
// exactly the calls that timed out with no late reply and no fault on
// them, and that Read agrees with the history in memory.
func TestLiveProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := newHand(history.ModelKV)
		var want []int64
		now := int64(0)
		workers := rapid.IntRange(1, 3).Draw(t, "workers")
		streams := make([]int, workers)
		for range rapid.IntRange(0, 30).Draw(t, "ops") {
			w := rapid.IntRange(0, workers-1).Draw(t, "worker")
			name := fmt.Sprintf("w%d", w+1)
			now += int64(rapid.IntRange(1, 5).Draw(t, "gap"))
			b.get(name, "a", "", now, now+3)
			b.last().Stream = streams[w]
			id := b.last().ID
			switch rapid.IntRange(0, 5).Draw(t, "end") {
			case 0, 1: // ok
			case 2:
				b.last().Status, b.last().Output = history.StatusFail, history.Output{Error: &history.ErrorInfo{Code: "overloaded"}}
			case 3:
				b.timeout(now + 3)
				streams[w]++
				b.event(history.Event{Kind: history.EventLateReply, Time: now + 4 + int64(rapid.IntRange(0, 100).Draw(t, "late")), Worker: name, Op: id})
			case 4:
				b.timeout(now + 3)
				streams[w]++
				if rapid.Bool().Draw(t, "aimed") {
					b.event(history.Event{Kind: history.EventFault, Time: now + 1, Worker: name, Fault: "drop", Truth: history.TruthNotApplied, Op: id})
				} else {
					want = append(want, id)
				}
			case 5:
				b.unknown()
				streams[w]++
			}
			now += 4
		}
		r := Check(&b.h, Options{NoSessions: true, NoCounters: true})
		var got []int64
		for _, v := range r.Liveness {
			got = append(got, v.Ops[0].ID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("calls never answered mismatch (-want +got):\n%s", diff)
		}
		var buf bytes.Buffer
		if err := b.h.Write(&buf); err != nil {
			t.Fatal(err)
		}
		read, err := history.Read(&buf, "p.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		if again := Check(read, Options{NoSessions: true, NoCounters: true}); again.NeverAnswered() != len(want) {
			t.Fatalf("read back: %d never answered, want %d", again.NeverAnswered(), len(want))
		}
	})
}

// TestLiveUnavailable: in a run with no fault planned, an unknown outcome
// or an expired answer is a violation unless its reply came late; with
// faults planned, an expired answer none explains is one too; with none
// said, neither is.
func TestLiveUnavailable(t *testing.T) {
	zero, two := 0, 2
	expired := func(b *handHistory) *handHistory {
		b.last().Output = history.Output{Error: &history.ErrorInfo{Code: ErrorExpired, Message: "request 3 is older"}}
		return b
	}
	closed := func(b *handHistory) *handHistory {
		b.last().Output = history.Output{Error: &history.ErrorInfo{Code: "closed"}}
		return b
	}
	// w1's set has an unknown outcome; w2's get is answered.
	base := func(faults *int, outcome func(*handHistory) *handHistory) *handHistory {
		b := outcome(newHand(history.ModelKV).set("w1", "a", "1", 10, 0).unknown()).get("w2", "a", "1", 12, 14)
		b.h.Header.Faults = faults
		return b
	}
	unavailable := []foundViolation{{Check: LivenessUnavailable, Key: "a", IDs: []int64{1}}}
	for _, tc := range []struct {
		name     string
		h        *handHistory
		want     []foundViolation
		outcomes Outcomes
	}{
		{name: "expired, no fault planned", h: base(&zero, expired), want: unavailable, outcomes: Outcomes{Unknown: 1, Expired: 1}},
		{name: "connection closed, no fault planned", h: base(&zero, closed), want: unavailable, outcomes: Outcomes{Unknown: 1}},
		{name: "expired, faults planned, none explains it", h: base(&two, expired), want: unavailable, outcomes: Outcomes{Unknown: 1, Expired: 1}},
		{name: "expired, faults not said", h: base(nil, expired), outcomes: Outcomes{Unknown: 1, Expired: 1}},
		{name: "a timeout answered late is slow, not unavailable", h: base(&zero, func(b *handHistory) *handHistory { return b.timeout(20) }).
			event(history.Event{Kind: history.EventLateReply, Time: 30, Worker: "w1", Op: 1}), outcomes: Outcomes{Unknown: 1, Late: 1}},
		{name: "a timeout never answered is reported once", h: base(&zero, func(b *handHistory) *handHistory { return b.timeout(20) }),
			want: []foundViolation{{Check: LivenessNeverAnswered, Key: "a", IDs: []int64{1}}}, outcomes: Outcomes{Unknown: 1}},
		{name: "a crash explains the calls it left", h: base(&zero, closed).event(history.Event{Kind: history.EventCrash, Time: 11, Worker: "master"}),
			want: []foundViolation{{Check: LivenessCrashed}}, outcomes: Outcomes{Unknown: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkLivenessCase(t, tc.h, tc.want)
			if diff := cmp.Diff(tc.outcomes, r.Outcomes); diff != "" {
				t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
			}
			n := 0
			for _, v := range tc.want {
				if v.Check == LivenessUnavailable {
					n++
				}
			}
			if r.Unavailable() != n || (n > 0) != strings.Contains(r.String(), "unavailable") {
				t.Errorf("Unavailable() = %d, want %d; summary %q", r.Unavailable(), n, r.String())
			}
		})
	}
}
