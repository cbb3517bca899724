package linearizability

import (
	"fmt"
	"time"

	"github.com/shmlab/shmlab/history"
)

// The deadline check: in a history whose header says how long its calls
// may last (history.CallLimits), every call ends by its deadline. A
// client promises it (shm.ClientOptions.Timeout, shm.Calls.Due): a call
// returns its answer, or gives up with an indefinite timeout, within
// Timeout of its call, however often it was resent. So a call is
// overdue, unless a process event of its worker excuses it (below), when
//   - it returned more than Timeout + Slack after its call; or
//   - it never returned, though its worker lived on: a later call of the
//     worker (of any of its pipelined sequences) was made more than
//     Timeout + Slack after it. A call its client forgot (its callback
//     never runs) is one.
// A kill, restart, pause, resume or crash of its worker, a death of the
// master (master_kill, master_restart, or a kill or pause of "master"),
// or a byte fault on its worker's connection (a cut connection ends the
// worker), whose span meets the call's (from its call to its return, or
// to that later call) excuses it: a stopped process keeps no time, and a
// dead one returns nothing. Message faults excuse nothing: a timeout is
// for them.

// LivenessOverdue names the deadline check in Violation.Check.
const LivenessOverdue = "overdue"

// checkDeadlines reports the calls of h that outlived their deadline
// (see above); none if h's header states no call limits.
func checkDeadlines(h *history.History) []Violation {
	lim := h.Header.Calls
	if lim == nil {
		return nil
	}
	bound := lim.Timeout + lim.Slack
	var vs []Violation
	lastCall := lastCalls(h)
	for i := range h.Ops {
		op := &h.Ops[i]
		end, text := op.Return, ""
		switch {
		case op.Return != 0 || op.Status != history.StatusUnknown:
			if op.Return-op.Call <= bound {
				continue
			}
			text = fmt.Sprintf("%s returned %v after its call", op, time.Duration(op.Return-op.Call))
		default:
			end = lastCall[baseWorker(op.Worker)]
			if end-op.Call <= bound {
				continue
			}
			text = fmt.Sprintf("%s never returned, though its worker made a call %v after it", op, time.Duration(end-op.Call))
		}
		if stopped(h, op, end) {
			continue
		}
		vs = append(vs, Violation{Check: LivenessOverdue, Key: op.Key, Ops: []history.Op{*op},
			Text: fmt.Sprintf("%s: past its deadline (the call timeout %v, and %v of slack), and no planned fault stopped its worker or the master meanwhile",
				text, time.Duration(lim.Timeout), time.Duration(lim.Slack))})
	}
	return capShown(vs, "calls past their deadline")
}

// lastCalls returns the time of each worker's latest call, by its name
// without a pipelined sequence's suffix.
func lastCalls(h *history.History) map[string]int64 {
	last := map[string]int64{}
	for i := range h.Ops {
		op := &h.Ops[i]
		w := baseWorker(op.Worker)
		if t, ok := last[w]; !ok || op.Call > t {
			last[w] = op.Call
		}
	}
	return last
}

// baseWorker returns a worker name without the suffix of a pipelined
// sequence ("w1.0" is "w1").
func baseWorker(name string) string {
	for i := len(name) - 1; i > 0; i-- {
		switch c := name[i]; {
		case c == '.' && i < len(name)-1:
			return name[:i]
		case c < '0' || c > '9':
			return name
		}
	}
	return name
}

// stopped reports whether a process event of op's worker or of the
// master, whose span meets op's from its call to until, may have kept it
// from ending in time.
func stopped(h *history.History, op *history.Op, until int64) bool {
	for i := range h.Events {
		e := &h.Events[i]
		if e.Time > until || max(e.Time, e.End) < op.Call {
			continue
		}
		switch e.Kind {
		case history.EventFault:
			if !messageFault(e.Fault) && (workerOf(op.Worker, e.Worker) || onLink(op.Worker, e.Link)) {
				return true // a byte fault: its connection may be gone
			}
		case history.EventMasterKill, history.EventMasterRestart:
			return true
		case history.EventKill, history.EventRestart, history.EventPause, history.EventResume, history.EventCrash:
			if e.Worker == "" || e.Worker == MasterName || workerOf(op.Worker, e.Worker) {
				return true
			}
		}
	}
	return false
}
