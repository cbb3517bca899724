package shm_test

// Process tests of a master one worker cannot hurt (issue 12): a worker
// of our own flooding it with keys calls, writing far past the default
// byte bound, or pausing with megabytes of replies outstanding, beside
// ordinary workers. They use only the public API, so that they also run
// against an older master to measure the before figures.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/shm"
)

func init() {
	shm.Handle("test-hurt-ordinary", hurtOrdinaryWorker)
	shm.HandleRaw("test-hurt-keys", hurtKeysWorker)
	shm.Handle("test-hurt-writer", hurtWriterWorker)
	shm.HandleRaw("test-hurt-paused", hurtPausedWorker)
}

// hurtPhase is the key whose value tells the ordinary workers the phase
// of the test: 0 alone, 1 beside the flood, 2 stop.
const hurtPhase = "hurt-phase"

// hurtPhaseStats are an ordinary worker's figures for one phase.
type hurtPhaseStats struct {
	Ops, Errors int
	Secs        float64
	P50ms       float64
	P99ms       float64
	Maxms       float64
	FirstErr    string `json:",omitempty"`
}

func (p hurtPhaseStats) String() string {
	return fmt.Sprintf("%d ops in %.2fs (%.0f ops/s), p50 %.2fms, p99 %.2fms, max %.1fms, %d errors",
		p.Ops, p.Secs, float64(p.Ops)/max(p.Secs, 1e-9), p.P50ms, p.P99ms, p.Maxms, p.Errors)
}

// hurtRecorder gathers the latencies of one phase.
type hurtRecorder struct {
	start    time.Time
	end      time.Time // zero while the phase lasts
	lat      []time.Duration
	errors   int
	firstErr string
}

// record counts a call that began at t0 and ended with err.
// A failed call counts in the latencies too, with the time it took.
func (r *hurtRecorder) record(t0 time.Time, err error) {
	r.lat = append(r.lat, time.Since(t0))
	if err == nil {
		return
	}
	r.errors++
	if r.firstErr == "" {
		r.firstErr = err.Error()
	}
}

func (r *hurtRecorder) stats() hurtPhaseStats {
	slices.Sort(r.lat)
	ms := func(q float64) float64 {
		if len(r.lat) == 0 {
			return 0
		}
		return float64(r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat))))]) / 1e6
	}
	if r.end.IsZero() {
		r.end = time.Now()
	}
	return hurtPhaseStats{Ops: len(r.lat) - r.errors, Errors: r.errors, Secs: r.end.Sub(r.start).Seconds(),
		P50ms: ms(0.50), P99ms: ms(0.99), Maxms: ms(1), FirstErr: r.firstErr}
}

// hurtOrdinaryWorker makes ordinary calls (a set and a get of its own key
// in turn) one at a time, checking the phase every 16 calls, and prints
// the figures of phases 0 and 1 as JSON when told to stop. A call that
// fails is counted, not fatal.
func hurtOrdinaryWorker(ctx context.Context, c *shm.Client, args []string) error {
	key := args[0]
	phases := []*hurtRecorder{{start: time.Now()}}
	cur := phases[0]
	for i := 0; ; i++ {
		t0 := time.Now()
		var err error
		if i%2 == 0 {
			err = c.Set(ctx, key, shm.Int(int64(i)))
		} else {
			_, _, err = c.Get(ctx, key)
		}
		cur.record(t0, err)
		if i%16 != 0 {
			continue
		}
		t0 = time.Now()
		v, _, err := c.Get(ctx, hurtPhase)
		if cur.record(t0, err); err != nil {
			continue
		}
		switch n, _ := v.Int(); {
		case n >= 2:
			out := []hurtPhaseStats{}
			for _, p := range phases {
				out = append(out, p.stats())
			}
			return json.NewEncoder(os.Stdout).Encode(out)
		case int(n) >= len(phases):
			cur.end = time.Now()
			cur = &hurtRecorder{start: cur.end}
			phases = append(phases, cur)
		}
	}
}

// hurtKeysWorker, on raw frames, sets the phase to 1, waits a moment for
// the ordinary workers to see it, then sends rounds
// of 300 pipelined keys calls, reading every reply, until a second has
// passed (one round at least). It prints how many replies listed keys,
// were refused too_large, or were something else, and the rounds.
func hurtKeysWorker(ctx context.Context, c net.Conn, args []string) error {
	rd := bufio.NewReaderSize(c, 1<<20)
	if _, err := fmt.Fprintf(c, `{"isSharedMemoryMessage":true,"method":"set","uuid":1,"key":%q,"value":1}`+"\n", hurtPhase); err != nil {
		return err
	}
	if _, err := rd.ReadBytes('\n'); err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond) // for the ordinary workers to see the phase
	const n = 300
	seq := 1
	var listed, refused, other, rounds int
	for start := time.Now(); rounds == 0 || time.Since(start) < time.Second; rounds++ {
		var buf []byte
		for range n {
			seq++
			buf = fmt.Appendf(buf, `{"isSharedMemoryMessage":true,"method":"keys","uuid":%d}`+"\n", seq)
		}
		werr := make(chan error, 1)
		go func() { _, err := c.Write(buf); werr <- err }() // replies may fill the pipe first
		for range n {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				return fmt.Errorf("reading replies: %w", err)
			}
			switch {
			case bytes.Contains(line, []byte(`"value":[`)):
				listed++
			case bytes.Contains(line, []byte(`"code":"too_large"`)):
				refused++
			default:
				other++
			}
		}
		if err := <-werr; err != nil {
			return err
		}
	}
	fmt.Println(listed, refused, other, rounds)
	return nil
}

// TestProcessKeysFloodBesideOrdinaryWorkers: a worker sending rounds of
// 300 pipelined keys calls at a store of 100,000 keys of 52 bytes (5 MB
// of names, more than a frame) and of 2,000 (which keys lists, each list
// visiting four slices of the store's lock) does not
// starve two ordinary workers beside it: no
// ordinary call fails or times out, and both make progress. Their p99
// latency and throughput, alone and beside the flood, are logged (the
// machine may be busy, so no time is asserted).
func TestProcessKeysFloodBesideOrdinaryWorkers(t *testing.T) {
	for _, size := range []int{100_000, 2_000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) { checkKeysFlood(t, size) })
	}
}

// hurtPad lengthens the flood test's keys, so that 100,000 of them take
// more than a frame: a list the master builds, then cannot send.
var hurtPad = strings.Repeat("p", 40)

func checkKeysFlood(t *testing.T, size int) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	for i := range size {
		procSet(t, m, fmt.Sprintf("hurt-%06d-%s", i, hurtPad), shm.Int(int64(i)))
	}
	procSet(t, m, hurtPhase, shm.Int(0))
	var ords [2]*shm.Worker
	var outs, errs [2]*procBuffer
	for i := range ords {
		ords[i], outs[i], errs[i] = procSpawn(t, m, shm.WorkerSpec{Name: "test-hurt-ordinary", Args: []string{fmt.Sprintf("hurt-ord-%d", i)}})
	}
	procEventually(t, 20*time.Second, "the ordinary workers' first calls", func() bool {
		_, ok0 := procGet(t, m, "hurt-ord-0")
		_, ok1 := procGet(t, m, "hurt-ord-1")
		return ok0 && ok1
	})
	time.Sleep(500 * time.Millisecond) // phase 0: the ordinary workers alone
	keys, kout, kerr := procSpawn(t, m, shm.WorkerSpec{Name: "test-hurt-keys"})
	if err := procWait(t, keys, 120*time.Second); err != nil {
		t.Errorf("keys worker exited: %v\nstderr:\n%s", err, kerr)
	}
	procSet(t, m, hurtPhase, shm.Int(2))
	var listed, refused, other, rounds int
	fmt.Sscan(kout.String(), &listed, &refused, &other, &rounds)
	t.Logf("keys worker: %d rounds of 300: %d listed, %d refused too_large, %d other", rounds, listed, refused, other)
	if rounds == 0 || listed+refused != 300*rounds || other != 0 {
		t.Errorf("keys worker printed %q, want every reply a list or a too_large", kout)
	}
	for i, w := range ords {
		procWaitOK(t, w, errs[i])
		var phases []hurtPhaseStats
		if err := json.Unmarshal([]byte(outs[i].String()), &phases); err != nil || len(phases) != 2 {
			t.Errorf("ordinary worker %d printed %q (%v), want its figures of phases 0 and 1", i, outs[i], err)
			continue
		}
		t.Logf("ordinary worker %d alone:        %v", i, phases[0])
		t.Logf("ordinary worker %d beside flood: %v", i, phases[1])
		for p, st := range phases {
			if st.Errors != 0 || st.Ops == 0 {
				t.Errorf("ordinary worker %d, phase %d: %d calls failed (first: %s), %d made; want none failed and progress", i, p, st.Errors, st.FirstErr, st.Ops)
			}
		}
		// The bound is 50 ms on a quiet machine; SHMLAB_TEST_PATIENCE=1
		// asserts exactly that, the default factor leaves room for a busy one.
		if limit := patience.Bound(50 * time.Millisecond); phases[1].P99ms > float64(limit)/1e6 {
			t.Errorf("ordinary worker %d beside the flood: p99 %.1fms, want at most %v", i, phases[1].P99ms, limit)
		}
	}
}

// hurtWriterWorker sets args[1] distinct keys to values of 1 MiB,
// pipelined 8 at a time, and prints how many were stored and how many
// refused with a definite too_large; any other outcome fails it.
func hurtWriterWorker(ctx context.Context, c *shm.Client, args []string) error {
	n, _ := strconv.Atoi(args[1])
	v := shm.String(strings.Repeat("w", 1<<20-2))
	var stored, refused int
	for i := 0; i < n; i += 8 {
		errs := make(chan error, 8)
		for j := i; j < min(n, i+8); j++ {
			go func() {
				// A call's deadline scaled for a busy machine, on which a
				// 1 MiB write may wait for the CPU longer than the client's
				// default timeout (a context deadline is the one that counts).
				ctx, cancel := context.WithTimeout(ctx, patience.Bound(5*time.Second))
				defer cancel()
				errs <- c.Set(ctx, fmt.Sprintf("%s-%d", args[0], j), v)
			}()
		}
		for j := i; j < min(n, i+8); j++ {
			var e *shm.Error
			switch err := <-errs; {
			case err == nil:
				stored++
			case errors.As(err, &e) && e.Code == shm.CodeTooLarge && e.Definite:
				refused++
			default:
				return err
			}
		}
	}
	fmt.Println(stored, refused)
	return nil
}

// hurtRSS returns the VmRSS of this process, in bytes.
func hurtRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// procKeysCount counts the store's entries, as the master's own len.
func procKeysCount(m *shm.Master) int64 {
	n, _ := m.Apply(&shm.Message{Kind: shm.KindRequest, Method: shm.MethodLen}).Value.Int()
	return n
}

// hurtPausedWorker, on raw frames, sends args[1] gets of key args[0]
// (whose value is 64 KiB), stops itself with SIGSTOP before reading any
// reply, and once resumed reads them all, checking each. It prints how
// many replies came.
func hurtPausedWorker(ctx context.Context, c net.Conn, args []string) error {
	n, _ := strconv.Atoi(args[1])
	var buf []byte
	for i := 1; i <= n; i++ {
		buf = fmt.Appendf(buf, `{"isSharedMemoryMessage":true,"method":"get","uuid":%d,"key":%q}`+"\n", i, args[0])
	}
	if _, err := c.Write(buf); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // let the master take them and answer
	if err := syscall.Kill(os.Getpid(), syscall.SIGSTOP); err != nil {
		return err
	}
	rd := bufio.NewReaderSize(c, 1<<20)
	for i := 1; i <= n; i++ {
		line, err := rd.ReadBytes('\n')
		if err != nil {
			return fmt.Errorf("reply %d of %d: %w", i, n, err)
		}
		want := fmt.Sprintf(`{"isSharedMemoryMessage":true,"uuid":%d,"value":"`, i)
		if !bytes.HasPrefix(line, []byte(want)) || len(line) < 64<<10 {
			return fmt.Errorf("reply %d: %.80s (%d bytes)", i, line, len(line))
		}
	}
	fmt.Println(n)
	return nil
}

// TestProcessPausedWorkerKeepsChannel: a worker stopped (SIGSTOP) with
// 4 MiB of replies outstanding, far more than the socket buffer holds,
// keeps its channel while they wait in the master (below MaxQueued):
// resumed 10 s later, past the master's write timeout, it reads every
// reply.
func TestProcessPausedWorkerKeepsChannel(t *testing.T) {
	t.Parallel() // mostly a wait: it overlaps the other parallel tests
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	procSet(t, m, "hurt-64k", shm.String(strings.Repeat("p", 64<<10)))
	const n = 64 // 64 replies of 64 KiB: 4 MiB
	w, out, stderr := procSpawn(t, m, shm.WorkerSpec{Name: "test-hurt-paused", Args: []string{"hurt-64k", strconv.Itoa(n)}})
	procEventually(t, 20*time.Second, "the worker to stop itself", func() bool { return hurtStopped(w.Pid()) })
	time.Sleep(10 * time.Second)
	if err := syscall.Kill(w.Pid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := procWait(t, w, 30*time.Second); err != nil {
		t.Fatalf("paused worker exited: %v (serve: %v)\nstderr:\n%s", err, w.ServeErr(), stderr)
	}
	if got := strings.TrimSpace(out.String()); got != strconv.Itoa(n) {
		t.Errorf("paused worker read %q replies, want %d", got, n)
	}
	if d := m.Stats().Disconnected; d != 0 {
		t.Errorf("MasterStats().Disconnected = %d, want 0", d)
	}
}

// hurtStopped reports whether process pid is stopped by a signal.
func hurtStopped(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'T'
}
