package jepsen_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"github.com/shmlab/shmlab/history/jepsen"
)

// brief is an operation in a few words, to compare imports by.
func brief(h *history.History) []string {
	var out []string
	for i := range h.Ops {
		op := h.Ops[i]
		op.ID = 0
		out = append(out, op.Describe())
	}
	for _, e := range h.Events {
		out = append(out, string(e.Kind)+" "+e.Text)
	}
	return out
}

// The same history in the forms Jepsen writes.
const (
	ednLines = `{:type :invoke, :f :write, :value 1, :process 0, :time 10}
{:type :invoke, :f :read, :value nil, :process 1, :time 11}
{:type :ok, :f :write, :value 1, :process 0, :time 12}
{:type :ok, :f :read, :value 1, :process 1, :time 13}
{:type :invoke, :f :cas, :value [1 2], :process 0, :time 14}
{:type :fail, :f :cas, :value [1 2], :process 0, :time 15}
{:type :info, :f :start, :value nil, :process :nemesis, :time 16}
{:type :invoke, :f :cas, :value [2 3], :process 1, :time 17}
{:type :info, :f :cas, :value [2 3], :process 1, :time 18, :error :timeout}
{:type :invoke, :f :write, :value 4, :process 0, :time 19}
{:type :fail, :f :write, :value 4, :process 0, :time 20}
{:type :invoke, :f :read, :value nil, :process 6, :time 21}
`
	logLines = `INFO  jepsen.core - Running test
INFO  jepsen.util - 0	:invoke	:write	1
INFO  jepsen.util - 1	:invoke	:read	nil
INFO  jepsen.util - 0	:ok	:write	1
INFO  jepsen.util - 1	:ok	:read	1
INFO  jepsen.util - 0	:invoke	:cas	[1 2]
INFO  jepsen.util - 0	:fail	:cas	[1 2]
INFO  jepsen.util - :nemesis	:info	:start	nil
INFO  jepsen.util - 1	:invoke :cas    [2 3]
INFO  jepsen.util - 1	:info	:cas	:timed-out
INFO  jepsen.util - 0	:invoke	:write	4
INFO  jepsen.util - 0	:fail	:write	4
INFO  jepsen.util - 6	:invoke	:read	nil
`
)

// want is what both forms hold: a cas that failed answered false, a
// write that failed did not happen, :info and a read never completed are
// unknown.
var want = []string{
	`#0 0/0 set("r", 1) -> ok`,
	`#0 1/0 get("r") -> 1`,
	`#0 0/0 cas("r", 1 -> 2) -> false`,
	`#0 1/0 cas("r", 2 -> 3) -> unknown`,
	`#0 0/0 set("r", 4) -> fail: error`,
	`#0 6/0 get("r") -> unknown`,
	`note :info :start nil`,
}

func TestReadForms(t *testing.T) {
	vector := "[" + strings.ReplaceAll(ednLines, "\n", " ") + "]"
	tagged := strings.ReplaceAll(ednLines, "{:type", "#jepsen.history.Op{:type")
	for _, tc := range []struct{ name, in string }{
		{"EDN maps, one per line", ednLines},
		{"a vector of maps", vector},
		{"tagged maps", tagged},
		{"log lines", logLines},
		{"EDN with comments and discards", "; a history\n#_{:x 1}\n" + ednLines},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := jepsen.Read(strings.NewReader(tc.in), "h.edn")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, brief(h)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if h.Header.Model != history.ModelRegister {
				t.Errorf("model %q, want register", h.Header.Model)
			}
			historytest.RequireImport(t, h, nil)
		})
	}
}

// TestReadIndependent: a jepsen.independent history (values [key
// value]) is one register per key, model kv.
func TestReadIndependent(t *testing.T) {
	in := `{:type :invoke, :f :read, :value [3 nil], :process 0}
{:type :invoke, :f :cas, :value ["k" [1 2]], :process 1}
{:type :ok, :f :read, :value [3 7], :process 0}
{:type :fail, :f :cas, :value ["k" [1 2]], :process 1}
{:type :invoke, :f :write, :value [3 8], :process 0}
{:type :info, :f :write, :value [3 8], :process 0}
`
	h, err := jepsen.Read(strings.NewReader(in), "i.edn")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`#0 0/0 get("3") -> 7`, `#0 1/0 cas("k", 1 -> 2) -> false`, `#0 0/0 set("3", 8) -> unknown`}
	if diff := cmp.Diff(want, brief(h)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if h.Header.Model != history.ModelKV {
		t.Errorf("model %q; want kv", h.Header.Model)
	}
	_, err = jepsen.Read(strings.NewReader(in+"{:type :invoke, :f :write, :value 9, :process 5}\n"), "i.edn")
	if diff := cmp.Diff(`i.edn:7: field ":value": 9 is not a [key value] tuple (the history's first read made it one of independent keys)`, fmt.Sprint(err)); diff != "" {
		t.Errorf("a value not a tuple: mismatch (-want +got):\n%s", diff)
	}
}

// TestReadTimes: the maps' :time when they all have one, else the
// places of the records; an operation's line is its invocation's.
func TestReadTimes(t *testing.T) {
	h, err := jepsen.Read(strings.NewReader(ednLines), "h.edn")
	if err != nil {
		t.Fatal(err)
	}
	if op := h.Ops[1]; op.Call != 11 || op.Return != 13 || op.Line != 2 {
		t.Errorf("the read: call %d return %d line %d; want 11, 13, 2", op.Call, op.Return, op.Line)
	}
	h, err = jepsen.Read(strings.NewReader(strings.Replace(ednLines, ":time 13", ":time 1", 1)), "h.edn")
	if err != nil {
		t.Fatal(err)
	}
	if op := h.Ops[1]; op.Call != 2 || op.Return != 4 {
		t.Errorf("times that go back: the read called %d returned %d; want its places 2 and 4", op.Call, op.Return)
	}
}

// TestReadDamaged: bad input is an error naming the file and line.
func TestReadDamaged(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", `h.edn:1: no operations: not a Jepsen history, or an empty file`},
		{"not closed", "{:type :invoke, :f :read\n", `h.edn:1: not EDN: a map begun here is not closed (column 1)`},
		{"no process", "{:type :invoke, :f :read, :value nil}\n", `h.edn:1: field ":process": missing`},
		{"no type", "{:process 1, :f :read}\n", `h.edn:1: field ":type": missing`},
		{"odd map", "{:type :invoke, :f :read, :process}\n", `h.edn:1: not EDN: a map with a key but no value (column 1)`},
		{"a number", "{:type :invoke, :f :read, :process 0}\n7\n", `h.edn:2: an integer where an operation map should be`},
		{"completion of nothing", "{:type :ok, :f :read, :process 0, :value 1}\n", `h.edn:1: field ":type": a completion (:ok) of process 0, which invoked nothing`},
		{"invoked twice", "{:type :invoke, :f :read, :process 0}\n{:type :invoke, :f :read, :process 0}\n", `h.edn:2: field ":type": process 0 invokes again before its invocation on line 1 completed`},
		{"another function completed", "{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :write, :process 0, :value 1}\n", `h.edn:2: field ":f": completes :write, but process 0 invoked :read on line 1`},
		{"unknown type", "{:type :maybe, :f :read, :process 0}\n", `h.edn:1: field ":type": unknown type :maybe (want :invoke, :ok, :fail or :info)`},
		{"unknown function", "{:type :invoke, :f :add, :process 0, :value 1}\n", `h.edn:1: field ":f": unknown function :add (a register has :read, :write and :cas)`},
		{"cas of one value", "{:type :invoke, :f :cas, :process 0, :value 1}\n", `h.edn:1: field ":value": a cas takes [old new], not 1`},
		{"write of nil", "{:type :invoke, :f :write, :process 0, :value nil}\n", `h.edn:1: field ":value": a write of nil`},
		{"time not an integer", "{:type :invoke, :f :read, :process 0, :time 1.5}\n", `h.edn:1: field ":time": 1.5 is not an integer`},
		{"log without operations", "INFO  jepsen.core - Running\n", `h.edn:1: no jepsen.util operation lines: not a Jepsen log, or an empty file`},
		{"log line cut", "INFO  jepsen.util - 0\t:invoke\n", `h.edn:1: not an operation line: want PROCESS :TYPE :F VALUE after "jepsen.util - "`},
		{"log value not EDN", "x\nINFO  jepsen.util - 0\t:invoke\t:write\t\"4\n", `h.edn:2: not EDN: the string begun here is not closed (column 2)`},
		{"log line with two values", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t3 7\n", `h.edn:2: more than one value after :read: want PROCESS :TYPE :F VALUE`},
		{"log read without value", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\n", `h.edn:2: field ":value": an :ok :read with no value (nil reads as nil)`},
		{"map read without value", "{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :process 0}\n", `h.edn:2: field ":value": an :ok :read with no value (nil reads as nil)`},
		{"map key without value", "{:type :invoke, :f :read, :process 0, :value {1}}\n", `h.edn:1: not EDN: a map with a key but no value (column 46)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := jepsen.Read(strings.NewReader(tc.in), "h.edn")
			if err == nil {
				t.Fatalf("accepted: %v", brief(h))
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error: mismatch (-want +got):\n%s", diff)
			}
			var pe *history.ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Errorf("error %#v is not a *history.ParseError naming a line", err)
			}
		})
	}
}

// TestJSON checks how EDN values become JSON texts.
func TestJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`1`, `1`}, {`-7N`, `-7`}, {`1.5`, `1.5`}, {`1.5M`, `1.5`}, {`2.`, `2`}, {`nil`, `null`}, {`true`, `true`},
		{`"a\"b"`, `"a\"b"`}, {`:timed-out`, `"timed-out"`}, {`\a`, `"a"`}, {`[1 (2) #{3}]`, `[1,[2],[3]]`},
		{`{:a 1, "b" [nil]}`, `{"a":1,"b":[null]}`}, {`"<é>"`, `"<é>"`},
	} {
		rec, err := jepsen.Records([]byte(`{:type :invoke, :f :write, :process 0, :value `+tc.in+`}`), "v.edn")
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		got, err := jepsen.JSON(&rec[0].Value)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if string(got) != tc.want {
			t.Errorf("JSON(%s) = %s; want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzRead: any input is imported, or refused with an error naming a
// line; never a crash. What is imported is a valid history that reads
// back the same.
func FuzzRead(f *testing.F) {
	f.Add([]byte(ednLines))
	f.Add([]byte(logLines))
	f.Add([]byte("[" + ednLines + "]"))
	f.Add([]byte(`#jepsen.history.Op{:type :invoke, :f :cas, :value [nil "a\u00e9"], :process 3} ; c` + "\n"))
	f.Fuzz(roundTripsOrRefuses)
}

// roundTripsOrRefuses is FuzzRead's property.
func roundTripsOrRefuses(t *testing.T, data []byte) {
	h, err := jepsen.Read(bytes.NewReader(data), "f.edn")
	historytest.RequireImport(t, h, err)
}
