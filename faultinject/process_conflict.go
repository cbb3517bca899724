package faultinject

import (
	"fmt"
	"time"
)

// forever stands for the end of a kill's window: the process stays dead.
const forever = time.Duration(1<<63 - 1)

// A Conflict is two process faults of a plan that cannot both happen as
// it says: a process takes one fault at a time.
type Conflict struct {
	Later, Earlier int    // the faults' indexes, Later > Earlier
	Why            string // why they cannot both happen
	later, earlier ProcessFault
}

func (c Conflict) String() string {
	return fmt.Sprintf("processes[%d] (%v) and processes[%d] (%v): %s; a process takes one fault at a time, so one of them could not happen as the plan says",
		c.Later, &c.later, c.Earlier, &c.earlier, c.Why)
}

// Conflicts returns the faults of fs that the plan alone shows cannot
// both happen, each later fault with the first earlier one it conflicts
// with. Faults aimed by time conflict when one's window, from its at to
// its end (at+for for a pause or a restart, for good for a kill; ends
// included, as the order of two actions at one time is not a thing to
// rely on), holds the other's at, on the same process, or on a worker of
// a master killed or restarted. Faults aimed at the same worker's
// progress conflict when they are at the same request on the same
// process, or one comes after a kill of its process at an earlier
// request. Faults aimed differently cannot be ordered from the plan, and
// are left to the run (which says if one did not happen).
func Conflicts(fs []ProcessFault) []Conflict {
	var out []Conflict
	for j := range fs {
		for i := range j {
			if why := overlap(&fs[i], &fs[j], i); why != "" {
				out = append(out, Conflict{Later: j, Earlier: i, Why: why, later: fs[j], earlier: fs[i]})
				break
			}
		}
	}
	return out
}

// overlap says why faults a (processes[i]) and b, b later in the plan,
// cannot both happen, or "".
func overlap(a, b *ProcessFault, i int) string {
	if (a.After == nil) != (b.After == nil) {
		return ""
	}
	if a.After != nil {
		if a.After.Worker != b.After.Worker || a.Target != b.Target {
			return ""
		}
		switch {
		case a.After.Ops == b.After.Ops:
			return fmt.Sprintf("both come at request %d of %s", a.After.Ops, a.After.Worker)
		case a.Kind == Kill && b.After.Ops > a.After.Ops:
			return fmt.Sprintf("%s is killed for good by processes[%d] at request %d of %s, before request %d", a.Target, i, a.After.Ops, a.After.Worker, b.After.Ops)
		case b.Kind == Kill && a.After.Ops > b.After.Ops:
			return fmt.Sprintf("%s is killed for good at request %d of %s, before request %d", b.Target, b.After.Ops, b.After.Worker, a.After.Ops)
		}
		return ""
	}
	for _, o := range [][2]*ProcessFault{{a, b}, {b, a}} {
		x, y := o[0], o[1]
		if !covers(x, y.Target) {
			continue
		}
		if end := window(x); y.At >= x.At && y.At <= end {
			if end == forever {
				return fmt.Sprintf("%s is killed for good at %v", y.Target, x.At)
			}
			if x.Kind == Pause {
				return fmt.Sprintf("%s is paused from %v to %v", y.Target, x.At, end)
			}
			return fmt.Sprintf("%s is down from %v to %v", y.Target, x.At, end)
		}
	}
	return ""
}

// covers reports whether fault f acts on the process named target: its
// own, or a worker of the master it kills or restarts. A poison takes no
// process down: it is covered, never covers.
func covers(f *ProcessFault, target string) bool {
	return f.Kind != Poison && (f.Target == target || (f.Target == MasterTarget && f.Kind != Pause))
}

// window is when fault f, aimed by time, ends: at+for, or forever for a
// kill.
func window(f *ProcessFault) time.Duration {
	if f.Kind == Kill {
		return forever
	}
	return f.At + f.For
}
