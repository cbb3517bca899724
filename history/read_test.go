package history_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"pgregory.net/rapid"
)

// Lines the damaged inputs are made of.
const (
	hdrLine = `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}`
	setLine = `{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"}`
	getLine = `{"type":"op","id":2,"worker":"w1","method":"get","key":"x","input":{},"output":{"value":1},"call":20,"return":30,"status":"ok"}`
)

// file joins lines into a file.
func file(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// withSet is a file of the header and a set whose members after the key
// are rest.
func withSet(rest string) string {
	return file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"set","key":"x",`+rest+`}`)
}

// damaged are inputs the reader must reject whole, with the error it must
// give: the file, the line and, where one is at fault, the field.
var damaged = []struct {
	name, in, want string
}{
	// The file as a whole.
	{"empty file", "", `h.jsonl:1: no header line: not a history, or an empty file`},
	{"only a newline", "\n", `h.jsonl:1: empty line`},
	{"blank line inside", file(hdrLine, "", setLine), `h.jsonl:2: empty line`},
	{"blank line at the end", hdrLine + "\n" + setLine + "\n  \n", `h.jsonl:3: empty line`},
	{"torn last line", hdrLine + "\n" + setLine[:60], `h.jsonl:2: the line ends inside a JSON value (a torn write?)`},
	{"torn line, then the next", file(hdrLine, setLine[:60], getLine), `h.jsonl:2: the line ends inside a JSON value (a torn write?)`},
	{"line split in two", file(hdrLine, setLine[:len(setLine)-1], `,"x":1}`), `h.jsonl:2: the line ends inside a JSON value (a torn write?)`},
	{"two values on a line", file(hdrLine, setLine+" "+getLine), `h.jsonl:2: more than one JSON value on the line`},
	{"garbage after a value", file(hdrLine, setLine+" x"), `h.jsonl:2: more than one JSON value on the line`},
	{"array line", file("[1]"), `h.jsonl:1: a JSON array is not a JSON object`},
	{"ttl on a get", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{"ttl":1},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "input.ttl": a get takes no ttl`},
	{"old on a set", withSet(`"input":{"value":1,"old":2},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "input.old": a set takes no old`},
	{"delta on a delete", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"delete","key":"x","input":{"delta":0},"output":{"value":true},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "input.delta": a delete takes no delta`},
	{"binary line", file("\x00\x01\xfe"), `h.jsonl:1: not JSON: '\x00' at byte 1`},
	{"bad literal", withSet(`"input":{"value":tru},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "input.value": not JSON: an invalid literal at byte 77`},
	{"leading zero", withSet(`"input":{"value":1},"call":01,"return":10,"status":"ok"`), `h.jsonl:2: field "call": not JSON: a number with a leading zero at byte 87`},
	{"lone minus", withSet(`"input":{"value":1},"call":-,"return":10,"status":"ok"`), `h.jsonl:2: field "call": not JSON: a bad number at byte 88`},
	{"op member in the header", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","key":"x"}`), `h.jsonl:1: field "key": not a member of a header line`},
	{"null line", file("null"), `h.jsonl:1: a JSON null is not a JSON object`},
	// The header.
	{"no header first", file(setLine), `h.jsonl:1: field "type": the first line must be the header, not "op"`},
	{"second header", file(hdrLine, setLine, hdrLine), `h.jsonl:3: field "type": a second header`},
	{"header without format", file(`{"type":"header","version":1,"model":"kv"}`), `h.jsonl:1: field "format": missing`},
	{"header of another format", file(`{"type":"header","format":"jepsen","version":1,"model":"kv"}`), `h.jsonl:1: field "format": "jepsen" is not "shmlab-history"`},
	{"header of a later version", file(`{"type":"header","format":"shmlab-history","version":2,"model":"kv"}`), `h.jsonl:1: field "version": version 2 is not supported (this shmlab reads version 1)`},
	{"header without model", file(`{"type":"header","format":"shmlab-history","version":1}`), `h.jsonl:1: field "model": missing`},
	{"store limit unknown", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","store":{"max_entries":2,"max_keys":3}}`), `h.jsonl:1: field "store.max_keys": unknown field`},
	{"call limit unknown", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","calls":{"timeout":5,"retry":3}}`), `h.jsonl:1: field "calls.retry": unknown field`},
	{"call timeout zero", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","calls":{"slack":3}}`), `h.jsonl:1: field "calls": call limits: the timeout must be positive and the slack not negative (timeout 0, slack 3)`},
	{"store limit negative", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","store":{"max_bytes":-1}}`), `h.jsonl:1: field "store.max_bytes": -1 is out of range`},
	{"store limit twice", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","store":{"sweep":2,"sweep":2}}`), `h.jsonl:1: field "store.sweep": duplicate field`},
	{"store not an object", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","store":3}`), `h.jsonl:1: field "store": a JSON number is not a JSON object`},
	{"header of an unknown model", file(`{"type":"header","format":"shmlab-history","version":1,"model":"queue"}`), `h.jsonl:1: field "model": unknown model "queue" (want "kv", "kv-evict" or "register")`},
	{"negative seed", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","seed":-1}`), `h.jsonl:1: field "seed": -1 is not an integer from 0 to 2^64-1`},
	{"negative faults", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","faults":-1}`), `h.jsonl:1: field "faults": -1 is out of range`},
	{"negative dedup window", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","dedup_window":-1}`), `h.jsonl:1: field "dedup_window": -1 is out of range`},
	{"faults not an integer", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","faults":"none"}`), `h.jsonl:1: field "faults": a JSON string cannot be an integer`},
	{"line without type", file(hdrLine, `{"id":1}`), `h.jsonl:2: field "type": missing`},
	{"line of an unknown type", file(hdrLine, `{"type":"comment"}`), `h.jsonl:2: field "type": unknown line type "comment" (want header, op or event)`},
	// Members.
	{"unknown member", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":0,"return":10,"status":"ok","colour":"red"`), `h.jsonl:2: field "colour": unknown field`},
	{"member in another case", withSet(`"input":{"value":1},"output":{"value":"OK"},"Call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "Call": unknown field`},
	{"duplicate member", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":0,"call":5,"return":10,"status":"ok"`), `h.jsonl:2: field "call": duplicate field`},
	{"duplicate output value", withSet(`"input":{"value":1},"output":{"value":"OK","value":"OK"},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "output.value": duplicate field`},
	{"unknown input member", withSet(`"input":{"value":1,"expiry":3},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "input.expiry": unknown field`},
	{"unknown error member", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{"error":{"cod":"x"}},"call":3,"return":8,"status":"fail"}`), `h.jsonl:2: field "output.error.cod": unknown field`},
	{"event member on an op", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":0,"return":10,"status":"ok","reset":true`), `h.jsonl:2: field "reset": not a member of an op line`},
	{"op member on an event", file(hdrLine, `{"type":"event","kind":"note","time":5,"id":3}`), `h.jsonl:2: field "id": not a member of an event line`},
	// Types.
	{"string for an integer", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":"0","return":10,"status":"ok"`), `h.jsonl:2: field "call": a JSON string cannot be an integer`},
	{"null for an integer", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":null,"return":10,"status":"ok"`), `h.jsonl:2: field "call": a JSON null cannot be an integer`},
	{"float for an integer", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":1e3,"return":10,"status":"ok"`), `h.jsonl:2: field "call": 1e3 is not an integer`},
	{"fraction for a delta", withSet(`"input":{"value":1,"delta":1.5},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "input.delta": 1.5 is not an integer`},
	{"time beyond int64", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":0,"return":99999999999999999999,"status":"ok"`), `h.jsonl:2: field "return": 99999999999999999999 is out of range`},
	{"number for a boolean", file(hdrLine, `{"type":"event","kind":"master_restart","time":5,"reset":1}`), `h.jsonl:2: field "reset": a JSON number cannot be a boolean`},
	{"broken value", withSet(`"input":{"value":[1,}},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "input.value": not JSON: an invalid character at byte 80`},
	{"broken meta", file(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","meta":{"a":}}`), `h.jsonl:1: field "meta": not JSON: an invalid character at byte 81`},
	{"control character in a string", withSet("\"input\":{\"value\":\"a\x00\"},\"output\":{\"value\":\"OK\"},\"call\":0,\"return\":10,\"status\":\"ok\""), `h.jsonl:2: field "input.value": a control character (0x00) inside a string`},
	{"invalid UTF-8 in a string", withSet("\"input\":{\"value\":\"a\xff\"},\"output\":{\"value\":\"OK\"},\"call\":0,\"return\":10,\"status\":\"ok\""), `h.jsonl:2: field "input.value": the string is not valid UTF-8`},
	// Operations.
	{"op without id", file(hdrLine, `{"type":"op","worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "id": missing`},
	{"op id 0", file(hdrLine, `{"type":"op","id":0,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "id": 0 is not a positive integer`},
	{"duplicate id", file(hdrLine, setLine, setLine), `h.jsonl:3: field "id": 1 is already the id of line 2`},
	{"op without worker", file(hdrLine, `{"type":"op","id":1,"method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "worker": missing`},
	{"negative stream", file(hdrLine, `{"type":"op","id":1,"worker":"w1","stream":-1,"method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "stream": negative`},
	{"unknown method", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"incr","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "method": unknown method "incr"`},
	{"get without key", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "key": missing (get acts on a key)`},
	{"op without call", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{},"return":8,"status":"ok"}`), `h.jsonl:2: field "call": missing`},
	{"op without status", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"return":8}`), `h.jsonl:2: field "status": missing`},
	{"unknown status", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"timeout"}`), `h.jsonl:2: field "status": unknown status "timeout" (want ok, fail or unknown)`},
	{"ok op without return", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"status":"ok"}`), `h.jsonl:2: field "return": missing (an operation with status "ok" has returned)`},
	{"return before call", withSet(`"input":{"value":1},"output":{"value":"OK"},"call":9,"return":5,"status":"ok"`), `h.jsonl:2: field "return": return time 5 before call time 9`},
	{"unknown op given up before its call", withSet(`"input":{"value":1},"output":{},"call":9,"return":5,"status":"unknown"`), `h.jsonl:2: field "return": return time 5 before call time 9`},
	{"set without value", withSet(`"input":{},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "input.value": missing (set stores a value)`},
	{"negative ttl", withSet(`"input":{"value":1,"ttl":-5},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`), `h.jsonl:2: field "input.ttl": negative`},
	{"add with a value", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"add","key":"n","input":{"value":1},"output":{"value":1},"call":0,"return":10,"status":"ok"}`), `h.jsonl:2: field "input.value": an add takes no value`},
	{"incr on a get", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{"incr":1},"output":{},"call":0,"return":10,"status":"ok"}`), `h.jsonl:2: field "input.incr": a get takes no incr`},
	{"append of a number", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"append","key":"x","input":{"value":1},"output":{},"call":0,"return":10,"status":"ok"}`), `h.jsonl:2: field "input.value": append appends a JSON string, not 1`},
	{"append of nothing", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"append","key":"x","input":{},"output":{},"call":0,"return":10,"status":"ok"}`), `h.jsonl:2: field "input.value": append appends a JSON string, not nothing`},
	{"append with a ttl", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"append","key":"x","input":{"value":"a","ttl":5},"output":{},"call":0,"return":10,"status":"ok"}`), `h.jsonl:2: field "input.ttl": an append takes no ttl`},
	{"failed op with a value", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{"value":1},"call":3,"return":8,"status":"fail"}`), `h.jsonl:2: field "output.value": an operation with status "fail" has no value`},
	{"ok op with an error", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{"error":{"code":"x"}},"call":3,"return":8,"status":"ok"}`), `h.jsonl:2: field "output.error": an operation with status "ok" has no error`},
	// Streams.
	{"stream not sequential", file(hdrLine, setLine, `{"type":"op","id":2,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), `h.jsonl:3: field "call": worker w1 stream 0 calls at 3, before its operation on line 2 returned at 10 (a stream is sequential)`},
	{"stream going on after unknown", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":1,"status":"unknown"}`, getLine), `h.jsonl:3: field "stream": worker w1 stream 0 goes on after the unknown operation on line 2 (a new stream must begin)`},
	// Events.
	{"event without kind", file(hdrLine, `{"type":"event","time":5}`), `h.jsonl:2: field "kind": missing`},
	{"event without time", file(hdrLine, `{"type":"event","kind":"note"}`), `h.jsonl:2: field "time": missing`},
	{"unknown event kind", file(hdrLine, `{"type":"event","kind":"earthquake","time":5}`), `h.jsonl:2: field "kind": unknown event kind "earthquake"`},
	{"event ending before it began", file(hdrLine, `{"type":"event","kind":"pause","time":5,"end":4}`), `h.jsonl:2: field "end": end time 4 before time 5`},
	{"unknown truth", file(hdrLine, `{"type":"event","kind":"fault","time":5,"truth":"maybe"}`), `h.jsonl:2: field "truth": unknown truth "maybe"`},
	{"reset on a kill", file(hdrLine, `{"type":"event","kind":"kill","time":5,"reset":false}`), `h.jsonl:2: field "reset": only a master_restart resets the state, not a kill`},
	{"event naming no op", file(hdrLine, setLine, `{"type":"event","kind":"fault","time":5,"op":3}`), `h.jsonl:3: field "op": no operation has id 3`},
}

// TestReadDamaged checks that each damaged input is rejected whole, with
// an error that names the file, the line and the field at fault.
func TestReadDamaged(t *testing.T) {
	for _, tc := range damaged {
		t.Run(tc.name, func(t *testing.T) {
			h, err := history.Read(strings.NewReader(tc.in), "h.jsonl")
			if err == nil {
				t.Fatalf("Read accepted a damaged history: %d ops, %d events", len(h.Ops), len(h.Events))
			}
			if h != nil {
				t.Errorf("Read returned a history with its error %v", err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error: mismatch (-want +got):\n%s", diff)
			}
			var pe *history.ParseError
			if !errors.As(err, &pe) || pe.Name != "h.jsonl" || pe.Line < 1 {
				t.Errorf("error %#v is not a *ParseError naming the file and a line", err)
			}
		})
	}
}

// TestReadAccepts checks inputs that look odd but are whole histories.
func TestReadAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		ops      int
	}{
		{"header only", file(hdrLine), 0},
		{"no newline at the end", hdrLine + "\n" + setLine, 1},
		{"CRLF line ends", hdrLine + "\r\n" + setLine + "\r\n", 1},
		{"white space around values", withSet(`"input":{"value": [1, 2] },"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`), 1},
		{"members in any order", file(hdrLine, `{"status":"ok","return":10,"call":0,"output":{"value":"OK"},"input":{"value":1},"key":"x","method":"set","worker":"w1","id":1,"type":"op"}`), 1},
		{"escaped member name", file(hdrLine, `{"typ\u0065":"op","id":1,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), 1},
		{"ok set without answer", withSet(`"input":{"value":1},"output":{},"call":0,"return":10,"status":"ok"`), 1},
		{"ok set answering null", withSet(`"input":{"value":1},"output":{"value":null},"call":0,"return":10,"status":"ok"`), 1},
		{"append answering anything", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"append","key":"x","input":{"value":"a\u00e9"},"output":{"value":[1]},"call":0,"return":10,"status":"ok"}`), 1},
		{"register model", file(`{"type":"header","format":"shmlab-history","version":1,"model":"register"}`, setLine), 1},
		{"len without key", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"len","input":{},"output":{"value":3},"call":3,"return":8,"status":"ok"}`), 1},
		{"a failed op with its error", file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"add","key":"n","input":{"delta":1},"output":{"error":{"code":"not_integer","message":"\"x\" is not an integer"}},"call":3,"return":8,"status":"fail"}`), 1},
		{"ids far apart", file(hdrLine, `{"type":"op","id":9223372036854775807,"worker":"w1","method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`, `{"type":"op","id":1,"worker":"w2","method":"get","key":"x","input":{},"output":{},"call":3,"return":8,"status":"ok"}`), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := history.Read(strings.NewReader(tc.in), "h.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Ops) != tc.ops {
				t.Errorf("read %d ops; want %d", len(h.Ops), tc.ops)
			}
		})
	}
}

// TestReadValues checks that values are kept as their compact JSON text,
// exactly: white space goes, big integers and escapes stay.
func TestReadValues(t *testing.T) {
	in := withSet(`"input":{"value": {"b" : [1, 2.50, 12345678901234567890123] , "a":"\u00e9 \n"}},"output":{"value":"OK"},"call":0,"return":10,"status":"ok"`)
	h, err := history.Read(strings.NewReader(in), "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":[1,2.50,12345678901234567890123],"a":"\u00e9 \n"}`
	if diff := cmp.Diff(want, string(h.Ops[0].Input.Value)); diff != "" {
		t.Errorf("value: mismatch (-want +got):\n%s", diff)
	}
}

// TestReadIOError checks that a reader failing part way is an error, not
// the history read so far.
func TestReadIOError(t *testing.T) {
	broken := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(file(hdrLine, setLine)), iotest.ErrReader(broken))
	h, err := history.Read(r, "h.jsonl")
	if !errors.Is(err, broken) || h != nil {
		t.Fatalf("Read of a failing reader = %v, %v; want nil, %v", h, err, broken)
	}
	if diff := cmp.Diff("h.jsonl: disk on fire", err.Error()); diff != "" {
		t.Errorf("error: mismatch (-want +got):\n%s", diff)
	}
	h, err = history.Read(iotest.TimeoutReader(strings.NewReader(file(hdrLine, setLine))), "h.jsonl")
	if !errors.Is(err, iotest.ErrTimeout) || h != nil {
		t.Errorf("Read of a reader that times out = %v, %v; want nil, %v", h, err, iotest.ErrTimeout)
	}
}

// TestReadFile checks that ReadFile names the file it was given.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.jsonl")
	if err := os.WriteFile(path, []byte(file(hdrLine, setLine, `{"type":"op","id":2}`)), 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := history.ReadFile(path)
	if diff := cmp.Diff(path+`:3: field "worker": missing`, errString(err)); diff != "" {
		t.Errorf("ReadFile of a damaged file: mismatch (-want +got):\n%s", diff)
	}
	missing := filepath.Join(dir, "none.jsonl")
	if _, err := history.ReadFile(missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadFile of a missing file = %v; want an error naming %s", err, missing)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestWriteLineBreaks checks that values holding line breaks between
// tokens, as json.MarshalIndent writes them, are written on one line and
// read back compact.
func TestWriteLineBreaks(t *testing.T) {
	indented := json.RawMessage("{\n  \"a\": [\r\n    1\n  ]\n}")
	h := &history.History{
		Header: history.Header{Model: history.ModelKV, Meta: indented},
		Ops: []history.Op{{ID: 1, Worker: "w1", Method: history.CAS, Key: "x", Input: history.Input{Value: indented, Old: indented},
			Output: history.Output{Value: json.RawMessage("true")}, Call: 1, Return: 2, Status: history.StatusOK}},
	}
	var b bytes.Buffer
	if err := h.Write(&b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 2 {
		t.Fatalf("wrote %d lines; want 2:\n%s", n, b.String())
	}
	got, err := history.Read(&b, "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":[1]}`
	for name, v := range map[string]json.RawMessage{"meta": got.Header.Meta, "input.value": got.Ops[0].Input.Value, "input.old": got.Ops[0].Input.Old} {
		if diff := cmp.Diff(want, string(v)); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", name, diff)
		}
	}
}

// TestWriteReadRoundTrip: any well-formed history, written and read
// back, is the same history.
func TestWriteReadRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := drawHistory(t)
		var b bytes.Buffer
		if err := h.Write(&b); err != nil {
			t.Fatal(err)
		}
		got, err := history.Read(bytes.NewReader(b.Bytes()), "h.jsonl")
		if err != nil {
			t.Fatalf("the history written does not read back: %v\n%s", err, b.String())
		}
		if diff := historytest.Diff(h, got); diff != "" {
			t.Fatalf("written and read back: mismatch (-want +got):\n%s\n%s", diff, b.String())
		}
		var b2 bytes.Buffer
		if err := got.Write(&b2); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(b.String(), b2.String()); diff != "" {
			t.Fatalf("written twice: mismatch (-want +got):\n%s", diff)
		}
	})
}

// drawHistory draws a well-formed history: a simulated run, its names,
// keys, values, times and ids redrawn from everything the format allows,
// with errors, len and keys operations and events of every kind.
func drawHistory(t *rapid.T) *history.History {
	cfg := historytest.DrawConfig(t)
	cfg.Ops = rapid.IntRange(0, 12).Draw(t, "ops")
	h := historytest.Simulate(historytest.RapidChooser{T: t}, cfg)
	h.Header = history.Header{Format: history.FormatName, Version: history.FormatVersion, Model: cfg.Model,
		Scenario: rapid.String().Draw(t, "scenario"), Seed: rapid.Uint64().Draw(t, "seed")}
	if rapid.Bool().Draw(t, "meta") {
		h.Header.Meta = drawValue(t, 2)
	}
	if rapid.Bool().Draw(t, "faults known") {
		n := rapid.IntRange(0, math.MaxInt32).Draw(t, "faults")
		h.Header.Faults = &n
	}
	h.Header.DedupWindow = rapid.IntRange(0, math.MaxInt32).Draw(t, "dedup_window")
	if rapid.Bool().Draw(t, "store") {
		n := rapid.Int64Range(0, 1<<40)
		h.Header.Store = &history.StoreLimits{MaxEntries: rapid.IntRange(0, 1<<20).Draw(t, "max_entries"), MaxBytes: n.Draw(t, "max_bytes"),
			EntryOverhead: n.Draw(t, "entry_overhead"), Sweep: rapid.IntRange(0, 4).Draw(t, "sweep"), ClockTolerance: n.Draw(t, "clock_tolerance"),
			ResendAfter: n.Draw(t, "resend_after")}
	}
	if rapid.Bool().Draw(t, "calls") {
		h.Header.Calls = &history.CallLimits{Timeout: rapid.Int64Range(1, 1<<40).Draw(t, "timeout"), Slack: rapid.Int64Range(0, 1<<40).Draw(t, "slack")}
	}
	names := map[string]string{}
	keys := map[string]string{}
	for _, w := range []string{"w1", "w2", "w3", "w4"} {
		names[w] = rapid.String().Draw(t, "worker") + w // distinct
	}
	for _, k := range cfg.Keys {
		keys[k] = rapid.String().Draw(t, "key")
	}
	offset := rapid.Int64Range(-1<<60, 1<<60).Draw(t, "time offset")
	idBase := rapid.Int64Range(0, 1<<60).Draw(t, "id base")
	for i := range h.Ops {
		op := &h.Ops[i]
		op.Worker, op.Key = names[op.Worker], keys[op.Key]
		op.ID += idBase
		op.Call += offset
		if op.Return != 0 {
			op.Return += offset
		}
		redrawValues(t, op)
	}
	for range rapid.IntRange(0, 2).Draw(t, "unkeyed") {
		h.Ops = append(h.Ops, drawUnkeyed(t, int64(len(h.Ops))+idBase+1))
	}
	for i := range h.Events {
		h.Events[i].Time += offset
	}
	for range rapid.IntRange(0, 3).Draw(t, "events") {
		h.Events = append(h.Events, drawEvent(t, h))
	}
	return h
}

// redrawValues gives op other values its method allows.
func redrawValues(t *rapid.T, op *history.Op) {
	switch op.Method {
	case history.Set, history.CAS:
		op.Input.Value = drawValue(t, 2)
		op.Input.TTL = rapid.Int64Range(0, 1<<40).Draw(t, "ttl")
		if op.Method == history.CAS && op.Input.Old != nil {
			op.Input.Old = drawValue(t, 1)
		}
		if op.Method == history.Set {
			op.Input.Incr = rapid.Int64().Draw(t, "incr")
		}
	case history.Add:
		op.Input.Delta = rapid.Int64().Draw(t, "delta")
		if op.Status == history.StatusOK {
			op.Output.Value = json.RawMessage(strconv.FormatInt(rapid.Int64().Draw(t, "sum"), 10))
		}
	case history.Get:
		if op.Status == history.StatusOK && op.Output.Value != nil {
			op.Output.Value = drawValue(t, 2)
		}
	}
	if op.Status == history.StatusFail {
		op.Output.Error = &history.ErrorInfo{Code: rapid.StringN(1, 12, -1).Draw(t, "code"), Message: rapid.String().Draw(t, "message")}
	}
}

// drawUnkeyed draws a len or keys operation of a worker of its own.
func drawUnkeyed(t *rapid.T, id int64) history.Op {
	op := history.Op{ID: id, Worker: "lister " + strconv.FormatInt(id, 10), Method: history.Len, Status: history.StatusOK}
	op.Call = rapid.Int64Range(-1<<40, 1<<40).Draw(t, "call")
	op.Return = op.Call + rapid.Int64Range(0, 1<<20).Draw(t, "latency")
	op.Output.Value = json.RawMessage(strconv.Itoa(rapid.IntRange(0, 100).Draw(t, "len")))
	if rapid.Bool().Draw(t, "keys") {
		op.Method = history.Keys
		keys, _ := json.Marshal(rapid.SliceOfN(rapid.String(), 0, 3).Draw(t, "keys"))
		op.Output.Value = keys
	}
	return op
}

// drawEvent draws an event of any kind, naming an operation of h or none.
func drawEvent(t *rapid.T, h *history.History) history.Event {
	e := history.Event{
		Kind:   rapid.SampledFrom([]history.EventKind{history.EventFault, history.EventKill, history.EventRestart, history.EventPause, history.EventResume, history.EventMasterKill, history.EventMasterRestart, history.EventNote}).Draw(t, "kind"),
		Time:   rapid.Int64().Draw(t, "time"),
		Worker: rapid.String().Draw(t, "worker"),
		Link:   rapid.String().Draw(t, "link"),
		Fault:  rapid.String().Draw(t, "fault"),
		Truth:  rapid.SampledFrom([]history.Truth{history.TruthNone, history.TruthNotApplied, history.TruthApplied, history.TruthDuplicated, history.TruthDelayed}).Draw(t, "truth"),
		Text:   rapid.String().Draw(t, "text"),
	}
	if e.Time < 1<<62 && rapid.Bool().Draw(t, "end") {
		e.End = e.Time + rapid.Int64Range(1, 1<<40).Draw(t, "duration")
	}
	if len(h.Ops) > 0 && rapid.Bool().Draw(t, "op") {
		e.Op = h.Ops[rapid.IntRange(0, len(h.Ops)-1).Draw(t, "op index")].ID
	}
	e.Reset = e.Kind == history.EventMasterRestart && rapid.Bool().Draw(t, "reset")
	return e
}

// drawValue draws a JSON value as compact text: every JSON type, strings
// of any characters, integers beyond 2^53 and beyond int64, nested
// arrays and objects.
func drawValue(t *rapid.T, depth int) json.RawMessage {
	b, err := json.Marshal(drawAny(t, depth))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func drawAny(t *rapid.T, depth int) any {
	kinds := 6
	if depth > 0 {
		kinds = 8
	}
	switch rapid.IntRange(0, kinds-1).Draw(t, "value kind") {
	case 0:
		return nil
	case 1:
		return rapid.Bool().Draw(t, "bool")
	case 2:
		return rapid.Int64().Draw(t, "int")
	case 3:
		return json.Number(rapid.SampledFrom([]string{"9007199254740993", "-0", "1.0", "2.5e-3", "123456789012345678901234567890"}).Draw(t, "number"))
	case 4, 5:
		return rapid.String().Draw(t, "string")
	case 6:
		var a []any
		for range rapid.IntRange(0, 3).Draw(t, "len") {
			a = append(a, drawAny(t, depth-1))
		}
		return a
	}
	m := map[string]any{}
	for range rapid.IntRange(0, 3).Draw(t, "len") {
		m[rapid.String().Draw(t, "member")] = drawAny(t, depth-1)
	}
	return m
}

func TestWriteRejectsInvalidUTF8(t *testing.T) {
	h := &history.History{Header: history.NewHeader(history.ModelKV, "", 0), Ops: []history.Op{{ID: 1, Worker: "w1", Method: history.Get, Key: "a\xffb", Call: 1, Return: 2, Status: history.StatusOK}}}
	var b strings.Builder
	err := h.Write(&b)
	want := "operation #1: its key or worker name is not valid UTF-8, which a JSON text cannot hold"
	if err == nil || err.Error() != want {
		t.Errorf("Write = %v, want %q", err, want)
	}
}

// TestReadInPieces reads files cut into many pieces read at once, as large
// files are: the history and the errors must be those of one piece.
func TestReadInPieces(t *testing.T) {
	files, err := filepath.Glob("../linearizability/testdata/golden/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	inPieces := func(data []byte) (*history.History, error) { return history.ParseInPieces(data, "h.jsonl") }
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := history.Parse(append([]byte(nil), data...), "h.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		cut, err := inPieces(data)
		if err != nil {
			t.Fatalf("%s in pieces: %v", f, err)
		}
		if diff := cmp.Diff(whole, cut); diff != "" {
			t.Errorf("%s read in pieces differs (-whole +pieces):\n%s", f, diff)
		}
	}
	for _, tt := range damaged {
		_, want := history.Parse([]byte(tt.in), "h.jsonl")
		_, got := inPieces([]byte(tt.in))
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%s: in pieces the error is %v, want %v", tt.name, got, want)
		}
	}
	dup := file(hdrLine, setLine, getLine, strings.Replace(getLine, `"call":20,"return":30`, `"call":40,"return":50`, 1))
	_, got := inPieces([]byte(dup))
	if want := `h.jsonl:4: field "id": 2 is already the id of line 3`; fmt.Sprint(got) != want {
		t.Errorf("duplicate id across pieces: %v, want %s", got, want)
	}
}

func TestReadSurrogatesAndBOM(t *testing.T) {
	lone := file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"\ud800","output":{},"call":3,"return":8,"status":"ok"}`)
	_, err := history.Read(strings.NewReader(lone), "h.jsonl")
	if want := `h.jsonl:2: field "key": a lone UTF-16 surrogate \ud800, which UTF-8 cannot hold (a key or name must be text)`; fmt.Sprint(err) != want {
		t.Errorf("lone surrogate in a key: %v, want %s", err, want)
	}
	inValue := file(hdrLine, `{"type":"op","id":1,"worker":"w1","method":"get","key":"k","output":{"value":"\ud800"},"call":3,"return":8,"status":"ok"}`)
	h, err := history.Read(strings.NewReader("\xef\xbb\xbf"+inValue), "h.jsonl")
	if err != nil {
		t.Fatalf("a BOM and a lone surrogate in a value: %v", err)
	}
	if got := string(h.Ops[0].Output.Value); got != `"\ud800"` {
		t.Errorf("value %s, want it kept as written", got)
	}
}
