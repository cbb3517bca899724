package shm_test

// Process tests: real worker processes, re-executed from the test binary by
// shm.Main (see TestMain), talking to a master in this process over the
// socketpair at their fd 3. Worker bodies are registered in init below and
// report back through their stdout, stderr and exit status.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/shm"
)

func init() {
	shm.Handle("test-proc-steady", procSteadyWorker)
	shm.Handle("test-proc-concurrent", procConcurrentWorker)
	shm.Handle("test-proc-flood", procFloodWorker)
	shm.Handle("test-proc-identity", procIdentityWorker)
	shm.Handle("test-proc-middle", procMiddleWorker)
	shm.HandleRaw("test-proc-sleeper", procSleeperWorker)
	shm.HandleRaw("test-proc-slow", procSlowWorker)
	shm.HandleRaw("test-proc-badinput", procBadInputWorker)
	shm.HandleRaw("test-proc-oversize", procOversizeWorker)
	shm.HandleRaw("test-proc-torn", procTornWorker)
	shm.HandleRaw("test-proc-deaf", procDeafWorker)
	shm.HandleRaw("test-proc-hangup", procHangupWorker)
	shm.Handle("test-proc-env", procEnvWorker)
}

// ---------------------------------------------------------------------------
// Helpers (master side).

// procBuffer is a worker's stdout or stderr, safe to read while it runs.
type procBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (p *procBuffer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.Write(b)
}

func (p *procBuffer) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}

// Lines returns the complete lines written so far.
func (p *procBuffer) Lines() []string {
	s := p.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

// procSeq numbers the master's own mutating requests (Apply dedups them by uuid).
var procSeq atomic.Uint64

// procApply applies one request from the master's own process.
func procApply(m *shm.Master, method shm.Method, key string, value shm.Value) shm.Message {
	req := shm.Request(method, procSeq.Add(1), key)
	if value != nil {
		req.Value, req.Has = value, req.Has|shm.HasValue
	}
	return m.Apply(&req)
}

// procGet returns the value under key in the master's store.
func procGet(t *testing.T, m *shm.Master, key string) (string, bool) {
	t.Helper()
	rep := procApply(m, shm.MethodGet, key, nil)
	if rep.Err != nil {
		t.Fatalf("master get %q: %v", key, rep.Err)
	}
	return string(rep.Value), rep.Has&shm.HasValue != 0
}

func procSet(t *testing.T, m *shm.Master, key string, v shm.Value) {
	t.Helper()
	if rep := procApply(m, shm.MethodSet, key, v); rep.Err != nil {
		t.Fatalf("master set %q: %v", key, rep.Err)
	}
}

// procInt returns the integer under key (0 if absent).
func procInt(t *testing.T, m *shm.Master, key string) int64 {
	t.Helper()
	v, ok := procGet(t, m, key)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("master get %q = %s, want an integer", key, v)
	}
	return n
}

// procKeys returns the keys in the master's store.
func procKeys(t *testing.T, m *shm.Master) []string {
	t.Helper()
	rep := procApply(m, shm.MethodKeys, "", nil)
	if rep.Err != nil {
		t.Fatalf("master keys: %v", rep.Err)
	}
	var keys []string
	if err := rep.Value.Unmarshal(&keys); err != nil {
		t.Fatalf("master keys: %v", err)
	}
	return keys
}

// procEventually polls cond every 10ms until it holds, failing after d.
func procEventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procSpawn starts a worker with its stdout and stderr captured.
func procSpawn(t *testing.T, m *shm.Master, spec shm.WorkerSpec) (*shm.Worker, *procBuffer, *procBuffer) {
	t.Helper()
	stdout, stderr := &procBuffer{}, &procBuffer{}
	spec.Stdout, spec.Stderr = stdout, stderr
	w, err := m.Spawn(spec)
	if err != nil {
		t.Fatalf("spawn %s: %v", spec.Name, err)
	}
	return w, stdout, stderr
}

// procWait waits at most d for w to exit and returns its exit status.
func procWait(t *testing.T, w *shm.Worker, d time.Duration) error {
	t.Helper()
	select {
	case <-w.Done():
		return w.Wait()
	case <-time.After(patience.Bound(d)):
		w.Kill()
		t.Fatalf("worker %d (%s, pid %d) did not exit within %v", w.ID, w.Spec.Name, w.Pid(), patience.Bound(d))
		return nil
	}
}

// procWaitOK waits for w to exit with status 0.
func procWaitOK(t *testing.T, w *shm.Worker, stderr *procBuffer) {
	t.Helper()
	if err := procWait(t, w, 20*time.Second); err != nil {
		t.Errorf("worker %d (%s) exited: %v\nstderr:\n%s", w.ID, w.Spec.Name, err, stderr)
	}
}

// procKilled reports whether err is the exit status of a SIGKILLed process.
func procKilled(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// procFirstLine waits for the first complete line of out.
func procFirstLine(t *testing.T, out *procBuffer, what string) string {
	t.Helper()
	var line string
	procEventually(t, 15*time.Second, what, func() bool {
		if ls := out.Lines(); len(ls) > 0 {
			line = ls[0]
			return true
		}
		return false
	})
	return line
}

// procSteady is a worker that keeps adding to its own counter until a stop
// key is set, checking each result: the normal traffic that must go on
// while other workers misbehave.
type procSteady struct {
	w              *shm.Worker
	stdout, stderr *procBuffer
	key, stop      string
}

func procStartSteady(t *testing.T, m *shm.Master, key string) *procSteady {
	t.Helper()
	s := &procSteady{key: key, stop: key + "-stop"}
	s.w, s.stdout, s.stderr = procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-steady", Args: []string{s.key, s.stop}})
	return s
}

// progress waits until the worker has done n more operations than now.
func (s *procSteady) progress(t *testing.T, m *shm.Master, n int64) {
	t.Helper()
	from := procInt(t, m, s.key)
	procEventually(t, 10*time.Second, fmt.Sprintf("steady worker %d to make progress past %d", s.w.ID, from), func() bool {
		select {
		case <-s.w.Done():
			t.Fatalf("steady worker %d exited early: %v\nstderr:\n%s", s.w.ID, s.w.Wait(), s.stderr)
		default:
		}
		return procInt(t, m, s.key) >= from+n
	})
}

// finish stops the worker and checks that it exited 0 and that the store
// holds exactly the count it reports.
func (s *procSteady) finish(t *testing.T, m *shm.Master) {
	t.Helper()
	procSet(t, m, s.stop, shm.True)
	procWaitOK(t, s.w, s.stderr)
	n, err := strconv.ParseInt(strings.TrimSpace(s.stdout.String()), 10, 64)
	if err != nil {
		t.Fatalf("steady worker %d output %q: %v", s.w.ID, s.stdout, err)
	}
	if got := procInt(t, m, s.key); got != n || n == 0 {
		t.Errorf("steady worker %d: store holds %d for %q, worker did %d adds", s.w.ID, got, s.key, n)
	}
}

// ---------------------------------------------------------------------------
// Worker bodies.

func procSteadyWorker(ctx context.Context, c *shm.Client, args []string) error {
	key, stop := args[0], args[1]
	deadline := time.Now().Add(25 * time.Second)
	var n int64
	for time.Now().Before(deadline) {
		got, err := c.Add(ctx, key, 1)
		if err != nil {
			return fmt.Errorf("add #%d: %w", n+1, err)
		}
		n++
		if got != n {
			return fmt.Errorf("add #%d returned %d", n, got)
		}
		_, found, err := c.Get(ctx, stop)
		if err != nil {
			return fmt.Errorf("get %q: %w", stop, err)
		}
		if found {
			fmt.Println(n)
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("stop key %q not set within 25s", stop)
}

const procGoroutines = 8

func procOwnKey(worker int64, g int) string { return fmt.Sprintf("proc-w%d-g%d", worker, g) }

func procOwnValue(worker int64, g, i int) string {
	return fmt.Sprintf(`{"w":%d,"g":%d,"i":%d}`, worker, g, i)
}

func procConcurrentWorker(ctx context.Context, c *shm.Client, args []string) error {
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	errs := make([]error, procGoroutines)
	var wg sync.WaitGroup
	for g := range procGoroutines {
		wg.Go(func() { errs[g] = procConcurrentLoop(ctx, c, g, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func procConcurrentLoop(ctx context.Context, c *shm.Client, g, n int) error {
	id := shm.WorkerIdentity().Worker
	key := procOwnKey(id, g)
	var last int64
	for i := range n {
		a, err := c.Add(ctx, "proc-shared-a", 1)
		if err != nil {
			return fmt.Errorf("goroutine %d: add a: %w", g, err)
		}
		if a <= last {
			return fmt.Errorf("goroutine %d: add a returned %d after %d", g, a, last)
		}
		last = a
		if _, err := c.Add(ctx, "proc-shared-b", int64(g+1)); err != nil {
			return fmt.Errorf("goroutine %d: add b: %w", g, err)
		}
		want := procOwnValue(id, g, i)
		if err := c.Set(ctx, key, shm.Value(want)); err != nil {
			return fmt.Errorf("goroutine %d: set: %w", g, err)
		}
		got, found, err := c.Get(ctx, key)
		if err != nil || !found || string(got) != want {
			return fmt.Errorf("goroutine %d: get %q = %s, %v, %v; want %s", g, key, got, found, err, want)
		}
	}
	return nil
}

// procFloodWorker pipelines requests from many goroutines until it is killed.
func procFloodWorker(ctx context.Context, c *shm.Client, args []string) error {
	var ready sync.Once
	deadline := time.Now().Add(20 * time.Second)
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				if _, err := c.Add(ctx, "proc-flood", 1); err != nil {
					errs[g] = err
					return
				}
				if err := c.Set(ctx, fmt.Sprintf("proc-flood-%d", g), shm.Int(int64(i))); err != nil {
					errs[g] = err
					return
				}
				ready.Do(func() { fmt.Println("ready") })
			}
		})
	}
	wg.Wait()
	return errors.Join(append(errs, errors.New("flood worker was not killed within 20s"))...)
}

// procReport is what the identity worker prints: the identity it got from
// the environment and the (worker, inc, seq) of each request it sent.
type procReport struct {
	Env      shm.Identity
	Requests [][3]uint64
	Sums     []int64 // what each add returned
}

// procIdentityKey is shared by every incarnation of a worker id.
func procIdentityKey(id int64) string { return fmt.Sprintf("proc-ident-%d", id) }

func procIdentityWorker(ctx context.Context, c *shm.Client, args []string) error {
	env := shm.WorkerIdentity()
	rep := procReport{Env: env}
	for range 5 {
		req := shm.Request(shm.MethodAdd, 0, procIdentityKey(env.Worker))
		reply, err := c.Do(ctx, &req)
		if err != nil {
			return err
		}
		n, err := reply.Value.Int()
		if err != nil {
			return err
		}
		rep.Requests = append(rep.Requests, [3]uint64{uint64(req.Worker), req.Inc, req.Seq})
		rep.Sums = append(rep.Sums, n)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n", b)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, found, err := c.Get(ctx, args[0]); err != nil || found {
			return err
		}
	}
	return errors.New("stop key not set within 20s")
}

// procMiddleWorker is itself a master: it spawns a grandchild, prints its
// pid, and waits to be killed.
func procMiddleWorker(ctx context.Context, c *shm.Client, args []string) error {
	m := shm.NewMaster(shm.MasterOptions{})
	w, err := m.Spawn(shm.WorkerSpec{Name: "test-proc-sleeper", Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		return err
	}
	fmt.Println(w.Pid())
	time.Sleep(20 * time.Second)
	m.Close()
	return errors.New("middle master was not killed within 20s")
}

// procSleeperWorker ignores its channel (so losing the master does not end
// it) and sleeps: only a signal ends it early.
func procSleeperWorker(ctx context.Context, c net.Conn, args []string) error {
	time.Sleep(15 * time.Second)
	return errors.New("sleeper outlived its master")
}

// procSlowWorker sends get requests for a large value and never reads the
// replies. It exits 0 once a write fails because the master cut it off.
func procSlowWorker(ctx context.Context, c net.Conn, args []string) error {
	deadline := time.Now().Add(20 * time.Second)
	c.SetWriteDeadline(deadline)
	var buf []byte
	seq := 0
	for {
		buf = buf[:0]
		for range 64 {
			seq++
			buf = fmt.Appendf(buf, `{"isSharedMemoryMessage":true,"method":"get","uuid":%d,"key":%q}`+"\n", seq, args[0])
		}
		if _, err := c.Write(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("still connected after %d requests and 20s", seq)
			}
			fmt.Println(seq)
			return nil
		}
	}
}

// procBadCase is one line of bad (or odd but valid) input and what the
// master must answer to it.
type procBadCase struct {
	name string
	line string
	want procOutcome
}

// procBadAlso gives another acceptable outcome for some cases, by name.
var procBadAlso = map[string]procOutcome{
	"request with an error member":       procVal(1, ""),
	"request with an empty error member": procVal(2, ""),
	"set with an error member":           procVal(3, `"OK"`),
}

// procBadSets are the case lists the bad-input worker can run.
var procBadSets = map[string]func() []procBadCase{
	"all":       procBadCases,
	"uuid":      procBadUUIDCases,
	"errmember": procErrMemberCases,
}

// procOutcome is what came back for one line, normalised for comparison.
type procOutcome struct {
	Replies  int
	Flag     bool   // isSharedMemoryMessage: true
	UUID     string // the uuid's JSON text; "" when there is none
	Error    bool   // the reply has an error member
	Code     string // error code; "" for a value reply
	Message  bool   // the error has a message
	Definite bool
	Value    string // the reply's value as raw JSON; "" if none
}

func procErr(uuid int64, code string) procOutcome {
	return procErrU(procUUID(uuid), code)
}

func procVal(uuid int64, value string) procOutcome {
	return procValU(procUUID(uuid), value)
}

// procErrU and procValU take the uuid as its JSON text.
func procErrU(uuid, code string) procOutcome {
	return procOutcome{Replies: 1, Flag: true, UUID: uuid, Error: true, Code: code, Message: true, Definite: true}
}

func procValU(uuid, value string) procOutcome {
	return procOutcome{Replies: 1, Flag: true, UUID: uuid, Value: value}
}

// procUUID is an integer uuid as JSON text, -1 meaning none.
func procUUID(uuid int64) string {
	if uuid < 0 {
		return ""
	}
	return strconv.FormatInt(uuid, 10)
}

// procBadCases: the uuid comes first where there is one, so that the
// master has parsed it before it finds the problem.
func procBadCases() []procBadCase {
	const sm = `{"isSharedMemoryMessage":true,`
	bad, wrong := shm.CodeBadRequest, shm.CodeWrongType
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	return []procBadCase{
		{"invalid JSON after uuid", sm + `"uuid":1,"method":"get","key":`, procErr(1, bad)},
		{"not JSON", `hello world`, procErr(-1, bad)},
		{"empty line", ``, procErr(-1, bad)},
		{"null", `null`, procErr(-1, bad)},
		{"array", `[]`, procErr(-1, bad)},
		{"number", `42`, procErr(-1, bad)},
		{"string", `"str"`, procErr(-1, bad)},
		{"empty object (not a shared-memory message: ignored)", `{}`, procOutcome{}},
		{"flag false (not a shared-memory message: ignored)", `{"isSharedMemoryMessage":false,"method":"get","uuid":2,"key":"k"}`, procOutcome{}},
		{"unknown method", sm + `"uuid":3,"method":"frob","key":"k"}`, procErr(3, shm.CodeUnknownMethod)},
		{"method not a string", sm + `"uuid":4,"method":7,"key":"k"}`, procErr(4, wrong)},
		{"key a number", sm + `"uuid":5,"method":"get","key":5}`, procErr(5, wrong)},
		{"set without value (the article's remove)", sm + `"uuid":6,"method":"set","key":"proc-bad-novalue"}`, procVal(6, `"OK"`)},
		{"ttl a string", sm + `"uuid":7,"method":"set","key":"proc-bad-ttl","value":1,"ttl":"1"}`, procErr(7, wrong)},
		{"ttl zero", sm + `"uuid":8,"method":"set","key":"proc-bad-ttl0","value":1,"ttl":0}`, procErr(8, bad)},
		{"delta a fraction", sm + `"uuid":9,"method":"add","key":"proc-bad-delta","delta":1.5}`, procErr(9, wrong)},
		{"missing uuid", sm + `"method":"set","key":"proc-bad-nouuid","value":1}`, procErr(-1, bad)},
		{"missing key", sm + `"uuid":10,"method":"get"}`, procErr(10, bad)},
		{"invalid UTF-8 in key", sm + "\"uuid\":11,\"method\":\"set\",\"key\":\"a\xff\xfeb\",\"value\":1}", procErr(11, bad)},
		{"invalid UTF-8 outside strings", sm + "\"uuid\":12,\xff}", procErr(12, bad)},
		{"control character in key", sm + "\"uuid\":13,\"method\":\"set\",\"key\":\"a\x01b\",\"value\":1}", procErr(13, bad)},
		{"control character in value", sm + "\"uuid\":14,\"method\":\"set\",\"key\":\"proc-bad-ctl\",\"value\":\"a\x1fb\"}", procErr(14, bad)},
		{"lone surrogate key", sm + `"uuid":15,"method":"set","key":"\ud800","value":1}`, procErr(15, bad)},
		{"lone low surrogate key", sm + `"uuid":16,"method":"set","key":"x\udc00","value":1}`, procErr(16, bad)},
		{"no method", `{"isSharedMemoryMessage":true}`, procErr(-1, bad)},
		{"no method, with uuid", sm + `"uuid":17}`, procErr(17, bad)},
		{"duplicate uuid", sm + `"uuid":18,"method":"set","key":"proc-bad-dup","value":1,"uuid":19}`, procErr(18, bad)},
		{"NaN value", sm + `"uuid":20,"method":"set","key":"proc-bad-nan","value":NaN}`, procErr(20, bad)},
		{"trailing data", sm + `"uuid":21,"method":"set","key":"proc-bad-trail","value":1} {}`, procErr(21, bad)},
		{"deep nesting", sm + `"uuid":22,"method":"set","key":"proc-bad-deep","value":` + deep + `}`, procErr(22, bad)},
		// Canonical frames (the decoder's fast path) that are still bad.
		{"canonical get without key", sm + `"method":"get","uuid":23}`, procErr(23, bad)},
		{"canonical set without value", sm + `"method":"set","uuid":24,"key":"proc-bad-fast"}`, procVal(24, `"OK"`)},
		{"canonical set with negative ttl", sm + `"method":"set","uuid":25,"key":"proc-bad-fast","ttl":-1,"value":1}`, procErr(25, bad)},
		{"canonical unknown method", sm + `"method":"frob","uuid":26,"key":"k"}`, procErr(26, shm.CodeUnknownMethod)},
		{"canonical add overflow", sm + `"method":"add","uuid":27,"key":"proc-bad-big","delta":9223372036854775807}`, procVal(27, `9223372036854775807`)},
		{"canonical add past int64", sm + `"method":"add","uuid":28,"key":"proc-bad-big","delta":1}`, procErr(28, shm.CodeOverflow)},
		// Odd keys are ordinary keys.
		{"set __proto__", sm + `"uuid":30,"method":"set","key":"__proto__","value":{"polluted":true}}`, procVal(30, `"OK"`)},
		{"get __proto__", sm + `"uuid":31,"method":"get","key":"__proto__"}`, procVal(31, `{"polluted":true}`)},
		{"get polluted", sm + `"uuid":32,"method":"get","key":"polluted"}`, procVal(32, "")},
		{"get constructor", sm + `"uuid":33,"method":"get","key":"constructor"}`, procVal(33, "")},
		{"get hasOwnProperty", sm + `"uuid":34,"method":"get","key":"hasOwnProperty"}`, procVal(34, "")},
		{"add to __proto__", sm + `"uuid":35,"method":"add","key":"__proto__"}`, procErr(35, shm.CodeNotInteger)},
		{"set empty key", sm + `"uuid":36,"method":"set","key":"","value":0}`, procVal(36, `"OK"`)},
		{"get empty key", sm + `"uuid":37,"method":"get","key":""}`, procVal(37, `0`)},
		{"set key 0", sm + `"uuid":38,"method":"set","key":"0","value":""}`, procVal(38, `"OK"`)},
		{"get key 0", sm + `"uuid":39,"method":"get","key":"0"}`, procVal(39, `""`)},
		{"get __proto__ again", sm + `"uuid":40,"method":"get","key":"__proto__"}`, procVal(40, `{"polluted":true}`)},
	}
}

// procBadUUIDCases have a uuid that is not an integer from 0 to 2^64-1.
// A JSON scalar is echoed exactly as it came, in replies and in errors
// (the article's library sends strings); an object, an array or an
// overlong one is refused, and the error reply names no uuid the worker
// never sent (such as 0, which a client that numbers its requests from 0
// would take as the answer to another request).
func procBadUUIDCases() []procBadCase {
	const sm = `{"isSharedMemoryMessage":true,`
	wrong, bad := shm.CodeWrongType, shm.CodeBadRequest
	long := `"` + strings.Repeat("u", shm.MaxUUIDBytes-2) + `"`
	return []procBadCase{
		{"uuid a string", sm + `"uuid":"1796645489267-1","method":"get","key":"k"}`, procValU(`"1796645489267-1"`, "")},
		{"uuid a string with escapes", sm + `"uuid":"a\u0041\n\ud800","method":"get","key":"k"}`, procValU(`"a\u0041\n\ud800"`, "")},
		{"uuid negative", sm + `"uuid":-1,"method":"get","key":"k"}`, procValU("-1", "")},
		{"uuid a fraction", sm + `"uuid":1.5,"method":"get","key":"k"}`, procValU("1.5", "")},
		{"uuid an exponent", sm + `"uuid":1E2,"method":"get","key":"k"}`, procValU("1E2", "")},
		{"uuid beyond 2^64", sm + `"uuid":18446744073709551616,"method":"get","key":"k"}`, procValU("18446744073709551616", "")},
		{"uuid null", sm + `"uuid":null,"method":"set","key":"proc-uuid-null","value":1}`, procValU("null", `"OK"`)},
		{"uuid false, unknown method", sm + `"uuid":false,"method":"frob","key":"k"}`, procErrU("false", shm.CodeUnknownMethod)},
		{"uuid a string, spaced", sm + `"uuid" : "s" ,"method":"get","key":"k"}`, procValU(`"s"`, "")},
		{"uuid of the longest length", sm + `"uuid":` + long + `,"method":"get","key":"k"}`, procValU(long, "")},
		{"uuid one byte too long", sm + `"uuid":` + long[:1] + "v" + long[1:] + `,"method":"set","key":"proc-uuid-long","value":1}`, procErr(-1, bad)},
		{"uuid an object", sm + `"uuid":{"n":1},"method":"set","key":"proc-uuid-object","value":1}`, procErr(-1, wrong)},
		{"uuid an array", sm + `"uuid":[1],"method":"set","key":"proc-uuid-array","value":1}`, procErr(-1, wrong)},
	}
}

// procErrMemberCases are requests that carry an "error" member, which
// means nothing in a request: the master must either ignore it or reject
// the request in its own words (a definite error with its own code), never
// answer with the error the worker wrote.
func procErrMemberCases() []procBadCase {
	const sm = `{"isSharedMemoryMessage":true,`
	return []procBadCase{
		{"request with an error member", sm + `"uuid":1,"method":"get","key":"proc-none","error":{"code":"x","message":"y","definite":false}}`,
			procErr(1, shm.CodeBadRequest)},
		{"request with an empty error member", sm + `"uuid":2,"method":"get","key":"proc-none","error":{}}`,
			procErr(2, shm.CodeBadRequest)},
		{"set with an error member", sm + `"uuid":3,"method":"set","key":"proc-errmember","value":1,"error":{"code":"timeout","definite":false}}`,
			procErr(3, shm.CodeBadRequest)},
	}
}

// procBadKeys are the keys the bad-input cases leave in the store.
var procBadKeys = []string{"", "0", "__proto__", "proc-bad-big"}

// procWireReply is a reply as it appears on the wire.
type procWireReply struct {
	Flag  *bool           `json:"isSharedMemoryMessage"`
	UUID  json.RawMessage `json:"uuid"`
	Value json.RawMessage `json:"value"`
	Error *wireError      `json:"error"`
}

func procOutcomeOf(replies [][]byte) procOutcome {
	out := procOutcome{Replies: len(replies)}
	if len(replies) == 0 {
		return out
	}
	var r procWireReply
	if err := json.Unmarshal(replies[0], &r); err != nil {
		out.Code = "<reply is not JSON: " + err.Error() + ">"
		return out
	}
	out.Flag = r.Flag != nil && *r.Flag
	out.UUID = string(r.UUID)
	if r.Error != nil {
		out.Error, out.Code, out.Message, out.Definite = true, r.Error.Code, r.Error.Message != "", r.Error.Definite
	}
	out.Value = string(r.Value)
	return out
}

const procSentinel = 1_000_000

// procBadInputWorker sends each case followed by a valid sentinel request,
// collects the replies that come before the sentinel's, and checks them.
func procBadInputWorker(ctx context.Context, c net.Conn, args []string) error {
	c.SetDeadline(time.Now().Add(patience.Bound(15 * time.Second)))
	rd := bufio.NewReader(c)
	cases := procBadSets[args[0]]()
	var errs []error
	for i, tc := range cases {
		sentinel := procSentinel + i
		line := fmt.Sprintf("%s\n{\"isSharedMemoryMessage\":true,\"method\":\"len\",\"uuid\":%d}\n", tc.line, sentinel)
		if _, err := io.WriteString(c, line); err != nil {
			return fmt.Errorf("case %q: write: %w", tc.name, err)
		}
		replies, err := procRepliesBefore(rd, sentinel)
		if err != nil {
			return fmt.Errorf("case %q: %w", tc.name, errors.Join(append(errs, err)...))
		}
		got := procOutcomeOf(replies)
		if also, ok := procBadAlso[tc.name]; ok && cmp.Equal(also, got) {
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			errs = append(errs, fmt.Errorf("case %q: line %q: replies %q: mismatch (-want +got):\n%s", tc.name, tc.line, replies, diff))
		}
	}
	return errors.Join(errs...)
}

// procRepliesBefore reads replies until the one for uuid sentinel, which
// must be a value reply, and returns those before it.
func procRepliesBefore(rd *bufio.Reader, sentinel int) ([][]byte, error) {
	var before [][]byte
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("reading replies (so far %q): %w", before, err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		var r procWireReply
		if json.Unmarshal(line, &r) == nil && string(r.UUID) == strconv.Itoa(sentinel) {
			if r.Error != nil || r.Value == nil {
				return nil, fmt.Errorf("sentinel request failed: %s", line)
			}
			return before, nil
		}
		before = append(before, line)
	}
}

// procSetRaw writes one valid set and checks its reply.
func procSetRaw(c net.Conn, rd *bufio.Reader, key string) error {
	if _, err := fmt.Fprintf(c, `{"isSharedMemoryMessage":true,"method":"set","uuid":1,"key":%q,"value":1}`+"\n", key); err != nil {
		return err
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if want := `{"isSharedMemoryMessage":true,"uuid":1,"value":"OK"}` + "\n"; line != want {
		return fmt.Errorf("set reply %q, want %q", line, want)
	}
	return nil
}

// procAwaitEnd reads until the master ends the connection, failing if it
// does not within the deadline or if it answers anything.
func procAwaitEnd(c net.Conn, rd *bufio.Reader) error {
	c.SetReadDeadline(time.Now().Add(patience.Bound(10 * time.Second)))
	line, err := rd.ReadString('\n')
	switch {
	case err == nil:
		return fmt.Errorf("unexpected reply %q", line)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("the master did not end the connection within %v", patience.Bound(10*time.Second))
	}
	return nil // EOF or ECONNRESET: the master closed its end
}

// procOversizeWorker sends a frame larger than the master's MaxFrame.
func procOversizeWorker(ctx context.Context, c net.Conn, args []string) error {
	c.SetDeadline(time.Now().Add(patience.Bound(15 * time.Second)))
	rd := bufio.NewReader(c)
	if err := procSetRaw(c, rd, "proc-oversize-ok"); err != nil {
		return err
	}
	big := `{"isSharedMemoryMessage":true,"method":"set","uuid":2,"key":"proc-oversize","value":"` +
		strings.Repeat("a", 2<<20) + "\"}\n"
	go io.WriteString(c, big) // fails once the master closes its end
	return procAwaitEnd(c, rd)
}

// procTornWorker sends a partial frame, then closes its end: "half" shuts
// down writing and waits for the master to end the connection, "full"
// closes and exits at once.
func procTornWorker(ctx context.Context, c net.Conn, args []string) error {
	c.SetDeadline(time.Now().Add(patience.Bound(15 * time.Second)))
	rd := bufio.NewReader(c)
	if err := procSetRaw(c, rd, "proc-torn-ok-"+args[0]); err != nil {
		return err
	}
	if _, err := io.WriteString(c, `{"isSharedMemoryMessage":true,"method":"set","uuid":2,"key":"proc-torn","val`); err != nil {
		return err
	}
	if args[0] == "full" {
		return nil // Main closes the connection
	}
	if err := c.(*net.UnixConn).CloseWrite(); err != nil {
		return err
	}
	return procAwaitEnd(c, rd)
}

// procCall is one client call, for the every-call-returns workers.
type procCall struct {
	name string
	do   func(ctx context.Context, c *shm.Client) error
}

var procCalls = []procCall{
	{"get", func(ctx context.Context, c *shm.Client) error { _, _, err := c.Get(ctx, "k"); return err }},
	{"set", func(ctx context.Context, c *shm.Client) error { return c.Set(ctx, "k", shm.Int(1)) }},
	{"add", func(ctx context.Context, c *shm.Client) error { _, err := c.Add(ctx, "n", 1); return err }},
	{"delete", func(ctx context.Context, c *shm.Client) error { _, err := c.Delete(ctx, "k"); return err }},
	{"cas", func(ctx context.Context, c *shm.Client) error { _, err := c.CAS(ctx, "k", nil, shm.True); return err }},
	{"len", func(ctx context.Context, c *shm.Client) error { _, err := c.Len(ctx); return err }},
	{"keys", func(ctx context.Context, c *shm.Client) error { _, err := c.Keys(ctx); return err }},
	{"settl", func(ctx context.Context, c *shm.Client) error { return c.SetTTL(ctx, "k", shm.Null, time.Second) }},
}

// procCheckErr checks that err matches target and is (in)definite as said.
func procCheckErr(what string, err, target error, definite bool) error {
	if !errors.Is(err, target) || shm.IsDefinite(err) != definite {
		return fmt.Errorf("%s: got error %v (definite %v), want %v (definite %v)", what, err, shm.IsDefinite(err), target, definite)
	}
	return nil
}

// procRunAll runs every call in procCalls from its own goroutine, copies
// times over, and checks each error and how long it took.
func procRunAll(ctx context.Context, c *shm.Client, copies int, target error, limit time.Duration) error {
	errs := make([]error, copies*len(procCalls))
	var wg sync.WaitGroup
	for i := range errs {
		call := procCalls[i%len(procCalls)]
		wg.Go(func() {
			start := time.Now()
			err := call.do(ctx, c)
			errs[i] = procCheckErr(call.name, err, target, false)
			if d := time.Since(start); errs[i] == nil && d > patience.Bound(limit) {
				errs[i] = fmt.Errorf("%s: returned after %v, want under %v", call.name, d, limit)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// procGo makes n Go calls at once; the returned function waits for their
// callbacks and checks that each came exactly once with the error target.
func procGo(c *shm.Client, n int) func(target error, definite bool) error {
	type result struct {
		i   int
		err error
	}
	results := make(chan result, 2*n)
	for i := range n {
		req := shm.Request(shm.MethodAdd, 0, "n")
		c.Go(&req, func(rep shm.Message, err error) { results <- result{i, err} })
	}
	return func(target error, definite bool) error {
		var errs []error
		timeout := time.After(patience.Bound(3 * time.Second))
		for got := 0; got < n; got++ {
			select {
			case r := <-results:
				errs = append(errs, procCheckErr(fmt.Sprintf("Go call %d", r.i), r.err, target, definite))
			case <-timeout:
				return errors.Join(append(errs, fmt.Errorf("%d of %d Go callbacks not called within %v", n-got, n, patience.Bound(3*time.Second)))...)
			}
		}
		time.Sleep(50 * time.Millisecond)
		if extra := len(results); extra > 0 {
			errs = append(errs, fmt.Errorf("%d Go callbacks called more than once", extra))
		}
		return errors.Join(errs...)
	}
}

// procGoAfter checks that a Go call on a finished client is answered at
// once with ErrClosed.
func procGoAfter(c *shm.Client, what string) error {
	var got error
	calls := 0
	req := shm.Request(shm.MethodGet, 0, "k")
	c.Go(&req, func(rep shm.Message, err error) { got, calls = err, calls+1 })
	if calls != 1 {
		return fmt.Errorf("Go %s: callback called %d times before Go returned, want 1", what, calls)
	}
	return procCheckErr("Go "+what, got, shm.ErrClosed, true)
}

const procGoCalls = 8

// procDeafWorker talks to a master that never answers.
func procDeafWorker(ctx context.Context, nc net.Conn, args []string) error {
	c := shm.NewClient(shm.NewStreamConn(nc, shm.StreamOptions{}), shm.ClientOptions{Timeout: 100 * time.Millisecond})
	goWait := procGo(c, procGoCalls)
	errs := []error{procRunAll(ctx, c, 2, shm.ErrTimeout, 3*time.Second), goWait(shm.ErrTimeout, false)}
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, _, err := c.Get(dctx, "k")
	cancel()
	errs = append(errs, procCheckErr("get with a context deadline", err, shm.ErrTimeout, false))
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err = c.Add(cctx, "n", 1)
	errs = append(errs, procCheckErr("add with a canceled context", err, shm.ErrCanceled, false))
	if n := c.Pending(); n != 0 {
		errs = append(errs, fmt.Errorf("%d calls still pending after every call returned", n))
	}
	c.Close()
	_, _, err = c.Get(ctx, "k")
	errs = append(errs, procCheckErr("get after Close", err, shm.ErrClosed, true), procGoAfter(c, "after Close"))
	return errors.Join(errs...)
}

// procHangupWorker talks to a master that reads its requests and then
// closes the connection.
func procHangupWorker(ctx context.Context, nc net.Conn, args []string) error {
	c := shm.NewClient(shm.NewStreamConn(nc, shm.StreamOptions{}), shm.ClientOptions{})
	defer c.Close()
	goWait := procGo(c, procGoCalls)
	errs := []error{procRunAll(ctx, c, 1, shm.ErrConnLost, 3*time.Second), goWait(shm.ErrConnLost, false)}
	if n := c.Pending(); n != 0 {
		errs = append(errs, fmt.Errorf("%d calls still pending after every call returned", n))
	}
	for _, call := range procCalls {
		errs = append(errs, procCheckErr(call.name+" after the connection was lost", call.do(ctx, c), shm.ErrClosed, true))
	}
	errs = append(errs, procGoAfter(c, "after the connection was lost"))
	return errors.Join(errs...)
}

func procEnvWorker(ctx context.Context, c *shm.Client, args []string) error {
	fmt.Println(os.Getenv("GORACE"))
	return nil
}

// ---------------------------------------------------------------------------
// Tests.

func TestProcessConcurrentClients(t *testing.T) {
	const workers, n = 4, 250
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	ws := make([]*shm.Worker, workers)
	stderrs := make([]*procBuffer, workers)
	for i := range ws {
		spec := shm.WorkerSpec{Name: "test-proc-concurrent", Args: []string{strconv.Itoa(n)}}
		if i%2 == 1 {
			spec.Env = []string{"SHMLAB_CODEC=json"} // half the workers stay on JSON lines
		}
		ws[i], _, stderrs[i] = procSpawn(t, m, spec)
	}
	for i, w := range ws {
		procWaitOK(t, w, stderrs[i])
	}
	if t.Failed() {
		t.FailNow()
	}
	want := map[string]string{
		"proc-shared-a": strconv.Itoa(workers * procGoroutines * n),
		"proc-shared-b": strconv.Itoa(workers * n * procGoroutines * (procGoroutines + 1) / 2),
	}
	for _, w := range ws {
		for g := range procGoroutines {
			want[procOwnKey(w.ID, g)] = procOwnValue(w.ID, g, n-1)
		}
	}
	got := map[string]string{}
	for _, k := range procKeys(t, m) {
		got[k], _ = procGet(t, m, k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("store after %d workers x %d goroutines x %d rounds: mismatch (-want +got):\n%s", workers, procGoroutines, n, diff)
	}
}

// procProbe serves one connection as identity id and sends on it a set of
// key with uuid 1, as a retry from that incarnation would: it is applied
// only if the master has no dedup memory for id.
func procProbe(t *testing.T, m *shm.Master, id shm.Identity, key string) shm.Message {
	t.Helper()
	a, b := net.Pipe()
	served := make(chan error, 1)
	go func() { served <- m.Serve(shm.NewStreamConn(a, shm.StreamOptions{}), id) }()
	c := shm.NewStreamConn(b, shm.StreamOptions{})
	defer func() {
		c.Close()
		select {
		case <-served:
		case <-time.After(patience.Bound(5 * time.Second)):
			t.Fatal("probe: Serve did not return after the connection closed")
		}
	}()
	req := shm.Request(shm.MethodSet, 1, key)
	req.Value, req.Has = shm.Int(1), req.Has|shm.HasValue
	b.SetDeadline(time.Now().Add(patience.Bound(5 * time.Second)))
	if err := c.Send([]shm.Message{req}); err != nil {
		t.Fatalf("probe: send: %v", err)
	}
	ms := make([]shm.Message, 1)
	if _, err := c.Recv(ms); err != nil {
		t.Fatalf("probe: recv: %v", err)
	}
	rep := ms[0]
	rep.Value = append(shm.Value(nil), rep.Value...)
	return rep
}

func TestProcessKillInFlight(t *testing.T) {
	before := runtime.NumGoroutine()
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	steady := []*procSteady{procStartSteady(t, m, "proc-kill-steady-1"), procStartSteady(t, m, "proc-kill-steady-2")}
	flood, out, stderr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-flood"})
	procFirstLine(t, out, "the flood worker to be ready")
	procEventually(t, 10*time.Second, "500 flood requests", func() bool { return procInt(t, m, "proc-flood") >= 500 })
	id := shm.Identity{Worker: flood.ID, Inc: flood.Inc}

	// While the worker lives, the master remembers its requests: a
	// replayed uuid 1 is not applied again.
	if rep := procProbe(t, m, id, "proc-probe-live"); rep.Err == nil {
		t.Fatalf("probe while the flood worker runs: uuid 1 applied again (%s); the probe cannot see dedup memory", rep.Value)
	}
	for _, s := range steady {
		s.progress(t, m, 5)
	}
	if err := flood.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := procWait(t, flood, 10*time.Second); !procKilled(err) {
		t.Errorf("flood worker Wait() = %v, want killed by SIGKILL\nstderr:\n%s", err, stderr)
	}
	// Its dedup memory is gone: the same replay is now a new request.
	if rep := procProbe(t, m, id, "proc-probe-dead"); rep.Err != nil || string(rep.Value) != `"OK"` {
		t.Errorf("probe after the kill: reply %s, %v; want \"OK\" (the dead incarnation's dedup memory should be forgotten)", rep.Value, rep.Err)
	}
	for _, s := range steady {
		s.progress(t, m, 5)
		s.finish(t, m)
	}
	if n := procInt(t, m, "proc-flood"); n < 500 {
		t.Errorf("master Apply after the kill: proc-flood = %d, want >= 500", n)
	}
	m.Close()
	procEventually(t, 5*time.Second, "goroutines to wind down", func() bool { return runtime.NumGoroutine() <= before+2 })
	if t.Failed() {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Logf("goroutines (%d before):\n%s", before, buf.String())
	}
}

func TestProcessRestart(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	const stop = "proc-restart-stop"
	spec := func() shm.WorkerSpec { return shm.WorkerSpec{Name: "test-proc-identity", Args: []string{stop}} }
	w1, out1, err1 := procSpawn(t, m, spec())
	other, outOther, errOther := procSpawn(t, m, spec())
	line1 := procFirstLine(t, out1, "the first incarnation's report")
	procFirstLine(t, outOther, "the other worker's report")

	w2, err := m.Restart(w1)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err := procWait(t, w1, 5*time.Second); !procKilled(err) {
		t.Errorf("old incarnation Wait() = %v, want killed by SIGKILL", err)
	}
	if w2.ID != w1.ID || w2.Inc <= w1.Inc || w2.Inc <= other.Inc {
		t.Errorf("restart gave id %d inc %d; want id %d and inc above %d and %d", w2.ID, w2.Inc, w1.ID, w1.Inc, other.Inc)
	}
	var line2 string
	procEventually(t, 15*time.Second, "the second incarnation's report", func() bool {
		ls := out1.Lines()
		if len(ls) >= 2 {
			line2 = ls[1]
		}
		return len(ls) >= 2
	})
	procSet(t, m, stop, shm.True)
	procWaitOK(t, w2, err1)
	procWaitOK(t, other, errOther)
	if got := m.Workers(); len(got) != 2 || got[0] != w2 || got[1] != other {
		t.Errorf("Workers() = %v, want [%p %p]", got, w2, other)
	}

	seen := map[[3]uint64]shm.Identity{}
	procCheckReport(t, w1, line1, []int64{1, 2, 3, 4, 5}, seen)
	procCheckReport(t, w2, line2, []int64{6, 7, 8, 9, 10}, seen) // not answered from the old incarnation's dedup memory
	procCheckReport(t, other, procFirstLine(t, outOther, ""), []int64{1, 2, 3, 4, 5}, seen)
	if len(seen) != 15 {
		t.Errorf("%d distinct request identities, want 15", len(seen))
	}
	if a, b := procInt(t, m, procIdentityKey(w1.ID)), procInt(t, m, procIdentityKey(other.ID)); a != 10 || b != 5 {
		t.Errorf("counters: %d for the restarted worker, %d for the other; want 10 and 5", a, b)
	}
}

// procCheckReport checks an identity worker's report against the master's
// view of w, and that no request identity in it was seen before.
func procCheckReport(t *testing.T, w *shm.Worker, line string, sums []int64, seen map[[3]uint64]shm.Identity) {
	t.Helper()
	var rep procReport
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		t.Fatalf("worker %d report %q: %v", w.ID, line, err)
	}
	id := shm.Identity{Worker: w.ID, Inc: w.Inc}
	if rep.Env != id {
		t.Errorf("worker reports identity %+v, master says %+v", rep.Env, id)
	}
	for _, r := range rep.Requests {
		if r[0] != uint64(id.Worker) || r[1] != id.Inc {
			t.Errorf("incarnation %+v stamped a request with (worker, inc, seq) %v", id, r)
		}
		if prev, dup := seen[r]; dup {
			t.Errorf("request identity %v used by incarnation %+v and again by %+v", r, prev, id)
		}
		seen[r] = id
	}
	if diff := cmp.Diff(sums, rep.Sums); diff != "" {
		t.Errorf("incarnation %+v: add results mismatch (-want +got):\n%s", id, diff)
	}
}

// procAlive reports whether pid is a live process (a zombie is dead).
func procAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}

func TestProcessMasterDeathKillsWorkers(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	middle, out, stderr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-middle"})
	line := procFirstLine(t, out, "the middle master to report its worker's pid")
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("middle master printed %q: %v\nstderr:\n%s", line, err, stderr)
	}
	t.Cleanup(func() {
		if procAlive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if !procAlive(pid) {
		t.Fatalf("grandchild %d is not running before its master was killed", pid)
	}
	if err := middle.Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	procEventually(t, 5*time.Second, fmt.Sprintf("grandchild %d to die with its master", pid), func() bool { return !procAlive(pid) })
	t.Logf("grandchild died %v after its master was killed", time.Since(start))
	if err := procWait(t, middle, 5*time.Second); !procKilled(err) {
		t.Errorf("middle master Wait() = %v, want killed by SIGKILL\nstderr:\n%s", err, stderr)
	}
}

// procHeapPeak samples HeapInuse until stop is called, which returns the peak.
func procHeapPeak() (stop func() uint64) {
	var peak uint64
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(quit)
		<-done
		return peak
	}
}

// TestProcessSlowReader: a worker that sends requests and never reads
// the replies is cut off (ErrStalled) once MaxQueued bytes wait for it
// and WriteTimeout passes without room; the master's heap stays bounded
// and another worker is served throughout.
func TestProcessSlowReader(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{Stream: shm.StreamOptions{WriteTimeout: 200 * time.Millisecond}})
	defer m.Close()
	procSet(t, m, "proc-big", shm.String(strings.Repeat("x", 64<<10)))
	steady := procStartSteady(t, m, "proc-slow-steady")
	steady.progress(t, m, 5)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse
	stopHeap := procHeapPeak()
	discBefore := m.Stats().Disconnected
	start := time.Now()
	slow, out, stderr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-slow", Args: []string{"proc-big"}})
	err := procWait(t, slow, 15*time.Second)
	elapsed := time.Since(start)
	peak := stopHeap()
	if err != nil {
		t.Errorf("slow reader exited: %v\nstderr:\n%s", err, stderr)
	}
	t.Logf("slow reader cut off after %v and %s requests; heap in use %d MiB before, peak %d MiB",
		elapsed, strings.TrimSpace(out.String()), heapBefore>>20, peak>>20)
	if serr := slow.ServeErr(); !errors.Is(serr, shm.ErrStalled) || !errors.Is(serr, os.ErrDeadlineExceeded) {
		t.Errorf("ServeErr() = %v, want ErrStalled, a write timeout", serr)
	}
	if d := m.Stats().Disconnected - discBefore; d != 1 {
		t.Errorf("MasterStats().Disconnected grew by %d, want 1", d)
	}
	if elapsed > patience.Bound(10*time.Second) {
		t.Errorf("the master took %v to cut off a stalled reader (WriteTimeout 200ms)", elapsed)
	}
	if peak > heapBefore+64<<20 {
		t.Errorf("heap in use peaked at %d MiB, from %d MiB before the slow reader", peak>>20, heapBefore>>20)
	}
	steady.progress(t, m, 5)
	steady.finish(t, m)
}

func TestProcessBadInput(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{Stream: shm.StreamOptions{MaxFrame: 1 << 20}})
	defer m.Close()
	steady := procStartSteady(t, m, "proc-bad-steady")
	steady.progress(t, m, 5)
	st0 := m.Stats()

	bad, _, badErr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-badinput", Args: []string{"all"}})
	procWaitOK(t, bad, badErr)
	if serr := bad.ServeErr(); serr != nil {
		t.Errorf("bad-input worker: ServeErr() = %v, want nil (bad requests get replies, not a disconnect)", serr)
	}
	st1 := m.Stats()
	if st1.Disconnected != st0.Disconnected {
		t.Errorf("bad requests disconnected a worker (Disconnected %d -> %d)", st0.Disconnected, st1.Disconnected)
	}
	if st1.BadFrames == st0.BadFrames || st1.Ignored-st0.Ignored != 2 {
		t.Errorf("stats after bad input: BadFrames %d -> %d, Ignored %d -> %d; want BadFrames to grow and Ignored to grow by 2",
			st0.BadFrames, st1.BadFrames, st0.Ignored, st1.Ignored)
	}
	steady.progress(t, m, 5)

	over, _, overErr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-oversize"})
	procWaitOK(t, over, overErr)
	if serr := over.ServeErr(); !errors.Is(serr, shm.ErrFrameTooLarge) {
		t.Errorf("oversize worker: ServeErr() = %v, want ErrFrameTooLarge", serr)
	}
	steady.progress(t, m, 5)

	torn, _, tornErr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-torn", Args: []string{"half"}})
	procWaitOK(t, torn, tornErr)
	if serr := torn.ServeErr(); !errors.Is(serr, io.ErrUnexpectedEOF) {
		t.Errorf("torn-frame worker: ServeErr() = %v, want io.ErrUnexpectedEOF", serr)
	}
	torn2, _, torn2Err := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-torn", Args: []string{"full"}})
	procWaitOK(t, torn2, torn2Err)
	if serr := torn2.ServeErr(); serr != nil && !errors.Is(serr, io.ErrUnexpectedEOF) {
		t.Errorf("torn-frame worker (full close): ServeErr() = %v, want nil or io.ErrUnexpectedEOF", serr)
	}
	steady.progress(t, m, 5)
	if d := m.Stats().Disconnected - st1.Disconnected; d < 2 || d > 3 {
		t.Errorf("Disconnected grew by %d for an oversized and two torn frames, want 2 or 3", d)
	}
	steady.finish(t, m)

	want := append([]string(nil), procBadKeys...)
	want = append(want, "proc-bad-steady", "proc-bad-steady-stop", "proc-oversize-ok", "proc-torn-ok-full", "proc-torn-ok-half")
	if diff := cmp.Diff(want, procKeys(t, m)); diff != "" {
		t.Errorf("keys after bad input: mismatch (-want +got):\n%s", diff)
	}
	if v, _ := procGet(t, m, "__proto__"); v != `{"polluted":true}` {
		t.Errorf("__proto__ = %s, want {\"polluted\":true}", v)
	}
}

// TestProcessUUIDEcho: a uuid of any JSON scalar comes back as it was
// sent; a refused one changes nothing.
func TestProcessUUIDEcho(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	w, _, stderr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-badinput", Args: []string{"uuid"}})
	procWaitOK(t, w, stderr)
	if diff := cmp.Diff([]string{"proc-uuid-null"}, procKeys(t, m)); diff != "" {
		t.Errorf("keys after the uuid cases: mismatch (-want +got):\n%s", diff)
	}
}

func TestProcessRequestErrorMember(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	w, _, stderr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-badinput", Args: []string{"errmember"}})
	procWaitOK(t, w, stderr)
}

// procServeLines returns a WorkerSpec.Serve that counts the request lines
// it reads and, after n of them (never if n is 0), closes the connection.
func procServeLines(n int, lines *atomic.Int64) func(net.Conn) error {
	return func(c net.Conn) error {
		defer c.Close()
		sc := bufio.NewScanner(c)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if lines.Add(1) == int64(n) {
				return nil
			}
		}
		return nil
	}
}

func TestProcessEveryCallReturns(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	var deafLines, hangupLines atomic.Int64
	deaf, _, deafErr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-deaf", Serve: procServeLines(0, &deafLines)})
	hangup, _, hangupErr := procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-hangup", Serve: procServeLines(len(procCalls)+procGoCalls, &hangupLines)})
	procWaitOK(t, deaf, deafErr)
	procWaitOK(t, hangup, hangupErr)
	// Every call went out once (no retries); none after Close or the loss.
	if n, want := deafLines.Load(), int64(2*len(procCalls)+procGoCalls+2); n != want {
		t.Errorf("the deaf master read %d requests, want %d", n, want)
	}
	if n, want := hangupLines.Load(), int64(len(procCalls)+procGoCalls); n != want {
		t.Errorf("the hanging-up master read %d requests, want %d", n, want)
	}
}

func TestProcessRaceExitIsFast(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	const n = 8
	start := time.Now()
	outs := make([]*procBuffer, n)
	ws := make([]*shm.Worker, n)
	errs := make([]*procBuffer, n)
	for i := range ws {
		ws[i], outs[i], errs[i] = procSpawn(t, m, shm.WorkerSpec{Name: "test-proc-env"})
	}
	for i, w := range ws {
		procWaitOK(t, w, errs[i])
	}
	elapsed := time.Since(start)
	t.Logf("%d workers started and exited in %v", n, elapsed)
	if elapsed > patience.Bound(5*time.Second) {
		t.Errorf("%d workers took %v to start and exit", n, elapsed)
	}
	parent := os.Getenv("GORACE")
	t.Logf("parent GORACE=%q, worker 1 GORACE=%q", parent, strings.TrimSpace(outs[0].String()))
	for i, out := range outs {
		got := strings.TrimSpace(out.String())
		if strings.Contains(parent, "atexit_sleep_ms") {
			if got != parent {
				t.Errorf("worker %d: GORACE=%q, want the parent's %q", ws[i].ID, got, parent)
			}
			continue
		}
		if !strings.Contains(" "+got+" ", " atexit_sleep_ms=0 ") {
			t.Errorf("worker %d: GORACE=%q, want it to contain atexit_sleep_ms=0", ws[i].ID, got)
		}
	}
}
