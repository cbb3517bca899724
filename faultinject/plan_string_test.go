package faultinject_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/spec"
)

// everyField is a plan with a value in every field String writes.
func everyField() *faultinject.Plan {
	return &faultinject.Plan{Seed: 7,
		Messages: []faultinject.MessageFault{
			{Kind: faultinject.Drop, Dir: faultinject.Requests, P: 0.25, Target: faultinject.Target{Worker: "w1", Method: "set",
				Key: "a key: \"quoted\"", Nth: 3, From: time.Millisecond, Until: 1500 * time.Microsecond}},
			{Kind: faultinject.Delay, Target: faultinject.Target{Nth: 1}, Delay: faultinject.Dist{Kind: faultinject.Exponential, Mean: 2 * time.Millisecond, Cap: time.Second}},
			{Kind: faultinject.Duplicate, Dir: faultinject.Replies, P: 1, Copies: 2, Hold: 64, Target: faultinject.Target{Key: "true"}},
			{Kind: faultinject.Delay, P: 0.1, Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: time.Millisecond, Max: 50 * time.Millisecond}},
			{Kind: faultinject.Corrupt, Corruption: faultinject.CorruptID, Dir: faultinject.Replies, P: 0.5},
		},
		Processes: []faultinject.ProcessFault{
			{Kind: faultinject.Kill, Target: "w2", At: 0},
			{Kind: faultinject.Restart, Target: "w1", After: &faultinject.Progress{Worker: "w1", Ops: 4}, For: 10 * time.Millisecond},
			{Kind: faultinject.Pause, Target: faultinject.MasterTarget, At: 300 * time.Microsecond, For: time.Second},
		},
		Bytes: []faultinject.ByteFault{
			{Kind: faultinject.ByteStall, Worker: "w1", Conn: 2, At: 10, For: time.Millisecond},
			{Kind: faultinject.ByteBitFlip, Side: faultinject.ReadSide, P: 0.001},
		},
	}
}

// TestEveryFieldIsSet: everyField sets every field of every kind of
// fault at least once, so that a field added to a fault and not to
// String fails TestPlanStringIsTheFileFormat.
func TestEveryFieldIsSet(t *testing.T) {
	p := everyField()
	seen := map[string]bool{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := range v.NumField() {
			f, name := v.Field(i), prefix+v.Type().Field(i).Name
			seen[name] = seen[name] || !f.IsZero()
			if f.Kind() == reflect.Pointer && !f.IsNil() {
				f = f.Elem()
			}
			if f.Kind() == reflect.Struct {
				walk(name+".", f)
			}
		}
	}
	for _, fs := range []any{p.Messages, p.Processes, p.Bytes} {
		v := reflect.ValueOf(fs)
		for i := range v.Len() {
			walk(v.Index(i).Type().Name()+".", v.Index(i))
		}
	}
	for name, set := range seen {
		if !set {
			t.Errorf("everyField leaves %s zero", name)
		}
	}
}

// TestPlanStringIsTheFileFormat: a plan's String, as a scenario file's
// faults section, reads back to the same plan.
func TestPlanStringIsTheFileFormat(t *testing.T) {
	for name, p := range map[string]*faultinject.Plan{
		"every field": everyField(),
		"seed alone":  {Seed: 1},
		"messages":    {Messages: everyField().Messages},
	} {
		t.Run(name, func(t *testing.T) {
			text := p.String()
			for _, line := range strings.Split(text, "\n") {
				if strings.HasPrefix(line, "  - ") && strings.Count(line, "kind:") < 1 {
					t.Errorf("a fault's line names no kind: %q", line)
				}
			}
			src := "name: x\nmode: process\nworkers: 2\nfaults:\n  " + strings.ReplaceAll(text, "\n", "\n  ") + "\n"
			sc, err := spec.Parse("plan.yaml", []byte(src))
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			if diff := cmp.Diff(*p, sc.Faults); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\nfrom:\n%s", diff, src)
			}
		})
	}
}

// TestPlanGoString: %#v writes a plan, alone or as a field, on one line
// in String's words, and a nil plan as a nil pointer.
func TestPlanGoString(t *testing.T) {
	type holder struct{ Plan *faultinject.Plan }
	p := &faultinject.Plan{Seed: 1, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Drop, Dir: faultinject.Requests, Target: faultinject.Target{Worker: "w1", Nth: 2}}}}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"plan", p, "&faultinject.Plan{seed: 1, messages: [{kind: drop, dir: requests, target: {worker: w1, nth: 2}}]}"},
		{"field", holder{p}, "faultinject_test.holder{Plan:&faultinject.Plan{seed: 1, messages: [{kind: drop, dir: requests, target: {worker: w1, nth: 2}}]}}"},
		{"nil", (*faultinject.Plan)(nil), "(*faultinject.Plan)(nil)"},
		{"nil field", holder{}, "faultinject_test.holder{Plan:(*faultinject.Plan)(nil)}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, fmt.Sprintf("%#v", tc.v)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct {
		p    *faultinject.Plan
		want string
	}{{nil, "<nil>"}, {&faultinject.Plan{}, "{}"}} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%#v.String() is %q, want %q", tc.p, got, tc.want)
		}
	}
}

// A plan prints in a scenario file's words, a fault a line.
func ExamplePlan_String() {
	p := &faultinject.Plan{Seed: 1,
		Messages: []faultinject.MessageFault{
			{Kind: faultinject.Drop, Dir: faultinject.Requests, Target: faultinject.Target{Worker: "w1", Nth: 3}},
			{Kind: faultinject.Delay, P: 0.1, Delay: faultinject.Dist{Kind: faultinject.Fixed, Min: 5 * time.Millisecond}},
		},
		Processes: []faultinject.ProcessFault{{Kind: faultinject.Kill, Target: "w2", At: 2 * time.Millisecond}},
	}
	fmt.Println(p)
	// Output:
	// seed: 1
	// messages:
	//   - {kind: drop, dir: requests, target: {worker: w1, nth: 3}}
	//   - {kind: delay, p: 0.1, delay: {kind: fixed, min: 5ms}}
	// processes:
	//   - {kind: kill, target: w2, at: 2ms}
}
