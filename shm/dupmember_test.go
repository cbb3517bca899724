package shm

import (
	"fmt"
	"strings"
	"testing"
)

// dupValues are values holding a duplicate member somewhere, with the
// name the refusal must give.
var dupValues = []struct {
	name, value, member string
}{
	{"top of the value", `{"a":1,"a":2}`, `"a"`},
	{"same value twice", `{"a":1,"a":1}`, `"a"`},
	{"nested in an object", `{"x":{"b":1,"c":2,"b":3}}`, `"b"`},
	{"nested in an array", `[1,[{"z":null}],{"q":[],"q":{}}]`, `"q"`},
	{"escaped spelling", `{"a":1,"\u0061":2}`, `"a"`},
	{"lone surrogate spelled twice", `{"\ud800":1,"\uD800":2}`, `"\xed\xa0\x80"`},
	{"past the small set", manyMembers(20) + `,"m3":0}`, `"m3"`},
	{"deep", strings.Repeat(`{"d":`, 100) + `{"e":1,"e":2}` + strings.Repeat(`}`, 100), `"e"`},
	{"with white space", `{ "a" : 1 , "a" : 2 }`, `"a"`},
}

// manyMembers returns an object of n distinct members, without its '}'.
func manyMembers(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"m%d":%d`, i, i)
	}
	return b.String()
}

// TestDuplicateMembersRefusedEverywhere: a value with a duplicate member
// at any depth is refused with a definite bad_request naming the member,
// by the value parser, the JSON and compact decoders, the master over
// both codecs and the Go client; values that only look alike pass.
func TestDuplicateMembersRefusedEverywhere(t *testing.T) {
	for _, tc := range dupValues {
		t.Run(tc.name, func(t *testing.T) {
			want := "duplicate member " + tc.member
			if _, err := ParseValue([]byte(tc.value)); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ParseValue: error %v, want one mentioning %s", err, want)
			}
			set := Message{Kind: KindRequest, Method: MethodSet, Seq: 9, Key: []byte("k"), Value: Value(tc.value), Has: HasSeq | HasKey | HasValue}
			var m Message
			var scratch []byte
			DecodeFrame(AppendFrame(nil, &set)[:len(AppendFrame(nil, &set))-1], &m, &scratch)
			wantRefusal(t, "DecodeFrame", m.Err, want)
			DecodeCompact(AppendCompact(nil, &set)[compactHeader:], &m, &scratch)
			wantRefusal(t, "DecodeCompact", m.Err, want)
			for _, compact := range []bool{false, true} {
				mst, c := pairClient(t, ClientOptions{}, compact)
				err := c.Set(t.Context(), "k", Value(tc.value))
				e, _ := err.(*Error)
				wantRefusal(t, fmt.Sprintf("Client.Set (compact %v)", compact), e, want)
				if _, ok := mst.Get("k"); ok {
					t.Errorf("compact %v: the value was stored", compact)
				}
				mst.Close()
			}
		})
	}
}

func wantRefusal(t *testing.T, what string, err *Error, want string) {
	t.Helper()
	if err == nil || err.Code != CodeBadRequest || !err.Definite || !strings.Contains(err.Message, want) {
		t.Errorf("%s: error %v, want a definite bad_request mentioning %s", what, err, want)
	}
}

// TestDistinctMembersAccepted: names that differ, in one object or in
// sibling objects, are not duplicates.
func TestDistinctMembersAccepted(t *testing.T) {
	for _, v := range []string{
		`{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`,
		`{"a":1,"A":2,"\u00e9":3,"é":4}`[:len(`{"a":1,"A":2,"\u00e9":3`)] + `}`,
		`{"\ud800":1,"\udc00":2}`,
		manyMembers(1000) + `}`,
		`{}`, `[{},{}]`,
	} {
		if _, err := ParseValue([]byte(v)); err != nil {
			t.Errorf("ParseValue(%.60s): %v", v, err)
		}
	}
}
