package faultinject_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	fi "github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/pipe"
	"github.com/shmlab/shmlab/shm"
)

// msgLost is how long a test waits for a call whose request or reply is
// lost; other calls have ten seconds.
const msgLost = 150 * time.Millisecond

// msgShort returns a context for a call that is expected to time out.
func msgShort(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), msgLost)
	t.Cleanup(cancel)
	return ctx
}

// msgRig is a master serving one worker through a wrapped connection,
// over a socket pair. The worker is a shm.Client, or raw (a shm.Conn the
// test reads and writes itself).
type msgRig struct {
	m      *shm.Master
	log    *fi.Log
	client *shm.Client
	raw    shm.Conn // the worker's end, when there is no client
	rawNet net.Conn
	logs   *msgLines // the client's Logf
}

type msgRigOptions struct {
	store shm.StoreOptions
	conn  fi.ConnOptions
	raw   bool
	d     fi.Decisions // NewDecider(plan) if nil
}

func newMsgRig(t *testing.T, plan fi.Plan, o msgRigOptions) *msgRig {
	t.Helper()
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	masterEnd, workerEnd, err := pipe.ConnPair()
	if err != nil {
		t.Fatal(err)
	}
	d := o.d
	if d == nil {
		d = fi.NewDecider(&plan)
	}
	r := &msgRig{m: shm.NewMaster(shm.MasterOptions{Store: o.store}), log: &fi.Log{}, logs: &msgLines{}}
	wrapped := fi.Messages(shm.NewStreamConn(masterEnd, shm.StreamOptions{}), "w1", d, r.log, o.conn)
	served := make(chan error, 1)
	go func() { served <- r.m.Serve(wrapped, shm.Identity{Worker: 1, Inc: 1}) }()
	if o.raw {
		r.raw, r.rawNet = shm.NewStreamConn(workerEnd, shm.StreamOptions{}), workerEnd
	} else {
		r.client = shm.NewClient(shm.NewStreamConn(workerEnd, shm.StreamOptions{}),
			shm.ClientOptions{Timeout: 10 * time.Second, Logf: r.logs.add})
	}
	t.Cleanup(func() {
		if r.client != nil {
			r.client.Close()
		} else {
			r.raw.Close()
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of the worker's end closing")
		}
	})
	return r
}

// lines collects log lines.
type msgLines struct {
	mu sync.Mutex
	l  []string
}

func (l *msgLines) add(format string, args ...any) {
	l.mu.Lock()
	l.l = append(l.l, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *msgLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

// send sends requests on the raw worker's connection.
func (r *msgRig) send(t *testing.T, reqs ...shm.Message) {
	t.Helper()
	if err := r.raw.Send(reqs); err != nil {
		t.Fatal(err)
	}
}

// reply is what a test compares of a reply.
type msgReply struct {
	Seq   uint64
	Value string
	Code  string
}

// replies reads n replies on the raw worker's connection, within 5s.
func (r *msgRig) replies(t *testing.T, n int) []msgReply {
	t.Helper()
	r.rawNet.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []msgReply
	buf := make([]shm.Message, 16)
	for len(got) < n {
		k, err := r.raw.Recv(buf)
		if err != nil {
			t.Fatalf("after %d replies of %d: %v", len(got), n, err)
		}
		for _, m := range buf[:k] {
			rep := msgReply{Seq: m.Seq, Value: string(m.Value)}
			if m.Err != nil {
				rep.Code = m.Err.Code
			}
			got = append(got, rep)
		}
	}
	return got
}

// noMore checks that nothing more arrives on the raw worker's connection
// within d. The connection cannot be read after it.
func (r *msgRig) noMore(t *testing.T, d time.Duration) {
	t.Helper()
	r.rawNet.SetReadDeadline(time.Now().Add(d))
	buf := make([]shm.Message, 4)
	if n, err := r.raw.Recv(buf); err == nil {
		t.Errorf("%d more messages arrived, the first with uuid %d", n, buf[0].Seq)
	}
}

// stored returns what the master's store holds under key ("" for none).
func (r *msgRig) stored(key string) string {
	v, _ := r.m.Get(key)
	return string(v)
}

// ignoreTime leaves out of a comparison of records what varies from run
// to run.
var msgIgnoreTime = cmpopts.IgnoreFields(fi.Record{}, "Time")

func msgSet(seq uint64, key, value string) shm.Message {
	m := shm.Request(shm.MethodSet, seq, key)
	m.Value, m.Has = shm.Value(value), m.Has|shm.HasValue
	return m
}

func msgGet(seq uint64, key string) shm.Message { return shm.Request(shm.MethodGet, seq, key) }

func msgFault(f fi.MessageFault) fi.Plan { return fi.Plan{Seed: 1, Messages: []fi.MessageFault{f}} }

func msgWantIndefinite(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, shm.ErrTimeout) || shm.IsDefinite(err) {
		t.Errorf("%s: error %v, want an indefinite timeout", what, err)
	}
}

var (
	msgReqLink = fi.Link{Worker: "w1", Dir: fi.Requests}
	msgRepLink = fi.Link{Worker: "w1", Dir: fi.Replies}
)

// TestDropRequest: a dropped request never reaches the store, and the
// call times out.
func TestDropRequest(t *testing.T) {
	r := newMsgRig(t, msgFault(fi.MessageFault{Kind: fi.Drop, Dir: fi.Requests, Target: fi.Target{Nth: 1}}), msgRigOptions{})
	ctx := t.Context()
	msgWantIndefinite(t, "set with its request dropped", r.client.Set(msgShort(t), "k", shm.Value("1")))
	if v := r.stored("k"); v != "" {
		t.Errorf("the store holds %s: the dropped request was applied", v)
	}
	if err := r.client.Set(ctx, "k", shm.Value("2")); err != nil {
		t.Fatalf("the next set: %v", err)
	}
	want := []fi.Record{{Link: msgReqLink, N: 1, Msg: fi.Message{Method: "set", Key: "k", Seq: 1},
		Decision: fi.Decision{Drop: true, Fired: []int{0}, N: 1}, Truth: history.TruthNotApplied}}
	if diff := cmp.Diff(want, r.log.Records(), msgIgnoreTime); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// TestDropReply: a dropped reply leaves the request applied, and the
// call times out; the reply is decided on as its request (set "k").
func TestDropReply(t *testing.T) {
	r := newMsgRig(t, msgFault(fi.MessageFault{Kind: fi.Drop, Dir: fi.Replies, Target: fi.Target{Nth: 1}}), msgRigOptions{})
	msgWantIndefinite(t, "set with its reply dropped", r.client.Set(msgShort(t), "k", shm.Value("1")))
	if v := r.stored("k"); v != "1" {
		t.Errorf("the store holds %q, want the 1 the dropped reply's request set", v)
	}
	want := []fi.Record{{Link: msgRepLink, N: 1, Msg: fi.Message{Method: "set", Key: "k", Seq: 1},
		Decision: fi.Decision{Drop: true, Fired: []int{0}, N: 1}, Truth: history.TruthApplied}}
	if diff := cmp.Diff(want, r.log.Records(), msgIgnoreTime); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// TestDuplicateRequest: a duplicated add is applied once by the store,
// and twice by a store with BugNoDedup, which the duplicate exposes.
func TestDuplicateRequest(t *testing.T) {
	for _, tc := range []struct {
		bugs shm.Bugs
		want string
	}{{0, "1"}, {shm.BugNoDedup, "2"}} {
		t.Run(fmt.Sprintf("bugs=%d", tc.bugs), func(t *testing.T) {
			plan := msgFault(fi.MessageFault{Kind: fi.Duplicate, Dir: fi.Requests, Target: fi.Target{Nth: 1}})
			r := newMsgRig(t, plan, msgRigOptions{store: shm.StoreOptions{Bugs: tc.bugs}})
			n, err := r.client.Add(t.Context(), "n", 1)
			if err != nil || n != 1 {
				t.Fatalf("Add = %d, %v; want 1 (the first copy's reply)", n, err)
			}
			if v := r.stored("n"); v != tc.want {
				t.Errorf("the store holds %s, want %s", v, tc.want)
			}
			if recs := r.log.Records(); len(recs) != 1 || recs[0].Truth != history.TruthDuplicated {
				t.Errorf("records %+v, want one with truth duplicated", recs)
			}
		})
	}
}

// TestDuplicateReply: a duplicated reply arrives Copies more times.
func TestDuplicateReply(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Duplicate, Dir: fi.Replies, Copies: 2, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgGet(7, "k"))
	want := []msgReply{{Seq: 7}, {Seq: 7}, {Seq: 7}}
	if diff := cmp.Diff(want, r.replies(t, 3)); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
	r.noMore(t, 50*time.Millisecond)
}

// TestDelay: a delayed request or reply makes the call last at least the
// delay, and the call succeeds.
func TestDelay(t *testing.T) {
	for _, dir := range []fi.Direction{fi.Requests, fi.Replies} {
		t.Run(string(dir), func(t *testing.T) {
			const d = 80 * time.Millisecond
			plan := msgFault(fi.MessageFault{Kind: fi.Delay, Dir: dir, Target: fi.Target{Nth: 1}, Delay: fi.Dist{Kind: fi.Fixed, Min: d}})
			r := newMsgRig(t, plan, msgRigOptions{})
			start := time.Now()
			if err := r.client.Set(t.Context(), "k", shm.Value("1")); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < d {
				t.Errorf("the call took %v, less than the %v delay", took, d)
			}
			if recs := r.log.Records(); len(recs) != 1 || recs[0].Decision.Delay != d {
				t.Errorf("records %+v, want one delay of %v", recs, d)
			}
		})
	}
}

// TestDelayOvertaken: a delayed request is overtaken by the one behind
// it, and arrives when its time comes though nothing else does.
func TestDelayOvertaken(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Delay, Dir: fi.Requests, Target: fi.Target{Nth: 1},
		Delay: fi.Dist{Kind: fi.Fixed, Min: 50 * time.Millisecond}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgSet(1, "k", `"first"`), msgSet(2, "k", `"second"`))
	if diff := cmp.Diff([]msgReply{{Seq: 2, Value: "OK"}, {Seq: 1, Value: "OK"}}, r.replies(t, 2), msgOKValue); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
	if v := r.stored("k"); v != `"first"` {
		t.Errorf(`the store holds %s, want "first", applied last`, v)
	}
}

// okValue ignores what a successful set answers.
var msgOKValue = cmp.Comparer(func(a, b msgReply) bool {
	return a.Seq == b.Seq && a.Code == b.Code && (a.Value == b.Value || a.Value == "OK" || b.Value == "OK")
})

// TestReorderRequests: a reordered request is held until the next has
// gone, even when that one comes later in another frame.
func TestReorderRequests(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Reorder, Dir: fi.Requests, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true, conn: fi.ConnOptions{HoldLimit: 5 * time.Second}})
	r.send(t, msgSet(1, "k", `"a"`))
	time.Sleep(20 * time.Millisecond)
	r.send(t, msgSet(2, "k", `"b"`))
	if diff := cmp.Diff([]msgReply{{Seq: 2, Value: "OK"}, {Seq: 1, Value: "OK"}}, r.replies(t, 2), msgOKValue); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
	if v := r.stored("k"); v != `"a"` {
		t.Errorf(`the store holds %s, want "a", applied after "b"`, v)
	}
}

// TestReorderReplies: a reordered reply arrives after the next one.
func TestReorderReplies(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Reorder, Dir: fi.Replies, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true, conn: fi.ConnOptions{HoldLimit: 5 * time.Second}})
	r.send(t, msgGet(1, "a"))
	time.Sleep(20 * time.Millisecond)
	r.send(t, msgGet(2, "b"))
	if diff := cmp.Diff([]msgReply{{Seq: 2}, {Seq: 1}}, r.replies(t, 2)); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
}

// TestReorderAlone: a reordered message with none behind it goes at the
// hold limit.
func TestReorderAlone(t *testing.T) {
	const limit = 60 * time.Millisecond
	plan := msgFault(fi.MessageFault{Kind: fi.Reorder, Target: fi.Target{Nth: 1}})
	r := newMsgRig(t, plan, msgRigOptions{conn: fi.ConnOptions{HoldLimit: limit}})
	start := time.Now()
	if err := r.client.Set(t.Context(), "k", shm.Value("1")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 2*limit {
		t.Errorf("the call took %v, less than the hold limit of %v for both its request and its reply", took, limit)
	}
}

// TestCorruptFrame: a corrupted request is answered with a definite
// bad_request and not applied; a corrupted reply cannot be matched to its
// call, which times out though the request was applied.
func TestCorruptFrame(t *testing.T) {
	t.Run("requests", func(t *testing.T) {
		plan := msgFault(fi.MessageFault{Kind: fi.Corrupt, Dir: fi.Requests, Target: fi.Target{Nth: 1}})
		r := newMsgRig(t, plan, msgRigOptions{})
		err := r.client.Set(t.Context(), "k", shm.Value("1"))
		if !errors.Is(err, shm.ErrBadRequest) || !shm.IsDefinite(err) {
			t.Errorf("error %v, want a definite bad_request", err)
		}
		if v := r.stored("k"); v != "" {
			t.Errorf("the store holds %s: the corrupted request was applied", v)
		}
		msgWantTruth(t, r.log, history.TruthNotApplied)
	})
	t.Run("replies", func(t *testing.T) {
		plan := msgFault(fi.MessageFault{Kind: fi.Corrupt, Dir: fi.Replies, Target: fi.Target{Nth: 1}})
		r := newMsgRig(t, plan, msgRigOptions{})
		msgWantIndefinite(t, "set with its reply corrupted", r.client.Set(msgShort(t), "k", shm.Value("1")))
		if v := r.stored("k"); v != "1" {
			t.Errorf("the store holds %q, want 1", v)
		}
		if !strings.Contains(r.logs.String(), "unroutable") {
			t.Errorf("the client's log %q does not mention the unroutable reply", r.logs)
		}
		msgWantTruth(t, r.log, history.TruthApplied)
	})
}

func msgWantTruth(t *testing.T, log *fi.Log, want history.Truth) {
	t.Helper()
	if recs := log.Records(); len(recs) != 1 || recs[0].Truth != want {
		t.Errorf("records %+v, want one with truth %q", recs, want)
	}
}

// TestCorruptID: a request or reply whose id was moved by IDShift; the
// request is applied, and the worker cannot match the reply.
func TestCorruptID(t *testing.T) {
	for _, dir := range []fi.Direction{fi.Requests, fi.Replies} {
		t.Run(string(dir), func(t *testing.T) {
			plan := msgFault(fi.MessageFault{Kind: fi.Corrupt, Corruption: fi.CorruptID, Dir: dir, Target: fi.Target{Nth: 1}})
			r := newMsgRig(t, plan, msgRigOptions{raw: true, conn: fi.ConnOptions{IDShift: 100}})
			r.send(t, msgSet(1, "k", "1"), msgSet(2, "j", "2"))
			if diff := cmp.Diff([]msgReply{{Seq: 101, Value: "OK"}, {Seq: 2, Value: "OK"}}, r.replies(t, 2), msgOKValue); diff != "" {
				t.Errorf("replies mismatch (-want +got):\n%s", diff)
			}
			if v := r.stored("k"); v != "1" {
				t.Errorf("the store holds %q, want 1", v)
			}
			msgWantTruth(t, r.log, history.TruthApplied)
		})
	}
	t.Run("client", func(t *testing.T) {
		plan := msgFault(fi.MessageFault{Kind: fi.Corrupt, Corruption: fi.CorruptID, Dir: fi.Requests, Target: fi.Target{Nth: 1}})
		r := newMsgRig(t, plan, msgRigOptions{})
		msgWantIndefinite(t, "set with its id corrupted", r.client.Set(msgShort(t), "k", shm.Value("1")))
		if v := r.stored("k"); v != "1" {
			t.Errorf("the store holds %q, want 1", v)
		}
		if err := r.client.Set(t.Context(), "k", shm.Value("2")); err != nil {
			t.Errorf("the next set: %v", err)
		}
	})
}

// corruptValues are values of every kind a corrupted set may carry.
var msgCorruptValues = []string{`"hello"`, `42`, `-7`, `0`, `1.5e10`, `true`, `false`, `null`, `""`, `"\n"`,
	`"#"`, `{"a":1}`, `[]`, `123456789012345678901234567890`, `{"$binary":"AAE="}`}

// TestCorruptValueRequests: each set stores a valid value other than its
// own; an add adds another delta.
func TestCorruptValueRequests(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Corrupt, Corruption: fi.CorruptValue, Dir: fi.Requests, P: 1})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	for i, v := range msgCorruptValues {
		r.send(t, msgSet(uint64(i+1), fmt.Sprint(i), v))
	}
	add := shm.Request(shm.MethodAdd, 100, "n")
	r.send(t, add)
	r.replies(t, len(msgCorruptValues)+1)
	for i, v := range msgCorruptValues {
		got := r.stored(fmt.Sprint(i))
		if _, err := shm.ParseValue([]byte(got)); err != nil || got == v {
			t.Errorf("set of %s stored %s (%v), want another valid value", v, got, err)
		}
	}
	if got := r.stored("n"); got != "2" {
		t.Errorf("add of 1 to nothing stored %s, want 2", got)
	}
}

// TestCorruptValueReplies: a get returns a value other than the one
// stored.
func TestCorruptValueReplies(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Corrupt, Corruption: fi.CorruptValue, Dir: fi.Replies, Target: fi.Target{Method: "get"}, P: 1})
	r := newMsgRig(t, plan, msgRigOptions{})
	ctx := t.Context()
	for _, v := range msgCorruptValues {
		if err := r.client.Set(ctx, "k", shm.Value(v)); err != nil {
			t.Fatal(err)
		}
		got, _, err := r.client.Get(ctx, "k")
		if err != nil || string(got) == v {
			t.Errorf("get of %s = %s, %v; want another value", v, got, err)
		}
	}
}

// TestRepliesDecidedAsTheirRequests: a reply fault aimed at a method or a
// key hits only the replies to such requests.
func TestRepliesDecidedAsTheirRequests(t *testing.T) {
	// A fault on requests too, though it never fires, makes the wrapper
	// read them with a goroutine: the replies must be decided on as their
	// requests still.
	requestsToo := fi.MessageFault{Kind: fi.Drop, Dir: fi.Requests, P: 1, Target: fi.Target{Key: "never"}}
	for _, tc := range []struct {
		target      fi.Target
		requestsToo bool
	}{{fi.Target{Method: "set"}, false}, {fi.Target{Key: "b"}, false}, {fi.Target{Method: "set"}, true}} {
		t.Run(fmt.Sprintf("%+v,requests=%v", tc.target, tc.requestsToo), func(t *testing.T) {
			plan := msgFault(fi.MessageFault{Kind: fi.Drop, Dir: fi.Replies, Target: tc.target, P: 1})
			if tc.requestsToo {
				plan.Messages = append(plan.Messages, requestsToo)
			}
			r := newMsgRig(t, plan, msgRigOptions{})
			ctx := t.Context()
			if _, _, err := r.client.Get(ctx, "a"); err != nil {
				t.Errorf("get a: %v", err)
			}
			msgWantIndefinite(t, "set b", r.client.Set(msgShort(t), "b", shm.Value("1")))
			var dropped []fi.Message
			for _, rec := range r.log.Records() {
				if rec.Decision.Drop {
					dropped = append(dropped, rec.Msg)
				}
			}
			if diff := cmp.Diff([]fi.Message{{Method: "set", Key: "b", Seq: 2}}, dropped); diff != "" {
				t.Errorf("dropped replies mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOtherWorkersUntouched: a fault aimed at another worker changes
// nothing here.
func TestOtherWorkersUntouched(t *testing.T) {
	r := newMsgRig(t, msgFault(fi.MessageFault{Kind: fi.Drop, Target: fi.Target{Worker: "w2"}, P: 1}), msgRigOptions{})
	if err := r.client.Set(t.Context(), "k", shm.Value("1")); err != nil {
		t.Fatal(err)
	}
	if recs := r.log.Records(); len(recs) != 0 {
		t.Errorf("records %+v, want none", recs)
	}
}

// TestTimeWindow: a fault fires only within its window, counted from
// ConnOptions.Start.
func TestTimeWindow(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		from, until time.Duration
		fires       bool
	}{{0, 0, true}, {0, time.Minute, false}, {59 * time.Minute, 61 * time.Minute, true}, {2 * time.Hour, 0, false}} {
		plan := msgFault(fi.MessageFault{Kind: fi.Drop, Dir: fi.Replies, P: 1, Target: fi.Target{From: tc.from, Until: tc.until}})
		r := newMsgRig(t, plan, msgRigOptions{raw: true, conn: fi.ConnOptions{Start: start}})
		r.send(t, msgGet(1, "k"), msgGet(2, "k"))
		if tc.fires {
			r.noMore(t, 30*time.Millisecond)
		} else {
			r.replies(t, 2)
		}
	}
}

// TestReplayConn: a run replayed from its log, written and read back,
// makes the same decisions on the same traffic.
func TestReplayConn(t *testing.T) {
	plan := fi.Plan{Seed: 7, Messages: []fi.MessageFault{
		{Kind: fi.Duplicate, P: 0.3},
		{Kind: fi.Corrupt, Corruption: fi.CorruptValue, P: 0.3},
		{Kind: fi.Delay, Dir: fi.Replies, P: 0.2, Delay: fi.Dist{Kind: fi.Uniform, Min: time.Millisecond, Max: 3 * time.Millisecond}},
	}}
	run := func(d fi.Decisions) []fi.Record {
		r := newMsgRig(t, plan, msgRigOptions{d: d})
		for i := range 30 {
			// A corrupted "OK" is noticed by the client: bad_reply.
			if err := r.client.Set(t.Context(), fmt.Sprint(i%3), shm.Value(fmt.Sprint(i))); err != nil && !errors.Is(err, shm.ErrBadReply) {
				t.Fatal(err)
			}
		}
		return r.log.Records()
	}
	first := run(nil)
	if len(first) < 10 {
		t.Fatalf("only %d decisions in the first run", len(first))
	}
	var buf strings.Builder
	if err := fi.WriteLog(&buf, first); err != nil {
		t.Fatal(err)
	}
	read, err := fi.ReadLog(strings.NewReader(buf.String()), "log")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, run(fi.NewReplay(read)), msgIgnoreTime); diff != "" {
		t.Errorf("replayed decisions mismatch (-want +got):\n%s", diff)
	}
}

// TestBoundedHold: with room for two held messages, ten delayed requests
// still all arrive, the reader waiting for room.
func TestBoundedHold(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Delay, Dir: fi.Both, P: 1, Delay: fi.Dist{Kind: fi.Fixed, Min: 5 * time.Millisecond}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true, conn: fi.ConnOptions{MaxHeld: 2}})
	var want []msgReply
	for i := range uint64(10) {
		r.send(t, msgGet(i+1, "k"))
		want = append(want, msgReply{Seq: i + 1})
	}
	got := r.replies(t, 10)
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b msgReply) bool { return a.Seq < b.Seq })); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
}

// TestCloseDiscardsHeld: Close returns at once though a request is held
// for an hour, and ends a Recv waiting for it.
func TestCloseDiscardsHeld(t *testing.T) {
	a, b, err := pipe.ConnPair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	plan := msgFault(fi.MessageFault{Kind: fi.Delay, Dir: fi.Both, P: 1, Delay: fi.Dist{Kind: fi.Fixed, Min: time.Hour}})
	c := fi.Messages(shm.NewStreamConn(a, shm.StreamOptions{}), "w1", fi.NewDecider(&plan), nil, fi.ConnOptions{})
	worker := shm.NewStreamConn(b, shm.StreamOptions{})
	if err := worker.Send([]shm.Message{msgGet(1, "k")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send([]shm.Message{{Kind: shm.KindReply, Seq: 1, Has: shm.HasSeq}}); err != nil {
		t.Fatal(err)
	}
	recvErr := make(chan error, 1)
	go func() {
		_, err := c.Recv(make([]shm.Message, 4))
		recvErr <- err
	}()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	c.Close()
	select {
	case err := <-recvErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Recv returned %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv still waits 5s after Close")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close and Recv took %v", took)
	}
	if err := c.Send([]shm.Message{{Kind: shm.KindReply, Seq: 2, Has: shm.HasSeq}}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close returned %v, want net.ErrClosed", err)
	}
}

// memConn is an in-memory connection that receives the same batch
// forever and discards what is sent.
type msgMemConn struct{ batch []shm.Message }

func (c *msgMemConn) Recv(ms []shm.Message) (int, error) { return copy(ms, c.batch), nil }
func (c *msgMemConn) Send([]shm.Message) error           { return nil }
func (c *msgMemConn) Close() error                       { return nil }

// TestQuietPassesThrough: with no fault that can hit a direction, the
// wrapper passes it through without allocating.
func TestQuietPassesThrough(t *testing.T) {
	batch := []shm.Message{msgGet(1, "k"), msgSet(2, "k", "1")}
	for name, d := range map[string]fi.Decisions{
		"empty plan":         fi.NewDecider(&fi.Plan{Seed: 1}),
		"other worker":       fi.NewDecider(&fi.Plan{Messages: []fi.MessageFault{{Kind: fi.Drop, P: 1, Target: fi.Target{Worker: "w2"}}}}),
		"empty replay":       fi.NewReplay(nil),
		"no decisions (nil)": nil,
	} {
		c := fi.Messages(&msgMemConn{batch: batch}, "w1", d, &fi.Log{}, fi.ConnOptions{})
		in := make([]shm.Message, 4)
		allocs := testing.AllocsPerRun(100, func() {
			n, _ := c.Recv(in)
			c.Send(in[:n])
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per round trip, want 0", name, allocs)
		}
		if diff := cmp.Diff(batch, in[:2]); diff != "" {
			t.Errorf("%s: received mismatch (-want +got):\n%s", name, diff)
		}
	}
}

// TestInflightBounded: of the requests awaiting replies, the wrapper
// remembers the last MaxHeld; older ones are decided on by id alone.
func TestInflightBounded(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Drop, Dir: fi.Replies, P: 1, Target: fi.Target{Method: "get"}})
	log := &fi.Log{}
	mem := &msgMemConn{}
	c := fi.Messages(mem, "w1", fi.NewDecider(&plan), log, fi.ConnOptions{MaxHeld: 4})
	in := make([]shm.Message, 1)
	for seq := range uint64(10) {
		mem.batch = []shm.Message{msgGet(seq+1, "k")}
		c.Recv(in)
	}
	for seq := range uint64(10) {
		c.Send([]shm.Message{{Kind: shm.KindReply, Seq: seq + 1, Has: shm.HasSeq}})
	}
	var got []uint64
	for _, r := range log.Records() {
		got = append(got, r.Msg.Seq)
	}
	if diff := cmp.Diff([]uint64{7, 8, 9, 10}, got); diff != "" {
		t.Errorf("dropped replies mismatch (-want +got):\n%s", diff)
	}
}

// TestDiscardedWhenClosed: a request held by a delay when its connection
// ends never reaches the master, and the log says so (truth not_applied),
// after the delay's own record (truth delayed).
func TestDiscardedWhenClosed(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Delay, Dir: fi.Requests, P: 1, Delay: fi.Dist{Kind: fi.Fixed, Min: time.Hour}})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgGet(1, "k"))
	deadline := time.Now().Add(5 * time.Second)
	for len(r.log.Records()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	r.raw.Close()
	var got []string
	for time.Now().Before(deadline) {
		got = got[:0]
		for _, rec := range r.log.Records() {
			ev := rec.Event()
			got = append(got, ev.Fault+" "+string(ev.Truth))
		}
		if len(got) == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if diff := cmp.Diff([]string{"delay delayed", "discarded not_applied"}, got); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// TestCorruptValueOfNothing: a value corruption aimed at a request with no
// value changes nothing, so it is neither applied nor logged.
func TestCorruptValueOfNothing(t *testing.T) {
	plan := msgFault(fi.MessageFault{Kind: fi.Corrupt, Corruption: fi.CorruptValue, Dir: fi.Requests, P: 1})
	r := newMsgRig(t, plan, msgRigOptions{raw: true})
	r.send(t, msgGet(1, "k"), msgGet(2, "k"))
	r.replies(t, 2)
	if recs := r.log.Records(); len(recs) != 0 {
		t.Errorf("%d records for gets whose value corruption changed nothing: %+v", len(recs), recs)
	}
}
