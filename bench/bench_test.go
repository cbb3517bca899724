package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/shm"
	"pgregory.net/rapid"
)

// TestMain lets a re-executed copy of the test binary run its worker body:
// Run spawns the bench workers from this binary.
func TestMain(m *testing.M) {
	shm.Main()
	os.Exit(m.Run())
}

func TestParamsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := params{
			Client:   rapid.SampledFrom([]string{"callbacks", "goroutines"}).Draw(t, "client"),
			Compact:  rapid.Bool().Draw(t, "compact"),
			Inflight: rapid.Int().Draw(t, "inflight"),
			Value:    rapid.Int().Draw(t, "value"),
			Warmup:   time.Duration(rapid.Int64().Draw(t, "warmup")),
			Duration: time.Duration(rapid.Int64().Draw(t, "duration")),
		}
		got, err := parseParams(p.args())
		if err != nil {
			t.Fatalf("parseParams(%q): %v", p.args(), err)
		}
		if diff := cmp.Diff(p, got, cmp.AllowUnexported(params{})); diff != "" {
			t.Fatalf("parseParams(args()) mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestParseParamsErrors(t *testing.T) {
	good := params{Client: "callbacks", Compact: true, Inflight: 4, Value: 16, Warmup: time.Second, Duration: 2 * time.Second}.args()
	with := func(i int, v string) []string {
		a := append([]string(nil), good...)
		a[i] = v
		return a
	}
	for _, tt := range []struct {
		name string
		args []string
		want string // in the error
	}{
		{"none", nil, "want 6 arguments"},
		{"five", good[:5], "want 6 arguments"},
		{"seven", append(append([]string(nil), good...), "extra"), "want 6 arguments"},
		{"inflight", with(0, "four"), `"four"`},
		{"value", with(1, "16B"), `"16B"`},
		{"warmup", with(2, "1"), `"1"`},
		{"duration", with(3, "soon"), `"soon"`},
		{"client", with(4, "nope"), `"nope"`},
		{"codec", with(5, "yes"), `"yes"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseParams(tt.args)
			if err == nil {
				t.Fatalf("parseParams(%q) = %+v, want an error", tt.args, p)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "bench worker: ") {
				t.Fatalf("parseParams(%q) error %q, want it to start with %q and name %s", tt.args, err, "bench worker: ", tt.want)
			}
		})
	}
}

func TestMakeValue(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 2, 3, 16, 1024} {
		v := makeValue(n)
		want := max(n, 2)
		if len(v) != want || !json.Valid(v) {
			t.Errorf("makeValue(%d) = %q: %d bytes, valid %v; want %d bytes of valid JSON", n, v, len(v), json.Valid(v), want)
		}
	}
}

func TestKeyForLength(t *testing.T) {
	// The floor sends slot 0's key; the reference uses every slot's key:
	// the lengths must agree for the sizes to.
	if a, b := keyFor(7, 0), keyFor(7, 4095); len(a) != len(b) {
		t.Fatalf("keyFor(7, 0) = %q and keyFor(7, 4095) = %q differ in length", a, b)
	}
}

// captureConn is a Conn for a real shm.Client: it keeps what the client
// sends and answers it from a real Store, keeping the replies too.
type captureConn struct {
	store *shm.Store
	from  shm.Identity

	mu      sync.Mutex
	sent    []shm.Message
	replies []shm.Message
	queue   chan shm.Message
	once    sync.Once
	done    chan struct{}
}

func newCaptureConn(from shm.Identity) *captureConn {
	return &captureConn{store: shm.NewStore(shm.StoreOptions{}), from: from, queue: make(chan shm.Message, 16), done: make(chan struct{})}
}

func clone(m shm.Message) shm.Message {
	m.Key, m.Value, m.Old = append([]byte(nil), m.Key...), append(shm.Value(nil), m.Value...), append(shm.Value(nil), m.Old...)
	return m
}

func (c *captureConn) Send(ms []shm.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range ms {
		req := clone(m)
		rep := clone(c.store.Apply(0, c.from, &req))
		c.sent, c.replies = append(c.sent, req), append(c.replies, rep)
		c.queue <- rep
	}
	return nil
}

func (c *captureConn) Recv(ms []shm.Message) (int, error) {
	select {
	case m := <-c.queue:
		ms[0] = m
		return 1, nil
	case <-c.done:
		return 0, net.ErrClosed
	}
}

func (c *captureConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// referenceFrames returns the frames a real Client sends for one set and
// one get of a value of the given size, and the Store's replies, encoded
// by the codec, with request ids and acks of seven digits like the floor's.
func referenceFrames(t *testing.T, worker int64, value int, compact bool) frames {
	t.Helper()
	id := shm.Identity{Worker: worker, Inc: 1}
	conn := newCaptureConn(id)
	c := shm.NewClient(conn, shm.ClientOptions{Identity: id})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key := keyFor(worker, 3)
	if err := c.Set(ctx, key, makeValue(value)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, _, err := c.Get(ctx, key); err != nil || len(v) != max(value, 2) {
		t.Fatalf("Get = %d bytes, %v; want %d bytes", len(v), err, max(value, 2))
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if len(conn.sent) != 2 {
		t.Fatalf("client sent %d requests, want 2", len(conn.sent))
	}
	enc := shm.AppendFrame
	if compact {
		enc = shm.AppendCompact
	}
	var out [4][]byte
	for i, m := range []shm.Message{conn.sent[0], conn.sent[1], conn.replies[0], conn.replies[1]} {
		m.Seq = 1_000_000
		if m.Has&shm.HasAck != 0 {
			m.Ack = 1_000_000
		}
		out[i] = enc(nil, &m)
	}
	return frames{set: out[0], get: out[1], setReply: out[2], getReply: out[3]}
}

func decode(t *testing.T, frame []byte, compact bool) shm.Message {
	t.Helper()
	var m shm.Message
	var scratch []byte
	if !compact {
		if len(frame) == 0 || frame[len(frame)-1] != '\n' {
			t.Fatalf("JSON frame %.80q does not end in a newline", frame)
		}
		shm.DecodeFrame(frame[:len(frame)-1], &m, &scratch)
		return m
	}
	if len(frame) < 4 || int(binary.LittleEndian.Uint32(frame)) != len(frame)-4 {
		t.Fatalf("compact frame of %d bytes has a wrong length header % x", len(frame), frame[:min(4, len(frame))])
	}
	shm.DecodeCompact(frame[4:], &m, &scratch)
	return m
}

// frameShape is what matters of a decoded frame.
type frameShape struct {
	Kind     shm.Kind
	Method   shm.Method
	ValueLen int
	HasValue bool
	Err      string
}

func shape(m shm.Message) frameShape {
	s := frameShape{Kind: m.Kind, Method: m.Method, ValueLen: len(m.Value), HasValue: m.Has&shm.HasValue != 0}
	if m.Err != nil {
		s.Err = m.Err.Error()
	}
	return s
}

func TestMakeFramesMatchReference(t *testing.T) {
	for _, compact := range []bool{false, true} {
		for _, value := range []int{2, 16, 100, 127, 128, 1024, 16383, 16384, 65536} {
			t.Run(fmt.Sprintf("compact=%v/value=%d", compact, value), func(t *testing.T) {
				got := makeFrames(12, value, compact)
				ref := referenceFrames(t, 12, value, compact)
				sizes := func(f frames) []int { return []int{len(f.set), len(f.get), len(f.setReply), len(f.getReply)} }
				if diff := cmp.Diff(sizes(ref), sizes(got)); diff != "" {
					t.Errorf("frame sizes [set get set-reply get-reply] mismatch (-want reference +got floor):\n%s", diff)
				}
				want := []frameShape{
					{Kind: shm.KindRequest, Method: shm.MethodSet, ValueLen: value, HasValue: true},
					{Kind: shm.KindRequest, Method: shm.MethodGet},
					{Kind: shm.KindReply, ValueLen: len(`"OK"`), HasValue: true},
					{Kind: shm.KindReply, ValueLen: value, HasValue: true},
				}
				var shapes []frameShape
				for _, f := range [][]byte{got.set, got.get, got.setReply, got.getReply} {
					shapes = append(shapes, shape(decode(t, f, compact)))
				}
				if diff := cmp.Diff(want, shapes); diff != "" {
					t.Errorf("decoded floor frames mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestWindow(t *testing.T) {
	w := newWindow(params{Warmup: time.Hour, Duration: time.Minute})
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{w.from.Add(-1), false}, {w.from, true}, {w.to.Add(-1), true},
		// Until it has measured minSamples operations, it stays open past
		// its planned end, up to maxStretch.
		{w.to, true}, {w.to.Add(maxStretch - 1), true}, {w.to.Add(maxStretch), false},
	} {
		if got := w.in(tt.at); got != tt.want {
			t.Errorf("in(%v) = %v, want %v", tt.at.Sub(w.from), got, tt.want)
		}
	}
	if d := w.to.Sub(w.from); d != time.Minute {
		t.Errorf("window is %v long, want 1m", d)
	}
	if d := time.Until(w.from); d < 59*time.Minute || d > time.Hour {
		t.Errorf("window starts in %v, want after the 1h warm-up", d)
	}
}

// TestWindowStretches: a window that measured too few operations by its
// planned end stays open until it has minSamples, and its span reaches
// the last of them; one that has them closes on time.
func TestWindowStretches(t *testing.T) {
	w := newWindow(params{Duration: time.Second})
	for i := range minSamples - 1 {
		if !w.record(w.from.Add(time.Duration(i))) {
			t.Fatalf("operation %d inside the window not recorded", i)
		}
	}
	late := w.to.Add(3 * time.Second)
	if !w.open(late) || !w.record(late) {
		t.Fatalf("window with %d of %d operations closed at its planned end", minSamples-1, minSamples)
	}
	if w.open(late) || w.record(late.Add(1)) {
		t.Fatalf("window with %d operations still open after its planned end", minSamples)
	}
	if got, want := w.span(), 4*time.Second; got != want {
		t.Errorf("span %v, want %v (up to the last measured operation)", got, want)
	}
	full := newWindow(params{Duration: time.Second})
	for range minSamples {
		full.record(full.from)
	}
	if full.open(full.to) || full.span() != time.Second {
		t.Errorf("a window with its samples: open at its end %v, span %v; want closed, 1s", full.open(full.to), full.span())
	}
}

func TestMedian(t *testing.T) {
	ss := []sample{
		{opsPerS: 30, p50: 5, p99: 90, cpuPerOp: 7},
		{opsPerS: 10, p50: 6, p99: 70, cpuPerOp: 9},
		{opsPerS: 20, p50: 4, p99: 80, cpuPerOp: 8},
	}
	want := sample{opsPerS: 20, p50: 5, p99: 80, cpuPerOp: 8}
	if diff := cmp.Diff(want, median(ss), cmp.AllowUnexported(sample{})); diff != "" {
		t.Fatalf("median mismatch (-want +got):\n%s", diff)
	}
}

func TestMakeRow(t *testing.T) {
	cell := Cell{Workers: 2, Inflight: 8, ValueBytes: 1000}
	floor := []sample{{opsPerS: 400, p50: 2 * time.Microsecond, cpuPerOp: 100}}
	ref := []sample{{opsPerS: 100, p50: 8 * time.Microsecond, p99: 30 * time.Microsecond, cpuPerOp: 900}}
	want := Row{Cell: cell, FloorOpsPerS: 400, OpsPerS: 100, Ratio: 0.25, P50us: 8, P99us: 30, FloorP50us: 2,
		ValueMBPerS: 0.1, CPUns: 900, FloorCPUns: 100, Runs: 1,
		FloorOpsPerSSpread: Spread{400, 400}, OpsPerSSpread: Spread{100, 100}, RatioSpread: Spread{0.25, 0.25},
		P50usSpread: Spread{8, 8}, P99usSpread: Spread{30, 30}}
	if diff := cmp.Diff(want, makeRow(cell, floor, ref)); diff != "" {
		t.Errorf("makeRow mismatch (-want +got):\n%s", diff)
	}
	if r := makeRow(cell, []sample{{}}, ref); r.Ratio != 0 || r.RatioSpread != (Spread{}) {
		t.Errorf("makeRow with a zero floor: ratio %v, spread %v; want 0", r.Ratio, r.RatioSpread)
	}
}

// TestMakeRowSpread: each run's ratio pairs the reference with the floor
// of the same run, and the spread is the lowest and highest run.
func TestReportRate(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    report
		want float64
		err  error
	}{
		{"measured", report{Ops: 300, Span: 2 * time.Second}, 150, nil},
		{"no operations", report{Ops: 0, All: 5, Span: time.Second}, 0, ErrNoSamples},
		{"no span", report{Ops: 3}, 0, ErrNoSamples},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.rate()
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("rate() = %v, %v; want %v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestMakeRowSpread(t *testing.T) {
	floor := []sample{{opsPerS: 100}, {opsPerS: 200}, {opsPerS: 400}}
	ref := []sample{{opsPerS: 50, p50: 3000}, {opsPerS: 150, p50: 1000}, {opsPerS: 100, p50: 2000}}
	r := makeRow(Cell{}, floor, ref)
	got := []Spread{r.FloorOpsPerSSpread, r.OpsPerSSpread, r.RatioSpread, r.P50usSpread}
	want := []Spread{{100, 400}, {50, 150}, {0.25, 0.75}, {1, 3}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spreads (floor, ops, ratio, p50) mismatch (-want +got):\n%s", diff)
	}
	if r.Ratio != 100.0/200 {
		t.Errorf("ratio %v, want the medians' 100/200", r.Ratio)
	}
}

func TestCells(t *testing.T) {
	cfg := Config{Workers: []int{1, 2}, Inflight: []int{1, 64}, Values: []int{16, 1024}}
	want := []Cell{
		{1, 1, 16}, {2, 1, 16}, {1, 64, 16}, {2, 64, 16},
		{1, 1, 1024}, {2, 1, 1024}, {1, 64, 1024}, {2, 64, 1024},
	}
	if diff := cmp.Diff(want, cfg.Cells()); diff != "" {
		t.Fatalf("Cells mismatch (-want +got):\n%s", diff)
	}
}

// progressCall is one call of Config.Progress.
type progressCall struct {
	Cell Cell
	Side string
	Run  int
}

func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns worker processes")
	}
	for _, tt := range []struct {
		client, codec string
		inflight      []int
	}{
		{"callbacks", "compact", []int{1, 4}},
		{"goroutines", "json", []int{3}},
	} {
		t.Run(tt.client+"-"+tt.codec, func(t *testing.T) {
			var calls []progressCall
			cfg := Config{Workers: []int{1}, Inflight: tt.inflight, Values: []int{16},
				Duration: 100 * time.Millisecond, Warmup: 20 * time.Millisecond, Runs: 1,
				Client: tt.client, Codec: tt.codec,
				Progress: func(c Cell, side string, run int) { calls = append(calls, progressCall{c, side, run}) }}
			rows, err := runBounded(t, cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			var cells []Cell
			var wantCalls []progressCall
			for _, c := range cfg.Cells() {
				wantCalls = append(wantCalls, progressCall{c, "floor", 0}, progressCall{c, "reference", 0})
			}
			for _, r := range rows {
				cells = append(cells, r.Cell)
				checkRow(t, r, tt.client, tt.codec)
			}
			if diff := cmp.Diff(cfg.Cells(), cells); diff != "" {
				t.Errorf("row cells mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantCalls, calls); diff != "" {
				t.Errorf("progress calls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// runBounded runs cfg, failing the test if Run does not return within 30s
// (a stuck worker then dies with the test binary).
func runBounded(t *testing.T, cfg Config) ([]Row, error) {
	t.Helper()
	type result struct {
		rows []Row
		err  error
	}
	done := make(chan result, 1)
	go func() {
		rows, err := Run(cfg)
		done <- result{rows, err}
	}()
	select {
	case r := <-done:
		return r.rows, r.err
	case <-time.After(30 * time.Second):
		t.Fatalf("Run(%+v) did not return within 30s", cfg)
		return nil, nil
	}
}

func checkRow(t *testing.T, r Row, client, codec string) {
	t.Helper()
	if r.FloorOpsPerS <= 0 || r.OpsPerS <= 0 {
		t.Errorf("%+v: floor %v ops/s, reference %v ops/s; want both positive", r.Cell, r.FloorOpsPerS, r.OpsPerS)
	}
	if want := r.OpsPerS / r.FloorOpsPerS; math.Abs(r.Ratio-want) > 1e-9*want {
		t.Errorf("%+v: ratio %v, want ops/floor = %v", r.Cell, r.Ratio, want)
	}
	if want := r.OpsPerS * float64(r.ValueBytes) / 1e6; math.Abs(r.ValueMBPerS-want) > 1e-9*want {
		t.Errorf("%+v: %v MB/s of values, want %v", r.Cell, r.ValueMBPerS, want)
	}
	if r.P50us <= 0 || r.P50us > r.P99us || r.FloorP50us <= 0 {
		t.Errorf("%+v: p50 %vµs, p99 %vµs, floor p50 %vµs; want 0 < p50 <= p99 and a positive floor p50", r.Cell, r.P50us, r.P99us, r.FloorP50us)
	}
	if r.CPUns <= 0 || r.FloorCPUns <= 0 {
		t.Errorf("%+v: CPU %v ns/op, floor %v ns/op; want both positive", r.Cell, r.CPUns, r.FloorCPUns)
	}
	if r.Runs != 1 || r.Client != client || r.Codec != codec {
		t.Errorf("%+v: runs %d, client %q, codec %q; want 1, %q, %q", r.Cell, r.Runs, r.Client, r.Codec, client, codec)
	}
}

func TestRunReportsWorkerFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns worker processes")
	}
	cfg := Config{Workers: []int{1}, Inflight: []int{1}, Values: []int{16},
		Duration: 20 * time.Millisecond, Client: "nope", Codec: "compact"}
	rows, err := runBounded(t, cfg)
	if err == nil {
		t.Fatalf("Run with client %q = %+v, want an error", cfg.Client, rows)
	}
	// Both sides' workers check their arguments, so the floor fails first.
	if want := "bench: 1 workers, 1 in flight, 16 B: floor: "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Run error %q, want it to start with %q", err, want)
	}
	if len(rows) != 0 {
		t.Fatalf("Run returned %d rows with its error, want none", len(rows))
	}
}

// TestProfileNeverFollowsALink: a link planted where a profile goes is
// replaced by the profile; its target is left as it was.
func TestProfileNeverFollowsALink(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	target := other + "/target"
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir+"/planted.prof"); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvProfileDir, dir)
	Profile("planted")()
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep" {
		t.Errorf("the link's target holds %q, %v; want it untouched", b, err)
	}
	if fi, err := os.Lstat(dir + "/planted.prof"); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("planted.prof: %v, %v; want a regular file (the profile)", fi, err)
	}
}
