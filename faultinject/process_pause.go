package faultinject

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/history"
)

// PauseProcess stops p, the process of target, with SIGSTOP. It returns
// the pause event, at the time of the signal and ending when the pause
// is meant to (d later). It returns ErrNotRunning if p has exited. The
// caller resumes p (Resume); ApplyProcesses does it after d.
func PauseProcess(target string, p Process, d time.Duration) (history.Event, error) {
	if !running(p) {
		return history.Event{}, ErrNotRunning
	}
	t := history.Now()
	if err := syscall.Kill(p.Pid(), syscall.SIGSTOP); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return history.Event{}, ErrNotRunning // reaped meanwhile
		}
		return history.Event{}, fmt.Errorf("pause %s (pid %d): %w", target, p.Pid(), err)
	}
	e := processEvent(history.EventPause, target, t)
	e.End = t + int64(d)
	e.Text = fmt.Sprintf("SIGSTOP to %s (pid %d) for %v", target, p.Pid(), d)
	return e, nil
}

// Resume resumes p, the process of target, with SIGCONT. It returns the
// resume event, at the time of the signal, or ErrNotRunning if p has
// exited meanwhile.
func Resume(target string, p Process) (history.Event, error) {
	if !running(p) {
		return history.Event{}, ErrNotRunning
	}
	t := history.Now()
	if err := syscall.Kill(p.Pid(), syscall.SIGCONT); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return history.Event{}, ErrNotRunning // reaped meanwhile
		}
		return history.Event{}, fmt.Errorf("resume %s (pid %d): %w", target, p.Pid(), err)
	}
	e := processEvent(history.EventResume, target, t)
	e.Text = fmt.Sprintf("SIGCONT to %s (pid %d)", target, p.Pid())
	return e, nil
}
