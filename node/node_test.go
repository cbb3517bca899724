package node_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/node"
)

// TestSameClock reads history.Now, has node read
// process.hrtime.bigint(), and reads Now again: node's reading lies
// between, so Node's journals and Go's share one clock.
func TestSameClock(t *testing.T) {
	bin := nodetest.Node(t)
	for i := range 5 {
		before := history.Now()
		out, err := exec.Command(bin, "-e", "process.stdout.write(process.hrtime.bigint().toString())").Output()
		after := history.Now()
		if err != nil {
			t.Fatal(err)
		}
		got, err := strconv.ParseInt(string(out), 10, 64)
		if err != nil {
			t.Fatalf("node printed %q: %v", out, err)
		}
		if got < before || got > after {
			t.Fatalf("run %d: node read %d, not within Go's %d and %d: not the same clock", i, got, before, after)
		}
	}
}

// TestInstall writes the package once per content hash, and a second
// install finds it.
func TestInstall(t *testing.T) {
	root := t.TempDir()
	dir, err := node.Install(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"lib/primary.js", "lib/worker.js", "lib/decide.js", "template/adapter.js", "adapters/reference.js"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	again, err := node.Install(root)
	if err != nil || again != dir {
		t.Errorf("second install: %q, %v; want %q", again, err, dir)
	}
	if !strings.Contains(dir, node.Hash()[:16]) {
		t.Errorf("folder %s does not name the content hash %s", dir, node.Hash())
	}
}

// TestJournalWrittenByNode has lib/journal.js write a journal (a
// return, an unknown, a fault, a note and a call left without a
// return, then a line torn by a "kill") and reads it back with
// ReadJournal.
func TestJournalWrittenByNode(t *testing.T) {
	bin := nodetest.Node(t)
	pkg, err := node.Install(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w1.njournal")
	script := `
const { Journal } = require(process.argv[1] + '/lib/journal.js');
const j = new Journal(process.argv[2], { role: 'worker', worker: 'w1', gen: 1, inc: 3 });
const a = j.call('set', 'k', '{"value":"\u00e9"}');
j.ret(a, 'ok', '{"value":"OK"}');
const b = j.call('get', '__proto__', '{}');
j.ret(b, 'unknown', '{"error":{"code":"timeout","message":"no answer"}}');
j.fault('{"time":5,"link":{"worker":"w1","dir":"requests"},"n":2,"msg":{"method":"get","key":"__proto__","seq":2},"decision":{"drop":true,"fired":[0]},"truth":"not_applied"}');
j.note('hello');
j.call('add', 'n', '{"delta":2}');
require('fs').writeSync(j.fd, '{"t":"return","id":3,"sta');
`
	if out, err := exec.Command(bin, "-e", script, pkg, path).CombinedOutput(); err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	j, err := node.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	c := j.Contents
	type op struct {
		Method, Key, Input, Output string
		Status                     history.Status
		Returned                   bool
	}
	var got []op
	for _, o := range c.Ops {
		in, _ := o.Input.Value.MarshalJSON()
		out := string(o.Output.Value)
		if o.Output.Error != nil {
			out = o.Output.Error.Code
		}
		got = append(got, op{string(o.Method), o.Key, string(in), out, o.Status, o.Return != 0})
	}
	want := []op{
		{"set", "k", `"é"`, `"OK"`, history.StatusOK, true},
		{"get", "__proto__", "null", "timeout", history.StatusUnknown, true},
		{"add", "n", "null", "", history.StatusUnknown, false},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ops mismatch (-want +got):\n%s", d)
	}
	if j.Worker != "w1" || j.Inc != 3 || j.Gen != 1 || c.Torn != 1 || len(c.Events) != 2 || len(j.Records) != 1 {
		t.Errorf("worker %q inc %d gen %d, %d torn, %d events, %d records; want w1 3 1, 1 torn, 2 events, 1 record",
			j.Worker, j.Inc, j.Gen, c.Torn, len(c.Events), len(j.Records))
	}
	if r := j.Records; len(r) == 1 && (!r[0].Decision.Drop || r[0].Truth != history.TruthNotApplied || r[0].Link.Dir != faultinject.Requests) {
		t.Errorf("record %+v: want a dropped request, not applied", r[0])
	}
}

// TestReadJournalErrors checks that a bad journal is refused at its line.
func TestReadJournalErrors(t *testing.T) {
	const head = `{"t":"journal","version":1,"role":"worker","worker":"w1","gen":1,"inc":1,"pid":7,"created":10}` + "\n"
	cases := []struct{ name, text, want string }{
		{"empty", "", "no header line"},
		{"no header", `{"t":"note","time":1,"text":"x"}` + "\n", ":1: "},
		{"version", strings.Replace(head, `"version":1`, `"version":2`, 1), ":1: bad node journal: version 2"},
		{"unknown member", head + `{"t":"call","id":1,"method":"get","key":"a","input":{},"call":11,"x":1}` + "\n", `:2: bad node journal: json: unknown field "x"`},
		{"unknown type", head + `{"t":"frob"}` + "\n", `:2: bad node journal: unknown line type "frob"`},
		{"bad method", head + `{"t":"call","id":1,"method":"len","key":"a","input":{},"call":11}` + "\n", `:2: bad node journal: method "len"`},
		{"return without call", head + `{"t":"return","id":4,"status":"ok","output":{},"return":12}` + "\n", ":2: bad node journal: a return of call 4"},
		{"time back", head + `{"t":"call","id":1,"method":"get","key":"a","input":{},"call":9}` + "\n", ":2: bad node journal: call time 9 before"},
		{"second return", head + `{"t":"call","id":1,"method":"get","key":"a","input":{},"call":11}` + "\n" +
			`{"t":"return","id":1,"status":"ok","output":{},"return":12}` + "\n" + `{"t":"return","id":1,"status":"ok","output":{},"return":13}` + "\n", ":4: bad node journal: a second return of call 1"},
		{"unknown with value", head + `{"t":"call","id":1,"method":"get","key":"a","input":{},"call":11}` + "\n" +
			`{"t":"return","id":1,"status":"unknown","output":{"value":1},"return":12}` + "\n", ":3: bad node journal: an unknown return with a value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.njournal")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := node.ReadJournal(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if tc.name != "empty" && !errors.Is(err, node.ErrJournal) {
				t.Errorf("error %v does not wrap ErrJournal", err)
			}
		})
	}
}
