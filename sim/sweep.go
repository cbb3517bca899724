package sim

import "runtime"

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
	go func() {
		defer close(slots)
		for i := range n {
			cfg := base
			cfg.Seed = base.Seed + i
			if prepare != nil {
				cfg = prepare(cfg)
			}
			s := &slot{cfg: cfg, ok: make(chan struct{})}
			select {
			case slots <- s: // at most parallel runs are queued or running
			case <-stop:
				return
			}
			go func() {
				s.r, s.err = Run(s.cfg)
				close(s.ok)
			}()
		}
	}()
	var err error
	stopped := false
	for s := range slots {
		<-s.ok // every run started is waited for, even after a stop
		if stopped {
			continue
		}
		switch {
		case s.err != nil:
			err, stopped = s.err, true
		case !done(s.cfg, s.r):
			stopped = true
		}
		if stopped {
			close(stop)
		}
	}
	return err
}
