package linearizability

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
)

// ReportOptions tune WriteReport.
type ReportOptions struct {
	// Model overrides the history header's model, as in Options.
	Model history.Model
	// Timeout bounds the search the report redoes to find the
	// linearizations it shows (0: none). With a Result, the report
	// replays what its search found instead.
	Timeout time.Duration
	// Deadline, if not zero, bounds the whole writing: past it WriteReport
	// stops with ErrReportTimeout.
	Deadline time.Time
	// Result, if set, is a finished check whose violations the report
	// marks on the operations at fault.
	Result *Result
}

// WriteReport writes one self-contained HTML file that shows h: every
// key's operations on a time line per worker stream, the linearization
// found (or the longest partial ones, and where they get stuck), and the
// events (faults with their ground truth, kills, restarts) on tracks of
// their own. It uses porcupine's visualization.
func WriteReport(w io.Writer, h *history.History, opts ReportOptions) error {
	model := h.Header.Model
	if opts.Model != "" {
		model = opts.Model
	}
	var ss streams
	var keys []*keyHistory
	var lin [][][]int
	if r := opts.Result; r != nil && r.search != nil {
		keys, lin = r.search.keys, r.search.lin
		for i := range h.Ops {
			ss.id(&h.Ops[i]) // the numbers partition gave, in the same order
		}
	} else {
		keys = partition(h, model, &ss)
	}
	pm, ops := reportModel(keys, lin)
	timeout := opts.Timeout
	if !opts.Deadline.IsZero() {
		left, ok := remaining(opts.Deadline)
		if !ok {
			return ErrReportTimeout
		}
		if timeout <= 0 || left < timeout {
			timeout = left
		}
	}
	res, info := porcupine.CheckOperationsVerbose(pm, ops, timeout)
	if res == porcupine.Unknown && !opts.Deadline.IsZero() {
		if _, ok := remaining(opts.Deadline); !ok {
			return ErrReportTimeout
		}
	}
	info.AddAnnotations(annotations(h, &ss, opts.Result))
	return porcupine.Visualize(pm, info, deadlineWriter{w, opts.Deadline})
}

// WriteReportFile writes the report to the file at path.
func WriteReportFile(path string, h *history.History, opts ReportOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteReport(f, h, opts); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// reportOp carries an operation with the model of its key, so that one
// porcupine model can show keys checked by different models.
type reportOp struct {
	key int
	m   *porcupine.Model
	o   *kvOp
}

// reportState is a state with the model it belongs to; nil stands for
// the initial state of whichever key steps first.
type reportState struct {
	m *porcupine.Model
	s any
}

// ErrReportTimeout says a report was not finished by its deadline.
var ErrReportTimeout = errors.New("the time ran out before the report was written")

// deadlineWriter fails writes past its deadline (zero: none).
type deadlineWriter struct {
	w        io.Writer
	deadline time.Time
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if _, ok := remaining(d.deadline); !ok {
		return 0, ErrReportTimeout
	}
	return d.w.Write(p)
}

// reportModel returns one model of all keys and their operations; a key
// whose prefixes lin holds (lin may be nil) replays them.
func reportModel(keys []*keyHistory, lin [][][]int) (porcupine.Model, []porcupine.Operation) {
	var ops []porcupine.Operation
	groups := make([][]porcupine.Operation, len(keys))
	for i, kh := range keys {
		if len(kh.ops) > 0 {
			if _, ok := kh.ops[0].Input.(*kvOp); !ok {
				continue // a whole-store history of the bounded check: not shown here
			}
		}
		m := kh.model.porcupine()
		if i < len(lin) && lin[i] != nil {
			m = replayModel(m, kh, lin[i])
		}
		for _, op := range kh.ops {
			op.Input = &reportOp{key: i, m: &m, o: op.Input.(*kvOp)}
			if o := op.Input.(*reportOp).o.op; o != nil {
				op.Metadata = o
			}
			groups[i] = append(groups[i], op)
			ops = append(ops, op)
		}
	}
	unwrap := func(state any, m *porcupine.Model) any {
		if rs := state.(*reportState); rs != nil {
			return rs.s
		}
		return m.Init()
	}
	return porcupine.Model{
		Partition: func([]porcupine.Operation) [][]porcupine.Operation { return groups },
		Init:      func() any { return (*reportState)(nil) },
		Step: func(state, input, output any) (bool, any) {
			ro := input.(*reportOp)
			ok, next := ro.m.Step(unwrap(state, ro.m), ro.o, output)
			return ok, &reportState{m: ro.m, s: next}
		},
		Equal: func(a, b any) bool {
			x, y := a.(*reportState), b.(*reportState)
			if x == nil || y == nil {
				return x == y
			}
			if x.m != y.m {
				return false
			}
			if x.m.Equal == nil {
				return x.s == y.s
			}
			return x.m.Equal(x.s, y.s)
		},
		DescribeOperation: func(input, _ any) string {
			ro := input.(*reportOp)
			return shorten(ro.m.DescribeOperation(ro.o, nil))
		},
		DescribeState: func(state any) string {
			if rs := state.(*reportState); rs != nil {
				return shorten(rs.m.DescribeState(rs.s))
			}
			return "absent"
		},
		DescribeOperationMetadata: func(meta any) string {
			if op, ok := meta.(*history.Op); ok && op.Line > 0 {
				return fmt.Sprintf("history line %d", op.Line)
			}
			return ""
		},
	}, ops
}

// maxDescription is how much of an operation's or a state's description
// the report shows: the page holds a description for every operation and
// for every state of every step it shows, so 1 MB values would make it
// hundreds of megabytes.
const maxDescription = 512

// shorten cuts a description longer than maxDescription (at a rune's
// start), saying how long it was.
func shorten(s string) string {
	if len(s) <= maxDescription {
		return s
	}
	cut := maxDescription
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes in all)", len(s))
}

// annotations turns events into tracks of their own, marks failed
// operations on their stream, and marks the operations of violations.
func annotations(h *history.History, ss *streams, r *Result) []porcupine.Annotation {
	var as []porcupine.Annotation
	for i := range h.Events {
		e := &h.Events[i]
		as = append(as, porcupine.Annotation{
			Tag:             eventTrack(e),
			Start:           e.Time,
			End:             e.End,
			Description:     eventTitle(e),
			Details:         eventDetails(e),
			BackgroundColor: eventColor(e),
		})
	}
	for i := range h.Ops {
		if a, ok := uncheckedOp(&h.Ops[i], ss); ok {
			as = append(as, a)
		}
	}
	if r == nil {
		return as
	}
	mark := func(v Violation) {
		for _, op := range v.Ops {
			as = append(as, porcupine.Annotation{
				Tag:             "violations",
				Start:           op.Call,
				End:             max(op.Call, op.Return),
				Description:     v.Check,
				Details:         v.Text,
				BackgroundColor: "#ff9c9c",
			})
		}
	}
	for _, v := range r.Sessions {
		mark(v)
	}
	for _, v := range r.Invariants {
		mark(v)
	}
	for _, v := range r.Liveness {
		mark(v)
		if e := v.Event; e != nil {
			as = append(as, porcupine.Annotation{Tag: "violations", Start: e.Time, End: e.Time,
				Description: v.Check + " " + e.Worker, Details: v.Text, BackgroundColor: "#ff9c9c"})
		}
	}
	return as
}

// uncheckedOp marks, on its stream's track, an operation the search does
// not take: a failed one (surely not applied) or a len or keys (not
// checked).
func uncheckedOp(op *history.Op, ss *streams) (porcupine.Annotation, bool) {
	a := porcupine.Annotation{ClientId: ss.id(op), Start: op.Call, End: op.Return, BackgroundColor: "#dddddd"}
	switch {
	case op.Status == history.StatusFail:
		a.Description = "failed: " + string(op.Method)
		a.Details = op.String() + " (surely not applied; not checked)"
	case !op.Method.Keyed():
		a.Description = op.Describe()
		a.Details = op.String() + " (spans every key; not checked)"
	default:
		return a, false
	}
	if op.Status == history.StatusUnknown {
		a.End = op.Call
	}
	return a, true
}

func eventTrack(e *history.Event) string {
	switch e.Kind {
	case history.EventFault:
		if e.Link != "" {
			return "faults " + e.Link
		}
		return "faults"
	case history.EventNote:
		return "notes"
	case history.EventLateReply:
		return "late replies"
	}
	return "processes"
}

func eventTitle(e *history.Event) string {
	s := string(e.Kind)
	if e.Fault != "" {
		s = e.Fault
	}
	if e.Worker != "" {
		s += " " + e.Worker
	}
	if e.Truth != history.TruthNone {
		s += ": " + strings.ReplaceAll(string(e.Truth), "_", " ")
	}
	if e.Reset {
		s += " (state lost)"
	}
	return s
}

func eventDetails(e *history.Event) string {
	var parts []string
	if e.Op != 0 {
		parts = append(parts, fmt.Sprintf("operation #%d", e.Op))
	}
	if e.Exit != "" {
		parts = append(parts, e.Exit)
	}
	if e.Text != "" {
		parts = append(parts, e.Text)
	}
	if e.Stderr != "" {
		parts = append(parts, "stderr: "+e.Stderr)
	}
	if e.Line > 0 {
		parts = append(parts, fmt.Sprintf("history line %d", e.Line))
	}
	return strings.Join(parts, "; ")
}

func eventColor(e *history.Event) string {
	switch {
	case e.Kind == history.EventFault && e.Truth == history.TruthApplied:
		return "#ffd59c"
	case e.Kind == history.EventFault:
		return "#fff3a8"
	case e.Kind == history.EventNote:
		return "#e0e0ff"
	case e.Kind == history.EventCrash:
		return "#ff9c9c"
	}
	return "#c8e6ff"
}
