package scenarios

import (
	"testing"

	"github.com/shmlab/shmlab/history"
)

// TestDedupWindowAfterJump: in dedup-window, w1's fourth call is applied
// under an id moved ahead by a corrupt-id, so it times out; every write
// w1 makes after it is answered (none expired), under a header whose
// dedup window no such move can slide past an id in flight.
func TestDedupWindowAfterJump(t *testing.T) {
	o := runAimed(t, "dedup-window", Sim, 1)
	h := o.History
	if h.Header.DedupWindow < 2*history.CorruptIDShift {
		t.Fatalf("header dedup_window %d, want at least %d", h.Header.DedupWindow, 2*history.CorruptIDShift)
	}
	w1 := h.WorkerOps("w1")
	if len(w1) < 12 {
		t.Fatalf("w1 made %d calls, want at least 12", len(w1))
	}
	jumped := w1[3]
	if jumped.Status != history.StatusUnknown || jumped.Output.Error == nil || jumped.Output.Error.Code != "timeout" {
		t.Errorf("w1's call 4 is %s (%v), want unknown, timed out: its reply carried the moved id", jumped.Status, jumped.Output.Error)
	}
	named := false
	for _, e := range h.Events {
		named = named || (e.Kind == history.EventFault && e.Fault == "corrupt-id" && e.Op == jumped.ID)
	}
	if !named {
		t.Errorf("no corrupt-id event names w1's call 4 (#%d)", jumped.ID)
	}
	for _, op := range w1[4:] {
		if op.Status != history.StatusOK {
			t.Errorf("%s is %s (%v) after the jump, want ok", &op, op.Status, op.Output.Error)
		}
	}
}
