package linearizability

import (
	"testing"

	"github.com/shmlab/shmlab/history"
)

// deadline states in b's header that its calls last at most timeout,
// with slack.
func (b *handHistory) deadline(timeout, slack int64) *handHistory {
	b.h.Header.Calls = &history.CallLimits{Timeout: timeout, Slack: slack}
	return b
}

// TestLiveDeadline: with call limits in the header, a call that returned
// later than its timeout and slack after its call, or that never returned
// while its worker made calls past that, is overdue, unless a process
// event of its worker or of the master met it; without them nothing is.
func TestLiveDeadline(t *testing.T) {
	overdue := func(id int64) []foundViolation {
		return []foundViolation{{Check: LivenessOverdue, Key: "a", IDs: []int64{id}}}
	}
	// w1's set at 10 returns at ret; w2's get is answered at once.
	returned := func(ret int64) *handHistory {
		return newHand(history.ModelKV).set("w1", "a", "1", 10, ret).get("w2", "a", "1", 12, 14)
	}
	// w1's set at 10 never returns; w1 calls again at next.
	forgotten := func(next int64) *handHistory {
		return newHand(history.ModelKV).set("w1", "a", "1", 10, 0).unknown().get("w1.1", "a", "1", next, next+1)
	}
	pause := history.Event{Kind: history.EventPause, Time: 50, End: 200, Worker: "w1"}
	for _, tc := range []struct {
		name string
		h    *handHistory
		want []foundViolation
	}{
		{name: "answered by its deadline", h: returned(110).deadline(100, 0)},
		{name: "answered past its deadline", h: returned(111).deadline(100, 0), want: overdue(1)},
		{name: "answered within the slack", h: returned(140).deadline(100, 30)},
		{name: "a timeout past its deadline", h: newHand(history.ModelKV).set("w1", "a", "1", 10, 15).timeout(200).deadline(100, 0).
			event(history.Event{Kind: history.EventLateReply, Time: 250, Op: 1, Worker: "w1"}), want: overdue(1)},
		{name: "past its deadline, no limits said", h: returned(500)},
		{name: "past its deadline, its worker paused", h: returned(500).deadline(100, 0).event(pause)},
		{name: "past its deadline, another worker paused", h: returned(500).deadline(100, 0).event(history.Event{Kind: history.EventPause, Time: 50, End: 200, Worker: "w2"}),
			want: overdue(1)},
		{name: "past its deadline, the master killed", h: returned(500).deadline(100, 0).event(history.Event{Kind: history.EventMasterKill, Time: 300})},
		{name: "past its deadline, a pause after it returned", h: returned(500).deadline(100, 0).event(history.Event{Kind: history.EventPause, Time: 600, End: 700, Worker: "w1"}),
			want: overdue(1)},
		{name: "no return, its worker called on past its deadline", h: forgotten(200).deadline(100, 0), want: overdue(1)},
		{name: "no return, its worker called on within its deadline", h: forgotten(100).deadline(100, 0)},
		{name: "no return, a byte fault on its connection", h: forgotten(200).deadline(100, 0).event(history.Event{Kind: history.EventFault, Fault: "eof", Time: 50, Worker: "w1"})},
		{name: "no return, a message fault on its link", h: forgotten(200).deadline(100, 0).event(history.Event{Kind: history.EventFault, Fault: "drop", Time: 50, Link: "master>w1"}),
			want: overdue(1)},
		{name: "no return, its worker killed", h: forgotten(200).deadline(100, 0).event(history.Event{Kind: history.EventKill, Time: 50, Worker: "w1"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLivenessCase(t, tc.h, tc.want)
		})
	}
}

func TestBaseWorker(t *testing.T) {
	for name, want := range map[string]string{"w1": "w1", "w1.0": "w1", "w1.12": "w1", "a.b": "a.b", "w1.": "w1.", ".3": ".3"} {
		if got := baseWorker(name); got != want {
			t.Errorf("baseWorker(%q) = %q, want %q", name, got, want)
		}
	}
}
