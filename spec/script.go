package spec

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// Script is a workload written out rather than drawn: Script[i] is
// worker "w<i+1>"'s operations, in order (sim.Config.Script). A failure
// the simulator shrinks is written as one. In the file it is a mapping of
// the workers, w1 to wN each once, to their lists of operations:
//
//	script:
//	  w1:
//	    - {set: k0, value: 1}
//	    - {cas: k0, old: 1, value: "two"}
//	  w2:
//	    - {get: k0}
//	    - {add: k1, delta: 3}
//	    - {add: k1, no_delta: true}
//
// An add's delta is 0 when left out; no_delta: true sends the request
// without one, which the wire reads as 1 (and the history records 1).
type Script [][]workload.Op

// UnmarshalYAML reads a script, strictly; its errors name the node at
// fault.
func (s *Script) UnmarshalYAML(node ast.Node) error {
	pairs, ok := mapping(node)
	if !ok {
		return errAt(node, "script: want each worker's operations by its name (w1: [...], w2: [...])")
	}
	script := make(Script, len(pairs))
	named := make([]bool, len(pairs))
	for _, p := range pairs {
		name := p.Key.GetToken().Value
		n, ok := faultinject.WorkerNumber(name)
		switch {
		case !ok || n > len(pairs):
			return errAt(p.Key, "script: worker %q: a script names its workers w1, w2, … with none left out (this one has %d)", name, len(pairs))
		case named[n-1]:
			return errAt(p.Key, "script: worker %s is named twice", name)
		}
		named[n-1] = true
		ops, err := decodeOps(p.Value)
		if err != nil {
			return err
		}
		script[n-1] = ops
	}
	*s = script
	return nil
}

// decodeOps reads one worker's list of operations.
func decodeOps(node ast.Node) ([]workload.Op, error) {
	seq, ok := node.(*ast.SequenceNode)
	if !ok {
		return nil, errAt(node, "script: want a list of operations ([] for none)")
	}
	ops := make([]workload.Op, 0, len(seq.Values))
	for _, v := range seq.Values {
		o, err := decodeOp(v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// opFields says which methods use each field of an operation.
var opFields = map[string][]history.Method{
	"value":    {history.Set, history.CAS},
	"old":      {history.CAS},
	"delta":    {history.Add},
	"no_delta": {history.Add},
	"ttl":      {history.Set, history.CAS},
	"incr":     {history.Set},
}

// decodeOp reads one operation: {METHOD: KEY} and the fields its method
// uses.
func decodeOp(node ast.Node) (workload.Op, error) {
	var o workload.Op
	pairs, ok := mapping(node)
	if !ok {
		return o, errAt(node, "an operation is a mapping of its method to its key, and its fields: {get: k0}, {set: k0, value: 1}")
	}
	for i, p := range pairs {
		name := p.Key.GetToken().Value
		switch {
		case isMethod(name) && o.Method != "":
			return o, errAt(p.Key, "%s: an operation has one method, and this one has %s", name, o.Method)
		case slices.ContainsFunc(pairs[:i], func(q *ast.MappingValueNode) bool { return q.Key.GetToken().Value == name }):
			return o, errAt(p.Key, "%s: given twice", name)
		}
		if err := decodeField(&o, name, p); err != nil {
			return o, err
		}
	}
	if o.Method == "" {
		return o, errAt(node, "an operation needs its method and key: get, set, add, cas or delete")
	}
	return o, checkOp(&o, node, pairs)
}

// checkOp checks that o, read from node's pairs, has the fields its
// method needs and no other.
func checkOp(o *workload.Op, node ast.Node, pairs []*ast.MappingValueNode) error {
	for _, p := range pairs {
		name := p.Key.GetToken().Value
		if methods, ok := opFields[name]; ok && !slices.Contains(methods, o.Method) {
			return errAt(p.Key, "%s: a %s has no %s (%s)", name, o.Method, name, fieldUse[name])
		}
	}
	if o.NoDelta && slices.ContainsFunc(pairs, func(p *ast.MappingValueNode) bool { return p.Key.GetToken().Value == "delta" }) {
		return errAt(node, "an add has a delta or no_delta: true, not both")
	}
	if (o.Method == history.Set || o.Method == history.CAS) && o.Value == nil {
		return errAt(node, "a %s needs its value", o.Method)
	}
	if err := o.Validate(); err != nil {
		return errAt(node, "%v", err)
	}
	return nil
}

// fieldUse says what each field is for, in an error.
var fieldUse = map[string]string{
	"value":    "the value a set or cas writes",
	"old":      "the value a cas expects",
	"delta":    "what an add adds",
	"no_delta": "an add sent without its delta, which means 1",
	"ttl":      "a set's or cas's time to live",
	"incr":     "on a set, the increment it is the second half of",
}

func isMethod(name string) bool {
	switch history.Method(name) {
	case history.Get, history.Set, history.Add, history.CAS, history.Delete:
		return true
	}
	return false
}

// decodeField reads one field of an operation, the pair p, into o.
func decodeField(o *workload.Op, name string, p *ast.MappingValueNode) error {
	v := p.Value
	var err error
	switch name {
	case "value":
		o.Value, err = jsonValue(v)
	case "old":
		o.Old, err = jsonValue(v)
	case "delta":
		o.Delta, err = int64Of(v)
	case "no_delta":
		if v.Type() != ast.BoolType || v.GetToken().Value != "true" {
			return errAt(v, "no_delta %s: want true, or leave no_delta out to send the delta", v.String())
		}
		o.Delta, o.NoDelta = 1, true
	case "incr":
		o.Incr, err = int64Of(v)
	case "ttl":
		o.TTLms, err = ttlOf(v)
	default:
		if !isMethod(name) {
			return errAt(p.Key, "unknown field %q of an operation (want get, set, add, cas or delete, with value, old, delta, no_delta, ttl or incr)", name)
		}
		o.Method = history.Method(name)
		o.Key, err = keyOf(name, p)
	}
	return err
}

// keyOf reads the key of the method name, the pair p.
func keyOf(name string, p *ast.MappingValueNode) (string, error) {
	v := p.Value
	s, ok := v.(*ast.StringNode)
	switch {
	case !ok && v.String() == "": // nothing after the colon
		return "", errAt(p.Key, "%s: the key is missing (write it after the method: {%s: k0}, or {%s: \"\"} for the empty key)", name, name, name)
	case !ok:
		text := v.GetToken().Value
		return "", errAt(v, "%s: the key %s is not a string (quote it: \"%s\")", name, text, text)
	}
	return s.Value, nil
}

// int64Of reads an integer, as written in decimal.
func int64Of(v ast.Node) (int64, error) {
	if tk := v.GetToken(); v.Type() == ast.IntegerType && tk != nil {
		if n, err := strconv.ParseInt(tk.Value, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, errAt(v, "%s is not an integer", v.String())
}

// ttlOf reads a time to live: a duration of whole milliseconds, 1ms or
// more.
func ttlOf(v ast.Node) (int64, error) {
	d, err := time.ParseDuration(v.String())
	switch {
	case err != nil || v.Type() != ast.StringType:
		return 0, errAt(v, "%s is not a duration (write it with its unit: 5ms, 2s)", v.String())
	case d < time.Millisecond || d%time.Millisecond != 0:
		return 0, errAt(v, "ttl %v: want whole milliseconds, 1ms or more", d)
	}
	return d.Milliseconds(), nil
}

// jsonValue reads a value as JSON text: null and true or false, however
// YAML spells them (an empty value is null); a number as its text, which
// must be JSON's (1.50 stays 1.50); a YAML string as that JSON string;
// {json: TEXT} as TEXT exactly.
func jsonValue(v ast.Node) (shm.Value, error) {
	switch n := v.(type) {
	case *ast.NullNode:
		return shm.Null, nil
	case *ast.BoolNode:
		if n.Value {
			return shm.True, nil
		}
		return shm.False, nil
	case *ast.StringNode:
		return stringValue(n)
	case *ast.IntegerNode, *ast.FloatNode:
		if text := v.GetToken().Value; isJSON(text) {
			return shm.Value(text), nil
		}
		return nil, errAt(v, "%s is not a number as JSON writes it (no 0x, _, + or leading zeros): write it so, or as {json: '...'}", v.GetToken().Value)
	case *ast.MappingNode:
		return rawJSON(n)
	}
	return nil, errAt(v, "want a JSON value: a number, a string, true, false, null, or any JSON text as {json: '...'}")
}

// stringValue is a YAML string as JSON text. A plain scalar that reads as
// a JSON number (a number too long for YAML's integers, or 1e3) is
// refused: a string or a number, it could mean either.
func stringValue(n *ast.StringNode) (shm.Value, error) {
	if n.Token.Type == token.StringType && isJSON(n.Value) {
		return nil, errAt(n, "%s is a number to JSON and a string to YAML: quote it for the string, or write {json: '%s'} for the number", n.Value, n.Value)
	}
	b, err := json.Marshal(n.Value)
	if err != nil {
		return nil, errAt(n, "%v", err)
	}
	return b, nil
}

// rawJSON reads {json: TEXT}: TEXT, valid JSON, kept exactly (white
// space too, so that any config's script reads back as it was written).
// The store compares values as text; real processes' codec compacts the
// values it reads, and history files store them compacted.
func rawJSON(n *ast.MappingNode) (shm.Value, error) {
	if len(n.Values) != 1 || n.Values[0].Key.GetToken().Value != "json" {
		return nil, errAt(n, "want a JSON value: a number, a string, true, false, null, or any JSON text as {json: '...'}")
	}
	s, ok := n.Values[0].Value.(*ast.StringNode)
	if !ok {
		return nil, errAt(n.Values[0].Value, "json: want the JSON text as a string: {json: '[1, 2]'}")
	}
	if _, err := shm.ParseValue([]byte(s.Value)); err != nil {
		return nil, errAt(s, "json: %s is not JSON: %v", s.Value, err)
	}
	return shm.Value(s.Value), nil
}

// isJSON reports whether s is one JSON value, nothing around it.
func isJSON(s string) bool {
	v, err := shm.ParseValue([]byte(s))
	return err == nil && string(v) == s
}

// mapping returns the pairs of a mapping node.
func mapping(node ast.Node) ([]*ast.MappingValueNode, bool) {
	switch n := node.(type) {
	case *ast.MappingNode:
		return n.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}, true
	}
	return nil, false
}

// nodeError is a problem at a node of the file, from a decoder of ours
// (Parse places it).
type nodeError struct {
	tk  *token.Token
	msg string
}

func (e *nodeError) Error() string { return e.msg }

// errAt makes a nodeError at node's place (tokenOf).
func errAt(node ast.Node, format string, args ...any) error {
	return &nodeError{tk: tokenOf(node), msg: fmt.Sprintf(format, args...)}
}

// tokenOf is the token an error about node points at: its first key,
// for a block mapping (whose own token is that key's colon).
func tokenOf(node ast.Node) *token.Token {
	if m, ok := node.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		return m.Values[0].Key.GetToken()
	}
	return node.GetToken()
}
