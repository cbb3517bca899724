// Package kvlog reads the key-value logs porcupine's tests check (its
// test_data/kv files, from MIT 6.824's key-value service): Jepsen-style
// EDN maps, one per line, of get, put and append on string keys and
// values,
//
//	{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
//	{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
//
// into the history format, model "kv": get is get, put is set, append is
// append. In that service every key starts as the empty string, which a
// get returns where the key was never written; the import says so with
// one set of "" per key, by the worker "init", before every other
// operation. A completion's type means what it means in a Jepsen history
// (package jepsen): :fail did not happen, :info and an invocation never
// completed are unknown.
package kvlog

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/internal/edn"
	"github.com/shmlab/shmlab/history/jepsen"
)

// InitWorker is the worker of the sets that start each key as "".
const InitWorker = "init"

// Read reads a porcupine kv log from r; name is used in errors, which
// are *history.ParseError naming the line.
func Read(r io.Reader, name string) (*history.History, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	recs, err := jepsen.Records(data, name)
	if err != nil {
		return nil, err
	}
	h, err := jepsen.Convert(recs, name, jepsen.Header(history.ModelKV, name), kvOp)
	if err != nil {
		return nil, err
	}
	initKeys(h)
	return h, nil
}

// initKeys starts every key of h as "": a set by InitWorker at a time
// before every operation's, the operations renumbered after those sets.
func initKeys(h *history.History) {
	var keys []string
	seen := map[string]bool{}
	first := int64(0)
	for i := range h.Ops {
		if k := h.Ops[i].Key; !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		first = min(first, h.Ops[i].Call)
	}
	slices.Sort(keys)
	ops := make([]history.Op, 0, len(keys)+len(h.Ops))
	for _, k := range keys {
		ops = append(ops, history.Op{ID: int64(len(ops) + 1), Worker: InitWorker, Method: history.Set, Key: k,
			Input: history.Input{Value: history.Value("")}, Call: first - 1, Return: first - 1, Status: history.StatusOK})
	}
	for _, op := range h.Ops {
		op.ID = int64(len(ops) + 1)
		ops = append(ops, op)
	}
	for i := range h.Events {
		if id := h.Events[i].Op; id != 0 {
			h.Events[i].Op = id + int64(len(keys))
		}
	}
	h.Ops = ops
}

// kvOp makes an operation of a get, put or append.
func kvOp(inv, done *jepsen.Record, op *history.Op) error {
	k, ok := inv.Map.Get("key")
	if !ok || k.Kind != edn.String {
		return &history.ParseError{Line: inv.Line, Field: ":key", Err: fmt.Errorf("missing, or not a string")}
	}
	op.Key = k.Text
	str := func(rec *jepsen.Record) (history.Op, error) {
		if rec.Value.Kind != edn.String {
			return history.Op{}, &history.ParseError{Line: rec.Line, Field: ":value", Err: fmt.Errorf("%s is not a string", orNothing(string(rec.Value.Src)))}
		}
		return history.Op{Input: history.Input{Value: history.Value(rec.Value.Text)}}, nil
	}
	switch inv.F {
	case "get":
		op.Method = history.Get
		if op.Status == history.StatusOK {
			v, err := str(done)
			if err != nil {
				return err
			}
			op.Output.Value = v.Input.Value
		}
	case "put", "append":
		op.Method = history.Set
		if inv.F == "append" {
			op.Method = history.Append
		}
		v, err := str(inv)
		if err != nil {
			return err
		}
		op.Input.Value = v.Input.Value
	default:
		return &history.ParseError{Line: inv.Line, Field: ":f", Err: fmt.Errorf("unknown function :%s (a kv log has :get, :put and :append)", inv.F)}
	}
	return nil
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// Detect reports whether head, the first bytes of a file, looks like a
// kv log rather than another Jepsen history: its first operation map
// has a :key.
func Detect(head []byte) bool {
	v, err := edn.NewReader(head, 1).Next()
	if v.Kind == edn.Vector && len(v.Items) > 0 {
		v = v.Items[0]
	}
	if err != nil { // cut short: the first line says
		line, _, _ := strings.Cut(string(head), "\n")
		return strings.Contains(line, ":key ")
	}
	_, ok := v.Get("key")
	return ok
}
