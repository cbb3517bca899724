package shm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/shm"
)

// TestResendCarriesTheWatermark: with two calls in flight, the older one
// answered, a resend of the newer carries the watermark moved up to it
// (never above it), and the store takes it for the same request: the
// first answer again, not seq_reused. A request that differs in its key
// under that id is seq_reused, as ever.
func TestResendCarriesTheWatermark(t *testing.T) {
	id := shm.Identity{Worker: 1, Inc: 1}
	calls := shm.NewCalls(shm.CallsOptions{Identity: id, RetryAfter: 10})
	store := shm.NewStore(shm.StoreOptions{})
	set := func(key string) shm.Message {
		return shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Key: []byte(key), Value: shm.Int(1), Has: shm.HasKey | shm.HasValue}
	}
	var rep shm.Message
	first, second := set("a"), set("b")
	id1, _ := calls.Start(&first, 0, 1000, &rep)
	id2, _ := calls.Start(&second, 0, 1000, &rep)
	if second.Ack != id1 {
		t.Fatalf("the second call's ack is %d, want %d (the first is pending)", second.Ack, id1)
	}
	sent := second // the copy on the wire
	answer := store.Apply(1, id, &sent)
	done := store.Apply(1, id, &first)
	if _, ok := calls.Finish(&done); !ok {
		t.Fatalf("the first call's answer %v settled no call", done)
	}
	var resent []shm.Message
	calls.Due(10, func(uint64) { t.Fatal("a call expired") }, func(req *shm.Message) { resent = append(resent, *req) })
	if len(resent) != 1 || resent[0].Seq != id2 || resent[0].Ack != id2 {
		t.Fatalf("resent %+v, want the call %d with ack %d", resent, id2, id2)
	}
	again := store.Apply(2, id, &resent[0])
	if diff := cmp.Diff(answer, again); diff != "" {
		t.Errorf("the resend's answer: mismatch (-want +got)\n%s", diff)
	}
	other := resent[0]
	other.Key = []byte("c")
	if got := store.Apply(3, id, &other); got.Err == nil || got.Err.Code != shm.CodeSeqReused {
		t.Errorf("another request under the id %d was answered %v, want seq_reused", id2, got)
	}
}
