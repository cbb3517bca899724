package bench

import (
	"math/bits"
	"time"
)

// Hist is a log-linear latency histogram: 16 buckets per power of two,
// so a reported quantile is within about 6% of the true one.
type Hist struct {
	Counts [64 * 16]uint64 `json:"-"`
	N      uint64
}

const subBits = 4

func bucket(ns int64) int {
	if ns < 1<<subBits {
		return int(max(ns, 0))
	}
	u := uint64(ns)
	e := bits.Len64(u) - 1 - subBits
	return (e+1)<<subBits | int(u>>uint(e))&(1<<subBits-1)
}

func bucketLow(b int) int64 {
	if b < 1<<subBits {
		return int64(b)
	}
	e := b>>subBits - 1
	return int64(1<<subBits|b&(1<<subBits-1)) << uint(e)
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	h.Counts[bucket(int64(d))]++
	h.N++
}

// Merge adds o's counts to h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.N += o.N
}

// Quantile returns the latency at quantile q (0..1), 0 when empty.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.N == 0 {
		return 0
	}
	rank := uint64(q * float64(h.N-1))
	var seen uint64
	for b, c := range h.Counts {
		seen += c
		if seen > rank {
			return time.Duration(bucketLow(b))
		}
	}
	return time.Duration(bucketLow(len(h.Counts) - 1))
}

// sparse is the wire form of a Hist: bucket index to count.
type sparse map[int]uint64

func (h *Hist) sparse() sparse {
	s := sparse{}
	for i, c := range h.Counts {
		if c != 0 {
			s[i] = c
		}
	}
	return s
}

func (s sparse) hist() *Hist {
	h := &Hist{}
	for i, c := range s {
		if i >= 0 && i < len(h.Counts) {
			h.Counts[i] += c
			h.N += c
		}
	}
	return h
}
