package faultinject_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
)

// TestMissedMessages: a message fault that no record shows firing is
// missed, with why; one that fired is not.
func TestMissedMessages(t *testing.T) {
	plan := &faultinject.Plan{Messages: []faultinject.MessageFault{
		{Kind: faultinject.Drop, P: 0.5},
		{Kind: faultinject.Delay, P: 0.1, Target: faultinject.Target{Method: "get"}},
		{Kind: faultinject.Duplicate, Target: faultinject.Target{Worker: "w2", Nth: 3}},
	}}
	fired := func(method string, idx ...int) faultinject.Record {
		return faultinject.Record{Msg: faultinject.Message{Method: method}, Decision: faultinject.Decision{Fired: idx}}
	}
	for _, tc := range []struct {
		name string
		recs []faultinject.Record
		want []string // a part of each reason, in order
	}{
		{"all fired", []faultinject.Record{fired("set", 0), fired("get", 1, 2)}, nil},
		{"none fired", nil, []string{
			"messages[0] (drop p 0.5) never fired: no message it aims at came",
			"messages[1] (delay p 0.1 method get) never fired: no message it aims at came",
			"messages[2] (duplicate worker w2 nth 3) never fired"}},
		{"messages name no method", []faultinject.Record{fired("", 0, 2)}, []string{
			"messages[1] (delay p 0.1 method get) never fired: it aims at a method or key, and the target's messages name neither"}},
		{"an index out of the plan", []faultinject.Record{fired("get", 0, 1, 2, 7, -1)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := faultinject.MissedMessages(plan, tc.recs)
			if len(got) != len(tc.want) {
				t.Fatalf("missed %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("missed[%d] = %q, want it to say %q", i, got[i], w)
				}
			}
		})
	}
	if diff := cmp.Diff([]string(nil), faultinject.MissedMessages(nil, nil)); diff != "" {
		t.Errorf("nil plan: mismatch (-want +got)\n%s", diff)
	}
}
