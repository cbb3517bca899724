package shmtest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

// DriveConfig says what a driven run looks like. Times are drawn in
// whole milliseconds, so that expiries and calls often fall on the same
// instant.
type DriveConfig struct {
	Workers, Ops int      // workers at once; operations per worker
	Keys         []string // the keys the operations use
	// MaxEntries and MaxBytes are the store's limits, for the header.
	MaxEntries int
	MaxBytes   int64
	// TTLs are the TTLs (milliseconds) a write draws from; 0 is none.
	TTLs []int64
	// MaxLatency is the most milliseconds between a call and its
	// application, and between that and the return (each drawn from 0).
	MaxLatency int
	// MaxPad is the most bytes of padding a value written gets (its size
	// varies, for the byte limit).
	MaxPad int
	// Unknown is the chance, in percent, that an operation's outcome is
	// unknown (then it is applied or not, by a coin).
	Unknown int
	// ResendAfter, if positive, is how many milliseconds a worker waits
	// for a reply before it sends the request again: a get then reaches
	// the store once more per ResendAfter it waited, each copy at any
	// time up to 3 ms after it returned.
	ResendAfter int
}

// Drive applies random operations of concurrent workers to s and
// returns their history, linearizable by construction if s is the
// reference: each operation is applied at a time between its call and
// its return, in the order of those times. Once the workers are done,
// every key is read once, alone. Every choice comes from seed.
func Drive(seed uint64, cfg DriveConfig, s Store) *history.History {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	type planned struct {
		op     workload.Op
		worker int
		rec    history.Op
		apply  int64
		skip   bool // unknown and not applied
		copy   bool // a resent copy: applied, not recorded
	}
	var all []*planned
	id := int64(0)
	end := int64(0)
	for w := range cfg.Workers {
		t, stream := int64(rng.IntN(3)), 0
		last := map[string]string{} // what w last wrote to each key
		for i := range cfg.Ops {
			p := &planned{worker: w}
			p.op = drawOp(rng, cfg, w, i, last)
			call := t + 1 + int64(rng.IntN(3)) // after the last return: a tie reads as a call before it
			p.apply = call + int64(rng.IntN(cfg.MaxLatency+1))
			ret := p.apply + int64(rng.IntN(cfg.MaxLatency+1))
			id++
			p.rec = history.Op{ID: id, Worker: fmt.Sprintf("w%d", w+1), Stream: stream, Method: p.op.Method, Key: p.op.Key,
				Input: p.op.Input(), Call: call * 1e6, Return: ret * 1e6}
			if rng.IntN(100) < cfg.Unknown {
				p.rec.Status, p.rec.Return = history.StatusUnknown, 0
				p.skip = rng.IntN(2) == 0
				stream++
			}
			all = append(all, p)
			if p.op.Method == history.Get && cfg.ResendAfter > 0 {
				for k := int64(1); k <= (ret-call)/int64(cfg.ResendAfter); k++ {
					at := call + k*int64(cfg.ResendAfter)
					all = append(all, &planned{op: p.op, worker: w, copy: true, apply: at + int64(rng.IntN(int(ret-at)+4))})
				}
			}
			t = ret
		}
		end = max(end, t)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].apply < all[j].apply })
	for _, p := range all {
		end = max(end, p.apply) // the final reads come after every copy
		if p.skip {
			continue
		}
		st, out := s.Apply(p.apply*1e6, p.worker, &p.op)
		if !p.copy && p.rec.Status != history.StatusUnknown {
			p.rec.Status, p.rec.Output = st, out
		}
	}
	h := &history.History{Header: history.NewHeader(history.ModelKVEvict, "drive", seed)}
	h.Header.Store = &history.StoreLimits{MaxEntries: cfg.MaxEntries, MaxBytes: cfg.MaxBytes, EntryOverhead: shm.EntryOverhead,
		Sweep: shm.ExpireSweep, ResendAfter: int64(cfg.ResendAfter) * 1e6}
	sort.SliceStable(all, func(i, j int) bool { return all[i].rec.ID < all[j].rec.ID })
	for _, p := range all {
		if !p.copy {
			h.Ops = append(h.Ops, p.rec)
		}
	}
	for i, k := range cfg.Keys {
		now := (end + 1 + int64(i)) * 1e6
		op := workload.Op{Method: history.Get, Key: k}
		st, out := s.Apply(now, cfg.Workers, &op)
		id++
		h.Ops = append(h.Ops, history.Op{ID: id, Worker: "final", Method: history.Get, Key: k, Call: now, Return: now, Status: st, Output: out})
	}
	return h
}

// drawOp draws worker w's i-th operation: values are unique to it, a
// cas expects what w last wrote to the key.
func drawOp(rng *rand.Rand, cfg DriveConfig, w, i int, last map[string]string) workload.Op {
	o := workload.Op{Key: cfg.Keys[rng.IntN(len(cfg.Keys))]}
	value := func() []byte {
		v := fmt.Sprintf("w%d.%d", w+1, i+1)
		if cfg.MaxPad > 0 {
			v += strings.Repeat("x", rng.IntN(cfg.MaxPad+1))
		}
		last[o.Key] = `"` + v + `"`
		return []byte(last[o.Key])
	}
	ttl := func() int64 {
		if len(cfg.TTLs) == 0 {
			return 0
		}
		return cfg.TTLs[rng.IntN(len(cfg.TTLs))]
	}
	switch r := rng.IntN(100); {
	case r < 40:
		o.Method = history.Get
	case r < 70:
		o.Method, o.TTLms = history.Set, ttl()
		o.Value = value()
	case r < 80:
		o.Method, o.TTLms = history.CAS, ttl()
		if old, ok := last[o.Key]; ok {
			o.Old = []byte(old)
		}
		o.Value = value()
	case r < 90:
		o.Method, o.Delta = history.Add, int64(rng.IntN(5)+1)
		delete(last, o.Key)
	default:
		o.Method = history.Delete
		delete(last, o.Key)
	}
	return o
}
