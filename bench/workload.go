package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
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

func writeReport(w io.Writer, ops, all uint64, span time.Duration, h *Hist) error {
	return json.NewEncoder(w).Encode(report{Ops: ops, All: all, Span: span, Hist: h.sparse()})
}

// window tracks the measured interval after the warm-up.
type window struct{ from, to time.Time }

func newWindow(p params) window {
	from := time.Now().Add(p.Warmup)
	return window{from: from, to: from.Add(p.Duration)}
}

func (w window) in(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }
