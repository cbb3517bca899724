package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// Config chooses the cells of the matrix and the time spent on each.
type Config struct {
	Workers  []int         // worker processes
	Inflight []int         // requests in flight per worker
	Values   []int         // bytes of JSON text per value
	Duration time.Duration // measured time per cell and side
	Warmup   time.Duration // unmeasured time before it
	Runs     int           // runs per cell; the row holds the medians
	// Client is how the reference worker keeps requests in flight:
	// "callbacks" (Client.Go, the article's style, from one goroutine)
	// or "goroutines" (one goroutine per request in flight, Client.Get/Set).
	Client string
	// Codec is the framing of both sides: "compact" (the negotiated
	// binary codec for Go workers) or "json" (JSON lines, as Node speaks).
	Codec string
	// Env holds extra environment variables for the worker processes of
	// both sides, such as GOMAXPROCS=1.
	Env []string
	// Logf, if set, receives the masters' log lines.
	Logf func(format string, args ...any)
	// Progress, if set, is called before each measurement.
	Progress func(cell Cell, side string, run int)
}

// DefaultConfig is the full matrix with two seconds per cell.
func DefaultConfig() Config {
	return Config{Workers: []int{1, 2, 4}, Inflight: []int{1, 64}, Values: []int{16, 1024, 65536},
		Duration: 2 * time.Second, Warmup: 200 * time.Millisecond, Runs: 1, Client: "callbacks", Codec: "compact"}
}

// Cell is one point of the matrix.
type Cell struct {
	Workers    int `json:"workers"`
	Inflight   int `json:"inflight"`
	ValueBytes int `json:"value_bytes"`
}

// Row is the result for one cell.
type Row struct {
	Cell
	FloorOpsPerS float64 `json:"floor_ops_per_s"`
	OpsPerS      float64 `json:"ops_per_s"`
	Ratio        float64 `json:"ratio"`
	P50us        float64 `json:"p50_us"`
	P99us        float64 `json:"p99_us"`
	FloorP50us   float64 `json:"floor_p50_us"`
	ValueMBPerS  float64 `json:"value_mb_per_s"` // reference: values moved, 10^6 bytes per second
	CPUns        float64 `json:"cpu_ns_per_op"`  // reference: CPU of all processes per operation
	FloorCPUns   float64 `json:"floor_cpu_ns_per_op"`
	Runs         int     `json:"runs"`
	// The spread of each median over the runs: the lowest and the highest
	// run. A run's ratio is its reference rate over the floor's rate of the
	// same run, measured just before it.
	FloorOpsPerSSpread Spread `json:"floor_ops_per_s_spread"`
	OpsPerSSpread      Spread `json:"ops_per_s_spread"`
	RatioSpread        Spread `json:"ratio_spread"`
	P50usSpread        Spread `json:"p50_us_spread"`
	P99usSpread        Spread `json:"p99_us_spread"`
	Client             string `json:"client"`
	Codec              string `json:"codec"`
}

// Spread is the range of a figure over the runs of a cell.
type Spread struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// spreadOf is the range of f over the runs.
func spreadOf(n int, f func(i int) float64) Spread {
	s := Spread{Min: math.Inf(1), Max: math.Inf(-1)}
	for i := range n {
		s.Min, s.Max = min(s.Min, f(i)), max(s.Max, f(i))
	}
	return s
}

// Cells lists the matrix in the order it is measured.
func (c Config) Cells() []Cell {
	var cells []Cell
	for _, v := range c.Values {
		for _, k := range c.Inflight {
			for _, n := range c.Workers {
				cells = append(cells, Cell{Workers: n, Inflight: k, ValueBytes: v})
			}
		}
	}
	return cells
}

// Run measures every cell, floor and reference alternating run by run.
func Run(cfg Config) ([]Row, error) {
	var rows []Row
	for _, cell := range cfg.Cells() {
		row, err := runCell(cfg, cell)
		if err != nil {
			return rows, fmt.Errorf("bench: %d workers, %d in flight, %d B: %w", cell.Workers, cell.Inflight, cell.ValueBytes, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// sample is one measurement of one side of a cell.
type sample struct {
	opsPerS  float64
	p50, p99 time.Duration
	cpuPerOp time.Duration // CPU of master and workers over every operation
}

func runCell(cfg Config, cell Cell) (Row, error) {
	var floor, ref []sample
	for run := range max(cfg.Runs, 1) {
		for _, side := range []string{"floor", "reference"} {
			if cfg.Progress != nil {
				cfg.Progress(cell, side, run)
			}
			s, err := measure(cfg, cell, side == "floor")
			if err != nil {
				return Row{}, fmt.Errorf("%s: %w", side, err)
			}
			if side == "floor" {
				floor = append(floor, s)
			} else {
				ref = append(ref, s)
			}
		}
	}
	row := makeRow(cell, floor, ref)
	row.Client, row.Codec = cfg.Client, cfg.Codec
	return row, nil
}

func makeRow(cell Cell, floor, ref []sample) Row {
	f, r := median(floor), median(ref)
	row := Row{Cell: cell, FloorOpsPerS: f.opsPerS, OpsPerS: r.opsPerS, Runs: len(ref),
		P50us: us(r.p50), P99us: us(r.p99), FloorP50us: us(f.p50),
		ValueMBPerS: r.opsPerS * float64(cell.ValueBytes) / 1e6,
		CPUns:       float64(r.cpuPerOp), FloorCPUns: float64(f.cpuPerOp)}
	row.Ratio = ratio(r.opsPerS, f.opsPerS)
	row.FloorOpsPerSSpread = spreadOf(len(floor), func(i int) float64 { return floor[i].opsPerS })
	row.OpsPerSSpread = spreadOf(len(ref), func(i int) float64 { return ref[i].opsPerS })
	row.RatioSpread = spreadOf(len(ref), func(i int) float64 { return ratio(ref[i].opsPerS, floor[i].opsPerS) })
	row.P50usSpread = spreadOf(len(ref), func(i int) float64 { return us(ref[i].p50) })
	row.P99usSpread = spreadOf(len(ref), func(i int) float64 { return us(ref[i].p99) })
	return row
}

// ratio is ref over floor, or 0 when the floor is 0.
func ratio(ref, floor float64) float64 {
	if floor <= 0 {
		return 0
	}
	return ref / floor
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// median takes each figure's median separately.
func median(ss []sample) sample {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return sample{opsPerS: pick(func(s sample) float64 { return s.opsPerS }),
		cpuPerOp: time.Duration(pick(func(s sample) float64 { return float64(s.cpuPerOp) })),
		p50:      time.Duration(pick(func(s sample) float64 { return float64(s.p50) })),
		p99:      time.Duration(pick(func(s sample) float64 { return float64(s.p99) }))}
}

// measure runs one side of a cell with fresh worker processes.
func measure(cfg Config, cell Cell, floor bool) (sample, error) {
	p := params{Client: cfg.Client, Compact: cfg.Codec == "compact", Inflight: cell.Inflight, Value: cell.ValueBytes, Warmup: cfg.Warmup, Duration: cfg.Duration}
	m := shm.NewMaster(shm.MasterOptions{JSONOnly: !p.Compact, Logf: cfg.Logf})
	defer m.Close()
	cpu0 := selfCPU()
	outs := make([]bytes.Buffer, cell.Workers)
	var ws []*shm.Worker
	for i := range cell.Workers {
		spec := shm.WorkerSpec{Name: refWorkerName, Args: p.args(), Stdout: &outs[i], Env: cfg.Env}
		if floor {
			spec.Name, spec.Serve = floorWorkerName, floorServe(cell.ValueBytes, p.Compact)
		}
		w, err := m.Spawn(spec)
		if err != nil {
			return sample{}, err
		}
		ws = append(ws, w)
	}
	limit := time.Now().Add(p.Warmup + p.Duration + measureSlack)
	s, err := collect(ws, outs, cpu0, limit)
	return s, err
}

// measureSlack is how long a measurement may overrun its warm-up and
// duration (start-up, a window stretched on a busy machine, draining,
// reporting) before its workers are killed.
const measureSlack = maxStretch + 40*time.Second

// ErrNoSamples is returned for a side of a cell in which no operation
// completed inside the measured window: there is no rate to report.
var ErrNoSamples = errors.New("no operation completed in the measured window")

func collect(ws []*shm.Worker, outs []bytes.Buffer, cpu0 time.Duration, limit time.Time) (sample, error) {
	var s sample
	var all uint64
	h := &Hist{}
	for i, w := range ws {
		if err := waitUntil(w, limit); err != nil {
			return sample{}, fmt.Errorf("worker %d: %v", w.ID, err)
		}
		var r report
		if err := json.Unmarshal(outs[i].Bytes(), &r); err != nil {
			return sample{}, fmt.Errorf("worker %d report %q: %v", w.ID, outs[i].String(), err)
		}
		rate, err := r.rate()
		if err != nil {
			return sample{}, fmt.Errorf("worker %d: %w", w.ID, err)
		}
		s.opsPerS += rate
		h.Merge(r.Hist.hist())
		all += r.All
		ps := w.ProcessState()
		s.cpuPerOp += ps.UserTime() + ps.SystemTime()
	}
	s.cpuPerOp += selfCPU() - cpu0
	if all > 0 {
		s.cpuPerOp /= time.Duration(all)
	}
	s.p50, s.p99 = h.Quantile(0.50), h.Quantile(0.99)
	return s, nil
}

// selfCPU returns this process's CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitUntil waits for w to exit, killing it at limit.
func waitUntil(w *shm.Worker, limit time.Time) error {
	select {
	case <-w.Done():
		return w.Wait()
	case <-time.After(time.Until(limit)):
		w.Kill()
		<-w.Done()
		return fmt.Errorf("still running %v after its measurement should have ended; killed", measureSlack)
	}
}
