package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// refWorker runs Inflight goroutines, each alternating set and get on a key
// of its own through the shared client: the way an application uses it.
func refWorker(ctx context.Context, c *shm.Client, args []string) error {
	p, err := parseParams(args)
	if err != nil {
		return err
	}
	defer profile(fmt.Sprintf("ref-worker-%d", shm.WorkerIdentity().Worker))()
	win := newWindow(p)
	hists := make([]Hist, p.Inflight)
	ops := make([]uint64, p.Inflight)
	errs := make([]error, p.Inflight)
	var wg sync.WaitGroup
	for g := range p.Inflight {
		wg.Go(func() { ops[g], errs[g] = refLoop(ctx, c, keyFor(shm.WorkerIdentity().Worker, g), p, win, &hists[g]) })
	}
	wg.Wait()
	total, merged := uint64(0), &Hist{}
	for g := range p.Inflight {
		if errs[g] != nil {
			return errs[g]
		}
		total += ops[g]
		merged.Merge(&hists[g])
	}
	if st, ok := c.Conn().(shm.StreamStatser); ok && os.Getenv("SHMLAB_BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "worker stream: %+v\n", st.StreamStats())
	}
	return writeReport(os.Stdout, total, p.Duration, merged)
}

func refLoop(ctx context.Context, c *shm.Client, key string, p params, win window, h *Hist) (uint64, error) {
	val := makeValue(p.Value)
	var ops uint64
	for i := 0; ; i++ {
		start := time.Now()
		if !start.Before(win.to) {
			return ops, nil
		}
		var err error
		if i%2 == 0 {
			err = c.Set(ctx, key, val)
		} else {
			_, _, err = c.Get(ctx, key)
		}
		if err != nil {
			return ops, fmt.Errorf("op %d on %s: %w", i, key, err)
		}
		if end := time.Now(); win.in(end) {
			ops++
			h.Record(end.Sub(start))
		}
	}
}
