package sim

import (
	"runtime"
	"sync"
)

// Sweep runs n seeds of base, from base.Seed on, with parallel runs at
// once (GOMAXPROCS if 0), each seed's config made by prepare (which may
// be nil, or Swarm), and passes each result to done in seed order, on the
// caller's goroutine. It stops at the first error, or when done returns
// false, and returns the error. Runs share nothing, so the results are
// those of running the seeds one by one.
func Sweep(base Config, n uint64, parallel int, prepare func(Config) Config, done func(Config, *Result) bool) error {
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	type slot struct {
		cfg Config
		r   *Result
		err error
		ok  chan struct{}
	}
	slots := make(chan *slot, parallel)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	go func() {
		defer close(slots)
		sem := make(chan struct{}, parallel)
		for i := range n {
			cfg := base
			cfg.Seed = base.Seed + i
			if prepare != nil {
				cfg = prepare(cfg)
			}
			s := &slot{cfg: cfg, ok: make(chan struct{})}
			select {
			case sem <- struct{}{}:
			case <-stop:
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.r, s.err = Run(s.cfg)
				<-sem
				close(s.ok)
			}()
			select {
			case slots <- s:
			case <-stop:
				return
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	for s := range slots {
		<-s.ok
		if s.err != nil {
			return s.err
		}
		if !done(s.cfg, s.r) {
			return nil
		}
	}
	return nil
}
