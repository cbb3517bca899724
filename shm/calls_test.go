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
// and reorders, and a worker that may restart as a new incarnation: rapid
// picks every step. The store must answer each request id once and
// replay that answer for every copy; the core must end every call exactly
// once, with the store's answer, a timeout or the loss of its connection,
// and keep nothing of an ended call.
type callsMachine struct {
	calls   *shm.Calls
	id      shm.Identity // the current incarnation's
	store   *shm.Store
	now     int64
	model   map[string]shm.Value // what the store holds, applied in delivery order
	toStore []shm.Message
	toCalls []shm.Message
	first   map[callKey]shm.Message // the store's first answer to each id
	answers map[callKey][]string    // every answer to each id (a get is answered anew for each copy)
	open    map[uint64]bool         // the current incarnation's calls not yet ended
}

// callKey names a request: its incarnation and id.
type callKey struct {
	inc, seq uint64
}

const (
	machineTimeout = 100
	machineRetry   = 10
)

func newCallsMachine() *callsMachine {
	m := &callsMachine{store: shm.NewStore(shm.StoreOptions{}), model: map[string]shm.Value{},
		first: map[callKey]shm.Message{}, answers: map[callKey][]string{}}
	m.incarnate(shm.Identity{Worker: 1, Inc: 1})
	return m
}

// incarnate starts the client core of incarnation id.
func (m *callsMachine) incarnate(id shm.Identity) {
	m.id, m.open = id, map[uint64]bool{}
	m.calls = shm.NewCalls(shm.CallsOptions{Identity: id, RetryAfter: machineRetry})
}

func (m *callsMachine) call(t *rapid.T) {
	key := rapid.SampledFrom([]string{"a", "b"}).Draw(t, "key")
	req := shm.Message{Kind: shm.KindRequest, Key: []byte(key), Has: shm.HasKey}
	switch rapid.IntRange(0, 4).Draw(t, "method") {
	case 0:
		req.Method = shm.MethodGet
	case 1:
		req.Method, req.Value, req.Has = shm.MethodSet, shm.Int(rapid.Int64Range(0, 9).Draw(t, "v")), req.Has|shm.HasValue
	case 2:
		req.Method, req.Delta, req.Has = shm.MethodAdd, rapid.Int64Range(1, 3).Draw(t, "d"), req.Has|shm.HasDelta
	case 3:
		req.Method, req.Value, req.Has = shm.MethodCAS, shm.Int(rapid.Int64Range(0, 9).Draw(t, "v")), req.Has|shm.HasValue
		if old := rapid.Int64Range(-1, 9).Draw(t, "old"); old >= 0 {
			req.Old, req.Has = shm.Int(old), req.Has|shm.HasOld
		}
	default:
		req.Method = shm.MethodDelete
	}
	var rep shm.Message
	id, local := m.calls.Start(&req, m.now, m.now+machineTimeout, &rep)
	if local || req.Seq != id || req.Worker != m.id.Worker || req.Inc != m.id.Inc {
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
	k := callKey{req.Inc, req.Seq}
	rep := m.store.Apply(m.now, shm.Identity{Worker: req.Worker, Inc: req.Inc}, &req)
	// Once the client's ack has passed an ended call's id, its copies are
	// answered with an indefinite expired, and never applied.
	ended := !m.open[req.Seq]
	expired := rep.Err != nil && rep.Err.Code == shm.CodeExpired && !rep.Err.Definite && ended
	if want, ok := m.first[k]; expired || (ok && req.Method != shm.MethodGet) {
		if !expired && fmt.Sprint(want.Value, want.Err) != fmt.Sprint(rep.Value, rep.Err) {
			t.Fatalf("id %v answered %s, then %s (%v)", k, want.Value, rep.Value, rep.Err)
		}
	} else {
		if want := m.apply(&req); string(rep.Value) != string(want) {
			t.Fatalf("%v %s answered %s, the model says %s", req.Method, req.Key, rep.Value, want)
		}
		m.first[k] = rep
	}
	m.answers[k] = append(m.answers[k], string(rep.Value))
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
	case shm.MethodCAS:
		if (req.Has&shm.HasOld == 0 && ok) || (req.Has&shm.HasOld != 0 && (!ok || !cur.Equal(req.Old))) {
			return shm.False
		}
		m.model[k] = req.Value
		return shm.True
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
	k := callKey{m.id.Inc, id}
	switch {
	case ok && !m.open[id]:
		t.Fatalf("call %d ended twice", id)
	case !ok && m.open[rep.Seq]:
		t.Fatalf("the reply to open call %d was refused", rep.Seq)
	case ok && !slices.Contains(m.answers[k], string(rep.Value)):
		t.Fatalf("call %d got %s, the store answered %q", id, rep.Value, m.answers[k])
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

// restart ends the incarnation: its connection is lost (every open call
// ends, once), what is still on the wire either way goes nowhere (a
// master reads a connection to its end before it forgets the sender, so
// no request of the old incarnation can come after), the store forgets
// its identity, and a new incarnation starts.
func (m *callsMachine) restart(t *rapid.T) {
	m.calls.Lost(func(id uint64) {
		if !m.open[id] {
			t.Fatalf("lost call %d, which had ended", id)
		}
		delete(m.open, id)
	})
	if len(m.open) > 0 || m.calls.Pending() > 0 {
		t.Fatalf("after the loss: %d open, %d pending", len(m.open), m.calls.Pending())
	}
	m.toCalls, m.toStore = nil, nil
	m.store.Forget(m.id)
	m.incarnate(shm.Identity{Worker: m.id.Worker, Inc: m.id.Inc + 1})
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
			"restart": m.restart, "": m.check,
		})
		m.now += machineTimeout + 1
		m.due(t)
		if n := m.calls.Pending(); n != 0 || len(m.open) != 0 {
			t.Fatalf("after every deadline: %d pending, %d open", n, len(m.open))
		}
	})
}
