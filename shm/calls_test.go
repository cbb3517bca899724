package shm_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shmlab/shmlab/shm"
	"pgregory.net/rapid"
)

// callsMachine drives a client core (shm.Calls) and a master's store
// (shm.Store) by hand, with a wire between them that loses, duplicates
// and reorders: rapid picks every step. The store must answer each
// request id once and replay that answer for every copy; the core must
// end every call exactly once, with the store's answer or a timeout, and
// keep nothing of an ended call.
type callsMachine struct {
	calls   *shm.Calls
	store   *shm.Store
	now     int64
	model   map[string]shm.Value // what the store holds, applied in delivery order
	toStore []shm.Message
	toCalls []shm.Message
	first   map[uint64]shm.Message // the store's first answer to each id
	answers map[uint64][]string    // every answer to each id (a get is answered anew for each copy)
	open    map[uint64]bool        // calls not yet ended
}

const (
	machineTimeout = 100
	machineRetry   = 10
)

var machineID = shm.Identity{Worker: 1, Inc: 1}

func newCallsMachine() *callsMachine {
	return &callsMachine{
		calls: shm.NewCalls(shm.CallsOptions{Identity: machineID, RetryAfter: machineRetry}),
		store: shm.NewStore(shm.StoreOptions{}), model: map[string]shm.Value{},
		first: map[uint64]shm.Message{}, open: map[uint64]bool{}, answers: map[uint64][]string{},
	}
}

func (m *callsMachine) call(t *rapid.T) {
	key := rapid.SampledFrom([]string{"a", "b"}).Draw(t, "key")
	req := shm.Message{Kind: shm.KindRequest, Key: []byte(key), Has: shm.HasKey}
	switch rapid.IntRange(0, 3).Draw(t, "method") {
	case 0:
		req.Method = shm.MethodGet
	case 1:
		req.Method, req.Value, req.Has = shm.MethodSet, shm.Int(rapid.Int64Range(0, 9).Draw(t, "v")), req.Has|shm.HasValue
	case 2:
		req.Method, req.Delta, req.Has = shm.MethodAdd, rapid.Int64Range(1, 3).Draw(t, "d"), req.Has|shm.HasDelta
	default:
		req.Method = shm.MethodDelete
	}
	id, _, local := m.calls.Start(&req, m.now, m.now+machineTimeout)
	if local || req.Seq != id || req.Worker != machineID.Worker || req.Inc != machineID.Inc {
		t.Fatalf("Start stamped %+v for call %d (local %v)", req, id, local)
	}
	m.open[id] = true
	m.toStore = append(m.toStore, req)
}

func (m *callsMachine) deliver(t *rapid.T) {
	if len(m.toStore) == 0 {
		t.Skip("nothing to deliver")
	}
	i := rapid.IntRange(0, len(m.toStore)-1).Draw(t, "i")
	req := m.toStore[i]
	if !rapid.Bool().Draw(t, "duplicate") {
		m.toStore = append(m.toStore[:i], m.toStore[i+1:]...)
	}
	rep := m.store.Apply(m.now, machineID, &req)
	// Once the client's ack has passed an ended call's id, its copies are
	// answered with an indefinite expired, and never applied.
	expired := rep.Err != nil && rep.Err.Code == shm.CodeExpired && !rep.Err.Definite && !m.open[req.Seq]
	if want, ok := m.first[req.Seq]; expired || (ok && req.Method != shm.MethodGet) {
		if !expired && fmt.Sprint(want.Value, want.Err) != fmt.Sprint(rep.Value, rep.Err) {
			t.Fatalf("id %d answered %s, then %s (%v)", req.Seq, want.Value, rep.Value, rep.Err)
		}
	} else {
		if want := m.apply(&req); string(rep.Value) != string(want) {
			t.Fatalf("%v %s answered %s, the model says %s", req.Method, req.Key, rep.Value, want)
		}
		m.first[req.Seq] = rep
	}
	m.answers[req.Seq] = append(m.answers[req.Seq], string(rep.Value))
	m.toCalls = append(m.toCalls, rep)
}

// apply applies req to the model and returns its answer.
func (m *callsMachine) apply(req *shm.Message) shm.Value {
	k := string(req.Key)
	cur, ok := m.model[k]
	switch req.Method {
	case shm.MethodGet:
		return cur
	case shm.MethodSet:
		m.model[k] = req.Value
		return shm.Value(`"OK"`)
	case shm.MethodAdd:
		n, _ := cur.Int()
		m.model[k] = shm.Int(n + req.Delta)
		return m.model[k]
	}
	delete(m.model, k)
	if ok {
		return shm.True
	}
	return shm.False
}

func (m *callsMachine) reply(t *rapid.T) {
	if len(m.toCalls) == 0 {
		t.Skip("no reply to deliver")
	}
	i := rapid.IntRange(0, len(m.toCalls)-1).Draw(t, "i")
	rep := m.toCalls[i]
	m.toCalls = append(m.toCalls[:i], m.toCalls[i+1:]...)
	id, ok := m.calls.Finish(&rep)
	switch {
	case ok && !m.open[id]:
		t.Fatalf("call %d ended twice", id)
	case !ok && m.open[rep.Seq]:
		t.Fatalf("the reply to open call %d was refused", rep.Seq)
	case ok && !slices.Contains(m.answers[id], string(rep.Value)):
		t.Fatalf("call %d got %s, the store answered %q", id, rep.Value, m.answers[id])
	}
	delete(m.open, id)
}

func (m *callsMachine) drop(t *rapid.T) {
	if len(m.toStore) > 0 && rapid.Bool().Draw(t, "request") {
		m.toStore = m.toStore[1:]
	} else if len(m.toCalls) > 0 {
		m.toCalls = m.toCalls[1:]
	}
}

func (m *callsMachine) tick(t *rapid.T) {
	m.now += rapid.Int64Range(1, 60).Draw(t, "dt")
	m.due(t)
}

func (m *callsMachine) due(t *rapid.T) {
	m.calls.Due(m.now, func(id uint64) {
		if !m.open[id] {
			t.Fatalf("call %d expired, but it had ended", id)
		}
		delete(m.open, id)
	}, func(req *shm.Message) {
		if !m.open[req.Seq] {
			t.Fatalf("resent request %d of a call that ended", req.Seq)
		}
		m.toStore = append(m.toStore, *req)
	})
}

func (m *callsMachine) check(t *rapid.T) {
	if got, want := m.calls.Pending(), len(m.open); got != want {
		t.Fatalf("%d calls pending, %d open", got, want)
	}
}

func TestCallsAndStoreMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newCallsMachine()
		t.Repeat(map[string]func(*rapid.T){
			"call": m.call, "deliver": m.deliver, "reply": m.reply, "drop": m.drop, "tick": m.tick,
			"": m.check,
		})
		m.now += machineTimeout + 1
		m.due(t)
		if n := m.calls.Pending(); n != 0 || len(m.open) != 0 {
			t.Fatalf("after every deadline: %d pending, %d open", n, len(m.open))
		}
	})
}
