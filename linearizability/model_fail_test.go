package linearizability

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/history"
)

// TestCheckHoldsFailedAddsToAccount: an add that failed with overflow or
// not_integer is checked as what it says of the key's value, on the
// per-key model and on the bounded store's: a store that answers either
// where the add fits, or on an integer, is caught; where the value
// justifies it, the history passes. Another definite failure is still
// left out.
func TestCheckHoldsFailedAddsToAccount(t *testing.T) {
	set := func(v string) string {
		return fmt.Sprintf(`{"type":"op","id":1,"worker":"w1","method":"set","key":"k","input":{"value":%s},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}`, v)
	}
	add := func(delta int64, code string) string {
		return fmt.Sprintf(`{"type":"op","id":2,"worker":"w1","method":"add","key":"k","input":{"delta":%d},"output":{"error":{"code":%q}},"call":30,"return":40,"status":"fail"}`, delta, code)
	}
	get := func(v string) string {
		return fmt.Sprintf(`{"type":"op","id":3,"worker":"w2","method":"get","key":"k","output":{"value":%s},"call":50,"return":60,"status":"ok"}`, v)
	}
	for _, tc := range []struct {
		name  string
		lines []string
		want  Verdict
	}{
		{"overflow past int64's greatest", []string{set("9223372036854775807"), add(1, "overflow"), get("9223372036854775807")}, Ok},
		{"overflow past int64's least", []string{set("-9223372036854775808"), add(-1, "overflow"), get("-9223372036854775808")}, Ok},
		{"overflow where the add fits", []string{set("9223372036854775806"), add(1, "overflow"), get("9223372036854775806")}, Illegal},
		{"overflow of a negative delta that fits", []string{set("9223372036854775807"), add(-9223372036854775808, "overflow"), get("9223372036854775807")}, Illegal},
		{"overflow on a string", []string{set(`"x"`), add(1, "overflow"), get(`"x"`)}, Illegal},
		{"not_integer on a string", []string{set(`"x"`), add(1, "not_integer"), get(`"x"`)}, Ok},
		{"not_integer on 1.0", []string{set("1.0"), add(1, "not_integer"), get("1.0")}, Ok},
		{"not_integer on 1e2", []string{set("1e2"), add(1, "not_integer"), get("1e2")}, Ok},
		{"not_integer past int64", []string{set("9223372036854775808"), add(-1, "not_integer"), get("9223372036854775808")}, Ok},
		{"not_integer on an integer", []string{set("5"), add(1, "not_integer"), get("5")}, Illegal},
		{"not_integer on -0", []string{set("-0"), add(1, "not_integer"), get("-0")}, Illegal},
		{"not_integer on int64's greatest", []string{set("9223372036854775807"), add(1, "not_integer"), get("9223372036854775807")}, Illegal},
		{"another failure says nothing", []string{set("5"), add(1, "overloaded"), get("5")}, Ok},
	} {
		for _, limits := range []string{"", `,"store":{"max_entries":4}`} {
			name := tc.name
			if limits != "" {
				name += ", bounded store"
			}
			t.Run(name, func(t *testing.T) {
				text := `{"type":"header","format":"shmlab-history","version":1,"model":"kv"` + limits + "}\n" + strings.Join(tc.lines, "\n") + "\n"
				h, err := history.Read(strings.NewReader(text), "h.jsonl")
				if err != nil {
					t.Fatal(err)
				}
				if r := Check(h, Options{}); r.Linearizable != tc.want {
					t.Errorf("%v, want %v (%+v)", r.Linearizable, tc.want, r.Keys)
				}
			})
		}
	}
}
