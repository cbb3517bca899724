package workload

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// TestGeneratorRepeats: the same seed, worker, generation and incarnation
// draw the same operations; another incarnation draws other values.
func TestGeneratorRepeats(t *testing.T) {
	draw := func(inc uint64) []Op {
		g := New(7, "w1", 1, inc, []string{"a", "b"}, Mix{})
		ops := make([]Op, 50)
		for i := range ops {
			ops[i] = g.Next()
			g.Observe(&ops[i], history.StatusOK, history.Output{Value: []byte("1")})
		}
		return ops
	}
	a, b := draw(1), draw(1)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("mismatch (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, ops := range [][]Op{a, draw(2)} {
		for _, o := range ops {
			if o.Value != nil && o.Method == history.Set {
				if seen[string(o.Value)] {
					t.Fatalf("value %s written twice", o.Value)
				}
				seen[string(o.Value)] = true
			}
		}
	}
}

func TestRequest(t *testing.T) {
	tests := []struct {
		op   Op
		want shm.Message
	}{
		{Op{Method: history.Get, Key: "k"}, shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Key: []byte("k"), Has: shm.HasKey}},
		{Op{Method: history.Set, Key: "k", Value: shm.Int(3)}, shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Key: []byte("k"), Value: shm.Int(3), Has: shm.HasKey | shm.HasValue}},
		{Op{Method: history.Add, Key: "k", Delta: 2}, shm.Message{Kind: shm.KindRequest, Method: shm.MethodAdd, Key: []byte("k"), Delta: 2, Has: shm.HasKey | shm.HasDelta}},
		{Op{Method: history.CAS, Key: "k", Value: shm.Int(3)}, shm.Message{Kind: shm.KindRequest, Method: shm.MethodCAS, Key: []byte("k"), Value: shm.Int(3), Has: shm.HasKey | shm.HasValue}},
		{Op{Method: history.CAS, Key: "k", Old: shm.Int(1), Value: shm.Int(3)}, shm.Message{Kind: shm.KindRequest, Method: shm.MethodCAS, Key: []byte("k"), Old: shm.Int(1), Value: shm.Int(3), Has: shm.HasKey | shm.HasValue | shm.HasOld}},
		{Op{Method: history.Delete, Key: "k"}, shm.Message{Kind: shm.KindRequest, Method: shm.MethodDelete, Key: []byte("k"), Has: shm.HasKey}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.op.Request()); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.op.Method, diff)
		}
	}
}

func TestOutcome(t *testing.T) {
	timeout := &shm.Error{Code: shm.CodeTimeout, Message: "late"}
	tests := []struct {
		name string
		rep  shm.Message
		err  error
		st   history.Status
		code string
	}{
		{"value", shm.Message{Value: shm.Int(5), Has: shm.HasValue}, nil, history.StatusOK, ""},
		{"absent", shm.Message{}, nil, history.StatusOK, ""},
		{"definite", shm.Message{Err: &shm.Error{Code: shm.CodeBadRequest, Definite: true}}, nil, history.StatusFail, shm.CodeBadRequest},
		{"indefinite", shm.Message{}, timeout, history.StatusUnknown, shm.CodeTimeout},
		{"other error", shm.Message{}, errors.New("boom"), history.StatusUnknown, "error"},
	}
	for _, tt := range tests {
		st, out := Outcome(&tt.rep, tt.err)
		code := ""
		if out.Error != nil {
			code = out.Error.Code
		}
		if st != tt.st || code != tt.code || (st == history.StatusOK && string(out.Value) != string(tt.rep.Value)) {
			t.Errorf("%s: got %s %s %s, want %s %s", tt.name, st, code, out.Value, tt.st, tt.code)
		}
	}
}

// TestShape: a hot key takes its share, values have the sizes asked and
// start with a unique number, and writes carry the TTL.
func TestShape(t *testing.T) {
	g := NewShaped(3, "w1", 1, 1, []string{"hot", "b", "c"}, Mix{Set: 1}, Shape{Hot: 0.8, ValueMin: 10, ValueMax: 40, TTL: 1500 * time.Millisecond})
	hot, seen := 0, map[string]bool{}
	for range 2000 {
		o := g.Next()
		if o.Key == "hot" {
			hot++
		}
		if n := len(o.Value); n < 10 || n > 40 {
			t.Fatalf("value %s is %d bytes, want 10 to 40", o.Value, n)
		}
		if _, err := shm.ParseValue(o.Value); err != nil {
			t.Fatalf("value %s: %v", o.Value, err)
		}
		prefix := strings.SplitN(string(o.Value), "-", 2)[0]
		if seen[prefix] {
			t.Fatalf("value %s repeats a writer's number", o.Value)
		}
		seen[prefix] = true
		if o.TTLms != 1500 || o.Input().TTL != 1500 || o.Request().TTL != 1500 {
			t.Fatalf("op %+v lacks its ttl", o)
		}
	}
	if hot < 1500 || hot > 1700 {
		t.Errorf("hot key drawn %d times of 2000, want about 1600", hot)
	}
	for _, bad := range []Shape{{Hot: 1.5}, {ValueMin: 5, ValueMax: 2}, {ValueMax: MaxValueBytes + 1}, {TTL: time.Microsecond}, {Falsy: -0.1}, {Falsy: 1.1}, {TTLShare: -0.1}, {TTLShare: 1.1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

// TestTTLShare: a TTL share gives the TTL to about that share of the
// writes (set and cas) and none to the others; reads and adds never have
// one; and a share of 1 draws the same operations as none at all.
func TestTTLShare(t *testing.T) {
	keys, mix := []string{"a", "b"}, Mix{Get: 1, Set: 2, Add: 1, CAS: 2}
	g := NewShaped(7, "w1", 1, 1, keys, mix, Shape{TTL: 3 * time.Millisecond, TTLShare: 0.4})
	timed, writes := 0, 0
	for range 3000 {
		o := g.Next()
		switch {
		case o.Value == nil && o.TTLms != 0:
			t.Fatalf("%s has a ttl", o.Method)
		case o.Value == nil:
		case o.TTLms == 3:
			timed++
			writes++
		case o.TTLms == 0:
			writes++
		default:
			t.Fatalf("%s has a ttl of %dms, want 3ms or none", o.Method, o.TTLms)
		}
	}
	if lo, hi := writes*3/10, writes*5/10; timed < lo || timed > hi {
		t.Errorf("%d of %d writes have the ttl at a share of 0.4, want %d to %d", timed, writes, lo, hi)
	}
	all := NewShaped(7, "w1", 1, 1, keys, mix, Shape{TTL: 3 * time.Millisecond})
	one := NewShaped(7, "w1", 1, 1, keys, mix, Shape{TTL: 3 * time.Millisecond, TTLShare: 1})
	for i := range 500 {
		if diff := cmp.Diff(all.Next(), one.Next()); diff != "" {
			t.Fatalf("op %d: a share of 1 drew another op than none: mismatch (-want +got):\n%s", i, diff)
		}
	}
}

// TestFalsy: a Falsy share writes 0, "" and false, each about a third of
// that share, and unique values otherwise.
func TestFalsy(t *testing.T) {
	g := NewShaped(5, "w1", 1, 1, []string{"k"}, Mix{Set: 1, CAS: 1}, Shape{Falsy: 0.3})
	got := map[string]int{}
	for range 3000 {
		o := g.Next()
		switch v := string(o.Value); v {
		case "0", `""`, "false":
			got[v]++
		default:
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				t.Fatalf("value %s is neither falsy nor a unique integer", v)
			}
		}
	}
	for _, v := range []string{"0", `""`, "false"} {
		if got[v] < 200 || got[v] > 400 {
			t.Errorf("%s written %d times of 3000 at a share of 0.3, want about 300", v, got[v])
		}
	}
}
