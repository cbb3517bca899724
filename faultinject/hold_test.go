package faultinject_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fi "github.com/shmlab/shmlab/faultinject"
)

// TestHoldReplyByRequests: a reply held 3 requests arrives after the
// replies of the two requests sent next, and before the third's.
func TestHoldReplyByRequests(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Reorder, Dir: fi.Replies, Hold: 3, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgGet(1, "a"))
	r.waitRecords(t, 1) // its reply is held before the next request comes
	var got []msgReply
	for seq := uint64(2); seq <= 3; seq++ {
		r.send(t, msgGet(seq, "a"))
		got = append(got, r.replies(t, 1)...)
	}
	r.send(t, msgGet(4, "a"))
	got = append(got, r.replies(t, 2)...)
	if diff := cmp.Diff([]msgReply{{Seq: 2}, {Seq: 3}, {Seq: 1}, {Seq: 4}}, got); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
	recs := r.log.Records()
	if len(recs) != 1 || recs[0].Decision.Hold != 3 || !recs[0].Decision.Reorder {
		t.Errorf("records %+v, want one reorder held 3 requests", recs)
	}
}

// TestHoldRequestByRequests: a request held 2 requests is applied after
// the second request sent after it.
func TestHoldRequestByRequests(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Reorder, Dir: fi.Requests, Hold: 2, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgSet(1, "k", `"a"`))
	r.send(t, msgSet(2, "k", `"b"`))
	got := r.replies(t, 1)
	r.send(t, msgGet(3, "k"))
	got = append(got, r.replies(t, 2)...)
	want := []msgReply{{Seq: 2, Value: "OK"}, {Seq: 3, Value: `"b"`}, {Seq: 1, Value: "OK"}}
	if diff := cmp.Diff(want, got, msgOKValue); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
	if v := r.stored("k"); v != `"a"` {
		t.Errorf(`the store holds %s, want "a", applied after "b" and the get`, v)
	}
}

// TestHoldCopiesByRequests: a duplicated reply goes at once, its copy
// after the replies of the requests that end its hold.
func TestHoldCopiesByRequests(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Duplicate, Dir: fi.Replies, Hold: 2, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgGet(1, "a"))
	got := r.replies(t, 1)
	r.send(t, msgGet(2, "a"))
	got = append(got, r.replies(t, 1)...)
	r.send(t, msgGet(3, "a"))
	got = append(got, r.replies(t, 2)...)
	if diff := cmp.Diff([]msgReply{{Seq: 1}, {Seq: 2}, {Seq: 1}, {Seq: 3}}, got); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
}

// TestHoldDiscardedWhenClosed: a reply still held when its connection
// ends is discarded, and the log says so.
func TestHoldDiscardedWhenClosed(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Reorder, Dir: fi.Replies, Hold: 100, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgGet(1, "a"))
	r.waitRecords(t, 1)
	r.raw.Close()
	if recs := r.waitRecords(t, 2); !recs[1].Decision.Discarded {
		t.Errorf("records %+v, want the hold and then the reply discarded", recs)
	}
}

// waitRecords waits, for 10s at most, until the log holds n records,
// and returns them.
func (r *msgRig) waitRecords(t *testing.T, n int) []fi.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := r.log.Records()
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("records %+v after 10s, want %d", recs, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHoldValidate: a hold is a count of requests on a reorder or a
// duplicate.
func TestHoldValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    fi.MessageFault
		ok   bool
	}{
		{"reorder", fi.MessageFault{Kind: fi.Reorder, P: 0.1, Hold: 64}, true},
		{"duplicate", fi.MessageFault{Kind: fi.Duplicate, P: 0.1, Hold: 64}, true},
		{"drop", fi.MessageFault{Kind: fi.Drop, P: 0.1, Hold: 64}, false},
		{"negative", fi.MessageFault{Kind: fi.Reorder, P: 0.1, Hold: -1}, false},
		{"too long", fi.MessageFault{Kind: fi.Reorder, P: 0.1, Hold: fi.MaxHold + 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := (&fi.Plan{Messages: []fi.MessageFault{tc.f}}).Validate()
			if (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestHoldPastMaxHeld: replies held by requests, more of them than
// MaxHeld, do not stop the connection: the requests that let them go
// still come through.
func TestHoldPastMaxHeld(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Reorder, Dir: fi.Replies, P: 1, Hold: 8})
	r := newMsgRig(t, plan, msgRigOptions{raw: true, conn: fi.ConnOptions{MaxHeld: 4}})
	for seq := uint64(1); seq <= 20; seq++ {
		r.send(t, msgGet(seq, "a"))
		r.waitRecords(t, int(seq)) // its reply held before the next request comes
	}
	got := r.replies(t, 12)
	var want []msgReply
	for seq := uint64(1); seq <= 12; seq++ {
		want = append(want, msgReply{Seq: seq})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
}
