package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// refWorker drives the reference client, alternating set and get on one
// key per request slot, with either API.
func refWorker(ctx context.Context, c *shm.Client, args []string) error {
	p, err := parseParams(args)
	if err != nil {
		return err
	}
	defer profile(fmt.Sprintf("ref-worker-%d", shm.WorkerIdentity().Worker))()
	var ops uint64
	h := &Hist{}
	switch p.Client {
	case "goroutines":
		ops, err = goroutineDriver(ctx, c, p, h)
	case "callbacks":
		ops, err = callbackDriver(c, p, h)
	default:
		err = fmt.Errorf("unknown client mode %q", p.Client)
	}
	if err != nil {
		return err
	}
	if st, ok := c.Conn().(shm.StreamStatser); ok && os.Getenv("SHMLAB_BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "worker stream: %+v\n", st.StreamStats())
	}
	return writeReport(os.Stdout, ops, p.Duration, h)
}

// goroutineDriver runs one goroutine per request in flight, each a closed
// loop of blocking calls: the way most Go code would use the client.
func goroutineDriver(ctx context.Context, c *shm.Client, p params, h *Hist) (uint64, error) {
	win := newWindow(p)
	hists := make([]Hist, p.Inflight)
	ops := make([]uint64, p.Inflight)
	errs := make([]error, p.Inflight)
	var wg sync.WaitGroup
	for g := range p.Inflight {
		wg.Go(func() { ops[g], errs[g] = refLoop(ctx, c, keyFor(shm.WorkerIdentity().Worker, g), p, win, &hists[g]) })
	}
	wg.Wait()
	total := uint64(0)
	for g := range p.Inflight {
		if errs[g] != nil {
			return 0, errs[g]
		}
		total += ops[g]
		h.Merge(&hists[g])
	}
	return total, nil
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

// callbackDriver keeps Inflight requests outstanding with Client.Go: each
// reply's callback issues the slot's next request.
func callbackDriver(c *shm.Client, p params, h *Hist) (uint64, error) {
	d := &cbDriver{c: c, win: newWindow(p), hist: h, val: makeValue(p.Value), done: make(chan struct{})}
	d.slots = make([]cbSlot, p.Inflight)
	d.mu.Lock()
	d.live = p.Inflight
	d.mu.Unlock()
	for i := range d.slots {
		d.slots[i].key = []byte(keyFor(shm.WorkerIdentity().Worker, i))
		d.issue(&d.slots[i], time.Now())
	}
	<-d.done
	return d.ops, d.err
}

type cbDriver struct {
	c     *shm.Client
	win   window
	hist  *Hist
	val   shm.Value
	slots []cbSlot

	mu   sync.Mutex // callbacks may run on the reader or the sweeper
	live int
	ops  uint64
	err  error
	done chan struct{}
}

type cbSlot struct {
	key  []byte
	n    int
	sent time.Time
	req  shm.Message
}

func (d *cbDriver) issue(s *cbSlot, now time.Time) {
	s.sent = now
	s.req = shm.Message{Method: shm.MethodGet, Key: s.key, Has: shm.HasKey}
	if s.n%2 == 0 {
		s.req.Method, s.req.Value, s.req.Has = shm.MethodSet, d.val, shm.HasKey|shm.HasValue
	}
	s.n++
	d.c.Go(&s.req, func(_ shm.Message, err error) { d.complete(s, err) })
}

func (d *cbDriver) complete(s *cbSlot, err error) {
	now := time.Now()
	d.mu.Lock()
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("op %d on %s: %w", s.n, s.key, err)
	}
	if d.win.in(now) {
		d.ops++
		d.hist.Record(now.Sub(s.sent))
	}
	again := err == nil && now.Before(d.win.to)
	if !again {
		d.live--
		if d.live == 0 {
			close(d.done)
		}
	}
	d.mu.Unlock()
	if again {
		d.issue(s, now)
	}
}
