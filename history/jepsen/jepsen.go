// Package jepsen reads Jepsen histories of a register (Jepsen's register
// and cas-register workloads: read, write and cas) into the history
// format, model "register" (or, for jepsen.independent histories of many
// registers, whose values are [key value] tuples, model "kv", a key per
// register). It reads both forms Jepsen writes: EDN
// operation maps (history.edn: one map per line, or a vector of them, the
// maps tagged #jepsen.history.Op or not) and the log lines of jepsen.util
// (`INFO  jepsen.util - 3	:invoke	:cas	[1 2]`), as porcupine's test
// data holds them.
//
// What the operations mean (HISTORY.md, "Importing"): an :invoke calls,
// its process's next :ok, :fail or :info ends it. :ok is status ok; :fail
// of a read or write is status fail (it did not happen), but :fail of a
// cas is status ok answering false (the cas ran and did not match);
// :info, and an invocation never completed, is status unknown. A
// process is a worker, named by its number; the nemesis's operations
// become note events. Times are the :time of the maps when every one has
// one and they never go back, else the operations' places in the file.
package jepsen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/internal/edn"
)

// Key is the key the operations of an imported register act on.
const Key = "r"

// Record is one operation record of a Jepsen history: an invocation or
// a completion.
type Record struct {
	// Line is the line it begins on.
	Line int
	// Process is the process's number, or its name (nemesis).
	Process string
	// Type is invoke, ok, fail or info; F the function (read, write, ...).
	Type, F string
	// Value is the record's :value (nil when it has none); HasValue says
	// whether it has one (a :value nil has).
	Value    edn.Value
	HasValue bool
	// Time is the record's :time, if HasTime.
	Time    int64
	HasTime bool
	// Map is the whole record (an empty map for a log line).
	Map edn.Value
}

// Read reads a Jepsen register history from r; name is used in errors,
// which are *history.ParseError naming the line.
func Read(r io.Reader, name string) (*history.History, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	recs, err := Records(data, name)
	if err != nil {
		return nil, err
	}
	if independent(recs) {
		return Convert(recs, name, Header(history.ModelKV, name), independentOp)
	}
	return Convert(recs, name, Header(history.ModelRegister, name), registerOp)
}

// independent reports whether recs are a jepsen.independent history:
// many registers, every value a [key value] tuple. Its reads show it:
// they invoke with [key nil], where a single register's invoke with nil.
func independent(recs []Record) bool {
	for i := range recs {
		if r := &recs[i]; r.Type == "invoke" && r.F == "read" {
			return r.Value.Kind == edn.Vector && len(r.Value.Items) == 2
		}
	}
	return false
}

// independentOp makes an operation on the register of a [key value]
// tuple.
func independentOp(inv, done *Record, op *history.Op) error {
	key, v, err := tuple(inv)
	if err != nil {
		return err
	}
	in := *inv
	in.Value = v
	var out *Record
	if done != nil {
		d := *done
		if op.Status == history.StatusOK && done.F == "read" {
			if _, d.Value, err = tuple(done); err != nil {
				return err
			}
		}
		out = &d
	}
	if err := registerOp(&in, out, op); err != nil {
		return err
	}
	op.Key = key
	return nil
}

// tuple splits the [key value] of a record of an independent history.
func tuple(rec *Record) (string, edn.Value, error) {
	v := &rec.Value
	if v.Kind != edn.Vector || len(v.Items) != 2 {
		return "", edn.Value{}, perr("", rec.Line, ":value", "%s is not a [key value] tuple (the history's first read made it one of independent keys)", orNothing(string(v.Src)))
	}
	k := &v.Items[0]
	key := string(k.Src)
	switch k.Kind {
	case edn.String, edn.Keyword, edn.Symbol, edn.Char:
		key = k.Text
	}
	return key, v.Items[1], nil
}

// Header is the header of a history imported from the file name.
func Header(model history.Model, name string) history.Header {
	h := history.NewHeader(model, strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)), 0)
	h.Meta = history.Value(map[string]string{"imported_from": name})
	return h
}

// perr is an error at line n of the file name.
func perr(name string, n int, field, format string, args ...any) error {
	return &history.ParseError{Name: name, Line: n, Field: field, Err: fmt.Errorf(format, args...)}
}

// Records reads the operation records of a Jepsen history: EDN maps,
// one after another or in a vector, or jepsen.util log lines.
func Records(data []byte, name string) ([]Record, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if IsLog(data) {
		return logRecords(data, name)
	}
	return ednRecords(data, name)
}

// IsLog reports whether data begins as a Jepsen log rather than as EDN.
func IsLog(data []byte) bool {
	first := bytes.TrimLeft(data, " \t\r\n")
	return len(first) > 0 && !strings.ContainsRune("{[#(;", rune(first[0]))
}

// ednRecords reads EDN operation maps.
func ednRecords(data []byte, name string) ([]Record, error) {
	rd := edn.NewReader(data, 1)
	var recs []Record
	for {
		v, err := rd.Next()
		if err == edn.ErrEnd {
			break
		}
		if err != nil {
			return nil, ednErr(name, err)
		}
		if v.Kind == edn.Vector && len(recs) == 0 && v.Tag == "" {
			for i := range v.Items {
				rec, err := record(&v.Items[i], name)
				if err != nil {
					return nil, err
				}
				recs = append(recs, rec)
			}
			if rd.Rest() {
				next, err := rd.Next()
				if err != nil {
					return nil, ednErr(name, err)
				}
				return nil, perr(name, next.Line, "", "more after the vector of operations")
			}
			break
		}
		rec, err := record(&v, name)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil, perr(name, 1, "", "no operations: not a Jepsen history, or an empty file")
	}
	return recs, nil
}

// ednErr turns an EDN syntax error into a ParseError.
func ednErr(name string, err error) error {
	var se *edn.SyntaxError
	if errors.As(err, &se) {
		return perr(name, se.Line, "", "not EDN: %s (column %d)", se.Msg, se.Col)
	}
	return err
}

// record reads one operation map.
func record(v *edn.Value, name string) (Record, error) {
	if v.Kind != edn.Map {
		return Record{}, perr(name, v.Line, "", "%s where an operation map should be", v.Kind)
	}
	rec := Record{Line: v.Line, Map: *v}
	for _, f := range []struct {
		key string
		dst *string
	}{{"type", &rec.Type}, {"f", &rec.F}} {
		x, ok := v.Get(f.key)
		if !ok {
			return Record{}, perr(name, v.Line, ":"+f.key, "missing")
		}
		if x.Kind != edn.Keyword && x.Kind != edn.String && x.Kind != edn.Symbol {
			return Record{}, perr(name, x.Line, ":"+f.key, "%s is not a keyword", x.Src)
		}
		*f.dst = x.Text
	}
	p, ok := v.Get("process")
	switch {
	case !ok:
		return Record{}, perr(name, v.Line, ":process", "missing")
	case (p.Kind == edn.Int || p.Kind == edn.Keyword || p.Kind == edn.String) && p.Text != "":
		rec.Process = p.Text
	default:
		return Record{}, perr(name, p.Line, ":process", "%s is not a process", p.Src)
	}
	if x, ok := v.Get("value"); ok {
		rec.Value, rec.HasValue = *x, true
	}
	if t, ok := v.Get("time"); ok {
		n, ok := t.Int()
		if !ok {
			return Record{}, perr(name, t.Line, ":time", "%s is not an integer", t.Src)
		}
		rec.Time, rec.HasTime = n, true
	}
	return rec, nil
}

// logRecords reads the operation lines of a Jepsen log: "... jepsen.util
// - PROCESS :TYPE :F VALUE". Other lines are skipped.
func logRecords(data []byte, name string) ([]Record, error) {
	var recs []Record
	for n, line := range strings.Split(string(data), "\n") {
		_, rest, ok := strings.Cut(line, "jepsen.util - ")
		if !ok {
			continue
		}
		if !utf8.ValidString(rest) {
			return nil, perr(name, n+1, "", "the line is not UTF-8")
		}
		fields := strings.Fields(rest)
		if len(fields) < 3 || fields[0] == ":" || !strings.HasPrefix(fields[1], ":") || !strings.HasPrefix(fields[2], ":") {
			return nil, perr(name, n+1, "", "not an operation line: want PROCESS :TYPE :F VALUE after \"jepsen.util - \"")
		}
		rec := Record{Line: n + 1, Process: strings.TrimPrefix(fields[0], ":"), Type: fields[1][1:], F: fields[2][1:], Map: edn.Value{Kind: edn.Map}}
		_, after, _ := strings.Cut(rest, fields[2])
		r := edn.NewReader([]byte(after), n+1)
		if v, err := r.Next(); err == nil {
			rec.Value, rec.HasValue = v, true
		} else if err != edn.ErrEnd {
			return nil, ednErr(name, err)
		}
		if r.Rest() {
			return nil, perr(name, n+1, "", "more than one value after :%s: want PROCESS :TYPE :F VALUE", rec.F)
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil, perr(name, 1, "", "no jepsen.util operation lines: not a Jepsen log, or an empty file")
	}
	return recs, nil
}

// OpFunc fills in op (its Method, Key, Input, Output and Status) from
// an invocation and its completion (nil: none came); op.Status is
// already ok, fail or unknown by the completion's type. Its errors are
// *history.ParseError naming the line (Convert fills in the file).
type OpFunc func(inv, done *Record, op *history.Op) error

// Convert pairs each invocation of recs, read from the file named file,
// with its process's next completion and makes a history of the
// operations, with header hd; conv says what each operation is. An
// operation's Line is its invocation's. Records of the nemesis become
// note events.
func Convert(recs []Record, file string, hd history.Header, conv OpFunc) (*history.History, error) {
	order, done, err := pair(recs, file)
	if err != nil {
		return nil, err
	}
	times := useTimes(recs)
	at := func(i int) int64 {
		if times {
			return recs[i].Time
		}
		return int64(i + 1)
	}
	h := &history.History{Header: hd, Name: file, Ops: make([]history.Op, 0, len(order))}
	streams := map[string]int{} // process -> its stream
	for _, i := range order {
		inv := &recs[i]
		op := history.Op{ID: int64(len(h.Ops) + 1), Worker: inv.Process, Stream: streams[inv.Process], Call: at(i),
			Status: history.StatusUnknown, Line: inv.Line}
		var end *Record
		if j, ok := done[i]; ok {
			end, op.Return = &recs[j], at(j)
			op.Status = map[string]history.Status{"ok": history.StatusOK, "fail": history.StatusFail, "info": history.StatusUnknown}[end.Type]
		}
		if err := conv(inv, end, &op); err != nil {
			if pe, ok := err.(*history.ParseError); ok && pe.Name == "" {
				pe.Name = file
			}
			return nil, err
		}
		if op.Status == history.StatusUnknown {
			streams[inv.Process]++
		}
		h.Ops = append(h.Ops, op)
	}
	for i := range recs {
		if rec := &recs[i]; rec.Process == "nemesis" {
			text := strings.TrimSpace(fmt.Sprintf(":%s :%s %s", rec.Type, rec.F, rec.Value.Src))
			h.Events = append(h.Events, history.Event{Kind: history.EventNote, Time: at(i), Worker: "nemesis",
				Text: strings.ToValidUTF8(text, "\uFFFD")})
		}
	}
	if err := h.Validate(); err != nil {
		return nil, fmt.Errorf("%s: the history made is not valid: %w", file, err)
	}
	return h, nil
}

// pair pairs each invocation of recs (but the nemesis's) with its
// process's next completion: it returns the invocations in order, and
// the completion of each that has one, by their indices in recs.
func pair(recs []Record, file string) (order []int, done map[int]int, err error) {
	pending := map[string]int{} // process -> its invocation
	done = map[int]int{}
	for i := range recs {
		rec := &recs[i]
		if rec.Process == "nemesis" {
			continue
		}
		switch rec.Type {
		case "invoke":
			if j, ok := pending[rec.Process]; ok {
				return nil, nil, perr(file, rec.Line, ":type", "process %s invokes again before its invocation on line %d completed", rec.Process, recs[j].Line)
			}
			pending[rec.Process] = i
			order = append(order, i)
		case "ok", "fail", "info":
			j, ok := pending[rec.Process]
			if !ok {
				return nil, nil, perr(file, rec.Line, ":type", "a completion (:%s) of process %s, which invoked nothing", rec.Type, rec.Process)
			}
			if rec.F != recs[j].F {
				return nil, nil, perr(file, rec.Line, ":f", "completes :%s, but process %s invoked :%s on line %d", rec.F, rec.Process, recs[j].F, recs[j].Line)
			}
			delete(pending, rec.Process)
			done[j] = i
		default:
			return nil, nil, perr(file, rec.Line, ":type", "unknown type :%s (want :invoke, :ok, :fail or :info)", rec.Type)
		}
	}
	return order, done, nil
}

// useTimes reports whether every record has a :time and they never go
// back.
func useTimes(recs []Record) bool {
	for i := range recs {
		if !recs[i].HasTime || i > 0 && recs[i].Time < recs[i-1].Time {
			return false
		}
	}
	return true
}

// registerOp makes a register operation of a read, write or cas.
func registerOp(inv, done *Record, op *history.Op) error {
	op.Key = Key
	const file = "" // Convert names it
	switch inv.F {
	case "read":
		op.Method = history.Get
		if op.Status == history.StatusOK && !done.HasValue {
			return perr(file, done.Line, ":value", "an :ok :read with no value (nil reads as nil)")
		}
		if op.Status == history.StatusOK && done.Value.Kind != edn.Nil {
			v, err := JSON(&done.Value)
			if err != nil {
				return perr(file, done.Line, ":value", "%v", err)
			}
			op.Output.Value = v
		}
	case "write":
		op.Method = history.Set
		if inv.Value.Kind == edn.Nil {
			return perr(file, inv.Line, ":value", "a write of nil")
		}
		v, err := JSON(&inv.Value)
		if err != nil {
			return perr(file, inv.Line, ":value", "%v", err)
		}
		op.Input.Value = v
	case "cas":
		op.Method = history.CAS
		if inv.Value.Kind != edn.Vector && inv.Value.Kind != edn.List || len(inv.Value.Items) != 2 {
			return perr(file, inv.Line, ":value", "a cas takes [old new], not %s", orNothing(string(inv.Value.Src)))
		}
		old, nw := &inv.Value.Items[0], &inv.Value.Items[1]
		var err error
		if old.Kind != edn.Nil {
			if op.Input.Old, err = JSON(old); err != nil {
				return perr(file, inv.Line, ":value", "%v", err)
			}
		}
		if op.Input.Value, err = JSON(nw); err != nil || nw.Kind == edn.Nil {
			return perr(file, inv.Line, ":value", "a cas to %s", nw.Src)
		}
		switch op.Status {
		case history.StatusOK:
			op.Output.Value = json.RawMessage("true")
		case history.StatusFail: // the cas ran, and did not match
			op.Status, op.Output.Value = history.StatusOK, json.RawMessage("false")
		}
	default:
		return perr(file, inv.Line, ":f", "unknown function :%s (a register has :read, :write and :cas)", inv.F)
	}
	return nil
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// JSON returns v as a JSON text: nil is null, keywords, symbols and
// characters strings, lists, vectors and sets arrays, maps objects
// (their keys strings or keywords).
func JSON(v *edn.Value) (json.RawMessage, error) {
	b, err := appendJSON(nil, v)
	return b, err
}

func appendJSON(b []byte, v *edn.Value) ([]byte, error) {
	switch v.Kind {
	case edn.Nil:
		return append(b, "null"...), nil
	case edn.Bool:
		return strconv.AppendBool(b, v.Bool), nil
	case edn.Int:
		if !json.Valid([]byte(v.Text)) { // 007: Clojure reads it as octal
			return nil, fmt.Errorf("the integer %s has no JSON form", v.Src)
		}
		return append(b, v.Text...), nil
	case edn.Float:
		f, err := strconv.ParseFloat(v.Text, 64)
		if err != nil {
			return nil, fmt.Errorf("the number %s has no JSON form", v.Src)
		}
		if json.Valid([]byte(v.Text)) {
			return append(b, v.Text...), nil
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	case edn.String, edn.Keyword, edn.Symbol, edn.Char:
		return append(b, history.Value(v.Text)...), nil
	case edn.Vector, edn.List, edn.Set:
		b = append(b, '[')
		for i := range v.Items {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, &v.Items[i]); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	b = append(b, '{')
	for i := 0; i+1 < len(v.Items); i += 2 {
		k := &v.Items[i]
		if k.Kind != edn.String && k.Kind != edn.Keyword {
			return nil, fmt.Errorf("a map whose key %s is not a string or a keyword has no JSON form", k.Src)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, history.Value(k.Text)...)
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, &v.Items[i+1]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}
