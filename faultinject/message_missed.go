package faultinject

import (
	"fmt"
	"strings"
)

// MissedMessages returns why each message fault of p that fired on no
// message of a run did not happen, given the run's records (a fault
// fired if some record's Decision.Fired names its index); nil if every
// one fired. A planned fault that never fired leaves the run untested
// for it, like a process fault that did not happen: a pass would claim
// what the run did not show.
func MissedMessages(p *Plan, recs []Record) []string {
	if p == nil || len(p.Messages) == 0 {
		return nil
	}
	fired := make([]bool, len(p.Messages))
	named := false // some record names a method or key
	for i := range recs {
		for _, f := range recs[i].Decision.Fired {
			if f >= 0 && f < len(fired) {
				fired[f] = true
			}
		}
		named = named || recs[i].Msg.Method != "" || recs[i].Msg.Key != ""
	}
	var out []string
	for i := range p.Messages {
		if !fired[i] {
			out = append(out, p.Messages[i].missedWhy(i, named || len(recs) == 0))
		}
	}
	return out
}

// missedWhy says why message fault i never fired; named says whether the
// run's messages were seen to name their method and key.
func (f *MessageFault) missedWhy(i int, named bool) string {
	why := "no message it aims at came, or none drew a hit: raise its p, or the operations"
	if !named && (f.Target.Method != "" || f.Target.Key != "") {
		why = "it aims at a method or key, and the target's messages name neither (a wire format of its own): aim it by worker, nth or time"
	}
	return fmt.Sprintf("messages[%d] (%s) never fired: %s", i, f, why)
}

// String describes f in a line: its kind, probability and aim.
func (f *MessageFault) String() string {
	parts := []string{string(f.Kind)}
	if f.Kind == Corrupt && f.Corruption != "" {
		parts = append(parts, string(f.Corruption))
	}
	if f.P > 0 {
		parts = append(parts, fmt.Sprintf("p %g", f.P))
	}
	if f.Dir != "" {
		parts = append(parts, string(f.Dir))
	}
	t := f.Target
	for _, kv := range [][2]string{{"worker", t.Worker}, {"method", t.Method}, {"key", t.Key}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if t.Nth > 0 {
		parts = append(parts, fmt.Sprintf("nth %d", t.Nth))
	}
	if t.From > 0 || t.Until > 0 {
		parts = append(parts, fmt.Sprintf("from %v until %v", t.From, t.Until))
	}
	return strings.Join(parts, " ")
}
