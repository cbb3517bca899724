package faultinject

import "fmt"

// MayLoseRequests reports whether the plan's message faults may keep a
// worker's request from the master (a drop, or a corruption that ends
// the frame): then a fault aimed by progress may miss its point.
func (p *Plan) MayLoseRequests() bool {
	if p == nil {
		return false
	}
	for _, f := range p.Messages {
		if (f.Kind == Drop || f.Kind == Corrupt) && f.Dir != Replies {
			return true
		}
	}
	return false
}

// Down is why a process is down from a fault of the plan: the fault's
// index, and the fault.
type Down struct {
	Fault int
	Kind  ProcessKind
	// Master says the master's fault took the worker down with it.
	Master bool
}

// NotRunning says why a fault on target did not happen when its target
// was not running: down from an earlier fault (down, if not nil), or
// finished with its operations. Both modes say it alike.
func NotRunning(target string, down *Down) string {
	if down == nil {
		if target == MasterTarget {
			return "master was not running"
		}
		return target + " was not running: it had finished its operations"
	}
	return target + " was not running: " + down.String()
}

func (d *Down) String() string {
	switch {
	case d.Master && d.Kind == Kill:
		return fmt.Sprintf("killed with the master by processes[%d]", d.Fault)
	case d.Master:
		return fmt.Sprintf("down with the master, restarted by processes[%d]", d.Fault)
	case d.Kind == Kill:
		return fmt.Sprintf("killed by processes[%d] and not restarted", d.Fault)
	}
	return fmt.Sprintf("down, being restarted by processes[%d]", d.Fault)
}

// ProgressMissed says why a fault aimed at point a never came: the master
// received only received of a.Worker's requests on any one connection;
// the worker was killed for good (down, if not nil), or the plan's
// message faults lost some (lossy), or the workload ended (over says
// how). Both modes say it alike.
func ProgressMissed(a *Progress, received int, down *Down, lossy bool, over string) string {
	s := fmt.Sprintf("the master received only %d of %s's requests on any one connection, never request %d", received, a.Worker, a.Ops)
	switch {
	case down != nil && down.Kind == Kill:
		return s + "; " + a.Worker + " was " + down.String()
	case lossy:
		return s + " (the plan's message faults lost some of its requests; after counts the requests the master received)"
	}
	return s + " (" + over + ")"
}
