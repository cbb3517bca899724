package kvlog_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"github.com/shmlab/shmlab/history/kvlog"
)

// kvLog is a small log in porcupine's kv format: two clients, an append
// never completed.
const kvLog = `{:process 0, :type :invoke, :f :put, :key "a", :value "x"}
{:process 1, :type :invoke, :f :get, :key "b", :value nil}
{:process 0, :type :ok, :f :put, :key "a", :value "x"}
{:process 1, :type :ok, :f :get, :key "b", :value ""}
{:process 0, :type :invoke, :f :append, :key "a", :value "y\n"}
{:process 0, :type :ok, :f :append, :key "a", :value "y\n"}
{:process 1, :type :invoke, :f :append, :key "b", :value "z"}
`

func TestRead(t *testing.T) {
	h, err := kvlog.Read(strings.NewReader(kvLog), "c.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range h.Ops {
		got = append(got, h.Ops[i].String())
	}
	want := []string{
		`#1 init/0 set("a", "") -> ok`,
		`#2 init/0 set("b", "") -> ok`,
		`#3 0/0 set("a", "x") -> ok (line 1)`,
		`#4 1/0 get("b") -> "" (line 2)`,
		`#5 0/0 append("a", "y\n") -> ok (line 5)`,
		`#6 1/0 append("b", "z") -> unknown (line 7)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if h.Header.Model != history.ModelKV || h.Ops[0].Call >= h.Ops[2].Call {
		t.Errorf("model %q, the first set called at %d and the first operation at %d: want kv, the set first", h.Header.Model, h.Ops[0].Call, h.Ops[2].Call)
	}
	historytest.RequireImport(t, h, nil)
}

func TestReadDamaged(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no key", `{:process 0, :type :invoke, :f :get, :value nil}`, `c.txt:1: field ":key": missing, or not a string`},
		{"a number put", `{:process 0, :type :invoke, :f :put, :key "a", :value 1}`, `c.txt:1: field ":value": 1 is not a string`},
		{"a get answering nil", "{:process 0, :type :invoke, :f :get, :key \"a\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"a\", :value nil}", `c.txt:2: field ":value": nil is not a string`},
		{"a cas", `{:process 0, :type :invoke, :f :cas, :key "a", :value ["a" "b"]}`, `c.txt:1: field ":f": unknown function :cas (a kv log has :get, :put and :append)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := kvlog.Read(strings.NewReader(tc.in), "c.txt")
			if err == nil {
				t.Fatalf("accepted: %d operations", len(h.Ops))
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error: mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{kvLog, true},
		{"[" + kvLog + "]", true},
		{kvLog[:45], true}, // cut short
		{`{:process 0, :type :invoke, :f :read, :value nil}`, false},
		{`INFO  jepsen.util - 0	:invoke	:read	nil`, false},
	} {
		if got := kvlog.Detect([]byte(tc.in)); got != tc.want {
			t.Errorf("Detect(%.40q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzRead: any input is imported, or refused with an error naming a
// line; never a crash. What is imported is a valid history that reads
// back the same.
func FuzzRead(f *testing.F) {
	f.Add([]byte(kvLog))
	f.Add([]byte(`{:process 3, :type :info, :f :get, :key "", :value "\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := kvlog.Read(bytes.NewReader(data), "f.txt")
		historytest.RequireImport(t, h, err)
	})
}
