package harness

import (
	"context"
	"errors"
	"fmt"

	"github.com/shmlab/shmlab/spec"
)

// ErrNotBuiltIn is the error of a run whose target this build cannot
// run (yet).
var ErrNotBuiltIn = errors.New("not built in")

// runTarget runs c on a target other than the reference (Run has
// checked c.Target), dispatching on its kind.
func runTarget(ctx context.Context, c Config) (*Result, error) {
	switch c.Target.Kind {
	case spec.Node:
		return runNode(ctx, c)
	}
	return nil, fmt.Errorf("harness: target %s %w (%v)", c.Target.Kind, ErrNotBuiltIn, c.Target)
}

// runNode runs c on its Node target (c.Target.Node): the adapter's
// master and Node workers, driven by shmlab, their journals merged into
// one history. It has Run's contract.
//
// This is the seam of the Node target: until it is built in, it returns
// an error wrapping ErrNotBuiltIn ("target node not built in"), which a scenario run reports as
// its ERROR verdict.
func runNode(_ context.Context, c Config) (*Result, error) {
	return nil, fmt.Errorf("harness: target node %w (%v)", ErrNotBuiltIn, c.Target)
}
