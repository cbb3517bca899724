package sim

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestQueueOrder: the queue pops events by time, and those of one time
// in the order they were pushed, however pushes and pops interleave (as
// the simulator makes them: never before the last time popped).
func TestQueueOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q queue
		var pending []event   // the reference: sorted stably by time
		var got, want []int32 // the events' ids, in the order popped
		now, id := int64(0), int32(0)
		for range rapid.IntRange(1, 300).Draw(t, "steps") {
			if len(pending) > 0 && rapid.Bool().Draw(t, "pop") {
				e := q.pop()
				now = e.at
				got, want = append(got, e.msg), append(want, pending[0].msg)
				pending = pending[1:]
				if q.len() != len(pending) {
					t.Fatalf("len %d, want %d", q.len(), len(pending))
				}
				continue
			}
			d := rapid.OneOf(rapid.Just(int64(0)), rapid.Int64Range(0, 3), rapid.Int64Range(0, 1<<40)).Draw(t, "after")
			id++
			e := event{at: now + d, msg: id}
			q.push(e)
			pending = append(pending, e)
			sort.SliceStable(pending, func(i, j int) bool { return pending[i].at < pending[j].at })
		}
		for len(pending) > 0 {
			got, want = append(got, q.pop().msg), append(want, pending[0].msg)
			pending = pending[1:]
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("pop order (-want +got):\n%s", d)
		}
	})
}
