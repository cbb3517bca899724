package linearizability

import (
	"cmp"
	"slices"

	"github.com/anishathalye/porcupine"
)

// The report shows what Check's search found through porcupine's
// visualization, which takes only what porcupine's own search returns.
// So that porcupine does not search again, a key that the search decided
// is shown through a model that replays what it found: it lets an
// operation be taken only where one of the prefixes found (or the one
// linearization) takes it, and steps the key's own model beside, so the
// states shown are the real ones. Porcupine then walks those prefixes
// and nothing else.

// replayState is where a replay is: the key's model state, how many
// operations were taken, and the prefixes (a range of the sorted ones)
// that begin with those taken.
type replayState struct {
	state   any
	pos     int
	lo, hi  int
	hashOfS uint64
}

// replayModel returns m restricted to the orders in prefixes, indices
// into kh.ops.
func replayModel(m porcupine.Model, kh *keyHistory, prefixes [][]int) porcupine.Model {
	ps := slices.Clone(prefixes)
	slices.SortFunc(ps, slices.Compare)
	index := make(map[*kvOp]int, len(kh.ops))
	for i := range kh.ops {
		index[kh.ops[i].Input.(*kvOp)] = i
	}
	hash := func(s any) uint64 {
		if m.Hash != nil {
			return m.Hash(s)
		}
		return 0
	}
	r := m
	r.Init = func() any {
		s := m.Init()
		return &replayState{state: s, lo: 0, hi: len(ps), hashOfS: hash(s)}
	}
	r.Step = func(state, input, output any) (bool, any) {
		rs := state.(*replayState)
		i := index[input.(*kvOp)]
		// The prefixes in [lo, hi) agree before pos; those longer than pos
		// are sorted by their element at pos.
		lo, _ := slices.BinarySearchFunc(ps[rs.lo:rs.hi], i, func(p []int, i int) int {
			if len(p) <= rs.pos {
				return -1
			}
			return cmp.Compare(p[rs.pos], i)
		})
		hi, _ := slices.BinarySearchFunc(ps[rs.lo:rs.hi], i+1, func(p []int, i int) int {
			if len(p) <= rs.pos {
				return -1
			}
			return cmp.Compare(p[rs.pos], i)
		})
		if lo == hi {
			return false, state
		}
		ok, next := m.Step(rs.state, input, output)
		if !ok {
			return false, state
		}
		return true, &replayState{state: next, pos: rs.pos + 1, lo: rs.lo + lo, hi: rs.lo + hi, hashOfS: hash(next)}
	}
	r.Hash = func(state any) uint64 {
		rs := state.(*replayState)
		return rs.hashOfS ^ uint64(rs.pos)*0x9e3779b97f4a7c15 ^ uint64(rs.lo)<<32 ^ uint64(rs.hi)
	}
	eq := m.Equal
	if eq == nil {
		eq = func(a, b any) bool { return a == b }
	}
	r.Equal = func(a, b any) bool {
		x, y := a.(*replayState), b.(*replayState)
		return x.pos == y.pos && x.lo == y.lo && x.hi == y.hi && eq(x.state, y.state)
	}
	r.DescribeState = func(state any) string { return m.DescribeState(state.(*replayState).state) }
	return r
}
