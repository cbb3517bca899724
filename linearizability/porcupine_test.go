package linearizability

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// porcupine returns the porcupine model of m: the plain search the
// properties hold search.go and the reductions to.
func (m *kvModel) porcupine() porcupine.Model {
	describe := func(input, _ any) string {
		o := input.(*kvOp)
		if o.reset {
			return fmt.Sprintf("master restart: epoch %d begins, the state is lost", o.epoch)
		}
		return o.op.Describe()
	}
	if !m.evict {
		return porcupine.Model{
			Init: func() any { return mkState(0, false, 0) },
			Step: func(state, input, _ any) (bool, any) {
				return m.step(state.(kvState), input.(*kvOp))
			},
			Hash:              func(state any) uint64 { return uint64(state.(kvState)) },
			DescribeOperation: describe,
			DescribeState:     func(state any) string { return m.held(state.(kvState)) },
		}
	}
	nd := porcupine.NondeterministicModel{
		Init: func() []any { return []any{mkState(0, false, 0)} },
		Step: func(state, input, _ any) []any {
			next := m.stepEvict(state.(kvState), input.(*kvOp))
			out := make([]any, len(next))
			for i, s := range next {
				out[i] = s
			}
			return out
		},
		Hash:              func(state any) uint64 { return uint64(state.(kvState)) },
		DescribeOperation: describe,
		DescribeState: func(state any) string {
			return m.held(state.(kvState)) + " (or vanished)"
		},
	}
	return nd.ToModel()
}
