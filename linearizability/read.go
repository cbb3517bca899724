package linearizability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// MaxLine is the longest line Read accepts.
const MaxLine = 64 << 20

// ParseError is a problem with one line of a history file.
type ParseError struct {
	Name  string // the file
	Line  int    // 1-based
	Field string // the field at fault, if one is
	Err   error
}

func (e *ParseError) Error() string {
	s := fmt.Sprintf("%s:%d: ", e.Name, e.Line)
	if e.Field != "" {
		s += fmt.Sprintf("field %q: ", e.Field)
	}
	return s + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadFile reads the history file at path.
func ReadFile(path string) (*History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a history from r; name is used in errors. A damaged history
// is rejected whole: the error names the line and field at fault.
func Read(r io.Reader, name string) (*History, error) {
	h := &History{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	var d lineDecoder
	n := 0
	sawHeader := false
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			return nil, &ParseError{Name: name, Line: n, Err: errors.New("empty line")}
		}
		if err := d.decode(h, line, n, &sawHeader); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{Name: name, Line: n + 1, Err: fmt.Errorf("line longer than %d bytes", MaxLine)}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !sawHeader {
		return nil, &ParseError{Name: name, Line: 1, Err: errors.New("no header line: not a history, or an empty file")}
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return h, nil
}

// lineDecoder decodes lines into a history.
type lineDecoder struct {
	ids map[int64]int // op id -> line
}

// line is any line of a history: the union of the three kinds.
type line struct {
	Type string `json:"type"`
	// header
	Format   *string         `json:"format"`
	Version  *int            `json:"version"`
	Model    *Model          `json:"model"`
	Scenario *string         `json:"scenario"`
	Seed     *uint64         `json:"seed"`
	Meta     json.RawMessage `json:"meta"`
	// op
	ID     *int64  `json:"id"`
	Worker *string `json:"worker"`
	Stream *int    `json:"stream"`
	Method *Method `json:"method"`
	Key    *string `json:"key"`
	Input  *Input  `json:"input"`
	Output *Output `json:"output"`
	Call   *int64  `json:"call"`
	Return *int64  `json:"return"`
	Status *Status `json:"status"`
	// event
	Kind  *EventKind `json:"kind"`
	Time  *int64     `json:"time"`
	End   *int64     `json:"end"`
	Link  *string    `json:"link"`
	Fault *string    `json:"fault"`
	Truth *Truth     `json:"truth"`
	Op    *int64     `json:"op"`
	Reset *bool      `json:"reset"`
	Text  *string    `json:"text"`
}

func (d *lineDecoder) decode(h *History, b []byte, n int, sawHeader *bool) error {
	var l line
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return lineError(h.Name, n, err)
	}
	if dec.More() {
		return &ParseError{Name: h.Name, Line: n, Err: errors.New("more than one JSON value on the line")}
	}
	perr := func(field string, format string, args ...any) error {
		return &ParseError{Name: h.Name, Line: n, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if !*sawHeader && l.Type != "header" {
		return perr("type", "the first line must be the header, not %q", l.Type)
	}
	switch l.Type {
	case "header":
		if *sawHeader {
			return perr("type", "a second header")
		}
		*sawHeader = true
		return d.header(h, &l, perr)
	case "op":
		return d.op(h, &l, n, perr)
	case "event":
		return d.event(h, &l, n, perr)
	case "":
		return perr("type", "missing")
	}
	return perr("type", "unknown line type %q (want header, op or event)", l.Type)
}

type perrFunc func(field string, format string, args ...any) error

// only checks that l has no member that belongs to another kind of line.
func only(perr perrFunc, kind string, present map[string]bool) error {
	for f, ok := range present {
		if ok {
			return perr(f, "not a member of an %s line", kind)
		}
	}
	return nil
}

func (d *lineDecoder) header(h *History, l *line, perr perrFunc) error {
	if err := only(perr, "header", map[string]bool{
		"id": l.ID != nil, "worker": l.Worker != nil, "stream": l.Stream != nil, "method": l.Method != nil,
		"key": l.Key != nil, "input": l.Input != nil, "output": l.Output != nil, "call": l.Call != nil,
		"return": l.Return != nil, "status": l.Status != nil, "kind": l.Kind != nil, "time": l.Time != nil,
		"end": l.End != nil, "link": l.Link != nil, "fault": l.Fault != nil, "truth": l.Truth != nil,
		"op": l.Op != nil, "reset": l.Reset != nil, "text": l.Text != nil,
	}); err != nil {
		return err
	}
	switch {
	case l.Format == nil:
		return perr("format", "missing")
	case *l.Format != FormatName:
		return perr("format", "%q is not %q", *l.Format, FormatName)
	case l.Version == nil:
		return perr("version", "missing")
	case *l.Version != FormatVersion:
		return perr("version", "version %d is not supported (this shmlab reads version %d)", *l.Version, FormatVersion)
	case l.Model == nil:
		return perr("model", "missing")
	case *l.Model != ModelKV && *l.Model != ModelKVEvict:
		return perr("model", "unknown model %q (want %q or %q)", *l.Model, ModelKV, ModelKVEvict)
	}
	h.Header = Header{Format: *l.Format, Version: *l.Version, Model: *l.Model, Meta: l.Meta}
	if l.Scenario != nil {
		h.Header.Scenario = *l.Scenario
	}
	if l.Seed != nil {
		h.Header.Seed = *l.Seed
	}
	return nil
}

func (d *lineDecoder) op(h *History, l *line, n int, perr perrFunc) error {
	if err := only(perr, "op", map[string]bool{
		"format": l.Format != nil, "version": l.Version != nil, "model": l.Model != nil, "scenario": l.Scenario != nil,
		"seed": l.Seed != nil, "meta": l.Meta != nil, "kind": l.Kind != nil, "time": l.Time != nil,
		"end": l.End != nil, "link": l.Link != nil, "fault": l.Fault != nil, "truth": l.Truth != nil,
		"op": l.Op != nil, "reset": l.Reset != nil, "text": l.Text != nil,
	}); err != nil {
		return err
	}
	switch {
	case l.ID == nil:
		return perr("id", "missing")
	case *l.ID < 1:
		return perr("id", "%d is not a positive integer", *l.ID)
	case l.Worker == nil || *l.Worker == "":
		return perr("worker", "missing")
	case l.Stream != nil && *l.Stream < 0:
		return perr("stream", "negative")
	case l.Method == nil:
		return perr("method", "missing")
	case !validMethod(*l.Method):
		return perr("method", "unknown method %q", *l.Method)
	case l.Key == nil && l.Method.keyed():
		return perr("key", "missing (%s acts on a key)", *l.Method)
	case l.Call == nil:
		return perr("call", "missing")
	case l.Status == nil:
		return perr("status", "missing")
	}
	if prev, dup := d.ids[*l.ID]; dup {
		return perr("id", "%d is already the id of line %d", *l.ID, prev)
	}
	if d.ids == nil {
		d.ids = make(map[int64]int)
	}
	d.ids[*l.ID] = n
	op := Op{ID: *l.ID, Worker: *l.Worker, Method: *l.Method, Call: *l.Call, Status: *l.Status, Line: n}
	if l.Stream != nil {
		op.Stream = *l.Stream
	}
	if l.Key != nil {
		op.Key = *l.Key
	}
	if l.Input != nil {
		op.Input = *l.Input
	}
	if l.Output != nil {
		op.Output = *l.Output
	}
	switch op.Status {
	case StatusOK, StatusFail:
		if l.Return == nil {
			return perr("return", "missing (an operation with status %q has returned)", op.Status)
		}
		op.Return = *l.Return
		if op.Return < op.Call {
			return perr("return", "return time %d before call time %d", op.Return, op.Call)
		}
	case StatusUnknown:
		if l.Return != nil {
			op.Return = *l.Return // when the worker gave up; checked as infinity
			if op.Return < op.Call {
				return perr("return", "return time %d before call time %d", op.Return, op.Call)
			}
		}
	default:
		return perr("status", "unknown status %q (want ok, fail or unknown)", op.Status)
	}
	if f, err := checkOpValues(&op); err != nil {
		return perr(f, "%v", err)
	}
	h.Ops = append(h.Ops, op)
	return nil
}

func validMethod(m Method) bool {
	return m.keyed() || m == Len || m == Keys
}

// checkOpValues checks op's input and output against its method, and
// compacts its values so that they compare as text.
func checkOpValues(op *Op) (field string, err error) {
	for _, v := range []struct {
		name string
		p    *json.RawMessage
	}{{"input.value", &op.Input.Value}, {"input.old", &op.Input.Old}, {"output.value", &op.Output.Value}} {
		if err := compactValue(v.p); err != nil {
			return v.name, err
		}
	}
	in, out := &op.Input, &op.Output
	switch op.Method {
	case Set, CAS:
		if in.Value == nil {
			return "input.value", fmt.Errorf("missing (%s stores a value)", op.Method)
		}
		if in.TTL < 0 {
			return "input.ttl", errors.New("negative")
		}
	case Add:
		if in.Value != nil {
			return "input.value", errors.New("add takes a delta, not a value")
		}
	}
	if in.Incr != 0 && op.Method != Set {
		return "input.incr", fmt.Errorf("only a set can be an increment, not %s", op.Method)
	}
	if op.Status != StatusOK {
		if out.Value != nil {
			return "output.value", fmt.Errorf("an operation with status %q has no value", op.Status)
		}
		return "", nil
	}
	if out.Error != nil {
		return "output.error", errors.New("an operation with status \"ok\" has no error")
	}
	switch op.Method {
	case Set:
		if out.Value == nil {
			return "output.value", errors.New("missing (set answers \"OK\")")
		}
	case Delete, CAS:
		if s := string(out.Value); s != "true" && s != "false" {
			return "output.value", fmt.Errorf("%s answers true or false, not %s", op.Method, orAbsent(out.Value))
		}
	case Add, Len:
		if _, ok := parseInt(out.Value); !ok {
			return "output.value", fmt.Errorf("%s answers an integer, not %s", op.Method, orAbsent(out.Value))
		}
	}
	return "", nil
}

func orAbsent(v json.RawMessage) string {
	if v == nil {
		return "nothing"
	}
	return string(v)
}

// compactValue removes insignificant white space from *p.
func compactValue(p *json.RawMessage) error {
	v := *p
	if v == nil {
		return nil
	}
	if !bytes.ContainsAny(v, " \t\r\n") {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return err
	}
	*p = b.Bytes()
	return nil
}

func (d *lineDecoder) event(h *History, l *line, n int, perr perrFunc) error {
	if err := only(perr, "event", map[string]bool{
		"format": l.Format != nil, "version": l.Version != nil, "model": l.Model != nil, "scenario": l.Scenario != nil,
		"seed": l.Seed != nil, "meta": l.Meta != nil, "id": l.ID != nil, "stream": l.Stream != nil,
		"method": l.Method != nil, "key": l.Key != nil, "input": l.Input != nil, "output": l.Output != nil,
		"call": l.Call != nil, "return": l.Return != nil, "status": l.Status != nil,
	}); err != nil {
		return err
	}
	if l.Kind == nil {
		return perr("kind", "missing")
	}
	if l.Time == nil {
		return perr("time", "missing")
	}
	e := Event{Kind: *l.Kind, Time: *l.Time, Line: n}
	switch e.Kind {
	case EventFault, EventKill, EventRestart, EventPause, EventResume, EventMasterKill, EventMasterRestart, EventNote:
	default:
		return perr("kind", "unknown event kind %q", e.Kind)
	}
	if l.End != nil {
		if *l.End < e.Time {
			return perr("end", "end time %d before time %d", *l.End, e.Time)
		}
		e.End = *l.End
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&e.Worker, l.Worker)
	set(&e.Link, l.Link)
	set(&e.Fault, l.Fault)
	set(&e.Text, l.Text)
	if l.Truth != nil {
		switch *l.Truth {
		case TruthNotApplied, TruthApplied, TruthDuplicated, TruthDelayed:
			e.Truth = *l.Truth
		default:
			return perr("truth", "unknown truth %q", *l.Truth)
		}
	}
	if l.Op != nil {
		e.Op = *l.Op
	}
	if l.Reset != nil {
		if e.Kind != EventMasterRestart {
			return perr("reset", "only a master_restart resets the state, not a %s", e.Kind)
		}
		e.Reset = *l.Reset
	}
	h.Events = append(h.Events, e)
	return nil
}

// lineError turns a JSON error into a ParseError naming the field.
func lineError(name string, n int, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &ParseError{Name: name, Line: n, Field: te.Field, Err: fmt.Errorf("a JSON %s cannot be a %s", te.Value, goTypeName(te.Type.String()))}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &ParseError{Name: name, Line: n, Field: strings.Trim(f, `"`), Err: errors.New("unknown field")}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &ParseError{Name: name, Line: n, Err: errors.New("the line ends inside a JSON value (a torn write?)")}
	}
	return &ParseError{Name: name, Line: n, Err: fmt.Errorf("not JSON: %s", strings.TrimPrefix(msg, "json: "))}
}

func goTypeName(t string) string {
	switch {
	case strings.Contains(t, "int"):
		return "integer"
	case strings.HasSuffix(t, "string"), strings.HasSuffix(t, "Method"), strings.HasSuffix(t, "Status"),
		strings.HasSuffix(t, "Model"), strings.HasSuffix(t, "Kind"), strings.HasSuffix(t, "Truth"):
		return "string"
	case strings.Contains(t, "bool"):
		return "boolean"
	}
	return "object"
}

// validate checks what no single line shows: that each stream's
// operations follow one another, that an unknown operation ends its
// stream, and that events name operations that exist.
func (h *History) validate() error {
	type sk struct {
		w string
		s int
	}
	streams := make(map[sk][]*Op)
	ids := make(map[int64]bool, len(h.Ops))
	for i := range h.Ops {
		op := &h.Ops[i]
		ids[op.ID] = true
		k := sk{op.Worker, op.Stream}
		streams[k] = append(streams[k], op)
	}
	var errs []*ParseError
	for _, ops := range streams {
		sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
		for i := 1; i < len(ops); i++ {
			prev, op := ops[i-1], ops[i]
			switch {
			case prev.Status == StatusUnknown:
				errs = append(errs, &ParseError{Name: h.Name, Line: op.Line, Field: "stream",
					Err: fmt.Errorf("worker %s stream %d goes on after the unknown operation on line %d (a new stream must begin)", op.Worker, op.Stream, prev.Line)})
			case op.Call < prev.Return:
				errs = append(errs, &ParseError{Name: h.Name, Line: op.Line, Field: "call",
					Err: fmt.Errorf("worker %s stream %d calls at %d, before its operation on line %d returned at %d (a stream is sequential)", op.Worker, op.Stream, op.Call, prev.Line, prev.Return)})
			}
		}
	}
	for i := range h.Events {
		if e := &h.Events[i]; e.Op != 0 && !ids[e.Op] {
			errs = append(errs, &ParseError{Name: h.Name, Line: e.Line, Field: "op", Err: fmt.Errorf("no operation has id %d", e.Op)})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs[0]
}
