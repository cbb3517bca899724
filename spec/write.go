package spec

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/workload"
)

// Marshal writes sc as a scenario file, through goccy/go-yaml: its
// fields in the format's order, each left out when zero (the default),
// the keys, the mix, the values, the store, each operation of a script
// and each fault on a line of its own (a flow mapping). Parse reads it
// back to the same Scenario (but for File and Source, and a Node
// target's resolved Path), if it is written where its adapter is found.
//
// It fails on what the format cannot hold: text that is not UTF-8, an
// operation with a field its method does not use. It does not check sc
// otherwise: Parse does.
func Marshal(sc *Scenario) ([]byte, error) {
	w := &writer{}
	doc := w.document(sc)
	if w.err != nil {
		return nil, w.err
	}
	return yaml.MarshalWithOptions(doc, yaml.IndentSequence(true))
}

// writer builds a document, keeping the first error.
type writer struct{ err error }

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// fields is an ordered mapping.
type fields = yaml.MapSlice

// add appends key: v to f unless v is zero.
func add(f *fields, key string, v any) {
	if !isZeroValue(v) {
		*f = append(*f, yaml.MapItem{Key: key, Value: v})
	}
}

// nonZero is f without its zero values, but for the keys keep.
func nonZero(f fields, keep ...string) fields {
	var out fields
	for _, it := range f {
		if slices.Contains(keep, it.Key.(string)) {
			out = append(out, it)
			continue
		}
		add(&out, it.Key.(string), it.Value)
	}
	return out
}

// isZeroValue reports whether v is a zero scalar, an empty mapping or list.
func isZeroValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case text:
		return x == ""
	case int:
		return x == 0
	case int64:
		return x == 0
	case uint64:
		return x == 0
	case float64:
		return x == 0
	case time.Duration:
		return x == 0
	case yaml.MapSlice:
		return len(x) == 0
	case flow:
		return isZeroValue(x.v)
	case []text:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// flow is a value written in flow style ({a: 1, b: [x, y]}), on one line.
type flow struct{ v any }

// MarshalYAML writes the value in flow style.
func (f flow) MarshalYAML() ([]byte, error) {
	return yaml.MarshalWithOptions(f.v, yaml.Flow(true))
}

// quoted is a string written double-quoted, whatever it holds: a JSON
// string value, which must never read back as a number.
type quoted string

// MarshalYAML writes the string double-quoted.
func (q quoted) MarshalYAML() ([]byte, error) {
	return yaml.MarshalWithOptions(string(q), yaml.JSON())
}

// str is s as text, or "" and an error kept if s is not UTF-8, which a
// YAML file cannot hold.
func (w *writer) str(s string) text {
	if !utf8.ValidString(s) {
		w.fail(fmt.Errorf("spec: %q is not UTF-8: a scenario file cannot hold it", s))
		return ""
	}
	return text(s)
}

// text is a string written plain when it is a word that YAML reads as
// that string and nothing else (k0, w1, no-dedup), else double-quoted
// with YAML's escapes: in a flow mapping, the library's plain scalars
// can hold what breaks the line (a comma, a line break).
type text string

// MarshalYAML writes the string.
func (t text) MarshalYAML() ([]byte, error) {
	if plainWord(string(t)) {
		return yaml.Marshal(string(t))
	}
	return yaml.MarshalWithOptions(string(t), yaml.JSON())
}

// plainWord reports whether s starts with a letter or '_', goes on with
// letters, digits and _ . + / -, and is not a word YAML reads as a bool
// or null.
func plainWord(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !('0' <= c && c <= '9') && !strings.ContainsRune(".+/-", rune(c)) {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		return false
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

func (w *writer) document(sc *Scenario) yaml.MapSlice {
	var d fields
	add(&d, "name", w.str(sc.Name))
	add(&d, "description", w.str(sc.Description))
	add(&d, "mode", w.str(string(sc.Mode)))
	add(&d, "target", w.target(sc.Target))
	add(&d, "workers", sc.Workers)
	add(&d, "ops", sc.Ops)
	add(&d, "duration", sc.Duration)
	add(&d, "keys", w.keys(&sc.Keys))
	m := sc.Mix
	add(&d, "mix", flow{nonZero(fields{{Key: "get", Value: m.Get}, {Key: "set", Value: m.Set}, {Key: "add", Value: m.Add},
		{Key: "cas", Value: m.CAS}, {Key: "delete", Value: m.Delete}, {Key: "incr", Value: m.Incr}})})
	add(&d, "values", flow{nonZero(fields{{Key: "min", Value: sc.Values.Min}, {Key: "max", Value: sc.Values.Max},
		{Key: "falsy", Value: sc.Values.Falsy}, {Key: "edges", Value: sc.Values.Edges}})})
	st := sc.Store
	add(&d, "store", flow{nonZero(fields{{Key: "entries", Value: st.Entries}, {Key: "bytes", Value: st.Bytes}, {Key: "ttl", Value: st.TTL},
		{Key: "ttl_share", Value: st.TTLShare}, {Key: "dedup_window", Value: st.DedupWindow}})})
	add(&d, "variant", w.str(sc.Variant))
	add(&d, "timeout", sc.Timeout)
	add(&d, "retry", sc.Retry)
	add(&d, "latency", sc.Latency)
	add(&d, "grid", sc.Grid)
	add(&d, "pipeline", sc.Pipeline)
	add(&d, "think", sc.Think)
	add(&d, "codec", w.str(sc.Codec))
	add(&d, "max_frame", sc.MaxFrame)
	if sc.Script != nil {
		d = append(d, yaml.MapItem{Key: "script", Value: w.script(sc.Script)})
	}
	add(&d, "faults", w.faults(&sc.Faults))
	add(&d, "seeds", seeds(sc.Seeds))
	if sc.ExpectCheck != "" {
		add(&d, "expect", flow{fields{{Key: string(ExpectViolation), Value: sc.ExpectCheck}}})
	} else {
		add(&d, "expect", string(sc.Expect))
	}
	return d
}

// target writes the reference as nothing (the default), a Node target as
// {node: {adapter, packages, master}}.
func (w *writer) target(t Target) any {
	switch t.Kind {
	case Reference:
		return nil
	case Node:
	default:
		w.fail(fmt.Errorf("spec: target kind %q: the format has no place for it", t.Kind))
		return nil
	}
	n := fields{{Key: "adapter", Value: w.str(t.Node.Adapter)}}
	if len(t.Node.Packages) > 0 {
		n = append(n, yaml.MapItem{Key: "packages", Value: flow{w.strs(t.Node.Packages)}})
	}
	add(&n, "master", w.str(string(t.Node.Master)))
	return fields{{Key: "node", Value: n}}
}

func (w *writer) strs(ss []string) []text {
	out := make([]text, len(ss))
	for i, s := range ss {
		out[i] = w.str(s)
	}
	return out
}

func (w *writer) keys(k *Keys) any {
	return flow{nonZero(fields{{Key: "count", Value: k.Count}, {Key: "names", Value: w.strs(k.Names)},
		{Key: "distribution", Value: w.str(k.Distribution)}, {Key: "hot", Value: k.Hot}})}
}

// seeds writes a list of seeds, or their count.
func seeds(s Seeds) any {
	if len(s.List) > 0 {
		return flow{s.List}
	}
	return s.Count
}

// script writes each worker's operations, an operation a line; a worker
// with none as [].
func (w *writer) script(s Script) yaml.MapSlice {
	out := yaml.MapSlice{}
	for i, ops := range s {
		list := []any{}
		for j := range ops {
			op, err := w.op(&ops[j])
			if err != nil {
				w.fail(fmt.Errorf("spec: script[%d][%d]: %w", i, j, err))
			}
			list = append(list, op)
		}
		var v any = list
		if len(list) == 0 {
			v = flow{list}
		}
		out = append(out, yaml.MapItem{Key: fmt.Sprintf("w%d", i+1), Value: v})
	}
	return out
}

// op writes one operation: its method naming its key, then the fields
// its method uses. A field its method does not use would still be
// recorded in the history (all but a get's incr, which does nothing in
// a script and is left out), so it is an error.
func (w *writer) op(o *workload.Op) (flow, error) {
	f := fields{{Key: string(o.Method), Value: w.str(o.Key)}}
	if o.Old != nil {
		f = append(f, yaml.MapItem{Key: "old", Value: w.value(o.Old)})
	}
	if o.Value != nil {
		f = append(f, yaml.MapItem{Key: "value", Value: w.value(o.Value)})
	}
	if o.NoDelta {
		f = append(f, yaml.MapItem{Key: "no_delta", Value: true})
	} else {
		add(&f, "delta", o.Delta)
	}
	add(&f, "ttl", time.Duration(o.TTLms)*time.Millisecond)
	if o.Method == history.Set {
		add(&f, "incr", o.Incr)
	}
	return flow{f}, unused(o)
}

// unused reports a field that o's method does not use.
func unused(o *workload.Op) error {
	var f string
	switch m := o.Method; {
	case o.Old != nil && m != history.CAS:
		f = "old"
	case o.Value != nil && m != history.Set && m != history.CAS:
		f = "value"
	case (o.Delta != 0 || o.NoDelta) && m != history.Add:
		f = "delta"
	case o.TTLms != 0 && m != history.Set && m != history.CAS:
		f = "ttl"
	default:
		return nil
	}
	return fmt.Errorf("%s of %q with %s: its method does not use it, and the format has no place for it", o.Method, o.Key, f)
}

// value writes a JSON value: a number that fits 64 bits, true, false or
// null as it is; a string double-quoted (always, so that a string never
// reads as a number), when that gives back the same text; anything else
// as {json: TEXT}, the text exactly.
func (w *writer) value(v []byte) any {
	text := string(v)
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && strconv.FormatInt(n, 10) == text {
		return n
	}
	switch text {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nullValue{}
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if back, err := json.Marshal(s); err == nil && string(back) == text {
			return quoted(s)
		}
	}
	return yaml.MapSlice{{Key: "json", Value: quoted(w.str(text))}}
}

// nullValue writes null.
type nullValue struct{}

// MarshalYAML writes null.
func (nullValue) MarshalYAML() ([]byte, error) { return []byte("null"), nil }

// faults writes the fault plan, a fault a line.
func (w *writer) faults(p *faultinject.Plan) any {
	var f fields
	add(&f, "seed", p.Seed)
	var msgs, bytes, procs []any
	for i := range p.Messages {
		msgs = append(msgs, w.messageFault(&p.Messages[i]))
	}
	for _, b := range p.Bytes {
		bytes = append(bytes, flow{nonZero(fields{{Key: "kind", Value: w.str(string(b.Kind))}, {Key: "side", Value: w.str(string(b.Side))},
			{Key: "worker", Value: w.str(b.Worker)}, {Key: "conn", Value: b.Conn}, {Key: "p", Value: b.P},
			{Key: "at", Value: b.At}, {Key: "for", Value: b.For}}, "kind")})
	}
	for _, pf := range p.Processes {
		procs = append(procs, w.processFault(pf))
	}
	add(&f, "messages", msgs)
	add(&f, "bytes", bytes)
	add(&f, "processes", procs)
	return f
}

func (w *writer) messageFault(m *faultinject.MessageFault) flow {
	t, d := m.Target, m.Delay
	return flow{nonZero(fields{
		{Key: "kind", Value: w.str(string(m.Kind))},
		{Key: "dir", Value: w.str(string(m.Dir))},
		{Key: "p", Value: m.P},
		{Key: "target", Value: nonZero(fields{{Key: "worker", Value: w.str(t.Worker)}, {Key: "method", Value: w.str(t.Method)},
			{Key: "key", Value: w.str(t.Key)}, {Key: "nth", Value: t.Nth}, {Key: "from", Value: t.From}, {Key: "until", Value: t.Until}})},
		{Key: "delay", Value: nonZero(fields{{Key: "kind", Value: w.str(string(d.Kind))}, {Key: "min", Value: d.Min}, {Key: "max", Value: d.Max},
			{Key: "mean", Value: d.Mean}, {Key: "cap", Value: d.Cap}})},
		{Key: "copies", Value: m.Copies},
		{Key: "corruption", Value: w.str(string(m.Corruption))},
		{Key: "hold", Value: m.Hold},
	}, "kind")}
}

// processFault writes a process fault with its time (at, 0s too) or its
// point of progress (after).
func (w *writer) processFault(f faultinject.ProcessFault) flow {
	var when yaml.MapItem
	if a := f.After; a != nil {
		when = yaml.MapItem{Key: "after", Value: fields{{Key: "worker", Value: w.str(a.Worker)}, {Key: "ops", Value: a.Ops}}}
	} else {
		when = yaml.MapItem{Key: "at", Value: f.At.String()}
	}
	out := fields{{Key: "kind", Value: w.str(string(f.Kind))}, {Key: "target", Value: w.str(f.Target)}, when}
	add(&out, "for", f.For)
	return flow{out}
}
