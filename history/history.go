// Package linearizability records what a run did and says whether it was
// right: histories (a versioned JSON-lines format, HISTORY.md), a recorder
// that survives the death of the process it runs in, and checkers
// (linearizability with porcupine, session guarantees, a counter
// invariant) whose verdicts name the operations at fault.
package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// FormatName and FormatVersion identify the history format in a file's
// header line.
const (
	FormatName    = "shmlab-history"
	FormatVersion = 1
)

// Model names what the checker holds a history to.
type Model string

// The models. ModelKV is a linearizable key-value store. ModelKVEvict is
// one whose keys may vanish at any moment (LRU eviction, TTL expiry), but
// whose values never come back from the dead nor appear out of nowhere.
// ModelRegister is one linearizable register: every operation is a get,
// set or cas of the same key (Jepsen's read, write and cas).
const (
	ModelKV       Model = "kv"
	ModelKVEvict  Model = "kv-evict"
	ModelRegister Model = "register"
)

// Method is an operation's name, as on the wire.
type Method string

// The methods a history may hold. Len and Keys span every key and are
// recorded but not checked (see HISTORY.md).
const (
	Get    Method = "get"
	Set    Method = "set"
	Delete Method = "delete"
	CAS    Method = "cas"
	Add    Method = "add"
	// Append joins its input string to the end of the key's string
	// (an absent key counts as "").
	Append Method = "append"
	Len    Method = "len"
	Keys   Method = "keys"
)

// Valid reports whether m is a model the checker knows.
func (m Model) Valid() bool { return m == ModelKV || m == ModelKVEvict || m == ModelRegister }

// Models lists the models, for messages.
const Models = `"kv", "kv-evict" or "register"`

// Keyed reports whether m acts on one key, and so is checked.
func (m Method) Keyed() bool {
	switch m {
	case Get, Set, Delete, CAS, Add, Append:
		return true
	}
	return false
}

// Status is how an operation ended.
type Status string

// The statuses. StatusOK: it returned an output. StatusFail: it surely did
// not take effect (a definite error). StatusUnknown: it may or may not
// have taken effect (a timeout, a lost connection, a kill); it returns at
// infinity and its worker goes on as a new stream.
const (
	StatusOK      Status = "ok"
	StatusFail    Status = "fail"
	StatusUnknown Status = "unknown"
)

// Header is a history's first line.
type Header struct {
	Format   string `json:"format"`
	Version  int    `json:"version"`
	Model    Model  `json:"model"`
	Scenario string `json:"scenario,omitempty"`
	Seed     uint64 `json:"seed"`
	// Faults is how many faults the run's plan injects; nil if not known,
	// which the checker takes as some and checks no availability of. With
	// none planned, an operation of unknown outcome is a violation
	// (unavailable); with any number said, so is an "expired" or
	// "seq_reused" answer that no recorded fault explains.
	Faults *int            `json:"faults,omitempty"`
	Meta   json.RawMessage `json:"meta,omitempty"`
	// Store, if set, is the store's limits: the checker then holds
	// evictions and expiries to them (HISTORY.md, "Bounded stores").
	// Nil: the limits are unknown, and a key may vanish at any moment
	// where the model allows it.
	Store *StoreLimits `json:"store,omitempty"`
	// DedupWindow, if positive, is how many request ids the store
	// remembers per sender at least, counting from the sender's
	// acknowledgement up to its newest id (the reference's
	// StoreOptions.DedupWindow). It tells the availability check that a
	// corrupt-id fault, which moves an id by CorruptIDShift, cannot make
	// that store forget an id still in flight when the window is at
	// least 2*CorruptIDShift (HISTORY.md, "Header"). 0: not known.
	DedupWindow int `json:"dedup_window,omitempty"`
	// Calls, if set, is how long the clients let a call last: the
	// checker then holds every call to its deadline (HISTORY.md,
	// "What is checked"). Nil: not known, and not checked.
	Calls *CallLimits `json:"calls,omitempty"`
}

// CallLimits say how long a history's calls may last: each ends (with
// its answer, or an indefinite timeout) by its deadline, Timeout after
// its call, as the client promises; Slack is how much later its return
// may be recorded (the scheduling delays of real processes; 0 in the
// simulator, whose virtual clock is exact). Both are nanoseconds.
type CallLimits struct {
	Timeout int64 `json:"timeout"`
	Slack   int64 `json:"slack,omitempty"`
}

// validate reports a timeout that is not positive or a negative slack.
func (l *CallLimits) validate() error {
	if l.Timeout <= 0 || l.Slack < 0 {
		return fmt.Errorf("call limits: the timeout must be positive and the slack not negative (timeout %d, slack %d)", l.Timeout, l.Slack)
	}
	return nil
}

// CorruptIDShift is how far a corrupt-id fault moves a message's id
// (faultinject's and the simulator's; HISTORY.md, "Events").
const CorruptIDShift = 2048

// StoreLimits describe the store a history ran against, as the checker
// of a bounded store needs them: its limits, how it counts an entry's
// bytes, how many expired entries it sweeps before each request, and how
// far its clock may stand from the history's.
type StoreLimits struct {
	// MaxEntries is how many entries the store keeps (0: no limit);
	// beyond it, it evicts the least recently used.
	MaxEntries int `json:"max_entries,omitempty"`
	// MaxBytes is how many bytes the store keeps (0: no limit), counting
	// each entry as its key's bytes, its value's bytes (the JSON text, as
	// recorded) and EntryOverhead.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// EntryOverhead is the bytes each entry counts beyond its key and
	// value.
	EntryOverhead int64 `json:"entry_overhead,omitempty"`
	// Sweep is how many expired entries the store removes, at least,
	// before it applies each request, when that many have expired (0:
	// none is assumed; expired entries then count against the limits
	// until they are read, overwritten or evicted).
	Sweep int `json:"sweep,omitempty"`
	// ClockTolerance is how far, in nanoseconds, the store's clock may
	// stand from the history's, either way (0: the same clock).
	ClockTolerance int64 `json:"clock_tolerance,omitempty"`
	// ResendAfter is how long, in nanoseconds, a client waits for a
	// reply before it sends the request again (0: it never does). A get
	// is not deduplicated: each copy that reaches the store refreshes
	// its key, maybe after the get returned.
	ResendAfter int64 `json:"resend_after,omitempty"`
}

// Bounded reports whether the store evicts: it has an entry or byte
// limit.
func (l *StoreLimits) Bounded() bool {
	return l != nil && (l.MaxEntries > 0 || l.MaxBytes > 0)
}

// validate reports a negative member.
func (l *StoreLimits) validate() error {
	if l.MaxEntries < 0 || l.MaxBytes < 0 || l.EntryOverhead < 0 || l.Sweep < 0 || l.ClockTolerance < 0 || l.ResendAfter < 0 {
		return fmt.Errorf("store limits must not be negative (max_entries %d, max_bytes %d, entry_overhead %d, sweep %d, clock_tolerance %d, resend_after %d)",
			l.MaxEntries, l.MaxBytes, l.EntryOverhead, l.Sweep, l.ClockTolerance, l.ResendAfter)
	}
	return nil
}

// NoFaults reports whether the header says the run's plan injects no
// fault.
func (h *Header) NoFaults() bool { return h.Faults != nil && *h.Faults == 0 }

// NewHeader returns a header of the current format for model.
func NewHeader(model Model, scenario string, seed uint64) Header {
	return Header{Format: FormatName, Version: FormatVersion, Model: model, Scenario: scenario, Seed: seed}
}

// Input is what an operation asked for. Values are JSON texts.
type Input struct {
	// Value is what set and cas store, and the string append appends.
	Value json.RawMessage `json:"value,omitempty"`
	// Old is what cas expects; nil expects the key to be absent.
	Old json.RawMessage `json:"old,omitempty"`
	// Delta is what add adds.
	Delta int64 `json:"delta,omitempty"`
	// TTL is the time to live in milliseconds of set and cas (0: none).
	// A key with a TTL may vanish, and is checked as by ModelKVEvict.
	TTL int64 `json:"ttl,omitempty"`
	// Incr marks a set as the second half of a read-modify-write that
	// meant to add Incr to the value read: the counter invariant counts it.
	Incr int64 `json:"incr,omitempty"`
}

// Output is what an operation returned.
type Output struct {
	// Value is the reply's value; nil when there was none (a get of a
	// missing key). For delete and cas it is a boolean, for add the new
	// integer; set and append may answer anything, or nothing.
	Value json.RawMessage `json:"value,omitempty"`
	// Error is the error of a failed operation.
	Error *ErrorInfo `json:"error,omitempty"`
}

// ErrorInfo is an error reply.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// Op is one operation: one line of a history.
type Op struct {
	ID     int64  `json:"id"`
	Worker string `json:"worker"`
	Stream int    `json:"stream"`
	Method Method `json:"method"`
	Key    string `json:"key"`
	Input  Input  `json:"input"`
	Output Output `json:"output"`
	// Call and Return are nanoseconds on the run's one clock
	// (CLOCK_MONOTONIC). An unknown operation has no Return.
	Call   int64  `json:"call"`
	Return int64  `json:"return,omitempty"`
	Status Status `json:"status"`
	// Line is the line the operation was read from (0 if not read).
	Line int `json:"line,omitempty"`
}

// EventKind says what an event was.
type EventKind string

// The event kinds. A master restart that lost the state (Reset) is an
// epoch boundary: the checker starts every key afresh there. A crash is
// an exit of the master or a worker that no planned fault explains (Exit
// and Stderr say how it ended), and a late reply the reply to operation
// Op that came after its worker gave up on it (a timeout): the liveness
// check reports every crash, and every call that timed out and had no
// late reply by the end of the run while no planned fault touched it.
const (
	EventFault         EventKind = "fault"
	EventKill          EventKind = "kill"
	EventRestart       EventKind = "restart"
	EventPause         EventKind = "pause"
	EventResume        EventKind = "resume"
	EventMasterKill    EventKind = "master_kill"
	EventMasterRestart EventKind = "master_restart"
	EventNote          EventKind = "note"
	EventCrash         EventKind = "crash"
	EventLateReply     EventKind = "late_reply"
	// EventPoison: a worker sent the poison frames (its Text lists them).
	EventPoison EventKind = "poison"
)

// Truth is what a fault did to the operation it touched, as the injector
// knows it and the worker cannot.
type Truth string

// The truths. TruthNotApplied: the request never reached the master.
// TruthApplied: the master applied it, but the reply was lost or late.
// TruthDuplicated: the master received it more than once.
const (
	TruthNotApplied Truth = "not_applied"
	TruthApplied    Truth = "applied"
	TruthDuplicated Truth = "duplicated"
	TruthDelayed    Truth = "delayed"
	TruthNone       Truth = ""
)

// Event is something that happened that is not an operation: a fault
// with its ground truth, a kill, a restart.
type Event struct {
	Kind EventKind `json:"kind"`
	// Time is when it happened; End, if set, when it stopped.
	Time int64 `json:"time"`
	End  int64 `json:"end,omitempty"`
	// Worker and Link say where (either may be empty).
	Worker string `json:"worker,omitempty"`
	Link   string `json:"link,omitempty"`
	// Fault is the fault's kind (drop, delay, duplicate, reorder,
	// corrupt-frame, corrupt-id, corrupt-value, discarded, a byte fault's
	// kind); several are joined by "+".
	Fault string `json:"fault,omitempty"`
	// Truth is the fault's effect on the operation Op (0: none known).
	Truth Truth `json:"truth,omitempty"`
	Op    int64 `json:"op,omitempty"`
	// Reset, on a master restart, says the store's state was lost: an
	// epoch boundary.
	Reset bool `json:"reset,omitempty"`
	// Exit, on a crash only, is how the process ended: "exit status 2",
	// or "signal SIGSEGV".
	Exit string `json:"exit,omitempty"`
	// Stderr, on a crash only, holds the last lines the process wrote
	// to its standard error, joined by newlines.
	Stderr string `json:"stderr,omitempty"`
	// Text says more, for people.
	Text string `json:"text,omitempty"`
	// Line is the line the event was read from (0 if not read).
	Line int `json:"-"`
}

// EpochBoundary reports whether e starts a new epoch: a master restart
// that lost the state.
func (e *Event) EpochBoundary() bool { return e.Kind == EventMasterRestart && e.Reset }

// History is a whole run: its header, its operations in the order they
// were written, and its events.
type History struct {
	Header Header
	Ops    []Op
	Events []Event
	// Name is where it was read from, for messages.
	Name string
}

// WorkerOps returns the operations of the worker named name (all its
// processes and streams), in the order the history holds them.
func (h *History) WorkerOps(name string) []Op {
	var out []Op
	for _, o := range h.Ops {
		if o.Worker == name {
			out = append(out, o)
		}
	}
	return out
}

// String describes op in one line, for messages and reports.
func (op *Op) String() string {
	s := fmt.Sprintf("#%d %s/%d %s(%q", op.ID, op.Worker, op.Stream, op.Method, op.Key)
	if !op.Method.Keyed() {
		s = fmt.Sprintf("#%d %s/%d %s(", op.ID, op.Worker, op.Stream, op.Method)
	}
	switch op.Method {
	case Set, Append:
		s += ", " + string(op.Input.Value)
	case CAS:
		old := "absent"
		if op.Input.Old != nil {
			old = string(op.Input.Old)
		}
		s += ", " + old + " -> " + string(op.Input.Value)
	case Add:
		s += fmt.Sprintf(", %+d", op.Input.Delta)
	}
	s += ")"
	switch {
	case op.Status == StatusOK:
		s += " -> " + OutputText(op)
	case op.Status == StatusFail:
		code := "error"
		if op.Output.Error != nil {
			code = op.Output.Error.Code
		}
		s += " -> fail: " + code
	case op.Status == StatusUnknown:
		s += " -> unknown"
	}
	if op.Line > 0 {
		s += fmt.Sprintf(" (line %d)", op.Line)
	}
	return s
}

// Value encodes v as a JSON text for an Input or an Output: Value(1),
// Value("OK"), Value(map[string]any{"a": true}). Strings are written
// without HTML escaping, as the store writes them. It panics if
// encoding/json cannot encode v, which is a bug in the caller.
func Value(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("history.Value(%#v): %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// OutputText is what op returned, as JSON text: "absent" for no value,
// or "ok" for a set or append that answered none.
func OutputText(op *Op) string {
	if op.Output.Value == nil {
		if op.Method == Set || op.Method == Append {
			return "ok"
		}
		return "absent"
	}
	return string(op.Output.Value)
}

// Int reads v as an integer in the int64 range: a JSON number
// without fraction or exponent, which is what add works on ("-0" is 0,
// as in the reference store).
func Int(v json.RawMessage) (int64, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	if string(v) == "-0" {
		return 0, true
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != string(v) {
		return 0, false
	}
	return n, true
}

// Describe is op in one line, as String, without its line number.
func (op *Op) Describe() string {
	c := *op
	c.Line = 0
	return c.String()
}
