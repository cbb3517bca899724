package harness

import (
	"context"
	"errors"
	"fmt"
	"os"

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
// master (or the Go reference master) and Node workers, driven by shmlab
// over a control socket, their journals merged into one history
// (node_run.go). It has Run's contract.
func runNode(ctx context.Context, c Config) (*Result, error) {
	sp, err := newSpec(&c)
	if err != nil {
		return nil, err
	}
	if len(c.Replay) > 0 {
		return nil, fmt.Errorf("%w: a replay of a fault log needs the reference's Go links", ErrNodeTarget)
	}
	if sp.Dir == "" {
		if sp.Dir, err = os.MkdirTemp("", "shmlab-harness-"); err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		defer os.RemoveAll(sp.Dir)
	}
	return runNodeTarget(ctx, sp, &c)
}
