package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/linearizability"
)

// Error is a problem at a place in a scenario file.
type Error struct {
	File      string
	Line, Col int    // from 1; 0 if the place is not known
	Msg       string // what is wrong
	Text      string // the line, if known
}

// Error says "file:line:col: msg", then shows the line and the column.
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	if e.Text != "" {
		s += fmt.Sprintf("\n    %4d | %s\n           %s^", e.Line, e.Text, strings.Repeat(" ", max(e.Col-1, 0)))
	}
	return s
}

// Load reads and parses the scenario file at path.
func Load(path string) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse parses the scenario file named file whose text is src, strictly,
// and checks it. Its errors are *Error values (joined when there are
// several). A Node target's adapter is resolved on disk, relative to
// file's folder, and must be there.
func Parse(file string, src []byte) (*Scenario, error) { return parseIn(nil, file, src) }

// ParseFS is Parse for a file that lives in fsys (file is a path in it,
// as io/fs names them): a Node target's adapter is resolved in fsys,
// and its NodeTarget.FS is fsys. The bundled suite is parsed so.
func ParseFS(fsys fs.FS, file string, src []byte) (*Scenario, error) { return parseIn(fsys, file, src) }

func parseIn(fsys fs.FS, file string, src []byte) (*Scenario, error) {
	p := &parse{file: file, lines: strings.Split(string(src), "\n")}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, p.wrap(err)
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, &Error{File: file, Msg: "want one YAML document holding the scenario"}
	}
	if err := p.durations(f.Docs[0].Body, ""); err != nil {
		return nil, err
	}
	var sc Scenario
	if err := yaml.NodeToValue(f.Docs[0].Body, &sc, yaml.Strict()); err != nil {
		return nil, p.wrap(err)
	}
	sc.File, sc.Source, sc.ExpectCheck = file, src, p.check
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if errs := sc.check(); len(errs) > 0 {
		return nil, p.place(f, errs)
	}
	if sc.Target.Kind == Node {
		if err := sc.Target.Node.resolve(fsys, file); err != nil {
			return nil, p.at(lookup(f, "$.target.node.adapter"), err.Error())
		}
	}
	return &sc, nil
}

type parse struct {
	file  string
	lines []string
	check string // the check named by expect: {violation: CHECK}
}

// at makes an error at a token's place.
func (p *parse) at(tk *token.Token, msg string) *Error {
	e := &Error{File: p.file, Msg: msg}
	if tk != nil && tk.Position != nil {
		e.Line, e.Col = tk.Position.Line, tk.Position.Column
		if e.Line >= 1 && e.Line <= len(p.lines) {
			e.Text = strings.TrimRight(p.lines[e.Line-1], "\r")
		}
	}
	return e
}

// wrap turns a YAML library error, or one of our decoders' (a script's),
// into an *Error at its place.
func (p *parse) wrap(err error) error {
	var ne *nodeError
	if errors.As(err, &ne) {
		return p.at(ne.tk, ne.msg)
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		return p.at(ye.GetToken(), ye.GetMessage())
	}
	return &Error{File: p.file, Msg: err.Error()}
}

// durationKeys are the paths (with * for any list index) whose values
// are durations ("250ms", "2s"), checked before decoding so that a bad one
// is reported at its place.
var durationKeys = map[string]bool{
	"timeout": true, "retry": true, "think": true, "duration": true, "latency": true, "grid": true, "store.ttl": true,
	"faults.messages.*.delay.min": true, "faults.messages.*.delay.max": true,
	"faults.messages.*.delay.mean": true, "faults.messages.*.delay.cap": true,
	"faults.messages.*.target.from": true, "faults.messages.*.target.until": true,
	"faults.processes.*.at": true, "faults.processes.*.for": true, "faults.bytes.*.for": true,
}

// durations checks every duration in node, whose path is path.
func (p *parse) durations(node ast.Node, path string) error {
	switch n := node.(type) {
	case *ast.MappingNode:
		for _, v := range n.Values {
			if err := p.durations(v, path); err != nil {
				return err
			}
		}
	case *ast.MappingValueNode:
		key := join(path, n.Key.String())
		if err := p.zero(key, n.Value); err != nil {
			return err
		}
		switch {
		case durationKeys[key]:
			return p.duration(n.Value)
		case intKeys[key] || strings.HasPrefix(key, "mix."):
			return p.integer(n.Value)
		case key == "seeds":
			return p.seeds(n.Value)
		case key == "target":
			return nil // its decoder says what is wrong in it
		case key == "expect":
			return p.expect(n.Value)
		case key == "script" && n.Value.Type() == ast.NullType:
			return p.at(n.Value.GetToken(), "script is empty: name each worker's operations (w1: [...]), or leave script out")
		}
		return p.durations(n.Value, key)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			if err := p.durations(v, join(path, "*")); err != nil {
				return err
			}
			if path == "faults.processes" {
				if err := p.processFault(v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// processFault refuses a process fault that says nothing of when (no at,
// no after: leaving at out is no way to say "at 0s"), and a kill with a
// for, which a kill has no use for.
func (p *parse) processFault(v ast.Node) error {
	fields := map[string]*ast.MappingValueNode{}
	for _, kv := range mappingValues(v) {
		fields[kv.Key.String()] = kv
	}
	if len(fields) == 0 {
		return nil
	}
	if fields["at"] == nil && fields["after"] == nil {
		return p.at(v.GetToken(), "a process fault needs its time (at: 10ms; at: 0s for the workload's start) or its point of progress (after: {worker: w1, ops: 10})")
	}
	if k, f := fields["kind"], fields["for"]; k != nil && f != nil && isString(k.Value, string(faultinject.Kill)) {
		return p.at(f.Key.GetToken(), "a kill has no for: the process stays dead (a restart's for is how long it stays down)")
	}
	if k, f := fields["kind"], fields["for"]; k != nil && f != nil && isString(k.Value, string(faultinject.Poison)) {
		return p.at(f.Key.GetToken(), "a poison has no for: its worker sends the poison frames at once")
	}
	return nil
}

// zero refuses a field given as zero or empty where that cannot mean
// anything: leaving it out gives the default, writing it so is a mistake.
func (p *parse) zero(key string, v ast.Node) error {
	switch key {
	case "mix":
		if ws := mappingValues(v); ws != nil && !slices.ContainsFunc(ws, func(w *ast.MappingValueNode) bool { return !isZero(w.Value) }) {
			return p.at(v.GetToken(), "mix: every weight is 0, so no operation could be drawn: weigh at least one method, or leave mix out for the default")
		}
	case "keys.count":
		if isZero(v) {
			return p.at(v.GetToken(), "count 0: no key to use: want 1 or more, or leave count out for 3 keys")
		}
	case "keys.names":
		if seq, ok := v.(*ast.SequenceNode); ok && len(seq.Values) == 0 {
			return p.at(v.GetToken(), "names is empty: no key to use: name at least one, or leave names out for 3 keys")
		}
	case "seeds":
		if seq, ok := v.(*ast.SequenceNode); ok && len(seq.Values) == 0 {
			return p.at(v.GetToken(), "seeds is empty: nothing would run: give a count (3) or at least one seed ([1, 7, 42]), or leave seeds out for one")
		}
	}
	if why, ok := zeroMeansNothing[key]; ok && (isZero(v) || isZeroDuration(v)) {
		return p.at(v.GetToken(), fmt.Sprintf("%s %s: %s", key, v.String(), why))
	}
	if strings.HasPrefix(key, "script") {
		return nil // a script's decoder says what is wrong in it
	}
	switch n := v.(type) {
	case *ast.NullNode:
		return p.at(v.GetToken(), fmt.Sprintf("%s has no value: give one, or leave %s out for its default", key, key))
	case *ast.StringNode:
		if n.Value == "" {
			return p.at(v.GetToken(), fmt.Sprintf("%s is empty: give a value, or leave %s out for its default", key, key))
		}
	case *ast.MappingNode:
		if len(n.Values) == 0 {
			return p.at(v.GetToken(), fmt.Sprintf("%s is empty ({}): say something in it, or leave %s out for its default", key, key))
		}
	case *ast.SequenceNode:
		if len(n.Values) == 0 {
			return p.at(v.GetToken(), fmt.Sprintf("%s is empty ([]): list something, or leave %s out", key, key))
		}
	}
	return nil
}

// zeroMeansNothing are the fields whose zero (0, or 0s) cannot mean
// anything but "the default", which leaving them out says: given so,
// they are a mistake. Each says why.
var zeroMeansNothing = map[string]string{
	"workers":                "no worker would run: want 1 or more, or leave workers out for 2",
	"ops":                    "no operation would run: want 1 or more, or leave ops out for 100",
	"duration":               "the workload would end before it began: want more than 0s, or leave duration out to run ops operations",
	"timeout":                "every call would time out at once: want more than 0s, or leave timeout out for 200ms",
	"latency":                "messages take time: want more than 0s, or leave latency out for 20µs",
	"grid":                   "a grid of no step: want 1ms, say, or leave grid out for none",
	"pipeline":               "no call would be in flight: want 1 or more, or leave pipeline out for 1",
	"values.max":             "no value has 0 bytes (each begins with its writer's number): want 1 or more, or leave values out for plain integers",
	"keys.hot":               "a hot key that gets no operation: want more than 0, at most 1",
	"values.falsy":           "no write would be falsy: want more than 0, at most 1, or leave falsy out",
	"values.edges":           "no operation would be drawn from the edges: want more than 0, at most 1, or leave edges out",
	"store.entries":          "a store of no entries: want 1 or more, or leave entries out for no bound on entries",
	"store.bytes":            "a store of no bytes: want 1 or more, or leave bytes out for shm.DefaultMaxBytes",
	"store.ttl":              "a TTL of 0s: want 1ms or more, or leave ttl out for none",
	"store.ttl_share":        "no write would get the ttl: want more than 0, at most 1, or leave ttl_share out for every write",
	"store.dedup_window":     "no reply would be remembered: want 1 or more, or leave dedup_window out for 4096",
	"max_frame":              "no frame would fit: want 256 or more, or leave max_frame out for 4 MiB",
	"faults.seed":            "seed 0 is no seed: give one from 1, or leave seed out to use each run's seed",
	"faults.messages.*.hold": "a hold of no requests: want 1 or more, or leave hold out (a reorder then waits for the next message on its link, a duplicate's copies go at once)",
}

// isString reports whether v is the string s, quoted or not.
func isString(v ast.Node, s string) bool {
	n, ok := v.(*ast.StringNode)
	return ok && n.Value == s
}

// isZeroDuration reports whether v is a duration of 0 ("0s", "0ms").
func isZeroDuration(v ast.Node) bool {
	if v.Type() != ast.StringType {
		return false
	}
	d, err := time.ParseDuration(v.String())
	return err == nil && d == 0
}

// mappingValues returns the pairs of a mapping node (an empty slice, not
// nil, for {}), or nil if v is no mapping.
func mappingValues(v ast.Node) []*ast.MappingValueNode {
	switch n := v.(type) {
	case *ast.MappingNode:
		return append([]*ast.MappingValueNode{}, n.Values...)
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}
	}
	return nil
}

// isZero reports whether v is the integer 0.
func isZero(v ast.Node) bool {
	if v.Type() != ast.IntegerType {
		return false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v.String(), "_", ""), 0, 64)
	return err == nil && n == 0
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// duration checks that a value is a duration with its unit: "250ms",
// "0s" (a bare number, 0 too, says nothing of its unit).
func (p *parse) duration(v ast.Node) error {
	if _, err := time.ParseDuration(v.String()); err != nil || v.Type() != ast.StringType {
		return p.at(v.GetToken(), fmt.Sprintf("%s is not a duration (write it with its unit: 250ms, 2s, 1m30s, 0s)", v.String()))
	}
	return nil
}

// intKeys are the paths whose values are integers (every mix weight too):
// checked before decoding, which would take 2.7 or "2" for 2.
var intKeys = map[string]bool{
	"workers": true, "ops": true, "keys.count": true, "values.min": true, "values.max": true,
	"pipeline": true, "store.entries": true, "store.bytes": true, "store.dedup_window": true, "faults.seed": true, "max_frame": true,
	"faults.messages.*.copies": true, "faults.messages.*.target.nth": true, "faults.messages.*.hold": true,
	"faults.bytes.*.at": true, "faults.bytes.*.conn": true, "faults.processes.*.after.ops": true,
}

// integer checks that a value is an integer, not a float or a string.
func (p *parse) integer(v ast.Node) error {
	if v.Type() != ast.IntegerType {
		return p.at(v.GetToken(), fmt.Sprintf("%s is not an integer", v.String()))
	}
	return nil
}

// lookup returns the token at path in f, or at the nearest of its parents
// that the file has (a value out of range may be one left out).
func lookup(f *ast.File, path string) *token.Token {
	for path != "" && path != "$" {
		if p, err := yaml.PathString(path); err == nil {
			if n, err := p.FilterFile(f); err == nil && n != nil {
				return tokenOf(n)
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return nil
}

// seeds checks that a value is a count or a list of seeds.
func (p *parse) seeds(v ast.Node) error {
	bad := v.Type() != ast.IntegerType && v.Type() != ast.SequenceType
	if seq, ok := v.(*ast.SequenceNode); ok {
		for _, e := range seq.Values {
			if e.Type() != ast.IntegerType || strings.HasPrefix(e.String(), "-") {
				return p.at(e.GetToken(), fmt.Sprintf("seed %s is not an integer from 0", e.String()))
			}
		}
	}
	if bad {
		return p.at(v.GetToken(), fmt.Sprintf("seeds: want a count (3) or a list of seeds ([1, 7, 42]), not %s", v.String()))
	}
	return nil
}

// expect checks the form of an expectation: a word, or a mapping of
// violation to a check's name, which it keeps in p.check (Scenario.check
// says whether the name is a check's).
func (p *parse) expect(v ast.Node) error {
	if _, ok := v.(*ast.StringNode); ok {
		return nil
	}
	kvs := mappingValues(v)
	if len(kvs) == 0 {
		return p.at(v.GetToken(), fmt.Sprintf("expect: want pass, violation or {violation: CHECK}, not %s", v.String()))
	}
	if len(kvs) > 1 || kvs[0].Key.String() != string(ExpectViolation) {
		return p.at(kvs[len(kvs)-1].Key.GetToken(), fmt.Sprintf("expect: {violation: CHECK} has the one key violation, not %s", v.String()))
	}
	check, ok := expectedCheck(v)
	if !ok || check == "" {
		return p.at(kvs[0].Value.GetToken(), fmt.Sprintf("expect: violation: want the name of a check (%s), not %s", strings.Join(linearizability.CheckNames(), ", "), kvs[0].Value.String()))
	}
	p.check = check
	return nil
}

// problem is a value out of range, at a YAML path ("$.faults.messages[0].p").
type problem struct {
	path string
	msg  string
}

// place turns problems into *Errors at their places in f.
func (p *parse) place(f *ast.File, probs []problem) error {
	var errs []error
	for _, pr := range probs {
		errs = append(errs, p.at(lookup(f, pr.path), pr.msg))
	}
	return errors.Join(errs...)
}
