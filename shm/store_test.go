package shm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/shmlab/shmlab/shm"
)

const ms = int64(1e6) // nanoseconds in a millisecond

// Request builders. The uuid comes first, as on the wire.

func get(seq uint64, key string) shm.Message { return shm.Request(shm.MethodGet, seq, key) }
func del(seq uint64, key string) shm.Message { return shm.Request(shm.MethodDelete, seq, key) }
func add(seq uint64, key string) shm.Message { return shm.Request(shm.MethodAdd, seq, key) }
func length(seq uint64) shm.Message          { return shm.Request(shm.MethodLen, seq, "") }
func keys(seq uint64) shm.Message            { return shm.Request(shm.MethodKeys, seq, "") }

func set(seq uint64, key, val string) shm.Message {
	m := shm.Request(shm.MethodSet, seq, key)
	m.Value, m.Has = shm.Value(val), m.Has|shm.HasValue
	return m
}

func setTTL(seq uint64, key, val string, ttl int64) shm.Message {
	m := set(seq, key, val)
	m.TTL, m.Has = ttl, m.Has|shm.HasTTL
	return m
}

// casNew is a cas without "old": it expects the key to be missing.
func casNew(seq uint64, key, val string) shm.Message {
	m := shm.Request(shm.MethodCAS, seq, key)
	m.Value, m.Has = shm.Value(val), m.Has|shm.HasValue
	return m
}

func cas(seq uint64, key, old, val string) shm.Message {
	m := casNew(seq, key, val)
	m.Old, m.Has = shm.Value(old), m.Has|shm.HasOld
	return m
}

func addN(seq uint64, key string, delta int64) shm.Message {
	m := add(seq, key)
	m.Delta, m.Has = delta, m.Has|shm.HasDelta
	return m
}

func withTTL(m shm.Message, ttl int64) shm.Message {
	m.TTL, m.Has = ttl, m.Has|shm.HasTTL
	return m
}

func withAck(m shm.Message, ack uint64) shm.Message {
	m.Ack, m.Has = ack, m.Has|shm.HasAck
	return m
}

func without(m shm.Message, bits uint16) shm.Message {
	m.Has &^= bits
	return m
}

// summary is a reply in one word: the value's JSON text, <missing>, or
// error:<code>, with (indefinite) for an indefinite error.
func summary(rep shm.Message) string {
	switch {
	case rep.Err != nil && rep.Err.Definite:
		return "error:" + rep.Err.Code
	case rep.Err != nil:
		return "error:" + rep.Err.Code + "(indefinite)"
	case rep.Has&shm.HasValue != 0:
		return string(rep.Value)
	}
	return "<missing>"
}

// step is one request at a time, in nanoseconds, from a sender.
type step struct {
	at   int64
	from shm.Identity
	req  shm.Message
	want string
}

// applyAll runs steps on s, checks that every reply echoes its request's
// uuid, and returns the replies' summaries.
func applyAll(t *testing.T, name string, s *shm.Store, steps []step) (got, want []string) {
	t.Helper()
	for i, st := range steps {
		rep := s.Apply(st.at, st.from, &st.req)
		if rep.Kind != shm.KindReply || (st.req.Has&shm.HasSeq != 0 && (rep.Seq != st.req.Seq || rep.Has&shm.HasSeq == 0)) {
			t.Errorf("%s: step %d: reply %+v does not answer uuid %d", name, i, rep, st.req.Seq)
		}
		got = append(got, fmt.Sprintf("%d %s", i, summary(rep)))
		want = append(want, fmt.Sprintf("%d %s", i, st.want))
	}
	return got, want
}

func runSteps(t *testing.T, name string, opts shm.StoreOptions, steps []step) *shm.Store {
	t.Helper()
	s := shm.NewStore(opts)
	got, want := applyAll(t, name, s, steps)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: replies mismatch (-want +got):\n%s", name, diff)
	}
	return s
}

func TestStoreApply(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"get missing", []step{
			{req: get(1, "a"), want: "<missing>"},
		}},
		{"set then get", []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: get(2, "a"), want: "1"},
		}},
		{"set overwrites", []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "a", `{"b":[2]}`), want: `"OK"`},
			{req: get(3, "a"), want: `{"b":[2]}`},
		}},
		{"delete", []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: del(2, "a"), want: "true"},
			{req: del(3, "a"), want: "false"},
			{req: get(4, "a"), want: "<missing>"},
			{req: del(5, "never"), want: "false"},
		}},
		{"cas without old expects missing", []step{
			{req: casNew(1, "a", "1"), want: "true"},
			{req: get(2, "a"), want: "1"},
			{req: casNew(3, "a", "2"), want: "false"},
			{req: get(4, "a"), want: "1"},
		}},
		{"cas with old", []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: cas(2, "a", "1", "2"), want: "true"},
			{req: cas(3, "a", "1", "3"), want: "false"},
			{req: get(4, "a"), want: "2"},
			{req: cas(5, "b", "null", "1"), want: "false"},
			{req: get(6, "b"), want: "<missing>"},
		}},
		{"cas compares compact text", []step{
			{req: set(1, "a", "1.0"), want: `"OK"`},
			{req: cas(2, "a", "1", "2"), want: "false"},
			{req: cas(3, "a", "1.0", "2"), want: "true"},
		}},
		{"null is not missing", []step{
			{req: set(1, "a", "null"), want: `"OK"`},
			{req: casNew(2, "a", "1"), want: "false"},
			{req: cas(3, "a", "null", "1"), want: "true"},
			{req: get(4, "a"), want: "1"},
		}},
		{"add counts from 0 with default delta 1", []step{
			{req: add(1, "n"), want: "1"},
			{req: add(2, "n"), want: "2"},
			{req: addN(3, "n", 10), want: "12"},
			{req: addN(4, "n", -20), want: "-8"},
			{req: addN(5, "m", 0), want: "0"},
			{req: get(6, "m"), want: "0"},
			{req: get(7, "n"), want: "-8"},
		}},
		{"add on integers written oddly", []step{
			{req: set(1, "z", "-0"), want: `"OK"`},
			{req: add(2, "z"), want: "1"},
		}},
		{"add on non-integers", []step{
			{req: set(1, "s", `"5"`), want: `"OK"`},
			{req: add(2, "s"), want: "error:not_integer"},
			{req: get(3, "s"), want: `"5"`},
			{req: set(4, "f", "1.5"), want: `"OK"`},
			{req: add(5, "f"), want: "error:not_integer"},
			{req: set(6, "e", "1e2"), want: `"OK"`},
			{req: add(7, "e"), want: "error:not_integer"},
			{req: set(8, "t", "true"), want: `"OK"`},
			{req: add(9, "t"), want: "error:not_integer"},
			{req: set(10, "n", "null"), want: `"OK"`},
			{req: add(11, "n"), want: "error:not_integer"},
			{req: set(12, "a", "[1]"), want: `"OK"`},
			{req: add(13, "a"), want: "error:not_integer"},
			{req: set(14, "b", "123456789012345678901234567890"), want: `"OK"`},
			{req: add(15, "b"), want: "error:not_integer"},
			{req: get(16, "b"), want: "123456789012345678901234567890"},
		}},
		{"add overflow at the int64 bounds", []step{
			{req: set(1, "n", "9223372036854775807"), want: `"OK"`},
			{req: add(2, "n"), want: "error:overflow"},
			{req: get(3, "n"), want: "9223372036854775807"},
			{req: addN(4, "n", math.MinInt64), want: "-1"},
			{req: set(5, "n", "-9223372036854775808"), want: `"OK"`},
			{req: addN(6, "n", -1), want: "error:overflow"},
			{req: addN(7, "n", math.MaxInt64), want: "-1"},
			{req: addN(8, "m", math.MinInt64), want: "-9223372036854775808"},
			{req: addN(9, "m", -1), want: "error:overflow"},
			{req: addN(10, "m", math.MinInt64), want: "error:overflow"},
			{req: addN(11, "p", math.MaxInt64), want: "9223372036854775807"},
			{req: addN(12, "p", 1), want: "error:overflow"},
			{req: addN(13, "p", math.MinInt64), want: "-1"},
		}},
		{"add keeps an existing TTL", []step{
			{at: 0, req: setTTL(1, "n", "1", 1000), want: `"OK"`},
			{at: 500 * ms, req: add(2, "n"), want: "2"},
			{at: 1000*ms - 1, req: get(3, "n"), want: "2"},
			{at: 1000 * ms, req: get(4, "n"), want: "<missing>"},
		}},
		{"add on an expired key starts again without a TTL", []step{
			{at: 0, req: setTTL(1, "n", "5", 10), want: `"OK"`},
			{at: 10 * ms, req: add(2, "n"), want: "1"},
			{at: 1e6 * ms, req: get(3, "n"), want: "1"},
		}},
		{"TTL expiry uses the time argument", []step{
			{at: 0, req: setTTL(1, "a", `"v"`, 10), want: `"OK"`},
			{at: 10*ms - 1, req: get(2, "a"), want: `"v"`},
			{at: 10 * ms, req: get(3, "a"), want: "<missing>"},
		}},
		{"TTL counts from the time of the set", []step{
			{at: 1000 * ms, req: setTTL(1, "a", "1", 10), want: `"OK"`},
			{at: 1009 * ms, req: get(2, "a"), want: "1"},
			{at: 1010 * ms, req: get(3, "a"), want: "<missing>"},
		}},
		{"set without ttl clears the TTL", []step{
			{at: 0, req: setTTL(1, "a", "1", 10), want: `"OK"`},
			{at: 5 * ms, req: set(2, "a", "2"), want: `"OK"`},
			{at: 20 * ms, req: get(3, "a"), want: "2"},
		}},
		{"set with ttl replaces the TTL", []step{
			{at: 0, req: setTTL(1, "a", "1", 10), want: `"OK"`},
			{at: 5 * ms, req: setTTL(2, "a", "2", 100), want: `"OK"`},
			{at: 50 * ms, req: get(3, "a"), want: "2"},
			{at: 105 * ms, req: get(4, "a"), want: "<missing>"},
		}},
		{"cas with ttl", []step{
			{at: 0, req: withTTL(casNew(1, "a", "1"), 10), want: "true"},
			{at: 9 * ms, req: get(2, "a"), want: "1"},
			{at: 10 * ms, req: get(3, "a"), want: "<missing>"},
			{at: 10 * ms, req: casNew(4, "a", "2"), want: "true"},
		}},
		{"expired entries are gone for every method", []step{
			{at: 0, req: setTTL(1, "a", "1", 1), want: `"OK"`},
			{at: 0, req: setTTL(2, "b", "1", 1), want: `"OK"`},
			{at: 0, req: setTTL(3, "c", "1", 1), want: `"OK"`},
			{at: 0, req: setTTL(4, "d", "1", 1), want: `"OK"`},
			{at: 1 * ms, req: del(5, "a"), want: "false"},
			{at: 1 * ms, req: cas(6, "b", "1", "2"), want: "false"},
			{at: 1 * ms, req: casNew(7, "c", "2"), want: "true"},
			{at: 1 * ms, req: length(8), want: "1"},
			{at: 1 * ms, req: keys(9), want: `["c"]`},
		}},
		{"len", []step{
			{req: length(1), want: "0"},
			{req: set(2, "a", "1"), want: `"OK"`},
			{req: set(3, "b", "1"), want: `"OK"`},
			{req: set(4, "b", "2"), want: `"OK"`},
			{req: length(5), want: "2"},
			{req: del(6, "a"), want: "true"},
			{req: length(7), want: "1"},
			{at: 0, req: setTTL(8, "c", "1", 1), want: `"OK"`},
			{at: 0, req: length(9), want: "2"},
			{at: 1 * ms, req: length(10), want: "1"},
		}},
		{"keys sorted and escaped", []step{
			{req: keys(1), want: "[]"},
			{req: set(2, "b", "1"), want: `"OK"`},
			{req: set(3, "a", "1"), want: `"OK"`},
			{req: set(4, "__proto__", "1"), want: `"OK"`},
			{req: set(5, "", "1"), want: `"OK"`},
			{req: set(6, "0", "1"), want: `"OK"`},
			{req: set(7, `q"\`, "1"), want: `"OK"`},
			{req: set(8, "\n\x01", "1"), want: `"OK"`},
			{req: set(9, "é", "1"), want: `"OK"`},
			{req: keys(10), want: `["","\n\u0001","0","__proto__","a","b","q\"\\","é"]`},
		}},
		{"odd keys are ordinary keys", []step{
			{req: set(1, "__proto__", `{"polluted":true}`), want: `"OK"`},
			{req: get(2, "constructor"), want: "<missing>"},
			{req: get(3, "toString"), want: "<missing>"},
			{req: get(4, "__proto__"), want: `{"polluted":true}`},
			{req: set(5, "", "0"), want: `"OK"`},
			{req: set(6, "0", `""`), want: `"OK"`},
			{req: get(7, ""), want: "0"},
			{req: get(8, "0"), want: `""`},
			{req: add(9, ""), want: "1"},
			{req: add(10, "constructor"), want: "1"},
			{req: del(11, "__proto__"), want: "true"},
			{req: length(12), want: "3"},
			{req: keys(13), want: `["","0","constructor"]`},
		}},
		{"falsy and exotic values kept exactly", []step{
			{req: set(1, "a", "0"), want: `"OK"`},
			{req: set(2, "b", `""`), want: `"OK"`},
			{req: set(3, "c", "false"), want: `"OK"`},
			{req: set(4, "d", "null"), want: `"OK"`},
			{req: set(5, "e", "123456789012345678901234567890"), want: `"OK"`},
			{req: set(6, "f", shm.Binary([]byte{0, 1, 0xff}).String()), want: `"OK"`},
			{req: set(7, "g", `"\ud800\u0041"`), want: `"OK"`},
			{req: get(8, "a"), want: "0"},
			{req: get(9, "b"), want: `""`},
			{req: get(10, "c"), want: "false"},
			{req: get(11, "d"), want: "null"},
			{req: get(12, "e"), want: "123456789012345678901234567890"},
			{req: get(13, "f"), want: `{"$binary":"AAH/"}`},
			{req: get(14, "g"), want: `"\ud800\u0041"`},
		}},
		{"requests the store refuses", []step{
			{req: without(get(1, "a"), shm.HasSeq), from: shm.Identity{Worker: 1, Inc: 1}, want: "error:bad_request"},
			{req: without(get(1, "a"), shm.HasSeq), want: "<missing>"}, // the master's own request needs no uuid
			{req: without(get(2, "a"), shm.HasKey), want: "error:bad_request"},
			{req: without(set(3, "a", "1"), shm.HasKey), want: "error:bad_request"}, // a set of several keys takes an object
			{req: without(set(3, "a", "1"), shm.HasKey|shm.HasValue), want: "error:bad_request"},
			{req: without(setTTL(3, "a", "1", 5), shm.HasValue), want: "error:bad_request"}, // a remove takes no ttl
			{req: without(casNew(4, "a", "1"), shm.HasValue), want: "error:bad_request"},
			{req: without(del(5, "a"), shm.HasKey), want: "error:bad_request"},
			{req: without(add(6, "a"), shm.HasKey), want: "error:bad_request"},
			{req: setTTL(7, "a", "1", 0), want: "error:bad_request"},
			{req: setTTL(8, "a", "1", -1), want: "error:bad_request"},
			{req: setTTL(9, "a", "1", 100*365*24*3600*1000+1), want: "error:bad_request"},
			{req: setTTL(10, "a", "1", math.MaxInt64), want: "error:bad_request"},
			{req: withTTL(casNew(11, "a", "1"), -1), want: "error:bad_request"},
			{req: set(12, "a\xff", "1"), want: "error:bad_request"},
			{req: get(13, "\xed\xa0\x80"), want: "error:bad_request"},
			{req: length(14), want: "0"},
			{req: setTTL(15, "a", "1", 100*365*24*3600*1000), want: `"OK"`},
			{req: length(16), want: "1"},
		}},
	}
	for _, tt := range tests {
		runSteps(t, tt.name, shm.StoreOptions{}, tt.steps)
	}
}

func TestStoreEchoesDecodeErrors(t *testing.T) {
	req := decode(sm + `"method":"set","uuid":7,"key":5,"value":1}`)
	rep := shm.NewStore(shm.StoreOptions{}).Apply(0, shm.Identity{}, &req)
	if got := summary(rep); got != "error:wrong_type" || rep.Seq != 7 || rep.Has&shm.HasSeq == 0 {
		t.Errorf("reply to a wrong-typed key = %s (uuid %d), want error:wrong_type for uuid 7", got, rep.Seq)
	}
}

// TestStoreUnknownMethod: a request whose Method is not one of the store's
// operations is refused, not executed as some other operation.
func TestStoreUnknownMethod(t *testing.T) {
	for _, meth := range []shm.Method{shm.MethodNone, shm.MethodKeys + 1, 42} {
		s := shm.NewStore(shm.StoreOptions{})
		s.Apply(0, shm.Identity{}, ptr(set(1, "a", "1")))
		req := shm.Message{Kind: shm.KindRequest, Method: meth, Has: shm.HasSeq | shm.HasKey, Seq: 2, Key: []byte("a")}
		rep := s.Apply(0, shm.Identity{}, &req)
		if rep.Err == nil || !rep.Err.Definite {
			t.Errorf("Apply with method %d = %s, want a definite error", meth, summary(rep))
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestStoreLRU(t *testing.T) {
	big35 := `"` + strings.Repeat("x", 33) + `"` // 35 bytes
	tests := []struct {
		name  string
		opts  shm.StoreOptions
		steps []step
	}{
		{"entries: oldest goes", shm.StoreOptions{MaxEntries: 2}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: set(3, "c", "3"), want: `"OK"`},
			{req: length(4), want: "2"},
			{req: get(5, "a"), want: "<missing>"},
			{req: get(6, "b"), want: "2"},
			{req: get(7, "c"), want: "3"},
		}},
		{"entries: get refreshes", shm.StoreOptions{MaxEntries: 2}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: get(3, "a"), want: "1"},
			{req: set(4, "c", "3"), want: `"OK"`},
			{req: get(5, "b"), want: "<missing>"},
			{req: get(6, "a"), want: "1"},
			{req: get(7, "c"), want: "3"},
		}},
		{"entries: overwrite refreshes", shm.StoreOptions{MaxEntries: 2}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: set(3, "a", "10"), want: `"OK"`},
			{req: length(4), want: "2"},
			{req: set(5, "c", "3"), want: `"OK"`},
			{req: get(6, "b"), want: "<missing>"},
			{req: get(7, "a"), want: "10"},
		}},
		{"entries: add and cas refresh", shm.StoreOptions{MaxEntries: 2}, []step{
			{req: add(1, "a"), want: "1"},
			{req: add(2, "b"), want: "1"},
			{req: add(3, "a"), want: "2"},
			{req: add(4, "c"), want: "1"},
			{req: get(5, "b"), want: "<missing>"},
			{req: cas(6, "a", "2", "3"), want: "true"},
			{req: casNew(7, "d", "1"), want: "true"},
			{req: keys(8), want: `["a","d"]`},
		}},
		{"entries: delete frees a place", shm.StoreOptions{MaxEntries: 2}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: del(3, "a"), want: "true"},
			{req: set(4, "c", "3"), want: `"OK"`},
			{req: keys(5), want: `["b","c"]`},
		}},
		{"entries: one", shm.StoreOptions{MaxEntries: 1}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: keys(3), want: `["b"]`},
		}},
		{"bytes: oldest goes", shm.StoreOptions{MaxBytes: 2 * (shm.EntryOverhead + 2)}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: set(3, "c", "3"), want: `"OK"`},
			{req: keys(4), want: `["b","c"]`},
		}},
		{"bytes: get refreshes", shm.StoreOptions{MaxBytes: 2 * (shm.EntryOverhead + 2)}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: get(3, "a"), want: "1"},
			{req: set(4, "c", "3"), want: `"OK"`},
			{req: keys(5), want: `["a","c"]`},
		}},
		{"bytes: a growing value evicts others", shm.StoreOptions{MaxBytes: 2 * (shm.EntryOverhead + 2)}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "b", "2"), want: `"OK"`},
			{req: set(3, "b", `"22222"`), want: `"OK"`},
			{req: keys(4), want: `["b"]`},
			{req: get(5, "b"), want: `"22222"`},
		}},
		{"bytes: an entry of exactly the limit fits", shm.StoreOptions{MaxBytes: shm.EntryOverhead + 1 + 35}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "k", big35), want: `"OK"`},
			{req: keys(3), want: `["k"]`},
		}},
		{"bytes: too large is refused and evicts nothing", shm.StoreOptions{MaxBytes: shm.EntryOverhead + 1 + 34}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: set(2, "k", big35), want: "error:too_large"},
			{req: casNew(3, "k", big35), want: "error:too_large"},
			{req: cas(4, "a", "1", big35), want: "error:too_large"},
			{req: get(5, "a"), want: "1"},
			{req: get(6, "k"), want: "<missing>"},
		}},
		{"bytes: add with a key too large for the store", shm.StoreOptions{MaxBytes: 100}, []step{
			{req: set(1, "a", "1"), want: `"OK"`},
			{req: add(2, strings.Repeat("k", 40)), want: "error:too_large"},
			{req: get(3, strings.Repeat("k", 40)), want: "<missing>"},
			{req: get(4, "a"), want: "1"},
		}},
	}
	for _, tt := range tests {
		s := runSteps(t, tt.name, tt.opts, tt.steps)
		if tt.opts.MaxBytes > 0 && s.Bytes() > tt.opts.MaxBytes {
			t.Errorf("%s: Bytes() = %d, over the limit %d", tt.name, s.Bytes(), tt.opts.MaxBytes)
		}
	}
}

func TestStoreBytesAccounting(t *testing.T) {
	s := shm.NewStore(shm.StoreOptions{})
	steps := []struct {
		req  shm.Message
		want int64
	}{
		{set(1, "ab", "123"), shm.EntryOverhead + 5},
		{set(2, "c", `""`), 2*shm.EntryOverhead + 8},
		{set(3, "ab", "1"), 2*shm.EntryOverhead + 6},
		{addN(4, "ab", 9), 2*shm.EntryOverhead + 7},
		{del(5, "c"), shm.EntryOverhead + 4},
		{del(6, "ab"), 0},
	}
	for i, st := range steps {
		s.Apply(0, shm.Identity{}, &st.req)
		if got := s.Bytes(); got != st.want {
			t.Errorf("after step %d (%s %s): Bytes() = %d, want %d", i, st.req.Method, st.req.Key, got, st.want)
		}
	}
}

func TestStoreStats(t *testing.T) {
	s := shm.NewStore(shm.StoreOptions{MaxEntries: 1})
	id := shm.Identity{Worker: 1, Inc: 1}
	for _, req := range []shm.Message{
		setTTL(1, "a", "1", 1), // applied
		set(2, "b", "1"),       // applied, evicts a
		add(3, "b"),            // applied
		add(3, "b"),            // duplicate
		setTTL(4, "c", "1", 1), // applied, evicts b
		get(5, "c"),            // applied at 1ms: c expired
	} {
		now := int64(0)
		if req.Method == shm.MethodGet {
			now = ms
		}
		s.Apply(now, id, &req)
	}
	want := shm.StoreStats{Applied: 5, Duplicates: 1, Evictions: 2, Expirations: 1}
	if diff := cmp.Diff(want, s.Stats()); diff != "" {
		t.Errorf("Stats mismatch (-want +got):\n%s", diff)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len() = %d, want 0", n)
	}
}

func TestStoreExpire(t *testing.T) {
	s := shm.NewStore(shm.StoreOptions{})
	for i, ttl := range []int64{5, 10, 1, 20} {
		s.Apply(0, shm.Identity{}, ptr(setTTL(uint64(i), strconv.Itoa(i), "1", ttl)))
	}
	s.Apply(0, shm.Identity{}, ptr(set(9, "forever", "1")))
	got := []int{s.Expire(1 * ms), s.Expire(10 * ms), s.Expire(10 * ms), s.Len(), s.Expire(1e9 * ms), s.Len()}
	want := []int{1, 2, 0, 2, 1, 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Expire counts mismatch (-want +got):\n%s", diff)
	}
}

func TestStoreDedup(t *testing.T) {
	a := shm.Identity{Worker: 1, Inc: 1}
	b := shm.Identity{Worker: 2, Inc: 1}
	a2 := shm.Identity{Worker: 1, Inc: 2}
	tests := []struct {
		name  string
		opts  shm.StoreOptions
		steps []step
	}{
		{"duplicate add is applied once", shm.StoreOptions{}, []step{
			{from: a, req: add(1, "n"), want: "1"},
			{from: a, req: add(1, "n"), want: "1"},
			{from: a, req: get(2, "n"), want: "1"},
		}},
		{"a late retry is answered from memory", shm.StoreOptions{}, []step{
			{from: a, req: set(1, "k", `"a"`), want: `"OK"`},
			{from: a, req: set(2, "k", `"b"`), want: `"OK"`},
			{from: a, req: set(1, "k", `"a"`), want: `"OK"`},
			{from: a, req: get(3, "k"), want: `"b"`},
		}},
		{"duplicate delete replays true", shm.StoreOptions{}, []step{
			{from: a, req: set(1, "k", "1"), want: `"OK"`},
			{from: a, req: del(2, "k"), want: "true"},
			{from: a, req: del(2, "k"), want: "true"},
			{from: a, req: del(3, "k"), want: "false"},
		}},
		{"duplicate cas replays true", shm.StoreOptions{}, []step{
			{from: a, req: casNew(1, "k", "1"), want: "true"},
			{from: a, req: casNew(1, "k", "1"), want: "true"},
			{from: a, req: casNew(2, "k", "1"), want: "false"},
		}},
		{"duplicate of a failed add replays the error", shm.StoreOptions{}, []step{
			{from: a, req: set(1, "k", `"x"`), want: `"OK"`},
			{from: a, req: add(2, "k"), want: "error:not_integer"},
			{from: a, req: set(3, "k", "5"), want: `"OK"`},
			{from: a, req: add(2, "k"), want: "error:not_integer"},
			{from: a, req: get(4, "k"), want: "5"},
		}},
		{"duplicate set with ttl does not renew it", shm.StoreOptions{}, []step{
			{at: 0, from: a, req: setTTL(1, "k", "1", 10), want: `"OK"`},
			{at: 9 * ms, from: a, req: setTTL(1, "k", "1", 10), want: `"OK"`},
			{at: 10 * ms, from: a, req: get(2, "k"), want: "<missing>"},
		}},
		{"reused uuid with another key", shm.StoreOptions{}, []step{
			{from: a, req: set(1, "a", "1"), want: `"OK"`},
			{from: a, req: set(1, "b", "2"), want: "error:seq_reused"},
			{from: a, req: get(2, "b"), want: "<missing>"},
		}},
		{"reused uuid with another method", shm.StoreOptions{}, []step{
			{from: a, req: set(1, "a", "1"), want: `"OK"`},
			{from: a, req: del(1, "a"), want: "error:seq_reused"},
			{from: a, req: add(1, "a"), want: "error:seq_reused"},
			{from: a, req: get(2, "a"), want: "1"},
		}},
		{"ack lets the window forget", shm.StoreOptions{}, []step{
			{from: a, req: add(1, "n"), want: "1"},
			{from: a, req: withAck(add(2, "n"), 2), want: "2"},
			{from: a, req: add(1, "n"), want: "error:expired(indefinite)"},
			{from: a, req: add(2, "n"), want: "2"},
			{from: a, req: get(3, "n"), want: "2"},
		}},
		{"ack up to a request keeps it", shm.StoreOptions{}, []step{
			{from: a, req: add(5, "n"), want: "1"},
			{from: a, req: withAck(add(6, "n"), 5), want: "2"},
			{from: a, req: add(5, "n"), want: "1"},
			{from: a, req: withAck(add(4, "n"), 5), want: "error:expired(indefinite)"},
			{from: a, req: get(7, "n"), want: "2"},
		}},
		{"the window slides without acks", shm.StoreOptions{DedupWindow: 8}, []step{
			{from: a, req: add(0, "n"), want: "1"},
			{from: a, req: add(1, "n"), want: "2"},
			{from: a, req: add(2, "n"), want: "3"},
			{from: a, req: add(3, "n"), want: "4"},
			{from: a, req: add(4, "n"), want: "5"},
			{from: a, req: add(5, "n"), want: "6"},
			{from: a, req: add(6, "n"), want: "7"},
			{from: a, req: add(7, "n"), want: "8"},
			{from: a, req: add(0, "n"), want: "1"},
			{from: a, req: add(8, "n"), want: "9"},
			{from: a, req: add(0, "n"), want: "error:expired(indefinite)"},
			{from: a, req: add(1, "n"), want: "2"},
			{from: a, req: get(9, "n"), want: "9"},
		}},
		{"a big jump in uuids forgets the old ones", shm.StoreOptions{}, []step{
			{from: a, req: add(1, "n"), want: "1"},
			{from: a, req: add(math.MaxUint64, "n"), want: "2"},
			{from: a, req: add(1, "n"), want: "error:expired(indefinite)"},
			{from: a, req: add(math.MaxUint64, "n"), want: "2"},
		}},
		{"reads are not remembered", shm.StoreOptions{}, []step{
			{from: a, req: get(1, "k"), want: "<missing>"},
			{from: a, req: set(2, "k", "1"), want: `"OK"`},
			{from: a, req: get(1, "k"), want: "1"},
			{from: a, req: length(1), want: "1"},
		}},
		{"refused requests are not remembered", shm.StoreOptions{}, []step{
			{from: a, req: without(set(1, "k", "1"), shm.HasKey), want: "error:bad_request"},
			{from: a, req: set(1, "k", "1"), want: `"OK"`},
			{from: a, req: get(2, "k"), want: "1"},
		}},
		{"identities do not interfere", shm.StoreOptions{}, []step{
			{from: a, req: add(1, "n"), want: "1"},
			{from: b, req: add(1, "n"), want: "2"},
			{from: a2, req: add(1, "n"), want: "3"},
			{from: a, req: add(1, "n"), want: "1"},
			{from: b, req: add(1, "n"), want: "2"},
			{from: b, req: set(1, "other", "1"), want: "error:seq_reused"},
			{from: a2, req: withAck(add(2, "n"), 2), want: "4"},
			{from: a, req: add(1, "n"), want: "1"},
			{from: a2, req: add(1, "n"), want: "error:expired(indefinite)"},
		}},
	}
	for _, tt := range tests {
		runSteps(t, tt.name, tt.opts, tt.steps)
	}
}

func TestStoreDedupErrors(t *testing.T) {
	id := shm.Identity{Worker: 1, Inc: 1}
	s := shm.NewStore(shm.StoreOptions{})
	s.Apply(0, id, ptr(add(1, "n")))
	s.Apply(0, id, ptr(withAck(add(2, "n"), 2)))
	rep := s.Apply(0, id, ptr(add(1, "n")))
	if rep.Err == nil || !errors.Is(rep.Err, shm.ErrExpired) || shm.IsDefinite(rep.Err) || rep.Err.Definite {
		t.Errorf("retry below the window = %s, want an indefinite expired error", summary(rep))
	}
	rep = s.Apply(0, id, ptr(set(2, "other", "1")))
	if rep.Err == nil || !errors.Is(rep.Err, shm.ErrSeqReused) || !shm.IsDefinite(rep.Err) {
		t.Errorf("reused uuid = %s, want a definite seq_reused error", summary(rep))
	}
}

// TestStoreZeroIdentityNotDeduplicated: the zero Identity is the master's
// own process, whose requests are applied every time.
func TestStoreZeroIdentityNotDeduplicated(t *testing.T) {
	runSteps(t, "zero identity", shm.StoreOptions{}, []step{
		{req: add(1, "n"), want: "1"},
		{req: add(1, "n"), want: "2"},
		{req: set(1, "k", "1"), want: `"OK"`},
		{req: add(1, "n"), want: "3"},
	})
}

func TestStoreForget(t *testing.T) {
	id := shm.Identity{Worker: 3, Inc: 7}
	other := shm.Identity{Worker: 4, Inc: 7}
	s := shm.NewStore(shm.StoreOptions{})
	var got []string
	got = append(got, summary(s.Apply(0, id, ptr(add(1, "n")))))
	got = append(got, summary(s.Apply(0, other, ptr(add(1, "n")))))
	s.Forget(id)
	got = append(got, summary(s.Apply(0, id, ptr(add(1, "n")))))
	got = append(got, summary(s.Apply(0, other, ptr(add(1, "n")))))
	want := []string{"1", "2", "3", "2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies around Forget mismatch (-want +got):\n%s", diff)
	}
}

// model is the store's specification: a plain map with expiry times.
type model struct {
	vals map[string]modelEntry
}

type modelEntry struct {
	val     string
	expires int64 // 0: never
}

func newModel() *model { return &model{vals: map[string]modelEntry{}} }

func (m *model) live(now int64, key string) (modelEntry, bool) {
	e, ok := m.vals[key]
	if ok && e.expires != 0 && e.expires <= now {
		delete(m.vals, key)
		return modelEntry{}, false
	}
	return e, ok
}

func (m *model) liveKeys(now int64) []string {
	var ks []string
	for k := range m.vals {
		if _, ok := m.live(now, k); ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

func modelExpiry(now int64, req *shm.Message) int64 {
	if req.Has&shm.HasTTL == 0 {
		return 0
	}
	return now + req.TTL*ms
}

// apply returns the summary of the reply the store should give.
func (m *model) apply(now int64, req *shm.Message) string {
	key := string(req.Key)
	e, ok := m.live(now, key)
	switch req.Method {
	case shm.MethodGet:
		if !ok {
			return "<missing>"
		}
		return e.val
	case shm.MethodSet:
		m.vals[key] = modelEntry{string(req.Value), modelExpiry(now, req)}
		return `"OK"`
	case shm.MethodDelete:
		delete(m.vals, key)
		return strconv.FormatBool(ok)
	case shm.MethodCAS:
		hasOld := req.Has&shm.HasOld != 0
		if (ok && hasOld && e.val == string(req.Old)) || (!ok && !hasOld) {
			m.vals[key] = modelEntry{string(req.Value), modelExpiry(now, req)}
			return "true"
		}
		return "false"
	case shm.MethodAdd:
		return m.add(key, e, ok, req)
	case shm.MethodLen:
		return strconv.Itoa(len(m.liveKeys(now)))
	case shm.MethodKeys:
		b, _ := json.Marshal(append([]string{}, m.liveKeys(now)...))
		return string(b)
	}
	panic("model: unknown method")
}

func (m *model) add(key string, e modelEntry, ok bool, req *shm.Message) string {
	cur := new(big.Int)
	if ok {
		if _, good := cur.SetString(e.val, 10); !good || !cur.IsInt64() {
			return "error:not_integer"
		}
	}
	delta := big.NewInt(1)
	if req.Has&shm.HasDelta != 0 {
		delta.SetInt64(req.Delta)
	}
	sum := cur.Add(cur, delta)
	if !sum.IsInt64() {
		return "error:overflow"
	}
	m.vals[key] = modelEntry{sum.String(), e.expires}
	return sum.String()
}

// storeSummary is summary with a keys reply put in encoding/json's form, so
// that it compares with the model's.
func storeSummary(req *shm.Message, rep shm.Message) string {
	if req.Method != shm.MethodKeys || rep.Err != nil {
		return summary(rep)
	}
	var ks []string
	if err := json.Unmarshal(rep.Value, &ks); err != nil {
		return "invalid keys reply " + string(rep.Value)
	}
	b, _ := json.Marshal(append([]string{}, ks...))
	return string(b)
}

var (
	propKeys   = []string{"a", "b", "__proto__", "", "0", `q"`}
	propValues = []string{
		"0", "-0", "1", "-1", `""`, "false", "true", "null", "123456789012345678901234567890",
		"9223372036854775807", "-9223372036854775808", "9223372036854775806", "1.5", `{"a":1}`, `"x"`, `"5"`, "[]",
	}
)

func drawDelta(t *rapid.T) int64 {
	return rapid.OneOf(
		rapid.Int64Range(-3, 3),
		rapid.SampledFrom([]int64{math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}),
		rapid.Int64(),
	).Draw(t, "delta")
}

// drawOp draws a valid request of any method (uuid left to the caller).
func drawOp(t *rapid.T, keySet, valSet []string) shm.Message {
	key := rapid.SampledFrom(keySet).Draw(t, "key")
	val := rapid.SampledFrom(valSet).Draw(t, "value")
	var m shm.Message
	switch rapid.IntRange(0, 6).Draw(t, "method") {
	case 0:
		m = get(0, key)
	case 1:
		m = set(0, key, val)
	case 2:
		m = del(0, key)
	case 3:
		m = casNew(0, key, val)
		if rapid.Bool().Draw(t, "has old") {
			m.Old, m.Has = shm.Value(rapid.SampledFrom(valSet).Draw(t, "old")), m.Has|shm.HasOld
		}
	case 4:
		m = add(0, key)
		if rapid.Bool().Draw(t, "has delta") {
			m.Delta, m.Has = drawDelta(t), m.Has|shm.HasDelta
		}
	case 5:
		m = length(0)
	default:
		m = keys(0)
	}
	if (m.Method == shm.MethodSet || m.Method == shm.MethodCAS) && rapid.Bool().Draw(t, "has ttl") {
		m = withTTL(m, rapid.Int64Range(1, 20).Draw(t, "ttl"))
	}
	return m
}

// TestStoreMatchesModel: any sequence of operations gives the replies a
// plain map gives.
func TestStoreMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, m := shm.NewStore(shm.StoreOptions{}), newModel()
		id := shm.Identity{Worker: 1, Inc: 1}
		now := int64(0)
		n := rapid.IntRange(1, 60).Draw(t, "ops")
		for i := range n {
			now += rapid.Int64Range(0, 5).Draw(t, "advance ms") * ms
			req := drawOp(t, propKeys, propValues)
			req.Seq = uint64(i)
			want := m.apply(now, &req)
			got := storeSummary(&req, s.Apply(now, id, &req))
			if got != want {
				t.Fatalf("op %d at %dms: %s %q: store replied %s, model %s", i, now/ms, req.Method, req.Key, got, want)
			}
		}
	})
}

// lruModel is the specification of the MaxEntries limit: a map and a
// recency order, most recent first.
type lruModel struct {
	vals  map[string]string
	order []string
	max   int
}

func (l *lruModel) touch(key string) {
	l.order = slices.DeleteFunc(l.order, func(k string) bool { return k == key })
	l.order = slices.Insert(l.order, 0, key)
}

func (l *lruModel) put(key, val string) {
	l.vals[key] = val
	l.touch(key)
	for len(l.order) > l.max {
		delete(l.vals, l.order[len(l.order)-1])
		l.order = l.order[:len(l.order)-1]
	}
}

func (l *lruModel) apply(req *shm.Message) string {
	key := string(req.Key)
	cur, ok := l.vals[key]
	switch req.Method {
	case shm.MethodGet:
		if !ok {
			return "<missing>"
		}
		l.touch(key)
		return cur
	case shm.MethodSet:
		l.put(key, string(req.Value))
		return `"OK"`
	case shm.MethodDelete:
		delete(l.vals, key)
		l.order = slices.DeleteFunc(l.order, func(k string) bool { return k == key })
		return strconv.FormatBool(ok)
	case shm.MethodCAS:
		if ok == (req.Has&shm.HasOld != 0) && (!ok || cur == string(req.Old)) {
			l.put(key, string(req.Value))
			return "true"
		}
		return "false"
	case shm.MethodAdd:
		n, err := strconv.ParseInt(cur, 10, 64)
		if !ok {
			n, err = 0, nil
		}
		if err != nil {
			return "error:not_integer"
		}
		l.put(key, strconv.FormatInt(n+1, 10))
		return strconv.FormatInt(n+1, 10)
	case shm.MethodLen:
		return strconv.Itoa(len(l.vals))
	}
	b, _ := json.Marshal(append([]string{}, slices.Sorted(maps.Keys(l.vals))...))
	return string(b)
}

// TestStoreMaxEntriesProperty: with MaxEntries set the store never holds
// more entries, and evicts the least recently used.
func TestStoreMaxEntriesProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		limit := rapid.IntRange(1, 4).Draw(t, "MaxEntries")
		s := shm.NewStore(shm.StoreOptions{MaxEntries: limit})
		l := &lruModel{vals: map[string]string{}, max: limit}
		keySet := []string{"k0", "k1", "k2", "k3", "k4", "k5", "__proto__", ""}
		valSet := []string{"0", "1", "7", `"x"`}
		n := rapid.IntRange(1, 80).Draw(t, "ops")
		for i := range n {
			req := drawOp(t, keySet, valSet)
			req.Seq = uint64(i)
			req.Has &^= shm.HasDelta | shm.HasTTL
			want := l.apply(&req)
			got := storeSummary(&req, s.Apply(0, shm.Identity{}, &req))
			if got != want {
				t.Fatalf("op %d: %s %q: store replied %s, model %s", i, req.Method, req.Key, got, want)
			}
			if s.Len() > limit {
				t.Fatalf("op %d: Len() = %d, over MaxEntries %d", i, s.Len(), limit)
			}
			if req.Method == shm.MethodLen {
				if n, _ := strconv.Atoi(got); n > limit {
					t.Fatalf("op %d: len replied %d, over MaxEntries %d", i, n, limit)
				}
			}
		}
	})
}

// TestStoreDuplicatesProperty: re-sending any mutating request (same
// message, same sender) gets the first reply again and changes nothing.
func TestStoreDuplicatesProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, m := shm.NewStore(shm.StoreOptions{}), newModel()
		ids := []shm.Identity{{Worker: 1, Inc: 1}, {Worker: 2, Inc: 1}, {Worker: 1, Inc: 2}}
		type sent struct {
			req  shm.Message
			from shm.Identity
			want string
		}
		var history []sent
		next := make(map[shm.Identity]uint64)
		now := int64(0)
		n := rapid.IntRange(1, 60).Draw(t, "ops")
		for i := range n {
			now += rapid.Int64Range(0, 5).Draw(t, "advance ms") * ms
			if len(history) > 0 && rapid.IntRange(0, 2).Draw(t, "duplicate") == 0 {
				d := history[rapid.IntRange(0, len(history)-1).Draw(t, "which")]
				if got := summary(s.Apply(now, d.from, &d.req)); got != d.want {
					t.Fatalf("op %d: duplicate of %s %q uuid %d from %v: replied %s, first reply was %s",
						i, d.req.Method, d.req.Key, d.req.Seq, d.from, got, d.want)
				}
				continue
			}
			from := rapid.SampledFrom(ids).Draw(t, "from")
			req := drawOp(t, propKeys, propValues)
			req.Seq = next[from]
			next[from]++
			want := m.apply(now, &req)
			got := storeSummary(&req, s.Apply(now, from, &req))
			if got != want {
				t.Fatalf("op %d at %dms: %s %q: store replied %s, model %s", i, now/ms, req.Method, req.Key, got, want)
			}
			if req.Method.Mutates() {
				history = append(history, sent{req, from, want})
			}
		}
	})
}

func TestStoreBugNoDedup(t *testing.T) {
	w := shm.Identity{Worker: 1, Inc: 1}
	for _, tt := range []struct {
		bugs shm.Bugs
		want string
	}{{0, "1"}, {shm.BugNoDedup, "2"}} {
		s := shm.NewStore(shm.StoreOptions{Bugs: tt.bugs})
		a := add(7, "n")
		s.Apply(0, w, &a)
		dup := add(7, "n") // the same request again: a retry or a duplicate
		rep := s.Apply(1, w, &dup)
		if diff := cmp.Diff(tt.want, string(rep.Value)); diff != "" {
			t.Errorf("bugs %b: the duplicate answered (-want +got):\n%s", tt.bugs, diff)
		}
	}
}
