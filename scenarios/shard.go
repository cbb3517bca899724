package scenarios

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one of N parts of a run (shmlab run --shard I/N): the cells
// of the run (scenario × mode × seed, in the order an unsharded run takes
// them; shmlab sim's seeds) are dealt round-robin, cell k (from 0) to
// shard k mod N + 1, so that the N shards together run each cell exactly
// once. The zero Shard is the whole run.
type Shard struct{ I, N int }

// MaxShards bounds N.
const MaxShards = 100000

// ParseShard reads "I/N", 1 ≤ I ≤ N.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > MaxShards || i < 1 || i > n {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 1 ≤ I ≤ N ≤ %d, as 1/4", s, MaxShards)
	}
	return Shard{I: i, N: n}, nil
}

// String is "I/N", or "" for the whole run.
func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Has reports whether cell k (from 0) is this shard's.
func (s Shard) Has(k uint64) bool {
	return s.N <= 1 || k%uint64(s.N) == uint64(s.I-1)
}

// take returns the seeds of cells *k, *k+1, … that are this shard's, one
// cell per seed, and moves *k past them.
func (s Shard) take(k *uint64, seeds []uint64) []uint64 {
	var out []uint64
	for _, seed := range seeds {
		if s.Has(*k) {
			out = append(out, seed)
		}
		*k++
	}
	return out
}
