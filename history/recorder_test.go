package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// tickClock returns a clock for recorders that says step, 2*step, … one
// reading after another, safe for concurrent use.
func tickClock(step int64) func() int64 {
	var t atomic.Int64
	return func() int64 { return t.Add(step) }
}

// raw returns s as a JSON text.
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// recorderDiff compares histories as a file holds them.
func recorderDiff(want, got *History) string {
	return cmp.Diff(want, got,
		cmpopts.IgnoreFields(History{}, "Name"),
		cmpopts.IgnoreFields(Op{}, "Line"),
		cmpopts.IgnoreFields(Event{}, "Line"),
		cmpopts.EquateEmpty())
}

// reread writes h and reads it back, failing t if Read rejects it, and
// checks that nothing changed on the way.
func reread(t *testing.T, h *History) *History {
	t.Helper()
	var b bytes.Buffer
	if err := h.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	written := bytes.Clone(b.Bytes())
	got, err := Read(&b, "recorded")
	if err != nil {
		t.Fatalf("Read of the recorded history: %v", err)
	}
	// Comparing the texts is quick; cmp.Diff, for the message, is not.
	if err := got.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if !bytes.Equal(written, b.Bytes()) {
		t.Errorf("the history changed through Write and Read (-written +read):\n%s", recorderDiff(h, got))
	}
	return got
}

func TestNowIsClockMonotonic(t *testing.T) {
	sys := func() int64 {
		var ts syscall.Timespec
		const clockMonotonic = 1
		if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
			t.Fatalf("clock_gettime: %v", errno)
		}
		return ts.Nano()
	}
	for range 100 {
		before := sys()
		now := Now()
		after := sys()
		if now < before || now > after {
			t.Fatalf("Now() = %d, not between two readings of CLOCK_MONOTONIC, %d and %d", now, before, after)
		}
	}
}

func TestRecorderHistory(t *testing.T) {
	r := NewRecorder(RecorderOptions{Clock: tickClock(10)})
	w1 := r.Session("w1")
	w2 := r.Session("w2")
	w1.Call(Set, "x", Input{Value: raw(`1`)}).Return(StatusOK, Output{Value: raw(`"OK"`)}) // 10, 20
	p := w2.Call(Get, "x", Input{})                                                        // 30
	w1.Call(CAS, "x", Input{Old: raw(`1`), Value: raw(`2`)}).Return(StatusFail,            // 40, 50
		Output{Error: &ErrorInfo{Code: "overloaded", Message: "try later"}})
	r.Event(Event{Kind: EventFault, Link: "w2→master", Fault: "delay", Truth: TruthDelayed, Op: p.ID()}) // 60
	p.Return(StatusOK, Output{Value: raw(`1`)})                                                          // 70
	r.Event(Event{Kind: EventNote, Time: 5, Text: "before everything"})
	w2.Call(Add, "n", Input{Delta: 3}).Return(StatusUnknown, Output{Error: &ErrorInfo{Code: "timeout"}}) // 80, 90
	w2.Call(Delete, "x", Input{})                                                                        // 100, pending

	got := r.History(NewHeader(ModelKV, "unit", 7))
	want := &History{
		Header: NewHeader(ModelKV, "unit", 7),
		Ops: []Op{
			{ID: 1, Worker: "w1", Method: Set, Key: "x", Input: Input{Value: raw(`1`)}, Output: Output{Value: raw(`"OK"`)}, Call: 10, Return: 20, Status: StatusOK},
			{ID: 2, Worker: "w2", Method: Get, Key: "x", Output: Output{Value: raw(`1`)}, Call: 30, Return: 70, Status: StatusOK},
			{ID: 3, Worker: "w1", Method: CAS, Key: "x", Input: Input{Old: raw(`1`), Value: raw(`2`)},
				Output: Output{Error: &ErrorInfo{Code: "overloaded", Message: "try later"}}, Call: 40, Return: 50, Status: StatusFail},
			{ID: 4, Worker: "w2", Method: Add, Key: "n", Input: Input{Delta: 3}, Output: Output{Error: &ErrorInfo{Code: "timeout"}},
				Call: 80, Return: 90, Status: StatusUnknown},
			{ID: 5, Worker: "w2", Stream: 1, Method: Delete, Key: "x", Call: 100, Status: StatusUnknown},
		},
		Events: []Event{
			{Kind: EventNote, Time: 5, Text: "before everything"},
			{Kind: EventFault, Time: 60, Link: "w2→master", Fault: "delay", Truth: TruthDelayed, Op: 2},
		},
	}
	if d := recorderDiff(want, got); d != "" {
		t.Errorf("History (-want +got):\n%s", d)
	}
	reread(t, got)

	// The snapshot is a copy: the pending delete's return, later, is in
	// the next one and not in this one.
	w2.pending.Return(StatusOK, Output{Value: raw(`true`)})
	if got.Ops[4].Status != StatusUnknown {
		t.Errorf("an earlier snapshot changed: %v", &got.Ops[4])
	}
	again := r.History(NewHeader(ModelKV, "unit", 7))
	want.Ops[4].Status, want.Ops[4].Return, want.Ops[4].Output = StatusOK, 110, Output{Value: raw(`true`)}
	if d := recorderDiff(want, again); d != "" {
		t.Errorf("History after the delete returned (-want +got):\n%s", d)
	}
}

func TestRecorderUnknownStartsNewStream(t *testing.T) {
	r := NewRecorder(RecorderOptions{Clock: tickClock(1)})
	s := r.Session("w1")
	statuses := []Status{StatusOK, StatusUnknown, StatusFail, StatusOK, StatusUnknown, StatusUnknown, StatusOK}
	for i, st := range statuses {
		out := Output{}
		if st == StatusOK {
			out.Value = raw(`"OK"`)
		}
		s.Call(Set, "k", Input{Value: raw(fmt.Sprint(i))}).Return(st, out)
	}
	s.Call(Get, "k", Input{}) // pending: unknown, last of its stream
	h := reread(t, r.History(NewHeader(ModelKV, "", 0)))
	var got []string
	for _, op := range h.Ops {
		got = append(got, fmt.Sprintf("%d:%s", op.Stream, op.Status))
	}
	want := []string{"0:ok", "0:unknown", "1:fail", "1:ok", "1:unknown", "2:unknown", "3:ok", "3:unknown"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("streams and statuses (-want +got):\n%s", d)
	}
}

func TestRecorderSessionsOfOneWorker(t *testing.T) {
	// A worker restarted in the simulator takes a new session under the
	// same name; the history numbers its streams by their first calls.
	r := NewRecorder(RecorderOptions{Clock: tickClock(1)})
	first := r.Session("w1")
	second := r.Session("w1") // its first call comes first: stream 0
	second.Call(Get, "a", Input{}).Return(StatusOK, Output{})
	first.Call(Get, "b", Input{}).Return(StatusUnknown, Output{})
	second.Call(Get, "c", Input{})
	first.Call(Get, "d", Input{}).Return(StatusOK, Output{})
	h := reread(t, r.History(NewHeader(ModelKV, "", 0)))
	var got []string
	for _, op := range h.Ops {
		got = append(got, fmt.Sprintf("%s %s/%d", op.Key, op.Worker, op.Stream))
	}
	want := []string{"a w1/0", "b w1/1", "c w1/0", "d w1/2"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("streams (-want +got):\n%s", d)
	}
}

func TestRecorderManyChunks(t *testing.T) {
	r := NewRecorder(RecorderOptions{Clock: tickClock(1)})
	s := r.Session("w1")
	const n = 3*opChunkLen + 7
	for i := range n {
		s.Call(Add, "n", Input{Delta: int64(i)}).Return(StatusOK, Output{Value: raw(fmt.Sprint(i))})
	}
	h := r.History(NewHeader(ModelKV, "", 0))
	if len(h.Ops) != n {
		t.Fatalf("History has %d ops, want %d", len(h.Ops), n)
	}
	for i, op := range h.Ops {
		if op.ID != int64(i+1) || op.Input.Delta != int64(i) || op.Call != int64(2*i+1) || op.Return != int64(2*i+2) {
			t.Fatalf("op %d is %v, call %d, return %d", i, &op, op.Call, op.Return)
		}
	}
}

func TestRecorderMisusePanics(t *testing.T) {
	newSession := func() *Session { return NewRecorder(RecorderOptions{}).Session("w1") }
	ok := Output{Value: raw(`"OK"`)}
	j, err := CreateJournal(filepath.Join(t.TempDir(), "j"), 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	NewRecorder(RecorderOptions{Journal: j})
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"call while pending", "is pending", func() {
			s := newSession()
			s.Call(Get, "k", Input{})
			s.Call(Set, "k", Input{Value: raw(`1`)})
		}},
		{"return twice", "not pending", func() {
			p := newSession().Call(Get, "k", Input{})
			p.Return(StatusOK, Output{})
			p.Return(StatusOK, Output{})
		}},
		{"return of an earlier op", "not pending", func() {
			s := newSession()
			p := s.Call(Get, "k", Input{})
			p.Return(StatusOK, Output{})
			s.Call(Get, "k", Input{})
			p.Return(StatusOK, Output{})
		}},
		{"pending not made by Call", "not pending", func() { new(Pending).Return(StatusOK, ok) }},
		{"not a status", "unknown status", func() { newSession().Call(Get, "k", Input{}).Return("maybe", Output{}) }},
		{"fail with a value", "has no value", func() { newSession().Call(Set, "k", Input{Value: raw(`1`)}).Return(StatusFail, ok) }},
		{"unknown with a value", "has no value", func() { newSession().Call(Set, "k", Input{Value: raw(`1`)}).Return(StatusUnknown, ok) }},
		{"empty worker", "empty worker", func() { NewRecorder(RecorderOptions{}).Session("") }},
		{"journal serves two recorders", "already serves", func() { NewRecorder(RecorderOptions{Journal: j}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("no panic, want one saying %q", tc.want)
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, tc.want) {
					t.Errorf("panic %q does not say %q", msg, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// TestRecorderConcurrent records from many goroutines, two sessions per
// worker name, while another takes snapshots: every snapshot must be a
// valid history, and the last must hold each goroutine's operations in
// order, with the events naming the right ones.
func TestRecorderConcurrent(t *testing.T) {
	const goroutines, perG = 8, 600
	r := NewRecorder(RecorderOptions{})
	type step struct {
		Method Method
		Key    string
		Input  Input
		Status Status
		Output Output
	}
	plan := func(g, i int) step {
		key := fmt.Sprintf("g%d-%d", g, i%5)
		switch {
		case i%50 == 49:
			return step{Set, key, Input{Value: raw(fmt.Sprint(i))}, StatusUnknown, Output{Error: &ErrorInfo{Code: "timeout"}}}
		case i%13 == 12:
			return step{CAS, key, Input{Value: raw(fmt.Sprint(i))}, StatusFail, Output{Error: &ErrorInfo{Code: "overloaded"}}}
		case i%2 == 0:
			return step{Set, key, Input{Value: raw(fmt.Sprint(i))}, StatusOK, Output{Value: raw(`"OK"`)}}
		}
		return step{Get, key, Input{}, StatusOK, Output{Value: raw(fmt.Sprint(i - 1))}}
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	snapshots := make(chan error, 1)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				if n == 0 {
					snapshots <- fmt.Errorf("no snapshot was taken while recording")
					return
				}
				snapshots <- nil
				return
			default:
			}
			if err := r.History(NewHeader(ModelKV, "", 0)).Validate(); err != nil {
				snapshots <- fmt.Errorf("snapshot %d: %v", n, err)
				return
			}
			n++
		}
	}()
	for g := range goroutines {
		wg.Go(func() {
			s := r.Session(fmt.Sprintf("w%d", g/2))
			for i := range perG {
				st := plan(g, i)
				p := s.Call(st.Method, st.Key, st.Input)
				if i%100 == 0 {
					r.Event(Event{Kind: EventFault, Fault: "drop", Op: p.ID(), Text: fmt.Sprintf("g%d-%d", g, i)})
				}
				if g%2 == 1 && i == perG-1 {
					break // left pending
				}
				p.Return(st.Status, st.Output)
			}
		})
	}
	wg.Wait()
	close(done)
	if err := <-snapshots; err != nil {
		t.Fatal(err)
	}

	h := reread(t, r.History(NewHeader(ModelKV, "", 0)))
	for g := range goroutines {
		var want, got []step
		streams := map[int]bool{}
		prefix := fmt.Sprintf("g%d-", g)
		for i := range perG {
			st := plan(g, i)
			if g%2 == 1 && i == perG-1 {
				st.Status, st.Output = StatusUnknown, Output{}
			}
			want = append(want, st)
		}
		var last *Op
		for i := range h.Ops {
			op := &h.Ops[i]
			if !strings.HasPrefix(op.Key, prefix) {
				continue
			}
			got = append(got, step{op.Method, op.Key, op.Input, op.Status, op.Output})
			if last != nil && (last.Status == StatusUnknown) != (last.Stream != op.Stream) {
				t.Errorf("goroutine %d: %v then %v: a new stream must begin after an unknown op, and only then", g, last, op)
			}
			if last == nil || last.Stream != op.Stream {
				if streams[op.Stream] {
					t.Errorf("goroutine %d: stream %d again at %v", g, op.Stream, op)
				}
				streams[op.Stream] = true
			}
			last = op
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("goroutine %d's operations (-want +got):\n%s", g, d)
		}
	}
	if len(h.Events) != goroutines*perG/100 {
		t.Errorf("%d events, want %d", len(h.Events), goroutines*perG/100)
	}
	for _, e := range h.Events {
		var g, i int
		fmt.Sscanf(e.Text, "g%d-%d", &g, &i)
		op := &h.Ops[e.Op-1]
		if want := plan(g, i); op.Key != want.Key || !bytes.Equal(op.Input.Value, want.Input.Value) {
			t.Errorf("event %q names op %v", e.Text, op)
		}
	}
}

// benchRotate is how many operations a benchmark records before it starts
// afresh, so that memory stays bounded however large b.N grows.
const benchRotate = 1 << 16

var (
	benchIn  = Input{Value: raw(`"v"`)}
	benchOut = Output{Value: raw(`"OK"`)}
)

// BenchmarkRecorder measures one operation, Call then Return, recorded
// in memory.
func BenchmarkRecorder(b *testing.B) {
	b.ReportAllocs()
	var s *Session
	for i := 0; b.Loop(); i++ {
		if i%benchRotate == 0 {
			s = NewRecorder(RecorderOptions{}).Session("w1")
		}
		s.Call(Set, "k", benchIn).Return(StatusOK, benchOut)
	}
}

// BenchmarkRecorderVirtualClock is BenchmarkRecorder on a virtual
// clock, as the simulator records: what is left is the recorder's own
// cost.
func BenchmarkRecorderVirtualClock(b *testing.B) {
	b.ReportAllocs()
	var s *Session
	var now int64
	clock := func() int64 { now++; return now }
	for i := 0; b.Loop(); i++ {
		if i%benchRotate == 0 {
			s = NewRecorder(RecorderOptions{Clock: clock}).Session("w1")
		}
		s.Call(Set, "k", benchIn).Return(StatusOK, benchOut)
	}
}

// BenchmarkRecorderParallel measures one operation recorded in memory,
// each goroutine with a session of its own, all sharing a recorder.
// Every benchRotate operations a goroutine moves to a fresh recorder,
// which the goroutines moving after it share.
func BenchmarkRecorderParallel(b *testing.B) {
	b.ReportAllocs()
	var cur atomic.Pointer[Recorder]
	cur.Store(NewRecorder(RecorderOptions{}))
	var names atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		name := fmt.Sprintf("w%d", names.Add(1))
		r := cur.Load()
		s := r.Session(name)
		for i := 1; pb.Next(); i++ {
			s.Call(Set, "k", benchIn).Return(StatusOK, benchOut)
			if i%benchRotate == 0 {
				cur.CompareAndSwap(r, NewRecorder(RecorderOptions{}))
				r = cur.Load()
				s = r.Session(name)
			}
		}
	})
}

// BenchmarkJournal measures one operation recorded in memory and in a
// journal: two records, the call and the return.
func BenchmarkJournal(b *testing.B) {
	b.ReportAllocs()
	dir := b.TempDir()
	var j *Journal
	var s *Session
	closeJournal := func() {
		if j == nil {
			return
		}
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
		if j.Lost() != 0 {
			b.Fatalf("%d records lost", j.Lost())
		}
	}
	for i := 0; b.Loop(); i++ {
		if i%benchRotate == 0 {
			b.StopTimer()
			closeJournal()
			path := filepath.Join(dir, fmt.Sprint(i))
			var err error
			if j, err = CreateJournal(path, 64<<20); err != nil {
				b.Fatal(err)
			}
			// The file lives on while mapped; removing its name now lets
			// the disk it used go when it is closed.
			syscall.Unlink(path)
			s = NewRecorder(RecorderOptions{Journal: j}).Session("w1")
			b.StartTimer()
		}
		s.Call(Set, "k", benchIn).Return(StatusOK, benchOut)
	}
	b.StopTimer()
	closeJournal()
}

// BenchmarkNow compares the clock Now reads, through the vDSO, with the
// same clock read by a system call.
func BenchmarkNow(b *testing.B) {
	b.Run("nanotime", func(b *testing.B) {
		for b.Loop() {
			Now()
		}
	})
	b.Run("syscall", func(b *testing.B) {
		var ts syscall.Timespec
		for b.Loop() {
			syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
		}
	})
}
