package linearizability

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/history"
)

// The liveness checks: a process that exited with no planned fault to
// explain it (a crash event), and a call that never returned although no
// planned fault touched it.
//
// A call never returned when it is unknown with the error code "timeout"
// (its worker gave up waiting: ErrorTimeout) and no late_reply event names
// it: the harness kept listening for its reply until the end of the run
// (the reference, at least LateReplyWait past the give-up) and none came.
// Its lifetime runs from its call to the end of the run, since a reply may
// come at any time until then. A planned fault touches it if it is
//   - an event naming the call (Op), whatever its kind;
//   - a message fault that names no call, on its worker's link, whose
//     span (Time to End) ends at or after the call (ground truth is
//     missing, so every call it may have met counts as touched);
//   - a byte fault on its worker's connection, at any time (a damaged
//     stream can swallow every later request);
//   - a kill, pause, resume or restart of its worker, or any process
//     event of the master (master_kill, master_restart, a pause or resume
//     of "master"), whose span ends at or after the call;
//   - a crash of its worker or of the master at or after the call (the
//     crash is reported; the calls it left unanswered are not again);
//   - a fault event that names no worker at all, at any time.
//
// Message faults that name another call touch this one not: their ground
// truth says what they hit. A worker's operations are matched by its name
// and by the names of its pipelined sequences ("w1.0" belongs to "w1").
//
// In a run whose header says its plan injects no fault (Header.Faults is
// 0), the system owes an answer to every call: an operation of unknown
// outcome is unavailable, and so is an "expired" answer, unless
//   - a late_reply event names it: the reply came, late (a slow machine
//     is no fault of the system under test);
//   - it is a timeout already reported as never answered;
//   - an event touches it (above): a crash, which is reported itself.

// The liveness checks' names, as in Violation.Check.
const (
	LivenessNeverAnswered = "never-answered"
	LivenessCrashed       = "crashed"
	LivenessUnavailable   = "unavailable"
)

// ErrorExpired is the error code of the reference's indefinite answer to
// a retry older than its duplicate window (shm.CodeExpired).
const ErrorExpired = "expired"

// ErrorTimeout is the error code of an unknown operation whose worker got
// no reply within the call timeout and gave up.
const ErrorTimeout = "timeout"

// MasterName is the worker name of the master in events ("master").
const MasterName = "master"

// messageFaults are the fault kinds that act on one message; the others
// act on a connection's bytes.
var messageFaults = []string{"drop", "delay", "duplicate", "reorder", "corrupt-frame", "corrupt-id", "corrupt-value", "discarded"}

// checkLiveness reports every crash, then every call that was never
// answered though no planned fault touched it (the first few, the last
// listed counting the rest).
func checkLiveness(h *history.History) []Violation {
	var vs []Violation
	late := map[int64]bool{}
	for i := range h.Events {
		e := &h.Events[i]
		switch e.Kind {
		case history.EventCrash:
			vs = append(vs, crashViolation(e))
		case history.EventLateReply:
			late[e.Op] = true
		}
	}
	var never, unavailable []Violation
	noFaults := h.Header.NoFaults()
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status != history.StatusUnknown || late[op.ID] || touched(h, op) {
			continue
		}
		switch {
		case timedOut(op):
			never = append(never, Violation{Check: LivenessNeverAnswered, Key: op.Key, Ops: []history.Op{*op},
				Text: fmt.Sprintf("%s was never answered: its worker gave up at the call timeout, no reply came by the end of the run, and no planned fault touched its worker, its link or the master after it was called", op)})
		case noFaults:
			unavailable = append(unavailable, Violation{Check: LivenessUnavailable, Key: op.Key, Ops: []history.Op{*op},
				Text: fmt.Sprintf("%s %s in a run whose plan injects no fault", op, unavailableWhy(op))})
		}
	}
	vs = append(vs, capShown(never, "calls never answered")...)
	return append(vs, capShown(unavailable, "operations unavailable")...)
}

// unavailableWhy says how an operation of unknown outcome failed to get
// an answer.
func unavailableWhy(op *history.Op) string {
	switch {
	case op.Output.Error == nil:
		return "has an unknown outcome"
	case op.Output.Error.Code == ErrorExpired:
		return "was answered expired (a retry the master no longer remembered, so it may or may not have been applied)"
	}
	return fmt.Sprintf("has an unknown outcome (error %s)", op.Output.Error.Code)
}

// capShown keeps the first maxShownPerCheck of vs, the last kept counting
// the rest, which are what.
func capShown(vs []Violation, what string) []Violation {
	if len(vs) <= maxShownPerCheck {
		return vs
	}
	more := len(vs) - maxShownPerCheck
	vs = vs[:maxShownPerCheck]
	last := &vs[len(vs)-1]
	last.More = more
	last.Text += fmt.Sprintf(" (%d more %s not shown)", more, what)
	return vs
}

// Outcomes counts what the operations of h that got no definite answer
// came to.
type Outcomes struct {
	// Unknown is how many operations have an unknown outcome; Expired
	// how many of them were answered "expired"; Late how many of them
	// got their reply after their worker gave up (a late_reply event).
	Unknown, Expired, Late int
}

// countOutcomes counts h's unknown operations.
func countOutcomes(h *history.History) Outcomes {
	var o Outcomes
	late := map[int64]bool{}
	for i := range h.Events {
		if e := &h.Events[i]; e.Kind == history.EventLateReply && e.Op != 0 {
			late[e.Op] = true
		}
	}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status != history.StatusUnknown {
			continue
		}
		o.Unknown++
		if op.Output.Error != nil && op.Output.Error.Code == ErrorExpired {
			o.Expired++
		}
		if late[op.ID] {
			o.Late++
		}
	}
	return o
}

// timedOut reports whether op is a call its worker gave up on at the call
// timeout.
func timedOut(op *history.Op) bool {
	return op.Status == history.StatusUnknown && op.Output.Error != nil && op.Output.Error.Code == ErrorTimeout
}

// crashViolation reports a crash event.
func crashViolation(e *history.Event) Violation {
	who := e.Worker
	if who == "" {
		who = "a process"
	}
	how := e.Exit
	if how == "" {
		how = "exited"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s crashed (%s) with no planned fault to explain it", who, how)
	if e.Text != "" {
		fmt.Fprintf(&b, ": %s", e.Text)
	}
	if e.Stderr != "" {
		b.WriteString("; the last lines of its stderr:\n" + indentLines(e.Stderr))
	}
	c := *e
	return Violation{Check: LivenessCrashed, Event: &c, Text: b.String()}
}

func indentLines(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// touched reports whether a planned fault (or a crash) touched op after
// it was called.
func touched(h *history.History, op *history.Op) bool {
	for i := range h.Events {
		if touches(&h.Events[i], op) {
			return true
		}
	}
	return false
}

// touches reports whether event e touches op (see checkLiveness).
func touches(e *history.Event, op *history.Op) bool {
	if e.Op != 0 {
		return e.Op == op.ID
	}
	after := max(e.Time, e.End) >= op.Call
	switch e.Kind {
	case history.EventFault:
		switch {
		case e.Worker == "" && e.Link == "":
			return true
		case !workerOf(op.Worker, e.Worker) && !onLink(op.Worker, e.Link):
			return false
		case !messageFault(e.Fault):
			return true
		}
		return after
	case history.EventMasterKill, history.EventMasterRestart:
		return after
	case history.EventKill, history.EventRestart, history.EventPause, history.EventResume, history.EventCrash:
		return after && (e.Worker == "" || e.Worker == MasterName || workerOf(op.Worker, e.Worker))
	}
	return false
}

// workerOf reports whether an operation's worker name is worker, or one
// of its pipelined sequences (worker.n).
func workerOf(opWorker, worker string) bool {
	return worker != "" && (opWorker == worker || strings.HasPrefix(opWorker, worker+"."))
}

// onLink reports whether link ("w1>master", "master>w1") is the link of
// an operation's worker.
func onLink(opWorker, link string) bool {
	for _, end := range strings.Split(link, ">") {
		if end != MasterName && workerOf(opWorker, end) {
			return true
		}
	}
	return false
}

// messageFault reports whether fault (kinds joined by "+") acts on
// messages only.
func messageFault(fault string) bool {
	for _, f := range strings.Split(fault, "+") {
		if !slices.Contains(messageFaults, f) {
			return false
		}
	}
	return true
}
