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
	defer Profile(fmt.Sprintf("ref-worker-%d", shm.WorkerIdentity().Worker))()
	var ops, all uint64
	h := &Hist{}
	win := newWindow(p)
	switch p.Client {
	case "goroutines":
		ops, all, err = goroutineDriver(ctx, c, p, win, h)
	case "callbacks":
		ops, all, err = callbackDriver(c, p, win, h)
	default:
		err = fmt.Errorf("unknown client mode %q", p.Client)
	}
	if err != nil {
		return err
	}
	if st, ok := c.Conn().(shm.StreamStatser); ok && os.Getenv("SHMLAB_BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "worker stream: %+v\n", st.StreamStats())
	}
	return writeReport(os.Stdout, ops, all, win.span(), h)
}

// goroutineDriver runs one goroutine per request in flight, each a closed
// loop of blocking calls: the way most Go code would use the client.
func goroutineDriver(ctx context.Context, c *shm.Client, p params, win *window, h *Hist) (ops, all uint64, err error) {
	hists := make([]Hist, p.Inflight)
	okOps := make([]uint64, p.Inflight)
	allOps := make([]uint64, p.Inflight)
	errs := make([]error, p.Inflight)
	var wg sync.WaitGroup
	for g := range p.Inflight {
		wg.Go(func() {
			okOps[g], allOps[g], errs[g] = refLoop(ctx, c, keyFor(shm.WorkerIdentity().Worker, g), p, win, &hists[g])
		})
	}
	wg.Wait()
	for g := range p.Inflight {
		if errs[g] != nil {
			return 0, 0, errs[g]
		}
		ops, all = ops+okOps[g], all+allOps[g]
		h.Merge(&hists[g])
	}
	return ops, all, nil
}

func refLoop(ctx context.Context, c *shm.Client, key string, p params, win *window, h *Hist) (ops, all uint64, err error) {
	val := makeValue(p.Value)
	for i := 0; ; i++ {
		start := time.Now()
		if !win.open(start) {
			return ops, uint64(i), nil
		}
		if i%2 == 0 {
			err = c.Set(ctx, key, val)
		} else {
			_, _, err = c.Get(ctx, key)
		}
		if err != nil {
			return ops, uint64(i), fmt.Errorf("op %d on %s: %w", i, key, err)
		}
		if end := time.Now(); win.record(end) {
			ops++
			h.Record(end.Sub(start))
		}
	}
}

// callbackDriver keeps Inflight requests outstanding with Client.Go: each
// reply's callback issues the slot's next request.
func callbackDriver(c *shm.Client, p params, win *window, h *Hist) (ops, all uint64, err error) {
	d := &cbDriver{c: c, win: win, hist: h, val: makeValue(p.Value), done: make(chan struct{})}
	d.slots = make([]cbSlot, p.Inflight)
	d.mu.Lock()
	d.live = p.Inflight
	d.mu.Unlock()
	for i := range d.slots {
		d.slots[i].key = []byte(keyFor(shm.WorkerIdentity().Worker, i))
		d.issue(&d.slots[i], time.Now())
	}
	<-d.done
	return d.ops, d.all, d.err
}

type cbDriver struct {
	c     *shm.Client
	win   *window
	hist  *Hist
	val   shm.Value
	slots []cbSlot

	mu     sync.Mutex // callbacks may run on the reader or the sweeper
	live   int
	ops    uint64
	all    uint64
	err    error
	done   chan struct{}
	cached time.Time
}

type cbSlot struct {
	key   []byte
	n     int
	timed bool // this operation's latency is measured
	sent  time.Time
	req   shm.Message
	done  func(shm.Message, error) // made once: a closure per call would allocate
}

// sampleEvery is how often an operation's latency is measured. Reading the
// clock costs a tenth of an operation here and the floor reads it once per
// batch, so the reference samples one operation in eight rather than pay
// it on each; the window's edges use a time at most eight operations old.
const sampleEvery = 8

func (d *cbDriver) issue(s *cbSlot, now time.Time) {
	s.timed = s.n%sampleEvery == 0
	if s.timed {
		s.sent = time.Now()
	}
	s.req = shm.Message{Method: shm.MethodGet, Key: s.key, Has: shm.HasKey}
	if s.n%2 == 0 {
		s.req.Method, s.req.Value, s.req.Has = shm.MethodSet, d.val, shm.HasKey|shm.HasValue
	}
	s.n++
	if s.done == nil {
		s.done = func(_ shm.Message, err error) { d.complete(s, err) }
	}
	d.c.Go(&s.req, s.done)
}

func (d *cbDriver) complete(s *cbSlot, err error) {
	d.mu.Lock()
	if s.timed || d.all%sampleEvery == 0 {
		d.cached = time.Now()
	}
	now := d.cached
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("op %d on %s: %w", s.n, s.key, err)
	}
	d.all++
	if d.win.record(now) {
		d.ops++
		if s.timed {
			d.hist.Record(now.Sub(s.sent))
		}
	}
	again := err == nil && d.win.open(now)
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
