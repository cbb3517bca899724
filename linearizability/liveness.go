package linearizability

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/history"
)

// The liveness checks: a process that exited with no planned fault to
// explain it (a crash event), a call that never returned although no
// planned fault touched it, and an operation left without a real answer
// (unavailable) that no planned fault explains.
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
// An operation is unavailable, in every run whose header says how many
// faults its plan injects (Header.Faults; without it, as in an imported
// history, the faults may not be recorded at all), when
//   - it was answered "expired" or "seq_reused" (whatever its status: a
//     seq_reused answer is definite unless the call was resent) and no
//     planned fault explains that answer (below): a store owes every call
//     of a live incarnation a real answer, as the reference's duplicate
//     window gives one unless a fault moved or damaged its ids;
//   - it was refused as malformed ("bad_request", "unknown_method") and
//     no planned fault explains it: a harness records only the requests
//     it made whole (a key "" or "__proto__" is a key), so a store that
//     refuses one refuses a valid request;
//   - it is unknown with no late_reply naming it and no event touching it
//     (above), and either the run's header says its plan injects no fault
//     (Header.Faults is 0: then every code counts) or its outcome says no
//     answer came at all (no error, or "conn_lost"). A timeout is left to
//     the never-answered check, and a reply that came late is the slow
//     machine's, not the system's.
//
// What explains an expired, seq_reused or malformed answer is narrower
// than what touches a call, since the answer came at a known time
// (Return):
//   - an event naming the call (Op), whatever its kind, but for a
//     seq_reused answer a message fault naming it that corrupts nothing
//     (a drop, delay, duplicate, reorder or discard): a copy of a request,
//     resent or duplicated, is the same request, whatever its ack, which
//     a store answers from memory;
//   - a corrupt-id fault on a request of its worker, at or before the
//     answer, in the call's incarnation (no kill, restart or crash of its
//     worker, nor a death of the master, between the fault and the call):
//     the master applied that request under an id its worker uses later,
//     or slid its window past ids still to come, which any later call of
//     that incarnation may meet; but not an expired answer when the
//     header says the store remembers at least 2*CorruptIDShift ids
//     (Header.DedupWindow): a corrupt-id moves an id CorruptIDShift
//     ahead, and such a store still remembers every id from its client's
//     acknowledgement up to the moved one (a client with fewer than
//     CorruptIDShift calls in flight), so it slides past none in flight;
//   - a message fault naming no call on its worker's link, whose span
//     meets the call's (from Time to End, against Call to Return);
//   - a byte fault on its worker's connection, at any time;
//   - a process event of its worker or of the master (kill, pause,
//     resume, restart, crash, master_kill, master_restart) that began at
//     or before the answer and whose span reaches the call: a restart
//     explains the calls of the incarnation it ended, not those of the
//     new one made after it;
//   - a fault that names no worker at all.
// A fault that names another call (a drop, delay, duplicate, reorder or
// corrupt-value of another request or reply, or a corrupt-id of another
// reply) explains nothing here: the reference keeps one window per
// incarnation whose low end follows its client's own acknowledgements,
// so none of these can make it forget, or reuse, an id of a call still
// in flight.

// The liveness checks' names, as in Violation.Check.
const (
	LivenessNeverAnswered = "never-answered"
	LivenessCrashed       = "crashed"
	LivenessUnavailable   = "unavailable"
)

// ErrorExpired is the error code of the reference's indefinite answer to
// a retry older than its duplicate window (shm.CodeExpired).
const ErrorExpired = "expired"

// ErrorSeqReused is the error code of the reference's answer to a request
// whose id was used before by another request (shm.CodeSeqReused):
// definite, unless the call was resent.
const ErrorSeqReused = "seq_reused"

// ErrorBadRequest and ErrorUnknownMethod are the error codes of the
// reference's refusals of a request as malformed (shm.CodeBadRequest,
// shm.CodeUnknownMethod): a request a harness made whole gets one only
// when a fault damaged it.
const (
	ErrorBadRequest    = "bad_request"
	ErrorUnknownMethod = "unknown_method"
)

// ErrorConnLost is the error code of an unknown operation whose
// connection ended while it was in flight (shm.CodeConnLost).
const ErrorConnLost = "conn_lost"

// ErrorTimeout is the error code of an unknown operation whose worker got
// no reply within the call timeout and gave up.
const ErrorTimeout = "timeout"

// MasterName is the worker name of the master in events ("master").
const MasterName = "master"

// messageFaults are the fault kinds that act on one message; the others
// act on a connection's bytes.
var messageFaults = []string{"drop", "delay", "duplicate", "reorder", "corrupt-frame", "corrupt-id", "corrupt-value", "discarded"}

// checkLiveness reports every crash, then every call that was never
// answered though no planned fault touched it, then every operation
// unavailable, then every call past its deadline (liveness_deadline.go;
// each list the first few, the last listed counting the rest).
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
	noFaults, planned := h.Header.NoFaults(), h.Header.Faults != nil
	for i := range h.Ops {
		op := &h.Ops[i]
		switch {
		case planned && refused(op):
			if !explained(h, op) {
				unavailable = append(unavailable, unavailableViolation(op, noFaults))
			}
		case op.Status != history.StatusUnknown || late[op.ID] || touched(h, op):
		case timedOut(op):
			never = append(never, Violation{Check: LivenessNeverAnswered, Key: op.Key, Ops: []history.Op{*op},
				Text: fmt.Sprintf("%s was never answered: its worker gave up at the call timeout, no reply came by the end of the run, and no planned fault touched its worker, its link or the master after it was called", op)})
		case noFaults || (planned && unanswered(op)):
			unavailable = append(unavailable, unavailableViolation(op, noFaults))
		}
	}
	vs = append(vs, capShown(never, "calls never answered")...)
	vs = append(vs, capShown(unavailable, "operations unavailable")...)
	return append(vs, checkDeadlines(h)...)
}

// unavailableViolation reports op as unavailable.
func unavailableViolation(op *history.Op, noFaults bool) Violation {
	where := "though no planned fault explains it"
	if noFaults {
		where = "in a run whose plan injects no fault"
	}
	return Violation{Check: LivenessUnavailable, Key: op.Key, Ops: []history.Op{*op},
		Text: fmt.Sprintf("%s %s, %s", op, unavailableWhy(op), where)}
}

// unavailableWhy says how an operation failed to get a real answer.
func unavailableWhy(op *history.Op) string {
	switch {
	case op.Output.Error == nil:
		return "has an unknown outcome"
	case op.Output.Error.Code == ErrorExpired:
		return "was answered expired (the master no longer remembered its id, so it may or may not have been applied)"
	case op.Output.Error.Code == ErrorSeqReused:
		return "was answered seq_reused (the master took its id for one another request had used)"
	case op.Output.Error.Code == ErrorBadRequest || op.Output.Error.Code == ErrorUnknownMethod:
		return fmt.Sprintf("was refused as malformed (%s: %s), though its request was one the harness made whole", op.Output.Error.Code, op.Output.Error.Message)
	}
	return fmt.Sprintf("has an unknown outcome (error %s)", op.Output.Error.Code)
}

// refused reports whether op was answered expired or seq_reused (the
// master's refusals of a request id) or bad_request or unknown_method
// (its refusals of a request as malformed, which a harness's own
// operations never are unless a fault damaged them): answers a fault
// must explain.
func refused(op *history.Op) bool {
	if op.Output.Error == nil || op.Status == history.StatusOK {
		return false
	}
	switch op.Output.Error.Code {
	case ErrorExpired, ErrorSeqReused, ErrorBadRequest, ErrorUnknownMethod:
		return true
	}
	return false
}

// unanswered reports whether op, unknown, says no answer came at all:
// no error, or its connection was lost, and its worker lived to record
// that it returned. A call with no return is its worker's death (a Node
// target's workers die with their primary), which a process event
// explains or a crash reports.
func unanswered(op *history.Op) bool {
	return op.Return != 0 && (op.Output.Error == nil || op.Output.Error.Code == ErrorConnLost)
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

// touches reports whether event e touches op (see checkLiveness): op's
// lifetime runs to the end of the run.
func touches(e *history.Event, op *history.Op) bool {
	return hits(e, op, math.MaxInt64, 0, false)
}

// hits reports whether event e may have acted on op, called at op.Call
// and alive until last: an event naming it, or one that names no call
// and whose span meets op's lifetime on its worker, its link or the
// master (see checkLiveness). With ids, a corrupt-id of a request of
// op's worker since born (its incarnation's start) hits it too, whatever
// call it names.
func hits(e *history.Event, op *history.Op, last, born int64, ids bool) bool {
	moved := ids && e.Kind == history.EventFault && corruptsIDs(e, op) && e.Time >= born && e.Time <= last
	if e.Op != 0 {
		return e.Op == op.ID || moved
	}
	span := e.Time <= last && max(e.Time, e.End) >= op.Call
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
		return span || moved
	case history.EventMasterKill, history.EventMasterRestart:
		return span
	case history.EventKill, history.EventRestart, history.EventPause, history.EventResume, history.EventCrash:
		return span && (e.Worker == "" || e.Worker == MasterName || workerOf(op.Worker, e.Worker))
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

// explained reports whether a planned fault explains op's refusal
// (refused: expired, seq_reused or malformed; see checkLiveness).
func explained(h *history.History, op *history.Op) bool {
	answer := op.Return
	if answer == 0 && op.Status == history.StatusUnknown {
		answer = math.MaxInt64 // no return recorded: any time to the end
	}
	born := incarnationStart(h, op)
	ids := !windowHolds(h, op)
	reused := op.Output.Error != nil && op.Output.Error.Code == ErrorSeqReused
	for i := range h.Events {
		e := &h.Events[i]
		if hits(e, op, answer, born, ids) && !(reused && sameRequest(e, op)) {
			return true
		}
	}
	return false
}

// sameRequest reports whether fault event e, naming op, left op's request
// what it was: a drop, delay, duplicate, reorder or discard of a copy of
// it or of its reply, no corruption. Such a fault does not explain a
// seq_reused answer to op: every copy of a request is the same request
// (a resend's ack may be higher, which is not part of its identity), and
// a store answers it from memory (shm/PROTOCOL.md, "Request identity and
// duplicates"); seq_reused says another request used its id.
func sameRequest(e *history.Event, op *history.Op) bool {
	if e.Kind != history.EventFault || e.Op != op.ID || !messageFault(e.Fault) {
		return false
	}
	return !slices.ContainsFunc(strings.Split(e.Fault, "+"), func(f string) bool { return strings.HasPrefix(f, "corrupt-") })
}

// windowHolds reports whether op was answered expired by a store that
// remembers at least 2*history.CorruptIDShift ids per sender
// (Header.DedupWindow): a corrupt-id on its worker's requests cannot
// explain that answer (see checkLiveness).
func windowHolds(h *history.History, op *history.Op) bool {
	return op.Output.Error != nil && op.Output.Error.Code == ErrorExpired && h.Header.DedupWindow >= 2*history.CorruptIDShift
}

// corruptsIDs reports whether fault event e moved the id of a request of
// op's worker (a corrupt-id fault on its requests' link).
func corruptsIDs(e *history.Event, op *history.Op) bool {
	if !slices.Contains(strings.Split(e.Fault, "+"), "corrupt-id") {
		return false
	}
	if e.Link != "" {
		return strings.HasSuffix(e.Link, ">"+MasterName) && onLink(op.Worker, e.Link)
	}
	return workerOf(op.Worker, e.Worker)
}

// incarnationStart returns when op's incarnation began, as far as the
// events say: the latest end of a kill, restart or crash of its worker,
// or of a death of the master, that ended before op was called (0 if
// none did).
func incarnationStart(h *history.History, op *history.Op) int64 {
	var born int64
	for i := range h.Events {
		e := &h.Events[i]
		end := max(e.Time, e.End)
		if end >= op.Call {
			continue
		}
		switch e.Kind {
		case history.EventMasterKill, history.EventMasterRestart:
		case history.EventKill, history.EventRestart, history.EventCrash:
			if e.Worker != "" && e.Worker != MasterName && !workerOf(op.Worker, e.Worker) {
				continue
			}
		default:
			continue
		}
		born = max(born, end)
	}
	return born
}
