package linearizability

import (
	"strings"
	"testing"

	"github.com/shmlab/shmlab/history"
)

// refusal makes the last operation answered code at time ret: expired is
// always unknown, seq_reused definite (fail) unless resent.
func (b *handHistory) refusal(code string, st history.Status, ret int64) *handHistory {
	o := b.last()
	o.Status, o.Return = st, ret
	o.Output = history.Output{Error: &history.ErrorInfo{Code: code, Message: "refused"}}
	return b
}

// faults sets how many faults the header says the run's plan injects
// (-1: not said).
func (b *handHistory) faults(n int) *handHistory {
	b.h.Header.Faults = nil
	if n >= 0 {
		b.h.Header.Faults = &n
	}
	return b
}

// TestLiveRefusals: an expired or seq_reused answer, and an unknown
// outcome that got no answer at all, are unavailable unless a planned
// fault explains them; each explanation is accepted only where it could
// have caused the answer.
func TestLiveRefusals(t *testing.T) {
	// w1 sets a at 10 (answered at 12), then calls #2 at 30, which is
	// answered code at 32; w2's get of a is answered.
	refused := func(code string, st history.Status, faults int) *handHistory {
		b := newHand(history.ModelKV).set("w1", "a", "1", 10, 12).set("w1", "a", "2", 30, 0).refusal(code, st, 32)
		return b.get("w2", "a", "1", 14, 16).faults(faults)
	}
	expired := func(faults int) *handHistory { return refused(ErrorExpired, history.StatusUnknown, faults) }
	reused := func(faults int) *handHistory { return refused(ErrorSeqReused, history.StatusFail, faults) }
	restart := func(at, end int64) history.Event {
		return history.Event{Kind: history.EventRestart, Time: at, End: end, Worker: "w1"}
	}
	fault := func(kind string, at, end int64, link string, op int64) history.Event {
		return history.Event{Kind: history.EventFault, Time: at, End: end, Worker: "w1", Link: link, Fault: kind, Op: op}
	}
	window := func(b *handHistory, n int) *handHistory { b.h.Header.DedupWindow = n; return b }
	wide := 2 * history.CorruptIDShift // a store's window that a corrupt-id cannot slide past a call in flight
	unavailable := []foundViolation{{Check: LivenessUnavailable, Key: "a", IDs: []int64{2}}}
	for _, tc := range []struct {
		name string
		h    *handHistory
		want []foundViolation
	}{
		// Rejected: no fault could have made the master refuse the id.
		{name: "expired to a new incarnation after a restart", h: expired(1).event(restart(20, 25)), want: unavailable},
		{name: "expired to a slow call retried, no fault planned", h: expired(0), want: unavailable},
		{name: "expired to a slow call retried, faults planned but none on it", h: expired(3), want: unavailable},
		{name: "seq_reused without a fault", h: reused(0), want: unavailable},
		{name: "seq_reused, resent, without a fault", h: refused(ErrorSeqReused, history.StatusUnknown, 2), want: unavailable},
		{name: "bad_request to a whole request, no fault", h: refused(ErrorBadRequest, history.StatusFail, 0), want: unavailable},
		{name: "unknown_method, faults planned but none on it", h: refused(ErrorUnknownMethod, history.StatusFail, 2), want: unavailable},
		{name: "a restart after the answer", h: expired(1).event(restart(40, 45)), want: unavailable},
		{name: "a drop named on another call", h: expired(1).event(fault("drop", 11, 11, "w1>master", 1)), want: unavailable},
		{name: "a delay named on another call, whose span meets the call", h: expired(1).event(fault("delay", 11, 31, "w1>master", 1)), want: unavailable},
		{name: "an unattributed message fault before the call", h: expired(1).event(fault("duplicate", 20, 20, "master>w1", 0)), want: unavailable},
		{name: "an unattributed message fault after the answer", h: expired(1).event(fault("drop", 33, 33, "w1>master", 0)), want: unavailable},
		{name: "a message fault on another worker's link", h: expired(1).event(history.Event{Kind: history.EventFault, Time: 31, Worker: "w2", Link: "w2>master", Fault: "drop"}), want: unavailable},
		{name: "a corrupt-id of an earlier request, before a restart", h: reused(1).event(fault("corrupt-id", 11, 11, "w1>master", 1)).event(restart(20, 25)), want: unavailable},
		{name: "a corrupt-id of an earlier reply", h: reused(1).event(fault("corrupt-id", 13, 13, "master>w1", 1)), want: unavailable},
		{name: "expired after a corrupt-id of an earlier request, the store's window twice the shift", h: window(expired(1), wide).event(fault("corrupt-id", 11, 11, "w1>master", 1)), want: unavailable},
		{name: "expired after an unattributed corrupt-id, the store's window twice the shift", h: window(expired(1), wide).event(fault("corrupt-id", 5, 5, "w1>master", 0)), want: unavailable},
		// A copy of the call's request or reply dropped, held or repeated
		// leaves the request as it was: each copy is the same request,
		// which a store answers from memory, never seq_reused.
		{name: "seq_reused, a duplicate named on the call", h: reused(1).event(fault("duplicate", 30, 30, "w1>master", 2)), want: unavailable},
		{name: "seq_reused, a reorder named on the call", h: reused(1).event(fault("reorder", 31, 31, "master>w1", 2)), want: unavailable},
		{name: "seq_reused, resent, a drop named on the call", h: refused(ErrorSeqReused, history.StatusUnknown, 2).event(fault("drop", 31, 31, "master>w1", 2)), want: unavailable},
		{name: "seq_reused, resent, a delay and a discard named on the call", h: refused(ErrorSeqReused, history.StatusUnknown, 2).
			event(fault("delay", 30, 31, "w1>master", 2)).event(fault("discarded", 31, 31, "w1>master", 2)), want: unavailable},
		{name: "another worker paused across the call", h: expired(1).event(history.Event{Kind: history.EventPause, Time: 29, End: 33, Worker: "w2"}), want: unavailable},
		// Accepted: the fault may have caused the answer.
		{name: "expired, faults not said (an imported history)", h: expired(-1)},
		{name: "a restart during the call, of the incarnation it ended", h: expired(1).event(restart(31, 40))},
		{name: "a drop named on the call", h: expired(1).event(fault("drop", 30, 30, "w1>master", 2))},
		{name: "expired, a duplicate named on the call", h: expired(1).event(fault("duplicate", 30, 30, "w1>master", 2))},
		{name: "seq_reused, a corrupt-frame named on the call", h: reused(1).event(fault("corrupt-frame", 30, 30, "w1>master", 2))},
		{name: "seq_reused, resent, a delay+corrupt-value named on the call", h: refused(ErrorSeqReused, history.StatusUnknown, 2).event(fault("delay+corrupt-value", 30, 31, "w1>master", 2))},
		{name: "bad_request, a corrupt-frame named on the call", h: refused(ErrorBadRequest, history.StatusFail, 1).event(fault("corrupt-frame", 30, 30, "w1>master", 2))},
		{name: "a corrupt-value named on the call", h: reused(1).event(fault("corrupt-value", 30, 30, "w1>master", 2))},
		{name: "a corrupt-id of an earlier request of its incarnation", h: reused(1).event(fault("corrupt-id", 11, 11, "w1>master", 1))},
		{name: "an unattributed corrupt-id of an earlier request", h: expired(1).event(fault("corrupt-id", 5, 5, "w1>master", 0))},
		{name: "expired after a corrupt-id, the store's window below twice the shift", h: window(expired(1), wide-1).event(fault("corrupt-id", 11, 11, "w1>master", 1))},
		{name: "seq_reused after a corrupt-id, the store's window twice the shift", h: window(reused(1), wide).event(fault("corrupt-id", 11, 11, "w1>master", 1))},
		{name: "expired, a corrupt-id named on the call, the store's window twice the shift", h: window(expired(1), wide).event(fault("corrupt-id", 30, 30, "w1>master", 2))},
		{name: "an unattributed message fault in its span", h: expired(1).event(fault("delay", 25, 31, "master>w1", 0))},
		{name: "a byte fault on its connection", h: expired(1).event(fault("bitflip", 1, 1, "", 0))},
		{name: "the master paused across the call", h: reused(1).event(history.Event{Kind: history.EventPause, Time: 29, End: 33, Worker: "master"})},
		{name: "a master restart during the call", h: expired(1).event(history.Event{Kind: history.EventMasterRestart, Time: 31, Reset: true})},
		{name: "a fault naming no worker", h: expired(1).event(history.Event{Kind: history.EventFault, Time: 1, Fault: "drop"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkLivenessCase(t, tc.h, tc.want)
			if r.Unavailable() != len(tc.want) {
				t.Errorf("Unavailable() = %d, want %d", r.Unavailable(), len(tc.want))
			}
			if len(tc.want) > 0 && !strings.Contains(r.Details(), "no planned fault explains it") && !strings.Contains(r.Details(), "injects no fault") {
				t.Errorf("details do not say why:\n%s", r.Details())
			}
		})
	}
}

// TestLiveUnansweredWithFaults: in a run with faults planned, an unknown
// outcome that got no answer at all (none, or its connection lost) is
// unavailable unless a fault touched it; one whose code is an answer (a
// definite error made indefinite by a resend) is not, nor is any in a
// history whose header does not say its faults.
func TestLiveUnansweredWithFaults(t *testing.T) {
	code := func(c string) func(*handHistory) *handHistory {
		return func(b *handHistory) *handHistory {
			b.last().Output = history.Output{Error: &history.ErrorInfo{Code: c}}
			return b
		}
	}
	none := func(b *handHistory) *handHistory { return b }
	returned := func(b *handHistory) *handHistory { b.last().Return = 11; return b }
	base := func(faults int, outcome func(*handHistory) *handHistory) *handHistory {
		return outcome(newHand(history.ModelKV).set("w1", "a", "1", 10, 0).unknown()).get("w2", "a", "1", 12, 14).faults(faults)
	}
	unavailable := []foundViolation{{Check: LivenessUnavailable, Key: "a", IDs: []int64{1}}}
	kill := history.Event{Kind: history.EventKill, Time: 11, Worker: "w1"}
	for _, tc := range []struct {
		name string
		h    *handHistory
		want []foundViolation
	}{
		{name: "no answer, no fault touched it", h: base(2, returned), want: unavailable},
		{name: "connection lost, no fault touched it", h: base(2, func(b *handHistory) *handHistory { return returned(code(ErrorConnLost)(b)) }), want: unavailable},
		{name: "no return at all: its worker died", h: base(2, none)},
		{name: "a timeout no fault touched", h: base(2, func(b *handHistory) *handHistory { return b.timeout(20) }),
			want: []foundViolation{{Check: LivenessNeverAnswered, Key: "a", IDs: []int64{1}}}},
		{name: "no answer, its worker killed", h: base(2, none).event(kill)},
		{name: "connection lost, the master killed", h: base(2, code(ErrorConnLost)).event(history.Event{Kind: history.EventMasterKill, Time: 11})},
		{name: "a resent definite error is an answer", h: base(2, code("not_integer"))},
		{name: "no answer, faults not said", h: base(-1, none)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLivenessCase(t, tc.h, tc.want)
		})
	}
}
