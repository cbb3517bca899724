package scenarios

import (
	"testing"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/internal/patience"
	"github.com/shmlab/shmlab/linearizability"
)

// TestNodeRefusalsRecorded: the bundled node-reference-refused reaches
// what it is there for. Its Node client's promises reject on the Go
// master's refusals (an add on a key holding a string: not_integer), and
// the history records each as the definite failure it is, beside adds on
// absent keys that answer; with the call timeout given patience, no call
// is left unknown. A Node driver that lost a rejection would leave its
// call to time out, which the liveness check reports in this fault-free
// run as never answered.
func TestNodeRefusalsRecorded(t *testing.T) {
	nodetest.Node(t)
	sc := *bundledNamed(t, "node-reference-refused")
	sc.Timeout = patience.Bound(200 * time.Millisecond) // the default, for a busy machine
	for _, seed := range sc.Seeds.All() {
		o := Run(runCtx(t), &sc, Process, seed)
		if o.Err != nil {
			t.Fatalf("seed %d: %v", seed, o.Err)
		}
		if o.Verdict() != linearizability.Ok {
			t.Fatalf("seed %d: %v\n%s", seed, o.Check, o.Check.Details())
		}
		refused, added := 0, 0
		for _, op := range o.History.Ops {
			switch {
			case op.Status == history.StatusUnknown:
				t.Errorf("seed %d: %s is unknown, want every call answered", seed, &op)
			case op.Method != history.Add:
			case op.Status == history.StatusFail && op.Output.Error != nil && op.Output.Error.Code == "not_integer":
				refused++
			case op.Status == history.StatusOK:
				added++
			default:
				t.Errorf("seed %d: %s, want ok or a not_integer failure", seed, &op)
			}
		}
		if refused == 0 || added == 0 {
			t.Errorf("seed %d: %d adds refused (not_integer), %d answered; want some of each", seed, refused, added)
		}
	}
}
