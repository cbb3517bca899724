package sim

import (
	"slices"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/workload"
)

// Explicit returns cfg as its run r played it, with nothing left to draw:
// each worker's operations as a script (in the order it made them, across
// its incarnations), and each message fault that fired as a fault aimed at
// that message (its link and number). It runs the same way cfg did, and
// every part of it can be taken away by Shrink.
func Explicit(cfg Config, r *Result) Config {
	c := r.Config
	c.Script = scriptOf(r.History, c.Workers)
	c.Mix, c.Replay = workload.Mix{}, nil
	plan := faultinject.Plan{Seed: 1}
	if cfg.Plan != nil {
		plan.Processes = slices.Clone(cfg.Plan.Processes)
	}
	for _, rec := range r.Records {
		plan.Messages = append(plan.Messages, aimed(rec)...)
	}
	c.Plan = &plan
	return c
}

// scriptOf returns the operations of each of n workers in h, in call order.
func scriptOf(h *history.History, n int) [][]workload.Op {
	script := make([][]workload.Op, n)
	for _, op := range h.Ops {
		i, ok := workerIndex(op.Worker)
		if !ok || i >= n {
			continue
		}
		o := workload.Op{Method: op.Method, Key: op.Key, Delta: op.Input.Delta, TTLms: op.Input.TTL, Incr: op.Input.Incr}
		if op.Input.Value != nil {
			o.Value = append([]byte(nil), op.Input.Value...)
		}
		if op.Input.Old != nil {
			o.Old = append([]byte(nil), op.Input.Old...)
		}
		script[i] = append(script[i], o)
	}
	return script
}

// aimed turns a fault decision into faults that make it again, on the
// same message of the same link.
func aimed(rec faultinject.Record) []faultinject.MessageFault {
	d := &rec.Decision
	base := faultinject.MessageFault{Dir: rec.Link.Dir, Target: faultinject.Target{Worker: rec.Link.Worker, Nth: rec.N}}
	var fs []faultinject.MessageFault
	add := func(f faultinject.MessageFault) { fs = append(fs, f) }
	if d.Drop {
		f := base
		f.Kind = faultinject.Drop
		add(f)
	}
	if d.Delay > 0 {
		f := base
		f.Kind, f.Delay = faultinject.Delay, faultinject.Dist{Kind: faultinject.Fixed, Min: d.Delay}
		add(f)
	}
	if d.Copies > 0 {
		f := base
		f.Kind, f.Copies, f.Hold = faultinject.Duplicate, d.Copies, d.Hold
		add(f)
	}
	if d.Reorder {
		f := base
		f.Kind, f.Hold = faultinject.Reorder, d.Hold
		add(f)
	}
	if d.Corruption != "" {
		f := base
		f.Kind, f.Corruption = faultinject.Corrupt, d.Corruption
		add(f)
	}
	return fs
}

// Shrink looks for a smaller config that still fails (its check finds a
// violation), starting from failing, which must fail: it makes it
// explicit, then takes away workers, faults and operations while the
// failure stays, until nothing more can go or budget runs are spent. It
// returns the smallest failing config it found and its result. A
// pipelined run (Config.Pipeline) is returned as it is: its explicit form
// would be a script, which makes one call at a time.
func Shrink(failing Config, budget int) (Config, *Result, error) {
	r, err := Run(failing)
	if err != nil || failing.Pipeline > 1 {
		return failing, r, err
	}
	s := &shrinker{budget: budget, best: failing, res: r}
	if ex := Explicit(failing, r); !s.try(ex) {
		return failing, r, nil // the explicit form lost the failure: keep what fails
	}
	for s.runs < s.budget {
		before := s.size()
		s.dropWorkers()
		s.dropFaults()
		s.dropOps()
		if s.size() == before {
			break
		}
	}
	s.dropKeys()
	return s.best, s.res, nil
}

type shrinker struct {
	runs, budget int
	best         Config
	res          *Result
}

// try runs c and keeps it if it fails.
func (s *shrinker) try(c Config) bool {
	if s.runs >= s.budget {
		return false
	}
	s.runs++
	c.Workers = max(len(c.Script), 1)
	r, err := Run(c)
	if err != nil || !r.Failed() {
		return false
	}
	s.best, s.res = c, r
	return true
}

// size is what shrinking makes smaller: operations, then faults.
func (s *shrinker) size() int {
	n := 0
	for _, ops := range s.best.Script {
		n += len(ops)
	}
	if p := s.best.Plan; p != nil {
		n += len(p.Messages) + len(p.Processes)
	}
	return n + len(s.best.Script)
}

// dropKeys keeps only the keys the script uses, which the final reads
// read.
func (s *shrinker) dropKeys() {
	used := map[string]bool{}
	for _, ops := range s.best.Script {
		for _, o := range ops {
			used[o.Key] = true
		}
	}
	c := s.best
	c.Keys = nil
	for _, k := range s.best.Keys {
		if used[k] {
			c.Keys = append(c.Keys, k)
		}
	}
	if len(c.Keys) > 0 && len(c.Keys) < len(s.best.Keys) {
		s.try(c)
	}
}

// Ops counts a history's operations that workers made: not the final
// reads.
func Ops(h *history.History) int {
	n := 0
	for i := range h.Ops {
		if h.Ops[i].Worker != FinalReader {
			n++
		}
	}
	return n
}

func (s *shrinker) dropWorkers() {
	for i := len(s.best.Script) - 1; i >= 0 && len(s.best.Script) > 1; i-- {
		s.try(withoutWorker(s.best, i))
	}
}

func (s *shrinker) dropFaults() {
	if s.best.Plan == nil {
		return
	}
	for i := len(s.best.Plan.Processes) - 1; i >= 0; i-- {
		c := s.best
		p := *c.Plan
		p.Processes = slices.Delete(slices.Clone(p.Processes), i, i+1)
		c.Plan = &p
		s.try(c)
	}
	dropChunks(len(s.best.Plan.Messages), func(from, to int) bool {
		c := s.best
		p := *c.Plan
		p.Messages = slices.Delete(slices.Clone(p.Messages), from, to)
		c.Plan = &p
		return s.try(c)
	})
}

func (s *shrinker) dropOps() {
	for w := range s.best.Script {
		dropChunks(len(s.best.Script[w]), func(from, to int) bool {
			c := s.best
			c.Script = slices.Clone(c.Script)
			c.Script[w] = slices.Delete(slices.Clone(c.Script[w]), from, to)
			re := reaim(c, w, from, to)
			return s.try(re) || s.try(c) || (to-from == 1 && s.tryReseeded(re))
		})
	}
}

// reseeds is how many other schedules tryReseeded tries.
const reseeds = 4

// tryReseeded tries c under a few other seeds: taking an operation away
// changes the schedule of everything after it, and the failure may need
// a slightly different one to stay.
func (s *shrinker) tryReseeded(c Config) bool {
	for i := range uint64(reseeds) {
		c.Seed += i + 1
		if s.try(c) {
			return true
		}
		c.Seed -= i + 1
	}
	return false
}

// reaim moves the faults aimed at worker w's messages as taking away its
// operations [from, to) would, if each operation sent one request and got
// one reply: the faults on their messages go, those on later messages
// move down. Without it, the faults would hit other messages than the
// ones that made the failure.
func reaim(c Config, w, from, to int) Config {
	if c.Plan == nil {
		return c
	}
	p := *c.Plan
	p.Messages = nil
	name, n := workerName(w), to-from
	for _, f := range c.Plan.Messages {
		switch t := f.Target; {
		case t.Worker != name || t.Nth <= from:
		case t.Nth <= to:
			continue
		default:
			f.Target.Nth -= n
		}
		p.Messages = append(p.Messages, f)
	}
	c.Plan = &p
	return c
}

// dropChunks tries taking away chunks of n items, halving the chunk size
// down to one item; drop reports whether taking away [from, to) kept the
// failure (and the items are gone).
func dropChunks(n int, drop func(from, to int) bool) {
	for _, size := range chunkSizes(n) {
		// From the end backwards: taking a chunk away moves only what
		// comes after it.
		for end := n; end > 0; {
			from := max(end-size, 0)
			if drop(from, end) {
				n -= end - from
			}
			end = from
		}
	}
}

// chunkSizes are the sizes dropChunks tries for n items: halves, quarters
// and so on down to one, and the small sizes besides (taking away a few
// operations at once keeps what depends on their count, such as request
// ids that wrap).
func chunkSizes(n int) []int {
	var sizes []int
	for size := n / 2; size > 4; size /= 2 {
		sizes = append(sizes, size)
	}
	for size := min(4, n); size >= 1; size-- {
		sizes = append(sizes, size)
	}
	return sizes
}

// withoutWorker returns c without worker i: the workers after it move
// down a number, and the faults aimed at it go.
func withoutWorker(c Config, i int) Config {
	c.Script = slices.Delete(slices.Clone(c.Script), i, i+1)
	if c.Plan == nil {
		return c
	}
	p := *c.Plan
	p.Messages, p.Processes = nil, nil
	for _, f := range c.Plan.Messages {
		if name, ok := renumber(f.Target.Worker, i); ok {
			f.Target.Worker = name
			p.Messages = append(p.Messages, f)
		}
	}
	for _, f := range c.Plan.Processes {
		if name, ok := renumber(f.Target, i); ok {
			f.Target = name
			p.Processes = append(p.Processes, f)
		}
	}
	c.Plan = &p
	return c
}

// renumber renames a target once worker i is gone; ok is false for
// worker i itself. The master and "" (any worker) stay.
func renumber(target string, i int) (string, bool) {
	j, ok := workerIndex(target)
	switch {
	case !ok:
		return target, true
	case j == i:
		return "", false
	case j > i:
		return workerName(j - 1), true
	}
	return target, true
}
