package faultinject

import (
	"fmt"

	"github.com/shmlab/shmlab/history"
)

// RestartProcess starts target's process again through ts, killing its
// current one first if it runs. It returns the new process and the
// history events: the kill if there was one, then restart (for a worker,
// a new incarnation under the same name) or, for MasterTarget,
// master_restart with Reset true, since a master's store lives in its
// memory. The restart event's time is taken after the old process was
// reaped and before the new one starts, so that it separates the two
// epochs of a master.
func RestartProcess(target string, ts Targets) (Process, []history.Event, error) {
	var events []history.Event
	if old := ts.Process(target); running(old) {
		e, err := KillProcess(target, old)
		if err != nil {
			return nil, nil, err
		}
		events = append(events, e)
	}
	e := processEvent(history.EventRestart, target, history.Now())
	e.Reset = target == MasterTarget
	p, err := ts.Start(target)
	if err != nil {
		return nil, events, fmt.Errorf("restart %s: %w", target, err)
	}
	e.Text = fmt.Sprintf("%s started again (pid %d)", target, p.Pid())
	if e.Reset {
		e.Text += ", with an empty store"
	}
	return p, append(events, e), nil
}
