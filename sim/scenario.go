package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/workload"
)

// MarshalScenario returns cfg as a scenario file: the YAML of package
// scenarios (scenarios/README.md), which `shmlab run` and `shmlab sim`
// run. In the simulator the file makes the same run as cfg, bit for bit
// (the same Result.Hash): it names everything the run depends on, the
// defaults filled in, each operation of a Script and each fault as it
// is, in mode sim with cfg's seed as its one seed and expecting a pass.
// Replay, NoCheck and CheckTimeout are not written.
//
// It fails on a config that is not valid (Config.Validate), and on what
// the format cannot hold: an operation with a field its method does not
// use, text that is not UTF-8.
// (Package sim writes the format and package scenarios reads it, as sim
// cannot import scenarios; scenarios' tests hold the two together.)
func MarshalScenario(cfg Config) ([]byte, error) {
	c := cfg.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	e := &emitter{}
	e.field(0, "name", yamlString(c.Scenario))
	e.field(0, "description", yamlString(describe(c)))
	e.field(0, "mode", "sim")
	e.workload(c)
	e.settings(c)
	if c.Script != nil {
		e.script(c)
	}
	e.faults(c.Plan)
	e.field(0, "seeds", "["+strconv.FormatUint(c.Seed, 10)+"]")
	e.field(0, "expect", "pass")
	if e.err != nil {
		return nil, e.err
	}
	return e.b.Bytes(), nil
}

// describe says in a sentence what the run is made of.
func describe(c Config) string {
	faults := 0
	if c.Plan != nil {
		faults = len(c.Plan.Messages) + len(c.Plan.Processes)
	}
	if c.Script == nil {
		return fmt.Sprintf("A simulator run: %s of %s each, %s.", count(c.Workers, "worker"), count(c.Ops, "operation"), count(faults, "fault"))
	}
	return fmt.Sprintf("A simulator run: %s by %s (a script), %s.", count(scriptLen(c.Script), "operation"), count(c.Workers, "worker"), count(faults, "fault"))
}

// count says "no faults", "1 fault", "2 faults".
func count(n int, noun string) string {
	switch n {
	case 0:
		return "no " + noun + "s"
	case 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func scriptLen(s [][]workload.Op) int {
	n := 0
	for _, ops := range s {
		n += len(ops)
	}
	return n
}

// emitter writes YAML a line at a time, keeping the first error.
type emitter struct {
	b   bytes.Buffer
	err error
}

// field writes "key: value" at an indent of two spaces a level; an empty
// value is left out.
func (e *emitter) field(level int, key, value string) {
	if value != "" {
		fmt.Fprintf(&e.b, "%s%s: %s\n", strings.Repeat("  ", level), key, value)
	}
}

// item writes "- value" at a level.
func (e *emitter) item(level int, value string) {
	fmt.Fprintf(&e.b, "%s- %s\n", strings.Repeat("  ", level), value)
}

func (e *emitter) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// workload writes what the operations are made of: the workers and their
// operations (a script says both), the keys, the mix and the values.
func (e *emitter) workload(c Config) {
	drawn := c.Script == nil
	if drawn {
		e.field(0, "workers", strconv.Itoa(c.Workers))
		e.field(0, "ops", strconv.Itoa(c.Ops))
	}
	e.field(0, "duration", duration(c.Duration))
	names := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		names[i] = e.str(k)
	}
	keys := []kv{{"names", "[" + strings.Join(names, ", ") + "]"}}
	if drawn && c.Shape.Hot > 0 {
		keys = append(keys, kv{"distribution", "hot"}, kv{"hot", float(c.Shape.Hot)})
	}
	e.field(0, "keys", flow(keys...))
	if drawn {
		m := c.Mix
		e.field(0, "mix", flow(kv{"get", integer(m.Get)}, kv{"set", integer(m.Set)}, kv{"add", integer(m.Add)},
			kv{"cas", integer(m.CAS)}, kv{"delete", integer(m.Delete)}, kv{"incr", integer(m.Incr)}))
		if s := c.Shape; s.ValueMin != 0 || s.ValueMax != 0 {
			e.field(0, "values", flow(kv{"min", strconv.Itoa(s.ValueMin)}, kv{"max", strconv.Itoa(s.ValueMax)}))
		}
	}
}

// settings writes the store, the variant and the times.
func (e *emitter) settings(c Config) {
	st := []kv{{"entries", integer(c.Store.MaxEntries)}, {"bytes", integer(c.Store.MaxBytes)}}
	if c.Script == nil {
		st = append(st, kv{"ttl", duration(c.Shape.TTL)})
	}
	e.field(0, "store", flow(append(st, kv{"dedup_window", integer(c.Store.DedupWindow)})...))
	if bugs := c.Bugs | c.Store.Bugs; bugs != 0 {
		e.field(0, "variant", yamlString(bugs.String()))
	}
	e.field(0, "timeout", duration(c.CallTimeout))
	e.field(0, "retry", duration(c.RetryAfter))
	e.field(0, "latency", duration(c.Latency))
	e.field(0, "think", duration(c.Think))
}

// script writes each worker's operations, a line each.
func (e *emitter) script(c Config) {
	e.b.WriteString("script:\n")
	for w := range c.Workers {
		var ops []workload.Op
		if w < len(c.Script) {
			ops = c.Script[w]
		}
		if len(ops) == 0 {
			e.field(1, workerName(w), "[]")
			continue
		}
		e.b.WriteString("  " + workerName(w) + ":\n")
		for i := range ops {
			line, err := e.op(&ops[i])
			if err != nil {
				e.fail(fmt.Errorf("sim: script[%d][%d]: %w", w, i, err))
			}
			e.item(2, line)
		}
	}
}

// op writes one operation as a flow mapping: its method naming its key,
// then the fields its method uses. A field its method does not use would
// still be recorded in the history (all but a get's incr, which does
// nothing in a script and is left out), so it is an error.
func (e *emitter) op(o *workload.Op) (string, error) {
	fs := []kv{{string(o.Method), e.str(o.Key)}}
	if o.Old != nil {
		fs = append(fs, kv{"old", e.value(o.Old)})
	}
	if o.Value != nil {
		fs = append(fs, kv{"value", e.value(o.Value)})
	}
	fs = append(fs, kv{"delta", integer(o.Delta)}, kv{"ttl", duration(time.Duration(o.TTLms) * time.Millisecond)})
	if o.Method == linearizability.Set {
		fs = append(fs, kv{"incr", integer(o.Incr)})
	}
	if err := unused(o); err != nil {
		return "", err
	}
	return flow(fs...), nil
}

// unused reports a field that o's method does not use.
func unused(o *workload.Op) error {
	var f string
	switch m := o.Method; {
	case o.Old != nil && m != linearizability.CAS:
		f = "old"
	case o.Value != nil && m != linearizability.Set && m != linearizability.CAS:
		f = "value"
	case o.Delta != 0 && m != linearizability.Add:
		f = "delta"
	case o.TTLms != 0 && m != linearizability.Set && m != linearizability.CAS:
		f = "ttl"
	default:
		return nil
	}
	return fmt.Errorf("%s of %q with %s: its method does not use it, and the format has no place for it", o.Method, o.Key, f)
}

// value writes a JSON value: a number that fits 64 bits, true, false or
// null as it is; a string as a double-quoted YAML string (quoted always,
// so that a string never looks like a number), when that gives back the
// same text; anything else as {json: TEXT}, the text exactly.
func (e *emitter) value(v []byte) string {
	text := string(v)
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && strconv.FormatInt(n, 10) == text {
		return text
	}
	switch text {
	case "true", "false", "null":
		return text
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if back, err := json.Marshal(s); err == nil && string(back) == text {
			return quoted(s)
		}
	}
	return "{json: " + e.str(text) + "}"
}

// str is a YAML string, or "" (and an error kept) for text that is not
// UTF-8, which a YAML file cannot hold.
func (e *emitter) str(s string) string {
	if !utf8.ValidString(s) {
		e.fail(fmt.Errorf("sim: %q is not UTF-8: a scenario file cannot hold it", s))
		return `""`
	}
	return yamlString(s)
}

// opt is str for a field that "" leaves out: "" stays "".
func (e *emitter) opt(s string) string {
	if s == "" {
		return ""
	}
	return e.str(s)
}

// faults writes the fault plan, a fault a line.
func (e *emitter) faults(p *faultinject.Plan) {
	if p == nil || len(p.Messages)+len(p.Processes) == 0 {
		return
	}
	e.b.WriteString("faults:\n")
	if p.Seed != 0 {
		e.field(1, "seed", strconv.FormatUint(p.Seed, 10))
	}
	if len(p.Messages) > 0 {
		e.b.WriteString("  messages:\n")
	}
	for i := range p.Messages {
		e.item(2, e.messageFault(&p.Messages[i]))
	}
	if len(p.Processes) > 0 {
		e.b.WriteString("  processes:\n")
	}
	for _, f := range p.Processes {
		when := kv{"at", f.At.String()}
		if a := f.After; a != nil {
			when = kv{"after", flow(kv{"worker", e.str(a.Worker)}, kv{"ops", integer(a.Ops)})}
		}
		e.item(2, flow(kv{"kind", e.str(string(f.Kind))}, kv{"target", e.str(f.Target)}, when, kv{"for", duration(f.For)}))
	}
}

func (e *emitter) messageFault(f *faultinject.MessageFault) string {
	t, d := f.Target, f.Delay
	return flow(kv{"kind", e.str(string(f.Kind))}, kv{"dir", e.opt(string(f.Dir))}, kv{"p", float(f.P)},
		kv{"target", flow(kv{"worker", e.opt(t.Worker)}, kv{"method", e.opt(t.Method)}, kv{"key", e.opt(t.Key)},
			kv{"nth", integer(t.Nth)}, kv{"from", duration(t.From)}, kv{"until", duration(t.Until)})},
		kv{"delay", flow(kv{"kind", e.opt(string(d.Kind))}, kv{"min", duration(d.Min)}, kv{"max", duration(d.Max)},
			kv{"mean", duration(d.Mean)}, kv{"cap", duration(d.Cap)})},
		kv{"copies", integer(f.Copies)}, kv{"corruption", e.opt(string(f.Corruption))})
}

// kv is a key and its value, written; an empty value is left out.
type kv struct{ k, v string }

// flow writes a flow mapping of the pairs with values, or "" if none has
// one.
func flow(pairs ...kv) string {
	var parts []string
	for _, p := range pairs {
		if p.v != "" {
			parts = append(parts, p.k+": "+p.v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// integer writes n, or "" for 0.
func integer[T int | int64](n T) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(int64(n), 10)
}

// duration writes d with its unit (exactly: "1.000001s"), or "" for 0.
func duration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// float writes f as the shortest text that reads back as f, or "" for 0.
func float(f float64) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// yamlString writes s as a plain YAML scalar when it is a word that
// YAML reads as that string and nothing else (k0, w1, no-dedup), else
// double-quoted with YAML's escapes.
func yamlString(s string) string {
	if plainWord(s) {
		return s
	}
	return quoted(s)
}

// quoted writes s double-quoted, with YAML's escapes.
func quoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		b.WriteString(escape(r))
	}
	b.WriteByte('"')
	return b.String()
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

// escape writes r inside a double-quoted YAML string: quotes, backslashes,
// controls and the characters YAML takes for line breaks or a byte
// order mark escaped, everything else as it is.
func escape(r rune) string {
	switch r {
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	}
	switch {
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf(`\x%02x`, r)
	case 0x80 <= r && r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff, r == utf8.RuneError:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}
