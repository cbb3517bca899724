package linearizability

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/shmlab/shmlab/history"
)

// A key's operations are checked against a register that holds a JSON
// value or nothing. Values are interned per key: a state is one uint64
// (epoch, present, value id), so that porcupine compares and hashes
// states cheaply.

// kvOp is one operation as the model sees it.
type kvOp struct {
	op      *history.Op // nil for an epoch boundary
	method  history.Method
	epoch   uint32
	reset   bool
	unknown bool
	value   uint32  // set and cas: the new value; append: the string appended; ok get, ok add: the value returned
	present bool    // ok get: a value was returned
	old     uint32  // cas
	hasOld  bool    // cas
	delta   int64   // add
	flag    bool    // ok delete, ok cas: the boolean answered
	fail    failure // a failed add checked as an observation (checkedFailure)
}

// failure is the code of a failed operation the model checks: one that
// says what the key held, and changed nothing.
type failure uint8

const (
	notFailed    failure = iota
	failOverflow         // add: the key's integer plus delta leaves int64
	failNotInt           // add: the key holds a value that is not an int64 integer
)

// checkedFailure returns what op's failure says of its key's value, if
// the model checks it: an add failed with overflow or not_integer. Any
// other failure surely did nothing and says nothing (notFailed): it is
// left out of the check.
func checkedFailure(op *history.Op) failure {
	if op.Status != history.StatusFail || op.Method != history.Add || op.Output.Error == nil {
		return notFailed
	}
	switch op.Output.Error.Code {
	case "overflow":
		return failOverflow
	case "not_integer":
		return failNotInt
	}
	return notFailed
}

// checked reports whether the model checks op: an operation on one key
// that did not fail, or whose failure it checks (checkedFailure).
func checked(op *history.Op) bool {
	return op.Method.Keyed() && (op.Status != history.StatusFail || checkedFailure(op) != notFailed)
}

// kvState packs (epoch, present, value id).
type kvState uint64

func mkState(epoch uint32, present bool, id uint32) kvState {
	s := kvState(epoch)<<33 | kvState(id)
	if present {
		s |= 1 << 32
	}
	return s
}

func (s kvState) epoch() uint32   { return uint32(s >> 33) }
func (s kvState) present() bool   { return s&(1<<32) != 0 }
func (s kvState) value() uint32   { return uint32(s) }
func (s kvState) absent() kvState { return mkState(s.epoch(), false, 0) }

// interner gives each distinct value of one key a small id, and knows
// which values are integers. It grows while a check runs (add makes new
// integers, append new strings), so each key has its own and one
// goroutine uses it.
type interner struct {
	ids   map[string]uint32
	vals  []string
	ints  map[int64]uint32
	intOf []int64
	isInt []bool
	cats  map[[2]uint32]uint32 // (string, suffix) -> their concatenation
}

func newInterner() *interner {
	in := &interner{ids: make(map[string]uint32), ints: make(map[int64]uint32)}
	in.id("") // id 0: no value
	return in
}

func (in *interner) id(v string) uint32 {
	if id, ok := in.ids[v]; ok {
		return id
	}
	id := uint32(len(in.vals))
	in.ids[v] = id
	in.vals = append(in.vals, v)
	n, ok := history.Int(json.RawMessage(v))
	in.intOf = append(in.intOf, n)
	in.isInt = append(in.isInt, ok)
	if ok && v == strconv.FormatInt(n, 10) {
		in.ints[n] = id
	}
	return id
}

// idOf is id for a value's bytes, without making a string of a value
// already seen.
func (in *interner) idOf(v json.RawMessage) uint32 {
	if id, ok := in.ids[string(v)]; ok {
		return id
	}
	return in.id(string(v))
}

// isStr reports whether value id is a JSON string.
func (in *interner) isStr(id uint32) bool {
	v := in.vals[id]
	return len(v) > 0 && v[0] == '"'
}

// concat returns the id of string a with string b appended (a = 0: the
// absent key, which counts as ""). The JSON texts are joined as written:
// "ab" and "c\n" make "abc\n".
func (in *interner) concat(a, b uint32) uint32 {
	if a == 0 {
		return b
	}
	k := [2]uint32{a, b}
	if id, ok := in.cats[k]; ok {
		return id
	}
	x, y := in.vals[a], in.vals[b]
	id := in.id(x[:len(x)-1] + y[1:])
	if in.cats == nil {
		in.cats = make(map[[2]uint32]uint32)
	}
	in.cats[k] = id
	return id
}

func (in *interner) intID(n int64) uint32 {
	if id, ok := in.ints[n]; ok {
		return id
	}
	return in.id(strconv.FormatInt(n, 10))
}

// kvModel is the porcupine model of one key.
type kvModel struct {
	in    *interner
	evict bool
	// slab is where convert makes the key's operations, to allocate
	// them together (partition sizes it).
	slab []kvOp
}

// step applies o to s as a store that never loses a key would.
func (m *kvModel) step(s kvState, o *kvOp) (bool, kvState) {
	if o.reset {
		return s.epoch()+1 == o.epoch, mkState(o.epoch, false, 0)
	}
	if o.epoch != s.epoch() {
		// An operation of an earlier epoch placed after its end: only one
		// whose outcome is unknown may be, and it did nothing.
		return o.unknown && o.epoch < s.epoch(), s
	}
	switch o.method {
	case history.Get:
		if o.unknown {
			return true, s
		}
		if o.present {
			return s.present() && s.value() == o.value, s
		}
		return !s.present(), s
	case history.Set:
		return true, mkState(s.epoch(), true, o.value)
	case history.Delete:
		return o.unknown || o.flag == s.present(), s.absent()
	case history.CAS:
		match := !s.present()
		if o.hasOld {
			match = s.present() && s.value() == o.old
		}
		if !o.unknown && o.flag != match {
			return false, s
		}
		if match {
			return true, mkState(s.epoch(), true, o.value)
		}
		return true, s
	case history.Add:
		var cur int64
		if s.present() {
			if !m.in.isInt[s.value()] {
				return o.unknown || o.fail == failNotInt, s // add fails on a value that is not an integer
			}
			cur = m.in.intOf[s.value()]
		}
		sum, ok := addInt(cur, o.delta)
		if !ok {
			return o.unknown || o.fail == failOverflow, s // overflow fails
		}
		if o.fail != notFailed {
			return false, s // it failed where the add fits
		}
		id := m.in.intID(sum)
		if !o.unknown && id != o.value {
			return false, s
		}
		return true, mkState(s.epoch(), true, id)
	case history.Append:
		cur := uint32(0)
		if s.present() {
			if !m.in.isStr(s.value()) {
				return o.unknown, s // append fails on a value that is not a string
			}
			cur = s.value()
		}
		return true, mkState(s.epoch(), true, m.in.concat(cur, o.value))
	}
	return false, s
}

// stepEvict applies o to s, or to the state where the key has vanished
// first. It returns every state that can follow.
func (m *kvModel) stepEvict(s kvState, o *kvOp) []kvState {
	ok1, s1 := m.step(s, o)
	if !s.present() || o.reset {
		if ok1 {
			return []kvState{s1}
		}
		return nil
	}
	ok2, s2 := m.step(s.absent(), o)
	switch {
	case ok1 && ok2 && s1 != s2 && !(s2 == s1.absent()):
		return []kvState{s1, s2}
	case ok1:
		// s1 keeps at least what s2 does: a present key can still vanish.
		return []kvState{s1}
	case ok2:
		return []kvState{s2}
	}
	return nil
}

// infinity stands for the return time of an unknown operation: later
// than every time in the history.
func infinity(h *history.History) int64 {
	t := int64(math.MinInt64)
	for i := range h.Ops {
		t = max(t, h.Ops[i].Call, h.Ops[i].Return)
	}
	for i := range h.Events {
		t = max(t, h.Events[i].Time, h.Events[i].End)
	}
	if t == math.MinInt64 {
		return 1
	}
	return t + 1
}

// registerProblem says why h cannot be checked as the register model
// (ModelRegister): one key, and only get, set (without a TTL) and cas on
// it. It is nil for the other models.
func registerProblem(h *history.History, model history.Model) error {
	if model != history.ModelRegister {
		return nil
	}
	var key *history.Op
	for i := range h.Ops {
		op := &h.Ops[i]
		switch {
		case op.Method != history.Get && op.Method != history.Set && op.Method != history.CAS:
			return fmt.Errorf("%s: the register model has only get, set and cas", op)
		case op.Input.TTL != 0:
			return fmt.Errorf("%s: a register has no TTL", op)
		case key == nil:
			key = op
		case op.Key != key.Key:
			return fmt.Errorf("%s: the register model holds one register, and %s names another key", op, key)
		}
	}
	return nil
}
