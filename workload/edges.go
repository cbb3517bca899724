package workload

import (
	"math"
	"strconv"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// The edges: in the shape's Edges share of operations, the generator
// keeps the method its mix drew and changes one thing about it (edge):
//
//   - any method: its key, to one of SpecialKeys (a quarter of them, and
//     every get and delete);
//   - set and cas: the value written, to an edge number (integers around
//     ±2^53 and ±2^63, past int64 as big integers, other texts of a
//     number such as 1.0, 1e2, 10E1 and -0) or the empty string, or to a
//     unique string (it begins with the writer's unique number) carrying
//     escapes, <, >, &, non-ASCII text or a lone surrogate, or to a
//     unique object ({"id":N,...}) whose member names differ only in a
//     control character each writes as a different escape (\r and \n;
//     \b, \f and \t): a store that compares names with an escape
//     decoded wrongly takes them for duplicates and refuses the value;
//   - cas, half of them: the expected value, to the one last seen
//     written differently (an integer as n.0, a string with its first
//     character as a \u escape): values compare as JSON text, so it
//     expects the store to answer false;
//   - add: the delta, to a negative, zero or huge one (int64's bounds:
//     the reference answers overflow where the sum leaves int64), or to
//     none at all (the wire means 1, and the history records 1).
//
// A JavaScript target (Shape.JS) gets only the edges a correct store
// written in JavaScript keeps as written, since its library holds values
// as JSON.parse made them and writes them back with JSON.stringify: no
// other texts of a number (1.0 and 1e2 come back as 1 and 100, -0 as 0),
// no integer past 2^53 - 2^20 in size (past 2^53 they lose precision, and
// adds must not take a key there), no delta but small negative ones (it
// would reach past 2^53 or be sent as null), no absent delta (the
// adapter's add always gets one), no \u escape that JSON.stringify
// writes otherwise (\u0041 becomes A, \u00e9 é, \/ /), no cas expecting
// another text of a value (JSON.parse makes both the same). Control
// characters (\n, \r, \t, \u001f), \", \\, lone surrogates (\ud800, as
// JSON.stringify writes them since Node 12), non-ASCII text, the edge
// objects (JSON.parse keeps in order the members whose names are not
// integers) and the special keys are kept: a correct store keeps them,
// and a store that keeps its entries in a plain object loses __proto__.

// SpecialKeys are the keys drawn as edges, besides the run's own: names
// a JavaScript object has already (__proto__, constructor,
// hasOwnProperty, toString), the empty key, "0", which an object
// orders before its other names, and two keys of control characters
// (tab, unit separator, then line feed or carriage return), which JSON
// must escape: they differ only in their last character, so a store
// that decodes one escape as the other (\r as \n) merges two keys and
// reads the one's value under the other.
var SpecialKeys = []string{"__proto__", "constructor", "hasOwnProperty", "toString", "", "0", "tab\tunit\x1fline\n", "tab\tunit\x1fline\r"}

// edgeSet is what edges are drawn from, for one kind of target.
type edgeSet struct {
	numbers   []shm.Value // values written as they are (not unique)
	fragments []string    // JSON string text put after a unique number
	members   []string    // JSON object members put after a unique "id"
	deltas    []int64
	noDelta   bool // add without a delta
	respell   bool // cas expecting the value seen, written differently
}

// Integers around the bounds, as text: 2^53 and 2^63.
const (
	twoTo53  = 1 << 53
	jsLimit  = twoTo53 - 1<<20 // the largest integer a JS target writes
	maxInt64 = math.MaxInt64
	minInt64 = math.MinInt64
)

var goEdges = edgeSet{
	numbers: values(
		strconv.Itoa(twoTo53-1), strconv.Itoa(twoTo53), strconv.Itoa(twoTo53+1),
		strconv.Itoa(-twoTo53+1), strconv.Itoa(-twoTo53), strconv.Itoa(-twoTo53-1),
		strconv.Itoa(maxInt64), strconv.Itoa(maxInt64-1), strconv.Itoa(minInt64), strconv.Itoa(minInt64+1),
		"9223372036854775808", "-9223372036854775809", "18446744073709551616", // past int64: big integers
		"1.0", "1e2", "10E1", "1E+2", "100", "-0", "0", "-1", "0.5", `""`),
	fragments: []string{`\n`, `\"`, `\\`, `\u0041`, `\u00e9`, `\/`, `\t\u001f`, `<a href=\"x\">&amp;</a>`,
		`é`, `日本語`, `😀`, `\ud800`, `\udfff`, `\ud83d\ude00`, ``},
	members: objectMembers,
	deltas:  []int64{-1, -5, 0, 1 << 53, -1 << 53, maxInt64, minInt64, maxInt64 - 1, minInt64 + 1},
	noDelta: true,
	respell: true,
}

var jsEdges = edgeSet{
	numbers: values(strconv.Itoa(jsLimit), strconv.Itoa(-jsLimit), strconv.Itoa(jsLimit/2), strconv.Itoa(-jsLimit/2),
		"0", "-1", "100", `""`),
	fragments: []string{`\n`, `\"`, `\\`, `\t\u001f`, `<a href=\"x\">&amp;</a>`,
		`é`, `日本語`, `😀`, `\ud800`, `\udfff`, ``},
	members: objectMembers,
	deltas:  []int64{-1, -2, -5},
}

// objectMembers are the members of the edge objects: names that differ
// only in a control character, each written with its own escape.
var objectMembers = []string{`"\r":"\n","\n":"\r"`, `"\b":[],"\f":{},"\t":null`}

func values(texts ...string) []shm.Value {
	vs := make([]shm.Value, len(texts))
	for i, t := range texts {
		vs[i] = shm.Value(t)
	}
	return vs
}

// edge changes one thing of o, drawn as the mix says, to an edge.
func (g *Generator) edge(o *Op) {
	e := g.edges
	if o.Method == history.Get || o.Method == history.Delete || g.rng.IntN(4) == 0 {
		g.last = g.drawn + g.rng.IntN(len(g.keys)-g.drawn)
		o.Key = g.keys[g.last]
		if o.Method == history.CAS {
			o.Old = g.seen[g.last]
		}
		return
	}
	switch o.Method {
	case history.Set:
		o.Value = g.edgeValue()
	case history.CAS:
		if e.respell && g.rng.IntN(2) == 0 {
			if old, ok := respell(o.Old); ok {
				o.Old = old
				return
			}
		}
		o.Value = g.edgeValue()
	case history.Add:
		i := g.rng.IntN(len(e.deltas) + 1)
		switch {
		case i < len(e.deltas):
			o.Delta = e.deltas[i]
		case e.noDelta:
			o.Delta, o.NoDelta = 1, true
		default:
			o.Delta = -o.Delta
		}
	}
}

// edgeValue draws a value to write: an edge number, or a unique string
// or object with an edge in it.
func (g *Generator) edgeValue() shm.Value {
	e := g.edges
	if g.rng.IntN(2) == 0 {
		return e.numbers[g.rng.IntN(len(e.numbers))]
	}
	g.n++
	i := g.rng.IntN(len(e.fragments) + len(e.members))
	if i >= len(e.fragments) {
		b := strconv.AppendInt([]byte(`{"id":`), g.base+g.n, 10)
		b = append(b, ',')
		b = append(b, e.members[i-len(e.fragments)]...)
		return append(b, '}')
	}
	b := strconv.AppendInt([]byte{'"'}, g.base+g.n, 10)
	b = append(b, ':')
	b = append(b, e.fragments[i]...)
	return append(b, '"')
}

// respell returns v written differently, the same JSON value (an
// integer with a fraction, a string with its first character escaped),
// or false if it knows no other text of v.
func respell(v shm.Value) (shm.Value, bool) {
	if len(v) == 0 {
		return nil, false
	}
	if v[0] == '"' && len(v) > 2 && v[1] < 0x80 && v[1] != '\\' && v[1] != '"' {
		out := append(shm.Value(`"\u00`), "0123456789abcdef"[v[1]>>4], "0123456789abcdef"[v[1]&15])
		return append(out, v[2:]...), true
	}
	digits := v
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return nil, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	return append(append(shm.Value(nil), v...), ".0"...), true
}
