package faultinject_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
)

// The master's side of a worker's connection, wrapped: the reply to the
// first set is lost, so the call times out although the store has the
// value. The log tells the truth the worker cannot know.
func ExampleMessages() {
	plan := &faultinject.Plan{Seed: 1, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Drop, Dir: faultinject.Replies, P: 1, Target: faultinject.Target{Method: "set", Nth: 1}},
	}}
	var log faultinject.Log
	masterEnd, workerEnd := net.Pipe()
	m := shm.NewMaster(shm.MasterOptions{})
	wrapped := faultinject.Messages(shm.NewStreamConn(masterEnd, shm.StreamOptions{}), "w1",
		faultinject.NewDecider(plan), &log, faultinject.ConnOptions{})
	go m.Serve(wrapped, shm.Identity{Worker: 1, Inc: 1})
	c := shm.NewClient(shm.NewStreamConn(workerEnd, shm.StreamOptions{}), shm.ClientOptions{Timeout: 50 * time.Millisecond})
	defer c.Close()

	err := c.Set(context.Background(), "k", shm.Value("1"))
	fmt.Println("definite:", shm.IsDefinite(err))
	// The client gave up when its timeout passed; on a busy machine the
	// write may still be on its way then: wait for the master's reply
	// (the one dropped) to be logged.
	for len(log.Records()) == 0 {
		time.Sleep(time.Millisecond)
	}
	v, _ := m.Get("k")
	fmt.Println("stored:", v)
	for _, r := range log.Records() {
		ev := r.Event()
		fmt.Println(ev.Link, ev.Fault, ev.Truth, ev.Text)
	}
	// Output:
	// definite: false
	// stored: 1
	// master>w1 drop applied message 1 on master>w1: set "k", id 1
}

// Decisions come from the plan's seed, one stream per link: the second
// request is dropped, and every get's reply delayed.
func ExampleDecider() {
	plan := &faultinject.Plan{Seed: 42, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Drop, Dir: faultinject.Requests, Target: faultinject.Target{Nth: 2}},
		{Kind: faultinject.Delay, Dir: faultinject.Replies, P: 1, Target: faultinject.Target{Method: "get"}, Delay: faultinject.Dist{Kind: faultinject.Fixed, Min: time.Millisecond}},
	}}
	d := faultinject.NewDecider(plan)
	req := faultinject.Link{Worker: "w1", Dir: faultinject.Requests}
	for i := range 3 {
		dec := d.Decide(req, faultinject.Message{Method: "set", Key: "k", Seq: uint64(i + 1)}, 0)
		fmt.Println(req, dec.N, dec.Drop)
	}
	rep := faultinject.Link{Worker: "w1", Dir: faultinject.Replies}
	dec := d.Decide(rep, faultinject.Message{Method: "get", Key: "k", Seq: 4}, 0)
	fmt.Println(rep, dec.N, dec.Delay)
	// Output:
	// w1>master 1 false
	// w1>master 2 true
	// w1>master 3 false
	// master>w1 1 1ms
}

// Process faults aimed by time and by progress; the schedule of real
// processes (and the simulator's) holds only those aimed by time: the
// others wait for Runner.Trigger, or the simulator's master, to see
// their point.
func ExampleProgress() {
	plan := faultinject.Plan{Processes: []faultinject.ProcessFault{
		{Kind: faultinject.Kill, Target: "w2", After: &faultinject.Progress{Worker: "w2", Ops: 50}},
		{Kind: faultinject.Pause, Target: "w1", At: 20 * time.Millisecond, For: 5 * time.Millisecond},
	}}
	fmt.Println(plan.Validate())
	for _, f := range plan.Processes {
		fmt.Println(f.String())
	}
	for _, s := range faultinject.Schedule(plan.Processes) {
		fmt.Println(s.At, s.Fault, s.Second)
	}
	// Output:
	// <nil>
	// kill w2 after request 50 of w2
	// pause w1 at 20ms for 5ms
	// 20ms 1 false
	// 25ms 1 true
}

// Two pauses of one worker whose windows overlap cannot both happen as
// the plan says: the second's resume would end the first early.
func ExampleConflicts() {
	fs := []faultinject.ProcessFault{
		{Kind: faultinject.Pause, Target: "w1", At: 10 * time.Millisecond, For: 30 * time.Millisecond},
		{Kind: faultinject.Pause, Target: "w1", At: 15 * time.Millisecond, For: 5 * time.Millisecond},
		{Kind: faultinject.Pause, Target: "w2", At: 15 * time.Millisecond, For: 5 * time.Millisecond},
	}
	for _, c := range faultinject.Conflicts(fs) {
		fmt.Println(c.Later, c.Earlier, c.Why)
	}
	// Output:
	// 1 0 w1 is paused from 10ms to 40ms
}

// A reply held until its worker has sent 64 more requests: the client's
// pending ring is 64 slots by request id, so the reply to call 5 arrives
// while call 69 waits in the same slot.
func ExampleMessageFault_hold() {
	plan := &faultinject.Plan{Seed: 1, Messages: []faultinject.MessageFault{
		{Kind: faultinject.Reorder, Dir: faultinject.Replies, Hold: 64, Target: faultinject.Target{Worker: "w1", Nth: 5}},
	}}
	fmt.Println(plan.Validate())
	d := faultinject.NewDecider(plan)
	replies := faultinject.Link{Worker: "w1", Dir: faultinject.Replies}
	for n := uint64(1); n <= 8; n++ {
		if dec := d.Decide(replies, faultinject.Message{Method: "get", Key: "k", Seq: n}, 0); !dec.None() {
			fmt.Printf("reply %d: reorder %v, held for %d requests\n", n, dec.Reorder, dec.Hold)
		}
	}
	// Output:
	// <nil>
	// reply 5: reorder true, held for 64 requests
}
