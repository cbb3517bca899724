package shm_test

import (
	"strings"
	"testing"

	"github.com/shmlab/shmlab/shm"
)

// remove is the article's remove(key): a set with no "value" member.
func remove(seq uint64, key string) shm.Message {
	return without(set(seq, key, "null"), shm.HasValue)
}

// setMany is the article's set({k: v, ...}): a set with no "key" member.
func setMany(seq uint64, obj string) shm.Message {
	return without(set(seq, "", obj), shm.HasKey)
}

// wire decodes a request as a Node worker writes it, with the given
// method and uuid and the rest of the members.
func wire(method, uuid, rest string) shm.Message {
	return decode(sm + `"method":"` + method + `","uuid":` + uuid + rest + `}`)
}

// TestStoreArticleForms: the forms of request the article's library
// sends besides get and a plain set. remove deletes and answers "OK"
// whether or not the key was there; a set without a key sets one entry
// per member of its object value, all or none, and answers "OK"; plusOne
// is an add of 1 (answering the new value, a missing key counting as 0);
// cluster-shared-memory's remove is a delete.
func TestStoreArticleForms(t *testing.T) {
	w := shm.Identity{Worker: 1, Inc: 1}
	big := `"` + strings.Repeat("v", 300) + `"`
	tests := []struct {
		name  string
		opts  shm.StoreOptions
		steps []step
	}{
		{"remove", shm.StoreOptions{}, []step{
			{req: set(1, "k", "0"), want: `"OK"`},
			{req: remove(2, "k"), want: `"OK"`},
			{req: get(3, "k"), want: "<missing>"},
			{req: remove(4, "k"), want: `"OK"`},
			{req: length(5), want: "0"},
			{req: without(setTTL(6, "k", "1", 10), shm.HasValue), want: "error:bad_request"},
		}},
		{"set of several keys", shm.StoreOptions{}, []step{
			{req: set(1, "a", "0"), want: `"OK"`},
			{req: setMany(2, `{"a":1,"b":"x","":null,"__proto__":{"p":[1,{}]},"c\u0041":false}`), want: `"OK"`},
			{req: keys(3), want: `["","__proto__","a","b","cA"]`},
			{req: get(4, "a"), want: "1"},
			{req: get(5, "__proto__"), want: `{"p":[1,{}]}`},
			{req: get(6, ""), want: "null"},
			{req: setMany(7, `{}`), want: `"OK"`},
			{req: setMany(8, `[1]`), want: "error:bad_request"},
			{req: setMany(9, `"a"`), want: "error:bad_request"},
			{req: setMany(10, `{"new":1,"\ud800":2}`), want: "error:bad_request"},
			{req: get(11, "new"), want: "<missing>"}, // all or none
			{req: length(12), want: "5"},
		}},
		{"set of several keys with a ttl", shm.StoreOptions{}, []step{
			{req: withTTL(setMany(1, `{"a":1,"b":2}`), 10), want: `"OK"`},
			{at: 9e6, req: length(2), want: "2"},
			{at: 10e6, req: length(3), want: "0"},
		}},
		{"set of several keys, one too large", shm.StoreOptions{MaxBytes: 300}, []step{
			{req: setMany(1, `{"small":1,"big":`+big+`}`), want: "error:too_large"},
			{req: length(2), want: "0"},
		}},
		{"set of several keys, remembered as one request", shm.StoreOptions{}, []step{
			{from: w, req: setMany(1, `{"a":1}`), want: `"OK"`},
			{from: w, req: set(2, "a", "2"), want: `"OK"`},
			{from: w, req: setMany(1, `{"a":1}`), want: `"OK"`}, // a duplicate: not applied again
			{from: w, req: get(3, "a"), want: "2"},
		}},
		{"plusOne", shm.StoreOptions{}, []step{
			{from: w, req: wire("plusOne", `"t-1"`, `,"key":"n"`), want: "1"},
			{from: w, req: wire("plusOne", `"t-1"`, `,"key":"n"`), want: "2"}, // a uuid as text is not deduplicated
			{from: w, req: wire("plusOne", `7`, `,"key":"n"`), want: "3"},
			{from: w, req: wire("plusOne", `7`, `,"key":"n"`), want: "3"}, // an integer one is
			{from: w, req: set(8, "s", `"x"`), want: `"OK"`},
			{from: w, req: wire("plusOne", `9`, `,"key":"s"`), want: "error:not_integer"},
			{from: w, req: wire("plusOne", `10`, ``), want: "error:bad_request"},
		}},
		{"cluster-shared-memory's remove", shm.StoreOptions{}, []step{
			{from: w, req: set(1, "k", "1"), want: `"OK"`},
			{from: w, req: wire("remove", `"9b2e"`, `,"key":"k","value":null`), want: "true"},
			{from: w, req: wire("remove", `"9b2f"`, `,"key":"k","value":null`), want: "false"},
		}},
	}
	for _, tt := range tests {
		runSteps(t, tt.name, tt.opts, tt.steps)
	}
}
