package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// params are what a bench worker is told on its command line.
type params struct {
	Client   string // "callbacks" or "goroutines"
	Compact  bool   // the compact codec, not JSON lines
	Inflight int
	Value    int // bytes of JSON text per value
	Warmup   time.Duration
	Duration time.Duration
}

func (p params) args() []string {
	return []string{strconv.Itoa(p.Inflight), strconv.Itoa(p.Value), p.Warmup.String(), p.Duration.String(), p.Client, strconv.FormatBool(p.Compact)}
}

func parseParams(args []string) (params, error) {
	if len(args) != 6 {
		return params{}, fmt.Errorf("bench worker: want 6 arguments, got %q", args)
	}
	p := params{Client: args[4], Compact: args[5] == "true"}
	if p.Client != "callbacks" && p.Client != "goroutines" {
		return params{}, fmt.Errorf("bench worker: client %q is neither callbacks nor goroutines", p.Client)
	}
	if args[5] != "true" && args[5] != "false" {
		return params{}, fmt.Errorf("bench worker: codec flag %q is neither true nor false", args[5])
	}
	var err [4]error
	p.Inflight, err[0] = strconv.Atoi(args[0])
	p.Value, err[1] = strconv.Atoi(args[1])
	p.Warmup, err[2] = time.ParseDuration(args[2])
	p.Duration, err[3] = time.ParseDuration(args[3])
	for _, e := range err {
		if e != nil {
			return params{}, fmt.Errorf("bench worker: %w", e)
		}
	}
	return p, nil
}

// makeValue returns a JSON string value whose text is n bytes (at least 2).
func makeValue(n int) shm.Value {
	n = max(n, 2)
	return shm.Value(`"` + strings.Repeat("v", n-2) + `"`)
}

// keyFor names the key one in-flight slot of one worker works on.
func keyFor(worker int64, slot int) string {
	return fmt.Sprintf("bench-%03d-%04d", worker, slot)
}

// report is what a bench worker prints on its standard output.
type report struct {
	Ops  uint64        `json:"ops"`     // completed in the measured window
	All  uint64        `json:"all_ops"` // completed in all, for CPU per operation
	Span time.Duration `json:"span_ns"`
	Hist sparse        `json:"hist"`
}

// rate is the operations per second the report measured, or ErrNoSamples
// when it measured none.
func (r report) rate() (float64, error) {
	if r.Ops == 0 || r.Span <= 0 {
		return 0, ErrNoSamples
	}
	return float64(r.Ops) / r.Span.Seconds(), nil
}

func writeReport(w io.Writer, ops, all uint64, span time.Duration, h *Hist) error {
	return json.NewEncoder(w).Encode(report{Ops: ops, All: all, Span: span, Hist: h.sparse()})
}

// minSamples is how many operations a window must have measured before it
// may close: on a busy machine a worker can be given no time at all in a
// short window, and a rate measured over nothing is no measurement.
const minSamples = 64

// maxStretch is how far past its planned end a window stays open while it
// has measured fewer than minSamples operations.
const maxStretch = 20 * time.Second

// window is the measured interval after the warm-up. It closes at its
// planned end once it has measured minSamples operations; until then it
// stays open, up to maxStretch past that end, and its span grows to the
// last operation it measured. It is safe for concurrent use.
type window struct {
	from, to, latest time.Time
	measured         atomic.Uint64
	lastNs           atomic.Int64 // the last measured completion, in ns after from
}

func newWindow(p params) *window {
	from := time.Now().Add(p.Warmup)
	to := from.Add(p.Duration)
	return &window{from: from, to: to, latest: to.Add(maxStretch)}
}

// open reports whether an operation completing at t would still be
// measured, so whether one may still be started.
func (w *window) open(t time.Time) bool {
	return t.Before(w.to) || (w.measured.Load() < minSamples && t.Before(w.latest))
}

// in reports whether an operation completing at t falls in the window.
func (w *window) in(t time.Time) bool { return !t.Before(w.from) && w.open(t) }

// record counts an operation completing at t if it falls in the window, and
// reports whether it did.
func (w *window) record(t time.Time) bool {
	if !w.in(t) {
		return false
	}
	w.measured.Add(1)
	ns := int64(t.Sub(w.from))
	for old := w.lastNs.Load(); ns > old && !w.lastNs.CompareAndSwap(old, ns); old = w.lastNs.Load() {
	}
	return true
}

// span is how long the window measured: its planned duration, or up to the
// last operation it measured when it had to stay open longer.
func (w *window) span() time.Duration {
	return max(w.to.Sub(w.from), time.Duration(w.lastNs.Load()))
}
