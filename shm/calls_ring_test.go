package shm_test

import (
	"testing"

	"github.com/shmlab/shmlab/shm"
)

// TestLateReplyOnARingSlotIgnored: the pending table is a ring of 64
// slots by request id. A reply to a call that timed out, arriving while
// the call 64 ids later holds the same slot (and while one that pipelines
// past the ring's length waits beside it), answers neither: it is
// ignored, and each call is ended by its own reply.
func TestLateReplyOnARingSlotIgnored(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pending int // calls left pending beside the one on the late reply's slot
	}{{"one call", 0}, {"ring full", 40}} {
		t.Run(tc.name, func(t *testing.T) {
			c := shm.NewCalls(shm.CallsOptions{Identity: shm.Identity{Worker: 1, Inc: 1}})
			start := func(now int64) (uint64, shm.Message) {
				req := shm.Request(shm.MethodGet, 0, "k")
				var rep shm.Message
				id, local := c.Start(&req, now, now+10, &rep)
				if local {
					t.Fatal("a get answered locally")
				}
				return id, req
			}
			late, lateReq := start(0)
			c.Due(10, func(uint64) {}, func(*shm.Message) {}) // it times out
			var open []shm.Message
			for range 63 + tc.pending {
				_, req := start(20)
				if len(open) < tc.pending {
					open = append(open, req)
					continue
				}
				reply := shm.Message{Kind: shm.KindReply, Seq: req.Seq, Has: shm.HasSeq}
				if _, ok := c.Finish(&reply); !ok {
					t.Fatalf("the reply to %d ended no call", req.Seq)
				}
			}
			slot, slotReq := start(20)
			if tc.pending == 0 && slot != late+64 {
				t.Fatalf("call %d, want %d on the late reply's slot", slot, late+64)
			}
			lateReply := shm.Message{Kind: shm.KindReply, Seq: lateReq.Seq, Has: shm.HasSeq, Value: shm.Value(`"old"`)}
			if id, ok := c.Finish(&lateReply); ok {
				t.Fatalf("the late reply to %d ended call %d", lateReq.Seq, id)
			}
			for _, req := range append(open, slotReq) {
				reply := shm.Message{Kind: shm.KindReply, Seq: req.Seq, Has: shm.HasSeq}
				if id, ok := c.Finish(&reply); !ok || id != req.Seq {
					t.Fatalf("the reply to %d ended call %d (%v)", req.Seq, id, ok)
				}
			}
			if n := c.Pending(); n != 0 {
				t.Errorf("%d calls pending, want none", n)
			}
		})
	}
}
