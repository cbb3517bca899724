package faultinject

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/history"
)

// KillProcess kills p, the process of target, with SIGKILL and waits for
// it to be reaped (at most 10 s). It returns the history event: kill, or
// master_kill for MasterTarget, at the time of the signal, ending when
// the process was gone. It returns ErrNotRunning if p has exited.
func KillProcess(target string, p Process) (history.Event, error) {
	if !running(p) {
		return history.Event{}, ErrNotRunning
	}
	t := history.Now()
	if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
		if errors.Is(err, syscall.ESRCH) && waitExit(p) == nil {
			return history.Event{}, ErrNotRunning // it died meanwhile
		}
		return history.Event{}, fmt.Errorf("kill %s (pid %d): %w", target, p.Pid(), err)
	}
	if err := waitExit(p); err != nil {
		return history.Event{}, fmt.Errorf("kill %s (pid %d): %w", target, p.Pid(), err)
	}
	e := processEvent(history.EventKill, target, t)
	e.End = history.Now()
	e.Text = fmt.Sprintf("SIGKILL to %s (pid %d)", target, p.Pid())
	return e, nil
}

// waitExit waits for p to be reaped, at most exitWait.
func waitExit(p Process) error {
	tm := time.NewTimer(exitWait)
	defer tm.Stop()
	select {
	case <-p.Done():
		return nil
	case <-tm.C:
		return fmt.Errorf("not reaped %v after SIGKILL", exitWait)
	}
}

// processEvent is an event of kind k on target at time t; the master's
// kill and restart have kinds of their own.
func processEvent(k history.EventKind, target string, t int64) history.Event {
	if target == MasterTarget {
		switch k {
		case history.EventKill:
			k = history.EventMasterKill
		case history.EventRestart:
			k = history.EventMasterRestart
		}
	}
	return history.Event{Kind: k, Time: t, Worker: target}
}
