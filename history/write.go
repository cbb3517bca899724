package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"
)

// Writer writes a history as JSON lines. It is not safe for concurrent
// use; a Recorder serialises what it gives it.
type Writer struct {
	w   *bufio.Writer
	buf []byte
	err error
}

// NewWriter writes h's header to w and returns a Writer for the rest.
func NewWriter(w io.Writer, h Header) *Writer {
	wr := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	if h.Format == "" {
		h.Format, h.Version = FormatName, FormatVersion
	}
	b := []byte(`{"type":"header","format":`)
	b = appendString(b, h.Format)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(h.Version), 10)
	b = append(b, `,"model":`...)
	b = appendString(b, string(h.Model))
	if h.Scenario != "" {
		b = append(b, `,"scenario":`...)
		b = appendString(b, h.Scenario)
	}
	b = append(b, `,"seed":`...)
	b = strconv.AppendUint(b, h.Seed, 10)
	if h.Faults != nil {
		b = append(b, `,"faults":`...)
		b = strconv.AppendInt(b, int64(*h.Faults), 10)
	}
	if len(h.Meta) > 0 {
		b = append(b, `,"meta":`...)
		b = appendValue(b, h.Meta)
	}
	if h.Store != nil {
		b = appendStore(append(b, `,"store":`...), h.Store)
	}
	if h.DedupWindow > 0 {
		b = append(b, `,"dedup_window":`...)
		b = strconv.AppendInt(b, int64(h.DedupWindow), 10)
	}
	if c := h.Calls; c != nil {
		b = strconv.AppendInt(append(b, `,"calls":{"timeout":`...), c.Timeout, 10)
		if c.Slack != 0 {
			b = strconv.AppendInt(append(b, `,"slack":`...), c.Slack, 10)
		}
		b = append(b, '}')
	}
	wr.line(append(b, '}'))
	return wr
}

func (w *Writer) line(b []byte) {
	if w.err != nil {
		return
	}
	b = append(b, '\n')
	_, w.err = w.w.Write(b)
	w.buf = b[:0]
}

// Op writes one operation. A key or worker name that is not valid UTF-8
// cannot be written as JSON without changing it, and is an error.
func (w *Writer) Op(op *Op) {
	if w.err == nil && (!utf8.ValidString(op.Key) || !utf8.ValidString(op.Worker)) {
		w.err = fmt.Errorf("operation #%d: its key or worker name is not valid UTF-8, which a JSON text cannot hold", op.ID)
	}
	w.line(AppendOp(w.buf[:0], op))
}

// Event writes one event.
func (w *Writer) Event(e *Event) { w.line(AppendEvent(w.buf[:0], e)) }

// Flush writes what is buffered and returns the first error met.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// AppendOp appends op as one JSON line, without the newline.
func AppendOp(b []byte, op *Op) []byte {
	b = append(b, `{"type":"op","id":`...)
	b = strconv.AppendInt(b, op.ID, 10)
	b = append(b, `,"worker":`...)
	b = appendString(b, op.Worker)
	b = append(b, `,"stream":`...)
	b = strconv.AppendInt(b, int64(op.Stream), 10)
	b = append(b, `,"method":`...)
	b = appendString(b, string(op.Method))
	if op.Method.Keyed() || op.Key != "" {
		b = append(b, `,"key":`...)
		b = appendString(b, op.Key)
	}
	b = append(b, `,"input":{`...)
	n := len(b)
	b = appendRaw(b, n, "value", op.Input.Value)
	b = appendRaw(b, n, "old", op.Input.Old)
	b = appendInt(b, n, "delta", op.Input.Delta)
	b = appendInt(b, n, "ttl", op.Input.TTL)
	b = appendInt(b, n, "incr", op.Input.Incr)
	b = append(b, `},"output":`...)
	b = appendOutput(b, &op.Output)
	b = append(b, `,"call":`...)
	b = strconv.AppendInt(b, op.Call, 10)
	if op.Status != StatusUnknown || op.Return != 0 {
		b = append(b, `,"return":`...)
		b = strconv.AppendInt(b, op.Return, 10)
	}
	b = append(b, `,"status":"`...)
	b = append(b, op.Status...)
	return append(b, `"}`...)
}

// AppendEvent appends e as one JSON line, without the newline.
func AppendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"type":"event","kind":`...)
	b = appendString(b, string(e.Kind))
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, e.Time, 10)
	if e.End != 0 {
		b = append(b, `,"end":`...)
		b = strconv.AppendInt(b, e.End, 10)
	}
	for _, f := range []struct{ name, v string }{{"worker", e.Worker}, {"link", e.Link}, {"fault", e.Fault}, {"truth", string(e.Truth)}} {
		if f.v != "" {
			b = append(b, `,"`...)
			b = append(b, f.name...)
			b = append(b, `":`...)
			b = appendString(b, f.v)
		}
	}
	if e.Op != 0 {
		b = append(b, `,"op":`...)
		b = strconv.AppendInt(b, e.Op, 10)
	}
	if e.Reset {
		b = append(b, `,"reset":true`...)
	}
	for _, f := range []struct{ name, v string }{{"exit", e.Exit}, {"stderr", e.Stderr}, {"text", e.Text}} {
		if f.v != "" {
			b = append(b, `,"`...)
			b = append(b, f.name...)
			b = append(b, `":`...)
			b = appendString(b, f.v)
		}
	}
	return append(b, '}')
}

// appendOutput appends out as a JSON object.
func appendOutput(b []byte, out *Output) []byte {
	b = append(b, '{')
	n := len(b)
	b = appendRaw(b, n, "value", out.Value)
	if e := out.Error; e != nil {
		b = appendSep(b, n)
		b = append(b, `"error":{"code":`...)
		b = appendString(b, e.Code)
		if e.Message != "" {
			b = append(b, `,"message":`...)
			b = appendString(b, e.Message)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendSep(b []byte, start int) []byte {
	if len(b) > start {
		b = append(b, ',')
	}
	return b
}

func appendRaw(b []byte, start int, name string, v json.RawMessage) []byte {
	if v == nil {
		return b
	}
	b = appendSep(b, start)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return appendValue(b, v)
}

// appendValue appends the JSON value v, without the line breaks it may
// hold between tokens, which would end the line.
func appendValue(b []byte, v json.RawMessage) []byte {
	if bytes.ContainsAny(v, "\r\n") {
		buf := bytes.NewBuffer(b)
		if json.Compact(buf, v) == nil {
			return buf.Bytes()
		}
	}
	return append(b, v...)
}

func appendInt(b []byte, start int, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = appendSep(b, start)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return strconv.AppendInt(b, v, 10)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Write writes h as a history file.
func (h *History) Write(w io.Writer) error {
	wr := NewWriter(w, h.Header)
	for i := range h.Ops {
		wr.Op(&h.Ops[i])
	}
	for i := range h.Events {
		wr.Event(&h.Events[i])
	}
	return wr.Flush()
}

// WriteFile writes h to the file at path.
func (h *History) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := h.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// appendStore appends the store limits l as a JSON object, leaving out
// the zero members.
func appendStore(b []byte, l *StoreLimits) []byte {
	b = append(b, '{')
	for _, m := range []struct {
		name string
		n    int64
	}{{"max_entries", int64(l.MaxEntries)}, {"max_bytes", l.MaxBytes}, {"entry_overhead", l.EntryOverhead},
		{"sweep", int64(l.Sweep)}, {"clock_tolerance", l.ClockTolerance}, {"resend_after", l.ResendAfter}} {
		if m.n == 0 {
			continue
		}
		if len(b) > 1 && b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, m.name...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, m.n, 10)
	}
	return append(b, '}')
}
