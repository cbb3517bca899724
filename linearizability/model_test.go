package linearizability

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
)

// A state as tests write it: the epoch, and the value held as JSON text,
// "" for none.
type st struct {
	epoch uint32
	value string
}

func (s st) String() string {
	if s.value == "" {
		return fmt.Sprintf("e%d:absent", s.epoch)
	}
	return fmt.Sprintf("e%d:%s", s.epoch, s.value)
}

// pack and unpack convert between test states and the model's.
func (m *kvModel) pack(s st) kvState {
	if s.value == "" {
		return mkState(s.epoch, false, 0)
	}
	return mkState(s.epoch, true, m.in.id(s.value))
}

func (m *kvModel) unpack(s kvState) st {
	if !s.present() {
		return st{epoch: s.epoch()}
	}
	return st{s.epoch(), m.in.vals[s.value()]}
}

// The operations of the tables, built as a history holds them.
func okGet(v string) history.Op {
	op := history.Op{Method: history.Get, Status: history.StatusOK}
	if v != "" {
		op.Output.Value = json.RawMessage(v)
	}
	return op
}

func okSet(v string) history.Op {
	return history.Op{Method: history.Set, Input: history.Input{Value: json.RawMessage(v)}, Output: history.Output{Value: json.RawMessage(`"OK"`)}, Status: history.StatusOK}
}

func okDelete(answer bool) history.Op {
	return history.Op{Method: history.Delete, Output: history.Output{Value: json.RawMessage(fmt.Sprint(answer))}, Status: history.StatusOK}
}

// okCAS expects old ("" for absent) and stores v.
func okCAS(old, v string, answer bool) history.Op {
	op := history.Op{Method: history.CAS, Input: history.Input{Value: json.RawMessage(v)}, Output: history.Output{Value: json.RawMessage(fmt.Sprint(answer))}, Status: history.StatusOK}
	if old != "" {
		op.Input.Old = json.RawMessage(old)
	}
	return op
}

func okAdd(delta int64, answer string) history.Op {
	return history.Op{Method: history.Add, Input: history.Input{Delta: delta}, Output: history.Output{Value: json.RawMessage(answer)}, Status: history.StatusOK}
}

// failedAdd adds delta and fails with code: overflow and not_integer say
// what the key held, and are checked.
func failedAdd(delta int64, code string) history.Op {
	return history.Op{Method: history.Add, Input: history.Input{Delta: delta}, Output: history.Output{Error: &history.ErrorInfo{Code: code}}, Status: history.StatusFail}
}

// okAppend appends v, answering nothing.
func okAppend(v string) history.Op {
	return history.Op{Method: history.Append, Input: history.Input{Value: json.RawMessage(v)}, Status: history.StatusOK}
}

// unknown turns op into one whose outcome is unknown.
func unknown(op history.Op) history.Op {
	op.Status, op.Output = history.StatusUnknown, history.Output{}
	return op
}

// stepCase is a row of the model's tables: op, called in epoch opEpoch,
// applied to from; want is every state that may follow (none: the step
// is refused).
type stepCase struct {
	name    string
	from    st
	op      history.Op
	opEpoch uint32
	want    []st
}

func e0(v string) st { return st{0, v} }

// stepCases are the rules both models share: the evicting model allows
// more, never less, on a key that is present, and exactly as much on a
// key that is absent.
var stepCases = []stepCase{
	{name: "get of the value held", from: e0("1"), op: okGet("1"), want: []st{e0("1")}},
	{name: "get of another value", from: e0("1"), op: okGet("2"), want: nil},
	{name: "get of a value from nowhere", from: e0(""), op: okGet("7"), want: nil},
	{name: "get of absent on an absent key", from: e0(""), op: okGet(""), want: []st{e0("")}},
	{name: "get values compare as text", from: e0(`1`), op: okGet(`1.0`), want: nil},
	{name: "get of a big integer, exactly", from: e0("9007199254740993"), op: okGet("9007199254740993"), want: []st{e0("9007199254740993")}},
	{name: "get of a big integer, rounded", from: e0("9007199254740993"), op: okGet("9007199254740992"), want: nil},
	{name: "get of null is not absent", from: e0(""), op: okGet("null"), want: nil},
	{name: "unknown get", from: e0("1"), op: unknown(okGet("")), want: []st{e0("1")}},
	{name: "set on absent", from: e0(""), op: okSet(`"a"`), want: []st{e0(`"a"`)}},
	{name: "set over a value", from: e0("1"), op: okSet("2"), want: []st{e0("2")}},
	{name: "unknown set takes effect", from: e0("1"), op: unknown(okSet("2")), want: []st{e0("2")}},
	{name: "delete true of a present key", from: e0("1"), op: okDelete(true), want: []st{e0("")}},
	{name: "delete false of an absent key", from: e0(""), op: okDelete(false), want: []st{e0("")}},
	{name: "delete true of an absent key", from: e0(""), op: okDelete(true), want: nil},
	{name: "unknown delete", from: e0("1"), op: unknown(okDelete(false)), want: []st{e0("")}},
	{name: "cas that matches", from: e0("1"), op: okCAS("1", "2", true), want: []st{e0("2")}},
	{name: "cas that matches answered false", from: e0("1"), op: okCAS("1", "2", false), want: nil},
	{name: "cas that does not match", from: e0("1"), op: okCAS("3", "2", false), want: []st{e0("1")}},
	{name: "cas that does not match answered true", from: e0("1"), op: okCAS("3", "2", true), want: nil},
	{name: "cas on absent expecting absent", from: e0(""), op: okCAS("", "2", true), want: []st{e0("2")}},
	{name: "cas on absent expecting a value", from: e0(""), op: okCAS("1", "2", false), want: []st{e0("")}},
	{name: "cas expecting null on absent", from: e0(""), op: okCAS("null", "2", false), want: []st{e0("")}},
	{name: "unknown cas that matches", from: e0("1"), op: unknown(okCAS("1", "2", false)), want: []st{e0("2")}},
	{name: "unknown cas that does not match", from: e0("1"), op: unknown(okCAS("3", "2", true)), want: []st{e0("1")}},
	{name: "add on absent counts from 0", from: e0(""), op: okAdd(5, "5"), want: []st{e0("5")}},
	{name: "add on absent answering more", from: e0(""), op: okAdd(5, "6"), want: nil},
	{name: "add on an integer", from: e0("-3"), op: okAdd(1, "-2"), want: []st{e0("-2")}},
	{name: "add on negative zero counts from 0, as the reference store does", from: e0("-0"), op: okAdd(1, "1"), want: []st{e0("1")}},
	{name: "add never answers negative zero", from: e0("-1"), op: okAdd(1, "-0"), want: nil},
	{name: "add answering a non-canonical integer", from: e0("1"), op: okAdd(1, "2.0"), want: nil},
	{name: "add beyond 2^53, exactly", from: e0("9007199254740992"), op: okAdd(1, "9007199254740993"), want: []st{e0("9007199254740993")}},
	{name: "add beyond 2^53, rounded", from: e0("9007199254740992"), op: okAdd(1, "9007199254740992"), want: nil},
	{name: "add on a string", from: e0(`"1"`), op: okAdd(1, "2"), want: nil},
	{name: "add on a float", from: e0("1.5"), op: okAdd(1, "2"), want: nil},
	{name: "add on an integer beyond int64", from: e0("9223372036854775808"), op: okAdd(1, "9223372036854775809"), want: nil},
	{name: "add that overflows", from: e0("9223372036854775807"), op: okAdd(1, "-9223372036854775808"), want: nil},
	{name: "add that underflows", from: e0("-9223372036854775808"), op: okAdd(-1, "9223372036854775807"), want: nil},
	{name: "unknown add", from: e0("1"), op: unknown(okAdd(2, "")), want: []st{e0("3")}},
	{name: "unknown add on a string does nothing", from: e0(`"x"`), op: unknown(okAdd(2, "")), want: []st{e0(`"x"`)}},
	{name: "unknown add that would overflow does nothing", from: e0("9223372036854775807"), op: unknown(okAdd(1, "")), want: []st{e0("9223372036854775807")}},
	// A failed add is checked as what it says of the value (HISTORY.md).
	{name: "add failed with overflow where it overflows", from: e0("9223372036854775807"), op: failedAdd(1, "overflow"), want: []st{e0("9223372036854775807")}},
	{name: "add failed with overflow under int64's least", from: e0("-2"), op: failedAdd(-9223372036854775807, "overflow"), want: []st{e0("-2")}},
	{name: "add failed with overflow where it fits", from: e0("9223372036854775806"), op: failedAdd(1, "overflow"), want: nil},
	{name: "add failed with overflow on absent", from: e0(""), op: failedAdd(9223372036854775807, "overflow"), want: nil},
	{name: "add failed with overflow on a string", from: e0(`"x"`), op: failedAdd(1, "overflow"), want: nil},
	{name: "add failed with not_integer on a string", from: e0(`"x"`), op: failedAdd(1, "not_integer"), want: []st{e0(`"x"`)}},
	{name: "add failed with not_integer on 1.0", from: e0("1.0"), op: failedAdd(1, "not_integer"), want: []st{e0("1.0")}},
	{name: "add failed with not_integer past int64", from: e0("9223372036854775808"), op: failedAdd(1, "not_integer"), want: []st{e0("9223372036854775808")}},
	{name: "add failed with not_integer on an integer", from: e0("5"), op: failedAdd(1, "not_integer"), want: nil},
	{name: "add failed with not_integer on -0, an integer", from: e0("-0"), op: failedAdd(1, "not_integer"), want: nil},
	{name: "add failed with not_integer on absent", from: e0(""), op: failedAdd(1, "not_integer"), want: nil},
	{name: "add failed with not_integer where it would overflow", from: e0("9223372036854775807"), op: failedAdd(1, "not_integer"), want: nil},
	{name: "append on absent counts from the empty string", from: e0(""), op: okAppend(`"x"`), want: []st{e0(`"x"`)}},
	{name: "append joins the strings' texts", from: e0(`"a\n"`), op: okAppend(`"\u00e9"`), want: []st{e0(`"a\n\u00e9"`)}},
	{name: "append of the empty string", from: e0(`"a"`), op: okAppend(`""`), want: []st{e0(`"a"`)}},
	{name: "append on an integer", from: e0("1"), op: okAppend(`"x"`), want: nil},
	{name: "append on null", from: e0("null"), op: okAppend(`"x"`), want: nil},
	{name: "unknown append", from: e0(`"a"`), op: unknown(okAppend(`"b"`)), want: []st{e0(`"ab"`)}},
	{name: "unknown append on an object does nothing", from: e0(`{"a":1}`), op: unknown(okAppend(`"b"`)), want: []st{e0(`{"a":1}`)}},
	{name: "ok set answering nothing", from: e0("1"), op: history.Op{Method: history.Set, Input: history.Input{Value: json.RawMessage("2")}, Status: history.StatusOK}, want: []st{e0("2")}},
	// Epochs.
	{name: "op of the epoch", from: st{2, "1"}, op: okGet("1"), opEpoch: 2, want: []st{{2, "1"}}},
	{name: "op called after a restart, placed before it", from: e0("1"), op: okGet("1"), opEpoch: 1, want: nil},
	{name: "unknown op called after a restart, placed before it", from: e0("1"), op: unknown(okSet("2")), opEpoch: 1, want: nil},
	// HISTORY.md: an ok operation takes effect within the epoch its call
	// falls in; an unknown one of an earlier epoch never happened after it.
	{name: "ok get of an earlier epoch, placed after its end", from: st{1, ""}, op: okGet(""), opEpoch: 0, want: nil},
	{name: "ok set of an earlier epoch, placed after its end", from: st{1, ""}, op: okSet("2"), opEpoch: 0, want: nil},
	{name: "unknown set of an earlier epoch does nothing after its end", from: st{1, ""}, op: unknown(okSet("2")), opEpoch: 0, want: []st{{1, ""}}},
	{name: "unknown add of an earlier epoch does nothing after its end", from: st{2, "1"}, op: unknown(okAdd(1, "")), opEpoch: 0, want: []st{{2, "1"}}},
}

// resetCases are the epoch boundaries: the state is lost, and the epochs
// come one after another.
var resetCases = []struct {
	name  string
	from  st
	epoch uint32
	want  []st
}{
	{"restart loses the value", e0("1"), 1, []st{{1, ""}}},
	{"restart of an absent key", e0(""), 1, []st{{1, ""}}},
	{"second restart", st{1, "1"}, 2, []st{{2, ""}}},
	{"restart skipping an epoch", e0("1"), 2, nil},
	{"restart twice into the same epoch", st{1, ""}, 1, nil},
	{"restart back into an earlier epoch", st{2, ""}, 1, nil},
}

// stepStates runs the deterministic model's step, as a set of states.
func stepStates(m *kvModel, from st, o *kvOp) []st {
	ok, next := m.step(m.pack(from), o)
	if !ok {
		return nil
	}
	return []st{m.unpack(next)}
}

// evictStates runs the evicting model's step.
func evictStates(m *kvModel, from st, o *kvOp) []st {
	var out []st
	for _, s := range m.stepEvict(m.pack(from), o) {
		out = append(out, m.unpack(s))
	}
	return out
}

func TestModelStep(t *testing.T) {
	for _, tc := range stepCases {
		t.Run(tc.name, func(t *testing.T) {
			m := &kvModel{in: newInterner()}
			op := tc.op
			o := m.convert(&op, tc.opEpoch)
			if diff := cmp.Diff(tc.want, stepStates(m, tc.from, o), cmp.Comparer(stEqual)); diff != "" {
				t.Errorf("%s from %s: mismatch (-want +got):\n%s", op.Describe(), tc.from, diff)
			}
		})
	}
}

func TestModelReset(t *testing.T) {
	for _, tc := range resetCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, evict := range []bool{false, true} {
				m := &kvModel{in: newInterner(), evict: evict}
				o := &kvOp{reset: true, epoch: tc.epoch}
				got := stepStates(m, tc.from, o)
				if evict {
					got = evictStates(m, tc.from, o)
				}
				if diff := cmp.Diff(tc.want, got, cmp.Comparer(stEqual)); diff != "" {
					t.Errorf("evict=%v: restart into epoch %d from %s: mismatch (-want +got):\n%s", evict, tc.epoch, tc.from, diff)
				}
			}
		})
	}
}

func stEqual(a, b st) bool { return a == b }

// evictCases are where the evicting model differs: a present key may
// vanish before any operation, and nothing else.
var evictCases = []stepCase{
	{name: "get of absent: the key vanished", from: e0("1"), op: okGet(""), want: []st{e0("")}},
	{name: "get of the value held", from: e0("1"), op: okGet("1"), want: []st{e0("1")}},
	{name: "get of another value", from: e0("1"), op: okGet("2"), want: nil},
	{name: "get of a value back from the dead", from: e0(""), op: okGet("1"), want: nil},
	{name: "get of a value from nowhere", from: e0("1"), op: okGet("7"), want: nil},
	{name: "delete false of a present key: it vanished", from: e0("1"), op: okDelete(false), want: []st{e0("")}},
	{name: "delete true of a present key", from: e0("1"), op: okDelete(true), want: []st{e0("")}},
	{name: "delete true of an absent key", from: e0(""), op: okDelete(true), want: nil},
	{name: "cas expecting absent on a key that vanished", from: e0("1"), op: okCAS("", "2", true), want: []st{e0("2")}},
	{name: "cas expecting the value held, answered false: it vanished", from: e0("1"), op: okCAS("1", "2", false), want: []st{e0("")}},
	{name: "cas expecting the value held, answered true", from: e0("1"), op: okCAS("1", "2", true), want: []st{e0("2")}},
	{name: "cas expecting absent on an absent key, answered false", from: e0(""), op: okCAS("", "2", false), want: nil},
	// The key may vanish after the cas as well as before: the state
	// where it vanished first is kept in the other.
	{name: "unknown cas: applied, or the key vanished", from: e0("1"), op: unknown(okCAS("1", "2", false)), want: []st{e0("2")}},
	{name: "add after the key vanished counts from 0", from: e0("5"), op: okAdd(1, "1"), want: []st{e0("1")}},
	{name: "add on the value held", from: e0("5"), op: okAdd(1, "6"), want: []st{e0("6")}},
	{name: "add answering a value from nowhere", from: e0("5"), op: okAdd(1, "4"), want: nil},
	{name: "add on a string that vanished", from: e0(`"x"`), op: okAdd(1, "1"), want: []st{e0("1")}},
	{name: "unknown add: on the value or from 0", from: e0("5"), op: unknown(okAdd(1, "")), want: []st{e0("6"), e0("1")}},
	{name: "set: vanishing first changes nothing", from: e0("1"), op: okSet("2"), want: []st{e0("2")}},
	{name: "unknown get keeps the value, which may still vanish", from: e0("1"), op: unknown(okGet("")), want: []st{e0("1")}},
	{name: "op called after a restart, placed before it", from: e0("1"), op: okGet(""), opEpoch: 1, want: nil},
	{name: "ok get of an earlier epoch, placed after its end", from: st{1, ""}, op: okGet("1"), opEpoch: 0, want: nil},
}

func TestModelStepEvict(t *testing.T) {
	for _, tc := range evictCases {
		t.Run(tc.name, func(t *testing.T) {
			m := &kvModel{in: newInterner(), evict: true}
			op := tc.op
			o := m.convert(&op, tc.opEpoch)
			if diff := cmp.Diff(tc.want, evictStates(m, tc.from, o), cmp.Comparer(stEqual)); diff != "" {
				t.Errorf("%s from %s: mismatch (-want +got):\n%s", op.Describe(), tc.from, diff)
			}
		})
	}
}

// TestModelStepEvictAbsent checks that on an absent key the evicting
// model is the deterministic one: nothing can vanish that is not there.
func TestModelStepEvictAbsent(t *testing.T) {
	for _, tc := range stepCases {
		if tc.from.value != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			m := &kvModel{in: newInterner(), evict: true}
			op := tc.op
			o := m.convert(&op, tc.opEpoch)
			if diff := cmp.Diff(tc.want, evictStates(m, tc.from, o), cmp.Comparer(stEqual)); diff != "" {
				t.Errorf("%s from %s: mismatch (-want +got):\n%s", op.Describe(), tc.from, diff)
			}
		})
	}
}

// TestModelStepEvictAllowsMore checks that wherever the deterministic
// model takes a step the evicting one takes it too, to the same state.
func TestModelStepEvictAllowsMore(t *testing.T) {
	for _, tc := range stepCases {
		if tc.want == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			m := &kvModel{in: newInterner(), evict: true}
			op := tc.op
			o := m.convert(&op, tc.opEpoch)
			got := evictStates(m, tc.from, o)
			for _, s := range got {
				if s == tc.want[0] {
					return
				}
			}
			t.Errorf("%s from %s: evicting model gives %v, without %v", op.Describe(), tc.from, got, tc.want[0])
		})
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"-0", 0, true},
		{"42", 42, true},
		{"-42", -42, true},
		{"9007199254740993", 9007199254740993, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"007", 0, false},
		{"+1", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{`"1"`, 0, false},
		{"", 0, false},
		{"null", 0, false},
	}
	for _, tc := range tests {
		n, ok := history.Int(json.RawMessage(tc.in))
		if n != tc.want || ok != tc.ok {
			t.Errorf("history.Int(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
}

func TestEpochOf(t *testing.T) {
	bounds := []int64{10, 20, 20, 30}
	tests := []struct {
		t    int64
		want uint32
	}{
		{-5, 0}, {9, 0}, {10, 1}, {19, 1}, {20, 3}, {29, 3}, {30, 4}, {1 << 40, 4},
	}
	for _, tc := range tests {
		if got := epochOf(bounds, tc.t); got != tc.want {
			t.Errorf("epochOf(%v, %d) = %d; want %d", bounds, tc.t, got, tc.want)
		}
	}
	if got := epochOf(nil, 5); got != 0 {
		t.Errorf("epochOf(nil, 5) = %d; want 0", got)
	}
}

// TestPartition checks how a history is split: per key in key order,
// failed operations and len/keys left out, unknown ones returning at
// infinity, and one restart per key at each epoch boundary (only the
// restarts that lost the state).
func TestPartition(t *testing.T) {
	h := &history.History{
		Header: history.NewHeader(history.ModelKV, "", 0),
		Ops: []history.Op{
			{ID: 1, Worker: "w1", Method: history.Set, Key: "b", Input: history.Input{Value: json.RawMessage("1")}, Output: history.Output{Value: json.RawMessage(`"OK"`)}, Call: 0, Return: 10, Status: history.StatusOK},
			{ID: 2, Worker: "w2", Method: history.Set, Key: "a", Input: history.Input{Value: json.RawMessage("2")}, Output: history.Output{Error: &history.ErrorInfo{Code: "too_large"}}, Call: 5, Return: 15, Status: history.StatusFail},
			{ID: 3, Worker: "w2", Method: history.Len, Output: history.Output{Value: json.RawMessage("1")}, Call: 20, Return: 30, Status: history.StatusOK},
			{ID: 4, Worker: "w1", Method: history.Add, Key: "a", Input: history.Input{Delta: 1}, Call: 25, Return: 26, Status: history.StatusUnknown},
			{ID: 5, Worker: "w1", Stream: 1, Method: history.Get, Key: "b", Call: 50, Return: 60, Status: history.StatusOK},
		},
		Events: []history.Event{
			{Kind: history.EventMasterRestart, Time: 40, Reset: true},
			{Kind: history.EventMasterRestart, Time: 35},
			{Kind: history.EventMasterKill, Time: 33},
		},
	}
	type row struct {
		Key    string
		ID     int64 // 0 for a restart
		Epoch  uint32
		Call   int64
		Return int64
	}
	var got []row
	for _, kh := range partition(h, history.ModelKV, &streams{}) {
		for _, p := range kh.ops {
			o := p.Input.(*kvOp)
			r := row{Key: kh.key, Epoch: o.epoch, Call: p.Call, Return: p.Return}
			if o.op != nil {
				r.ID = o.op.ID
			}
			got = append(got, r)
		}
	}
	want := []row{
		{Key: "a", ID: 4, Epoch: 0, Call: 25, Return: 61},
		{Key: "a", ID: 0, Epoch: 1, Call: 40, Return: 40},
		{Key: "b", ID: 1, Epoch: 0, Call: 0, Return: 10},
		{Key: "b", ID: 5, Epoch: 1, Call: 50, Return: 60},
		{Key: "b", ID: 0, Epoch: 1, Call: 40, Return: 40},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("partition: mismatch (-want +got):\n%s", diff)
	}
}

// TestPartitionTTL checks that a key is checked by the evicting model
// when any of its operations sets a TTL, and only that key.
func TestPartitionTTL(t *testing.T) {
	ok := history.Output{Value: json.RawMessage(`"OK"`)}
	h := &history.History{Ops: []history.Op{
		{ID: 1, Worker: "w", Method: history.Set, Key: "t", Input: history.Input{Value: json.RawMessage("1")}, Output: ok, Call: 0, Return: 1, Status: history.StatusOK},
		{ID: 2, Worker: "w", Method: history.Set, Key: "t", Input: history.Input{Value: json.RawMessage("1"), TTL: 1000}, Output: ok, Call: 2, Return: 3, Status: history.StatusOK},
		{ID: 3, Worker: "w", Method: history.Set, Key: "u", Input: history.Input{Value: json.RawMessage("1")}, Output: ok, Call: 4, Return: 5, Status: history.StatusOK},
	}}
	got := map[string]bool{}
	for _, kh := range partition(h, history.ModelKV, &streams{}) {
		got[kh.key] = kh.model.evict
	}
	if diff := cmp.Diff(map[string]bool{"t": true, "u": false}, got); diff != "" {
		t.Errorf("evicting keys: mismatch (-want +got):\n%s", diff)
	}
	got = map[string]bool{}
	for _, kh := range partition(h, history.ModelKVEvict, &streams{}) {
		got[kh.key] = kh.model.evict
	}
	if diff := cmp.Diff(map[string]bool{"t": true, "u": true}, got); diff != "" {
		t.Errorf("evicting keys under %s: mismatch (-want +got):\n%s", history.ModelKVEvict, diff)
	}
}
