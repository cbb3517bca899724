package shm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/shm"
)

// The 21-digit integer the master presets under "big": beyond int64 and
// 2^53, so JavaScript can only hold it rounded.
const (
	nodeBig        = "123456789012345678901"
	nodeBigRounded = "123456789012345680000" // what JSON.stringify(Number(nodeBig)) writes
	nodeBigNext    = "123456789012345678902"
	nodeTimeout    = 20 * time.Second
)

// TestNodeWorker runs testdata/node/worker.js, a real Node.js cluster worker
// that talks with nothing but process.send and process.on('message'),
// against the Go master, and checks what it saw, what the master saw and
// what the store holds afterwards.
func TestNodeWorker(t *testing.T) {
	run := runNodeWorker(t, "interop", func(m *shm.Master) {
		nodeApply(t, m, 1, shm.MethodSet, "big", nodeBig)
	})
	checkNodeReport(t, run.report, run.worker.ID, run.rawJSON, nodeWantResults(run.rawJSON))
	checkNodeInternal(t, run.rec.internalMessages(), "online")
	checkNodeStore(t, run.master, run.rawJSON)
	// Bad frames: null, a string, an array, a method-less message.
	if st := run.master.Stats(); st.Disconnected != 0 || st.BadFrames != 4 {
		t.Errorf("master stats: %d disconnected, %d bad frames; want 0 and 4", st.Disconnected, st.BadFrames)
	}
}

// TestNodeWorkerErrorUUIDs checks that an error reply carries the uuid of
// the request it answers when the request had a usable one, and claims no
// uuid when it had none: a reply with another uuid could complete another
// pending call of the worker.
func TestNodeWorkerErrorUUIDs(t *testing.T) {
	run := runNodeWorker(t, "error-uuids", func(m *shm.Master) {
		nodeApply(t, m, 1, shm.MethodSet, "a", `"x"`)
	})
	lone := `lone UTF-16 surrogate`
	want := []nodeObs{
		nodeRaw(`{"isSharedMemoryMessage":true,"method":"set","id":1,"uuid":1000,"key":"\ud800","value":1}`, "1000", shm.CodeBadRequest, lone),
		nodeRaw(`{"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":1001,"key":"a\udc00"}`, "1001", shm.CodeBadRequest, lone),
		nodeRaw(`{"isSharedMemoryMessage":true,"key":"\ud800","method":"set","uuid":1002,"value":1}`, "1002", shm.CodeBadRequest, lone),
		nodeRaw(`{"key":"a\udc00","isSharedMemoryMessage":true,"method":"get","uuid":1003}`, "1003", shm.CodeBadRequest, lone),
		// A uuid of any other JSON scalar is echoed as sent.
		{Op: `raw {"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":"7","key":"a"}`, UUID: `"7"`, Value: `"x"`},
		{Op: `raw {"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":-1,"key":"a"}`, UUID: `-1`, Value: `"x"`},
		{Op: `raw {"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":1.5,"key":"a"}`, UUID: `1.5`, Value: `"x"`},
		nodeRaw(`{"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":[7],"key":"a"}`, "", shm.CodeWrongType, "uuid must be"),
		nodeOK(`get key="a"`, `"x"`),
	}
	checkNodeReport(t, run.report, run.worker.ID, run.rawJSON, want)
}

// nodeRun is one finished run of worker.js.
type nodeRun struct {
	master  *shm.Master
	worker  *shm.Worker
	rec     *nodeRecorder
	report  nodeReport
	rawJSON bool // the worker had JSON.rawJSON
}

// runNodeWorker starts a master, lets preset fill its store, runs
// worker.js with the named script as its worker, and waits for it to exit,
// failing the test if that takes longer than nodeTimeout.
func runNodeWorker(t *testing.T, script string, preset func(m *shm.Master)) nodeRun {
	t.Helper()
	return runNodeScript(t, nodeScript{file: "worker.js", args: []string{script}, rawJSON: true}, preset)
}

// nodeScript is a worker script in testdata/node, its arguments, and
// whether it runs under the flags that give it JSON.rawJSON.
type nodeScript struct {
	file    string
	args    []string
	rawJSON bool
}

// runNodeScript is runNodeWorker for any script.
func runNodeScript(t *testing.T, script nodeScript, preset func(m *shm.Master)) nodeRun {
	t.Helper()
	node := nodetest.Node(t)
	path, err := filepath.Abs(filepath.Join("testdata", "node", script.file))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience.Bound(nodeTimeout))
	defer cancel()
	var flags []string
	rawJSON := false
	if script.rawJSON {
		if flags, rawJSON = nodeRawJSONFlags(ctx, node); !rawJSON {
			t.Logf("%s has no JSON.rawJSON: leaving out the checks that send integers beyond 2^53 from Node", node)
		}
	}
	rec := &nodeRecorder{}
	m := shm.NewMaster(shm.MasterOptions{OnMessage: rec.onMessage, Logf: rec.logf})
	t.Cleanup(func() {
		m.Close()
		if t.Failed() {
			t.Logf("%s", rec.dump())
		}
	})
	preset(m)
	args := append(append(flags, path), script.args...)
	w, err := m.Spawn(shm.WorkerSpec{
		Command: func() *exec.Cmd { return exec.Command(node, args...) },
		Stdout:  &rec.out, Stderr: &rec.out,
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Done():
	case <-ctx.Done():
		m.Close()
		t.Fatalf("node worker still running after %v; killed it", patience.Bound(nodeTimeout))
	}
	if err := w.Wait(); err != nil {
		t.Errorf("node worker: %v", err)
	}
	if err := w.ServeErr(); err != nil {
		t.Errorf("master stopped serving the node worker: %v", err)
	}
	return nodeRun{master: m, worker: w, rec: rec, report: rec.report(t), rawJSON: rawJSON}
}

// nodeRawJSONFlags returns the node flags under which JSON.rawJSON exists
// (Node 20 needs a V8 flag; newer releases may have it without), and
// whether any do.
func nodeRawJSONFlags(ctx context.Context, node string) ([]string, bool) {
	const probe = "process.exit(typeof JSON.rawJSON === 'function' ? 0 : 1)"
	for _, flags := range [][]string{nil, {"--harmony-json-parse-with-source"}} {
		if exec.CommandContext(ctx, node, append(flags, "-e", probe)...).Run() == nil {
			return flags, true
		}
	}
	return nil, false
}

// nodeApply runs one request on the master's own store and returns the
// reply. The master's own requests (Identity{}) share one dedup window, so
// each mutating one needs a uuid of its own: a second set with the same
// uuid and key is answered "OK" without being applied.
func nodeApply(t *testing.T, m *shm.Master, seq uint64, method shm.Method, key, value string) shm.Message {
	t.Helper()
	req := &shm.Message{Kind: shm.KindRequest, Method: method, Seq: seq, Key: []byte(key), Has: shm.HasKey | shm.HasSeq}
	if value != "" {
		req.Value, req.Has = shm.Value(value), req.Has|shm.HasValue
	}
	rep := m.Apply(req)
	if rep.Err != nil {
		t.Fatalf("%s %q: %v", method, key, rep.Err)
	}
	return rep
}

// nodeRecorder keeps what the master saw: the messages that are not
// requests, its log lines, and the worker's output.
type nodeRecorder struct {
	mu       sync.Mutex
	internal [][]byte
	other    [][]byte
	log      []string
	out      procBuffer
}

func (r *nodeRecorder) onMessage(from shm.Identity, m *shm.Message) {
	raw := bytes.Clone(m.Raw) // m.Raw points into a buffer the next Recv reuses
	r.mu.Lock()
	defer r.mu.Unlock()
	switch m.Kind {
	case shm.KindInternal:
		r.internal = append(r.internal, raw)
	case shm.KindOther:
		r.other = append(r.other, raw)
	}
}

func (r *nodeRecorder) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

func (r *nodeRecorder) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("master log:\n%s\nworker output:\n%s", strings.Join(r.log, "\n"), r.out.String())
}

func (r *nodeRecorder) internalMessages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.internal
}

// report returns the worker's final {"report": ...} message.
func (r *nodeRecorder) report(t *testing.T) nodeReport {
	t.Helper()
	r.mu.Lock()
	other := r.other
	r.mu.Unlock()
	if len(other) != 1 {
		t.Fatalf("master got %d non-shared-memory messages, want 1 report: %q", len(other), other)
	}
	var msg struct {
		Report *nodeReport `json:"report"`
	}
	d := json.NewDecoder(bytes.NewReader(other[0]))
	d.DisallowUnknownFields()
	if err := d.Decode(&msg); err != nil || msg.Report == nil {
		t.Fatalf("decoding the report %s: %v", other[0], err)
	}
	return *msg.Report
}

// nodeReport is what worker.js saw.
type nodeReport struct {
	WorkerID     int64             `json:"workerId"`
	IsWorker     bool              `json:"isWorker"` // cluster.isWorker
	RawJSON      bool              `json:"rawJSON"`
	Results      []nodeResult      `json:"results"`
	Unexpected   []json.RawMessage `json:"unexpected"`
	PendingAtEnd int               `json:"pendingAtEnd"`
	Failure      string            `json:"failure"`
}

type nodeResult struct {
	Op    string          `json:"op"`
	UUID  json.RawMessage `json:"uuid"` // absent when the reply had none
	Has   bool            `json:"has"`  // the reply has a "value" member
	Value json.RawMessage `json:"value"`
	Error *wireError      `json:"error"`
}

// wireError is a reply's "error" member as it appears on the wire.
type wireError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Definite bool   `json:"definite"`
}

// nodeObs is one reply as compared. Value is the JSON text of "value" as
// Node re-serialised it ("" when the member is absent); UUID likewise for
// "uuid", kept only for raw messages (a request's reply was matched by its
// uuid); Msg is a part the error message must contain.
type nodeObs struct {
	Op       string
	UUID     string
	Value    string
	Err      string
	Definite bool
	Msg      string
}

func nodeOK(op, value string) nodeObs { return nodeObs{Op: op, Value: value} }

func nodeFail(op, code, msg string) nodeObs {
	return nodeObs{Op: op, Err: code, Definite: true, Msg: msg}
}

// nodeRaw is the error reply to a raw message (JSON text as Node wrote it).
func nodeRaw(msg, uuid, code, part string) nodeObs {
	return nodeObs{Op: "raw " + msg, UUID: uuid, Err: code, Definite: true, Msg: part}
}

// observed turns the report's results into nodeObs, keeping Msg as the
// wanted part when the message contains it and the whole message otherwise.
func observed(results []nodeResult, want []nodeObs) []nodeObs {
	got := make([]nodeObs, len(results))
	for i, r := range results {
		o := nodeObs{Op: r.Op}
		if strings.HasPrefix(r.Op, "raw ") {
			o.UUID = string(r.UUID)
		}
		if r.Has {
			o.Value = string(r.Value)
		}
		if r.Error != nil {
			o.Err, o.Definite, o.Msg = r.Error.Code, r.Error.Definite, r.Error.Message
			if i < len(want) && want[i].Msg != "" && strings.Contains(o.Msg, want[i].Msg) {
				o.Msg = want[i].Msg
			}
		}
		got[i] = o
	}
	return got
}

// nodeOddKey is a key full of escapes, and nodeOddKeyJSON the way both
// JSON.stringify and the master write it (U+2028 unescaped, unlike
// encoding/json).
const (
	nodeOddKey     = "é😀\n\x00\u2028\"\\"
	nodeOddKeyJSON = `"é😀\n\u0000` + "\u2028" + `\"\\"`
)

// nodeWantKeys are the keys in the store when the worker is done.
func nodeWantKeys(rawJSON bool) []string {
	keys := []string{"", "0", "__proto__", "a", "big", "c", "empty", "false", "lone", "n", "null",
		"proto-value", "ttl-long", "zero", nodeOddKey}
	if rawJSON {
		keys = append(keys, "big-from-node")
	}
	sort.Strings(keys)
	return keys
}

// nodeKeysJSON is the keys reply as JSON text.
func nodeKeysJSON(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		b, _ := json.Marshal(k)
		if k == nodeOddKey {
			b = []byte(nodeOddKeyJSON)
		}
		parts[i] = string(b)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func nodeWantResults(rawJSON bool) []nodeObs {
	want := []nodeObs{
		{Op: `get key="nothing"`}, // no "value" member at all
		nodeOK(`set key="a" value="x"`, `"OK"`),
		nodeOK(`get key="a"`, `"x"`),
		nodeOK(`add key="n"`, `1`),
		nodeOK(`add key="n" delta=41`, `42`),
		nodeOK(`add key="n" delta=-2`, `40`),
		nodeFail(`add key="a"`, shm.CodeNotInteger, "not an integer"),
		nodeOK(`set key="zero" value=0`, `"OK"`),
		nodeOK(`get key="zero"`, `0`),
		nodeOK(`set key="empty" value=""`, `"OK"`),
		nodeOK(`get key="empty"`, `""`),
		nodeOK(`set key="false" value=false`, `"OK"`),
		nodeOK(`get key="false"`, `false`),
		nodeOK(`set key="null" value=null`, `"OK"`),
		nodeOK(`get key="null"`, `null`),
		nodeOK(`set key="__proto__" value={"polluted":true}`, `"OK"`),
		nodeOK(`get key="__proto__"`, `{"polluted":true}`),
		nodeOK(`set key="" value="empty key"`, `"OK"`),
		nodeOK(`get key=""`, `"empty key"`),
		nodeOK(`set key="0" value="zero key"`, `"OK"`),
		nodeOK(`get key="0"`, `"zero key"`),
		nodeOK(`set key="proto-value" value={"__proto__":{"x":1}}`, `"OK"`),
		nodeOK(`get key="proto-value"`, `{"__proto__":{"x":1}}`),
		nodeOK(`set key=`+nodeOddKeyJSON+` value="escapes"`, `"OK"`),
		nodeOK(`get key=`+nodeOddKeyJSON, `"escapes"`),
		nodeOK(`set key="lone" value="x\ud800y"`, `"OK"`),
		nodeOK(`get key="lone"`, `"x\ud800y"`),
		nodeOK(`set key="doomed" value=1`, `"OK"`),
		nodeOK(`delete key="doomed"`, `true`),
		nodeOK(`delete key="doomed"`, `false`),
		{Op: `get key="doomed"`},
		nodeOK(`cas key="c" value=1`, `true`),
		nodeOK(`cas key="c" value=2`, `false`),
		nodeOK(`cas key="c" old=9 value=3`, `false`),
		nodeOK(`cas key="c" old=1 value=3`, `true`),
		nodeOK(`cas key="null" old=null value="was null"`, `true`),
		nodeOK(`set key="ttl-long" value="stays" ttl=600000`, `"OK"`),
		nodeOK(`set key="ttl-short" value="goes" ttl=1`, `"OK"`),
		{Op: `get key="ttl-short"`},
		// The reply carries every digit; JavaScript's Number rounds it.
		nodeOK(`get key="big"`, nodeBigRounded),
		nodeOK(`cas key="big" old=`+nodeBigRounded+` value="clobbered"`, `false`),
	}
	if rawJSON {
		want = append(want,
			nodeOK(`cas key="big" old=`+nodeBig+` value=`+nodeBigNext, `true`),
			nodeOK(`set key="big-from-node" value=`+nodeBig, `"OK"`),
		)
	}
	keys := nodeWantKeys(rawJSON)
	return append(want,
		nodeFail(`frobnicate key="a"`, shm.CodeUnknownMethod, `unknown method "frobnicate"`),
		nodeFail(`set key=42 value=1`, shm.CodeWrongType, "key must be a string"),
		nodeFail(`set key="bad-ttl" value=1 ttl="soon"`, shm.CodeWrongType, "ttl must be an integer"),
		nodeFail(`add key="n" delta="1"`, shm.CodeWrongType, "delta must be an integer"),
		nodeOK(`set key="no-value"`, `"OK"`), // the article's remove
		nodeFail(`get id=null key="a"`, shm.CodeWrongType, "id must be an integer"),
		nodeRaw(`null`, "", shm.CodeBadRequest, "message is null"),
		nodeRaw(`"just a string"`, "", shm.CodeBadRequest, "not a JSON object"),
		nodeRaw(`[1,2]`, "", shm.CodeBadRequest, "not a JSON object"),
		nodeRaw(`{"isSharedMemoryMessage":true}`, "", shm.CodeBadRequest, "without a method"),
		nodeRaw(`{"isSharedMemoryMessage":true,"method":"get","key":"a"}`, "", shm.CodeBadRequest, "missing uuid"),
		nodeOK(`get key="n"`, `40`),
		nodeOK(`len`, fmt.Sprint(len(keys))),
		nodeOK(`keys`, nodeKeysJSON(keys)),
	)
}

func checkNodeReport(t *testing.T, rep nodeReport, id int64, rawJSON bool, want []nodeObs) {
	t.Helper()
	if rep.Failure != "" {
		t.Errorf("worker.js failed: %s", rep.Failure)
	}
	if rep.WorkerID != id || !rep.IsWorker || rep.RawJSON != rawJSON {
		t.Errorf("worker.js says it is cluster worker %d (isWorker %v) with rawJSON %v; want %d, true and %v",
			rep.WorkerID, rep.IsWorker, rep.RawJSON, id, rawJSON)
	}
	if rep.PendingAtEnd != 0 || len(rep.Unexpected) != 0 {
		t.Errorf("worker.js ended with %d callbacks pending and unexpected replies %s", rep.PendingAtEnd, rep.Unexpected)
	}
	if diff := cmp.Diff(want, observed(rep.Results, want)); diff != "" {
		t.Errorf("replies seen by node: mismatch (-want +got):\n%s", diff)
	}
}

// checkNodeInternal checks that Node's cluster messages with the given
// acts ("online" first) reached the master as internal messages.
func checkNodeInternal(t *testing.T, raws [][]byte, acts ...string) {
	t.Helper()
	var got, want []string
	for _, raw := range raws {
		var m struct{ Cmd, Act string }
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Errorf("internal message %s: %v", raw, err)
		}
		got = append(got, m.Cmd+" "+m.Act)
	}
	for _, act := range acts {
		want = append(want, "NODE_CLUSTER "+act)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("internal messages %q: mismatch (-want +got):\n%s", raws, diff)
	}
}

// checkNodeStore reads the store back on the Go side, as raw JSON text.
func checkNodeStore(t *testing.T, m *shm.Master, rawJSON bool) {
	t.Helper()
	want := map[string]string{
		"": `"empty key"`, "0": `"zero key"`, "__proto__": `{"polluted":true}`, "a": `"x"`,
		"big": nodeBig, "c": `3`, "empty": `""`, "false": `false`, "n": `40`, "null": `"was null"`,
		"proto-value": `{"__proto__":{"x":1}}`, "ttl-long": `"stays"`, "zero": `0`,
		"lone": `"x\ud800y"`, nodeOddKey: `"escapes"`,
	}
	if rawJSON {
		want["big"], want["big-from-node"] = nodeBigNext, nodeBig
	}
	probe := append(nodeWantKeys(true), "nothing", "doomed", "ttl-short", "bad-ttl", "no-value")
	got := map[string]string{}
	for _, k := range probe {
		if rep := nodeApply(t, m, 0, shm.MethodGet, k, ""); rep.Has&shm.HasValue != 0 {
			got[k] = string(rep.Value)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("store after the node worker: mismatch (-want +got):\n%s", diff)
	}
	keys := m.Apply(&shm.Message{Kind: shm.KindRequest, Method: shm.MethodKeys, Has: shm.HasSeq})
	if diff := cmp.Diff(nodeKeysJSON(nodeWantKeys(rawJSON)), string(keys.Value)); diff != "" {
		t.Errorf("keys: mismatch (-want +got):\n%s", diff)
	}
}
