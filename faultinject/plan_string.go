package faultinject

import (
	"strconv"
	"strings"
	"time"
)

// String writes p in the words of a scenario file's faults section, a
// fault a line (a flow mapping), as a file would hold it:
//
//	seed: 1
//	messages:
//	  - {kind: drop, dir: requests, target: {worker: w1, nth: 3}}
//	processes:
//	  - {kind: kill, target: w2, at: 2ms}
//
// A field at its zero value is left out, as the file leaves it (a seed
// of 0 too: the file's seed then is each run's); a plan with nothing is
// "{}", and a nil plan "<nil>".
func (p *Plan) String() string {
	if p == nil {
		return "<nil>"
	}
	var b strings.Builder
	if p.Seed != 0 {
		b.WriteString("\nseed: " + strconv.FormatUint(p.Seed, 10))
	}
	section(&b, "messages", p.Messages, (*MessageFault).words)
	section(&b, "processes", p.Processes, (*ProcessFault).words)
	section(&b, "bytes", p.Bytes, (*ByteFault).words)
	if b.Len() == 0 {
		return "{}"
	}
	return b.String()[1:]
}

// GoString writes p for %#v (rapid's log of a draw, a struct printed
// with its fields) on one line: String's words, each section's faults
// in a flow list. A nil plan is written as %#v writes a nil pointer.
func (p *Plan) GoString() string {
	if p == nil {
		return "(*faultinject.Plan)(nil)"
	}
	var parts []string
	if p.Seed != 0 {
		parts = append(parts, "seed: "+strconv.FormatUint(p.Seed, 10))
	}
	parts = flowSection(parts, "messages", p.Messages, (*MessageFault).words)
	parts = flowSection(parts, "processes", p.Processes, (*ProcessFault).words)
	parts = flowSection(parts, "bytes", p.Bytes, (*ByteFault).words)
	return "&faultinject.Plan{" + strings.Join(parts, ", ") + "}"
}

// section writes the faults fs under name, a line each (nothing if
// there are none).
func section[F any](b *strings.Builder, name string, fs []F, words func(*F) string) {
	if len(fs) == 0 {
		return
	}
	b.WriteString("\n" + name + ":")
	for i := range fs {
		b.WriteString("\n  - " + words(&fs[i]))
	}
}

// flowSection appends "name: [f1, f2]" to parts (nothing if fs is empty).
func flowSection[F any](parts []string, name string, fs []F, words func(*F) string) []string {
	if len(fs) == 0 {
		return parts
	}
	items := make([]string, len(fs))
	for i := range fs {
		items[i] = words(&fs[i])
	}
	return append(parts, name+": ["+strings.Join(items, ", ")+"]")
}

// words writes f as a scenario file's flow mapping.
func (f *MessageFault) words() string {
	var m flowMap
	m.word("kind", string(f.Kind))
	m.word("dir", string(f.Dir))
	m.float("p", f.P)
	var t flowMap
	t.word("worker", f.Target.Worker)
	t.word("method", f.Target.Method)
	t.word("key", f.Target.Key)
	t.int("nth", int64(f.Target.Nth))
	t.duration("from", f.Target.From)
	t.duration("until", f.Target.Until)
	m.nested("target", t)
	var d flowMap
	d.word("kind", string(f.Delay.Kind))
	d.duration("min", f.Delay.Min)
	d.duration("max", f.Delay.Max)
	d.duration("mean", f.Delay.Mean)
	d.duration("cap", f.Delay.Cap)
	m.nested("delay", d)
	m.int("copies", int64(f.Copies))
	m.int("hold", int64(f.Hold))
	m.word("corruption", string(f.Corruption))
	return m.String()
}

// words writes f as a scenario file's flow mapping: its time (at, 0s
// too) or its point of progress (after).
func (f *ProcessFault) words() string {
	var m flowMap
	m.word("kind", string(f.Kind))
	m.word("target", f.Target)
	if a := f.After; a != nil {
		var after flowMap
		after.word("worker", a.Worker)
		after.int("ops", int64(a.Ops))
		m.nested("after", after)
	} else {
		m.add("at", f.At.String())
	}
	m.duration("for", f.For)
	return m.String()
}

// words writes f as a scenario file's flow mapping.
func (f *ByteFault) words() string {
	var m flowMap
	m.word("kind", string(f.Kind))
	m.word("side", string(f.Side))
	m.word("worker", f.Worker)
	m.int("conn", int64(f.Conn))
	m.float("p", f.P)
	m.int("at", f.At)
	m.duration("for", f.For)
	return m.String()
}

// flowMap is a YAML flow mapping being written, its pairs in order;
// each adder leaves out a zero value.
type flowMap []string

func (m *flowMap) add(key, text string) { *m = append(*m, key+": "+text) }

func (m *flowMap) word(key, s string) {
	if s != "" {
		m.add(key, yamlWord(s))
	}
}

func (m *flowMap) int(key string, n int64) {
	if n != 0 {
		m.add(key, strconv.FormatInt(n, 10))
	}
}

func (m *flowMap) float(key string, x float64) {
	if x != 0 {
		m.add(key, strconv.FormatFloat(x, 'g', -1, 64))
	}
}

func (m *flowMap) duration(key string, d time.Duration) {
	if d != 0 {
		m.add(key, d.String())
	}
}

func (m *flowMap) nested(key string, inner flowMap) {
	if len(inner) > 0 {
		m.add(key, inner.String())
	}
}

func (m flowMap) String() string { return "{" + strings.Join(m, ", ") + "}" }

// yamlWord writes s plain when YAML reads it back as that string (a
// word of letters, digits and _ . + / -, starting with a letter, not
// one of YAML's booleans or null), else double-quoted.
func yamlWord(s string) string {
	plain := s != "" && isWordStart(s[0])
	for i := 1; plain && i < len(s); i++ {
		c := s[i]
		plain = isWordStart(c) || '0' <= c && c <= '9' || strings.IndexByte(".+/-", c) >= 0
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		plain = false
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}

func isWordStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
