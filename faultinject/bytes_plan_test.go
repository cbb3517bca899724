package faultinject_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fi "github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
)

// memConn is the master's end of a connection in memory: its reads come
// from in, its writes go to out.
type memConn struct {
	in     io.Reader
	out    bytes.Buffer
	closed bool
}

func (m *memConn) Read(p []byte) (int, error)  { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error) { return m.out.Write(p) }
func (m *memConn) Close() error                { m.closed = true; return nil }

// byteRun is what went through one connection wrapped by a plan.
type byteRun struct {
	read    []byte
	pieces  []int // the length of each read
	readErr error
	wrote   int // bytes the writes accepted
	written []byte
	errs    []error // of each write
	closed  bool
	recs    []fi.Record // the log, times zeroed
	took    time.Duration
}

// pushBytes reads in through connection conn of worker under plan p (in
// reads of up to 256 bytes), then makes the writes, stopping at the
// first error.
func pushBytes(t *testing.T, p *fi.Plan, worker string, conn int, in []byte, writes ...[]byte) byteRun {
	t.Helper()
	var log fi.Log
	mc := &memConn{in: bytes.NewReader(in)}
	rw := p.Streams(worker, conn, &log)(mc)
	var r byteRun
	start := time.Now()
	buf := make([]byte, 256)
	for range 10_000 {
		n, err := rw.Read(buf)
		r.read = append(r.read, buf[:n]...)
		r.pieces = append(r.pieces, n)
		if err != nil {
			r.readErr = err
			break
		}
	}
	for _, w := range writes {
		n, err := rw.Write(w)
		r.wrote += n
		r.errs = append(r.errs, err)
		if err != nil {
			break
		}
	}
	r.took = time.Since(start)
	r.written, r.closed = mc.out.Bytes(), mc.closed
	r.recs = log.Records()
	for i := range r.recs {
		r.recs[i].Time = 0
	}
	return r
}

// byteInput is n bytes of JSON lines, as a worker would send.
func byteInput(n int) []byte {
	return bytes.Repeat(byteText, n/len(byteText)+1)[:n]
}

// TestBytePlanJSON: byte faults are data: a plan's JSON text decodes
// strictly to the faults it names, validates, and survives a round trip.
func TestBytePlanJSON(t *testing.T) {
	text := `{"seed":3,"bytes":[
		{"kind":"short"},
		{"kind":"split","at":70},
		{"kind":"bitflip","p":0.001},
		{"kind":"stall","worker":"w2","at":10,"for":20000000},
		{"kind":"eof","side":"read","at":300},
		{"kind":"torn","side":"write","worker":"w1","conn":2,"at":150,"p":0.5},
		{"kind":"fullpipe","at":5,"for":1000000},
		{"kind":"halfclose","at":9},
		{"kind":"epipe"}]}`
	want := fi.Plan{Seed: 3, Bytes: []fi.ByteFault{
		{Kind: fi.ByteShort},
		{Kind: fi.ByteSplit, At: 70},
		{Kind: fi.ByteBitFlip, P: 0.001},
		{Kind: fi.ByteStall, Worker: "w2", At: 10, For: 20 * time.Millisecond},
		{Kind: fi.ByteEOF, Side: fi.ReadSide, At: 300},
		{Kind: fi.ByteTorn, Side: fi.WriteSide, Worker: "w1", Conn: 2, At: 150, P: 0.5},
		{Kind: fi.ByteFullPipe, At: 5, For: time.Millisecond},
		{Kind: fi.ByteHalfClose, At: 9},
		{Kind: fi.ByteEPIPE},
	}}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	var got fi.Plan
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("decoded plan mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("valid plan: %v", err)
	}
	data, err := json.Marshal(&got)
	if err != nil {
		t.Fatal(err)
	}
	var again fi.Plan
	if err := json.Unmarshal(data, &again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

// TestBytePlanValidate: every problem of a byte fault is reported,
// naming the fault.
func TestBytePlanValidate(t *testing.T) {
	for _, tc := range []struct {
		f    fi.ByteFault
		want string
	}{
		{fi.ByteFault{Kind: "gnaw"}, `unknown kind "gnaw"`},
		{fi.ByteFault{Kind: fi.ByteShort, Side: "up"}, `unknown side "up"`},
		{fi.ByteFault{Kind: fi.ByteTorn, Side: fi.ReadSide}, "torn has no read side"},
		{fi.ByteFault{Kind: fi.ByteEOF, Side: fi.WriteSide}, "eof has no write side"},
		{fi.ByteFault{Kind: fi.ByteTorn, P: 2}, "p 2 is not a probability"},
		{fi.ByteFault{Kind: fi.ByteEOF, At: -1}, "at -1 is negative"},
		{fi.ByteFault{Kind: fi.ByteEOF, Conn: -1}, "conn -1 is negative"},
		{fi.ByteFault{Kind: fi.ByteSplit}, "a split needs at > 0"},
		{fi.ByteFault{Kind: fi.ByteShort, At: 3}, "short takes no at"},
		{fi.ByteFault{Kind: fi.ByteStall, At: 3}, "a stall needs for > 0"},
		{fi.ByteFault{Kind: fi.ByteFullPipe, For: -1}, "a fullpipe needs for > 0"},
		{fi.ByteFault{Kind: fi.ByteTorn, For: time.Second}, "torn takes no for"},
	} {
		p := fi.Plan{Bytes: []fi.ByteFault{{Kind: fi.ByteShort}, tc.f}}
		err := p.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "bytes[1]: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want bytes[1]: …%s…", tc.f, err, tc.want)
		}
	}
	two := fi.Plan{Bytes: []fi.ByteFault{{Kind: "a"}, {Kind: "b"}}}
	if err := two.Validate(); err == nil || strings.Count(err.Error(), "unknown kind") != 2 {
		t.Errorf("two bad faults: error %v, want both reported", err)
	}
}

// byteRec is the record a byte fault of plan index i logs on connection
// 1 of w1.
func byteRec(dir fi.Direction, i int, kind fi.ByteKind, at int64, truth history.Truth, text string) fi.Record {
	return fi.Record{Link: fi.Link{Worker: "w1", Dir: dir}, Truth: truth,
		Bytes: &fi.ByteRecord{Kind: kind, Fault: i, Conn: 1, At: at, Text: text}}
}

// TestByteFaultsFire: each kind does what its wrapper does, and is
// logged once, when it fires, with its ground truth and its event.
func TestByteFaultsFire(t *testing.T) {
	in := byteInput(200)
	chunk := byteInput(50)
	stall, pipe := 30*time.Millisecond, 30*time.Millisecond
	for _, tc := range []struct {
		f     fi.ByteFault
		check func(t *testing.T, r byteRun)
		want  []fi.Record
	}{{
		f: fi.ByteFault{Kind: fi.ByteShort},
		check: func(t *testing.T, r byteRun) {
			if !bytes.Equal(r.read, in) || r.wrote != 150 || !bytes.Equal(r.written, bytes.Repeat(chunk, 3)) {
				t.Errorf("read %d bytes, wrote %d: want everything through", len(r.read), r.wrote)
			}
			if slicesMax(r.pieces) > fi.MaxShort {
				t.Errorf("reads %v, want none over %d", r.pieces, fi.MaxShort)
			}
		},
		want: []fi.Record{
			byteRec(fi.Requests, 0, fi.ByteShort, 0, "", "the master's reads return 32 bytes at most"),
			byteRec(fi.Replies, 0, fi.ByteShort, 0, "", "the master's writes go out in pieces of 32 bytes at most"),
		},
	}, {
		f: fi.ByteFault{Kind: fi.ByteSplit, At: 70},
		check: func(t *testing.T, r byteRun) {
			if !bytes.Equal(r.read, in) || r.pieces[0] != 70 {
				t.Errorf("reads %v, want everything, the first stopping at 70", r.pieces)
			}
		},
		want: []fi.Record{byteRec(fi.Requests, 0, fi.ByteSplit, 70, "", "a read stops here, splitting what crosses it")},
	}, {
		f: fi.ByteFault{Kind: fi.ByteBitFlip, At: 5},
		check: func(t *testing.T, r byteRun) {
			if d := flippedAt(in, r.read); len(d) != 1 || d[0] != 5 {
				t.Errorf("bytes changed at %v, want only at 5", d)
			}
		},
		want: []fi.Record{byteRec(fi.Requests, 0, fi.ByteBitFlip, 5, "", "bits flipped in what the master reads, at bytes [5]")},
	}, {
		f: fi.ByteFault{Kind: fi.ByteStall, At: 10, For: stall},
		check: func(t *testing.T, r byteRun) {
			if !bytes.Equal(r.read, in) || r.took < stall {
				t.Errorf("read %d bytes in %v, want all, after %v", len(r.read), r.took, stall)
			}
		},
		want: []fi.Record{byteRec(fi.Requests, 0, fi.ByteStall, 10, history.TruthDelayed,
			"the master stops reading for 30ms at most: the requests wait in the pipe")},
	}, {
		f: fi.ByteFault{Kind: fi.ByteEOF, At: 50},
		check: func(t *testing.T, r byteRun) {
			if !bytes.Equal(r.read, in[:50]) || r.readErr != io.EOF {
				t.Errorf("read %d bytes, then %v: want 50, then EOF", len(r.read), r.readErr)
			}
		},
		want: []fi.Record{byteRec(fi.Requests, 0, fi.ByteEOF, 50, history.TruthNotApplied,
			"the stream the master reads ends: the request it cuts, if any, and every later one are not applied")},
	}, {
		f: fi.ByteFault{Kind: fi.ByteTorn, At: 60},
		check: func(t *testing.T, r byteRun) {
			if r.wrote != 60 || len(r.written) != 60 || !errors.Is(r.errs[len(r.errs)-1], fi.ErrWriterDied) || !r.closed {
				t.Errorf("wrote %d bytes (%d arrived), errors %v, closed %v: want 60, ErrWriterDied, closed", r.wrote, len(r.written), r.errs, r.closed)
			}
		},
		want: []fi.Record{byteRec(fi.Replies, 0, fi.ByteTorn, 60, history.TruthApplied,
			"the master's writer dies and closes the connection: the reply it cuts, if any, is torn")},
	}, {
		f: fi.ByteFault{Kind: fi.ByteFullPipe, At: 60, For: pipe},
		check: func(t *testing.T, r byteRun) {
			if r.wrote != 150 || r.took < pipe {
				t.Errorf("wrote %d bytes in %v, want 150 after %v", r.wrote, r.took, pipe)
			}
		},
		want: []fi.Record{byteRec(fi.Replies, 0, fi.ByteFullPipe, 60, history.TruthDelayed,
			"the pipe to the worker is full: the master's writes block for 30ms at most")},
	}, {
		f: fi.ByteFault{Kind: fi.ByteHalfClose, At: 60},
		check: func(t *testing.T, r byteRun) {
			if r.wrote != 60 || !errors.Is(r.errs[len(r.errs)-1], fi.ErrHalfClosed) {
				t.Errorf("wrote %d bytes, errors %v: want 60, then ErrHalfClosed", r.wrote, r.errs)
			}
		},
		want: []fi.Record{byteRec(fi.Replies, 0, fi.ByteHalfClose, 60, history.TruthApplied,
			"the master shuts its writing side: the worker reads the end of the stream")},
	}, {
		f: fi.ByteFault{Kind: fi.ByteEPIPE, At: 60},
		check: func(t *testing.T, r byteRun) {
			if r.wrote != 60 || !errors.Is(r.errs[len(r.errs)-1], syscall.EPIPE) {
				t.Errorf("wrote %d bytes, errors %v: want 60, then EPIPE", r.wrote, r.errs)
			}
		},
		want: []fi.Record{byteRec(fi.Replies, 0, fi.ByteEPIPE, 60, history.TruthApplied,
			"the master's writes fail with EPIPE: the reply it cuts, if any, is torn")},
	}} {
		t.Run(string(tc.f.Kind), func(t *testing.T) {
			p := &fi.Plan{Seed: 1, Bytes: []fi.ByteFault{tc.f}}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			r := pushBytes(t, p, "w1", 1, in, chunk, chunk, chunk)
			tc.check(t, r)
			for i := range tc.want {
				tc.want[i].Bytes.For = tc.f.For
			}
			if tc.f.Kind == fi.ByteBitFlip {
				tc.want[0].Bytes.Flips = 1
			}
			if diff := cmp.Diff(tc.want, r.recs); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
			for _, rec := range r.recs {
				ev := rec.Event()
				if ev.Fault != string(tc.f.Kind) || ev.Link != rec.Link.String() || ev.Truth != rec.Truth ||
					ev.End-ev.Time != int64(tc.f.For) || ev.Kind != history.EventFault {
					t.Errorf("event %+v of record %+v", ev, rec)
				}
			}
		})
	}
}

func slicesMax(s []int) int {
	m := 0
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

// flippedAt returns the offsets where got differs from want.
func flippedAt(want, got []byte) []int64 {
	var out []int64
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			out = append(out, int64(i))
		}
	}
	return out
}

// TestByteBitFlipsLogged: random flips are logged as they happen, each
// record counting its bits, until MaxFlipRecords.
func TestByteBitFlipsLogged(t *testing.T) {
	in := byteInput(4000)
	p := &fi.Plan{Seed: 2, Bytes: []fi.ByteFault{{Kind: fi.ByteBitFlip, P: 0.002}}}
	r := pushBytes(t, p, "w1", 1, in)
	bits := 0
	for i := range in {
		bits += popcount(in[i] ^ r.read[i])
	}
	logged := 0
	for _, rec := range r.recs {
		logged += rec.Bytes.Flips
	}
	if bits == 0 || logged != bits || len(r.recs) > fi.MaxFlipRecords {
		t.Errorf("%d bits flipped, %d logged in %d records: want some, all logged, at most %d records", bits, logged, len(r.recs), fi.MaxFlipRecords)
	}
	many := &fi.Plan{Seed: 2, Bytes: []fi.ByteFault{{Kind: fi.ByteBitFlip, P: 0.5}}}
	if r := pushBytes(t, many, "w1", 1, byteInput(12_000)); len(r.recs) != fi.MaxFlipRecords ||
		!strings.HasSuffix(r.recs[len(r.recs)-1].Bytes.Text, "(the last flips logged on this connection)") {
		t.Errorf("%d records of flips on every other byte, want %d, the last saying so", len(r.recs), fi.MaxFlipRecords)
	}
}

func popcount(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// TestByteStreamsDeterministic: which connections get a fault, and what
// it does, depend only on the plan's seed, the worker and the
// connection's number; targets narrow them; an untouched connection is
// returned as it is.
func TestByteStreamsDeterministic(t *testing.T) {
	plan := func(seed uint64) *fi.Plan {
		return &fi.Plan{Seed: seed, Bytes: []fi.ByteFault{
			{Kind: fi.ByteShort, P: 0.5},
			{Kind: fi.ByteTorn, At: 100, P: 0.3},
			{Kind: fi.ByteBitFlip, P: 0.01},
			{Kind: fi.ByteEOF, At: 150, P: 0.3},
		}}
	}
	in, chunk := byteInput(300), byteInput(60)
	// conn is what one connection did, in a form cheap to compare.
	type conn struct {
		Read, Written, Errs string
		Recs                []fi.Record
	}
	runs := func(p *fi.Plan) (out []conn) {
		for _, w := range []string{"w1", "w2"} {
			for n := 1; n <= 40; n++ {
				r := pushBytes(t, p, w, n, in, chunk, chunk)
				out = append(out, conn{string(r.read), string(r.written), fmt.Sprint(r.readErr, r.errs), r.recs})
			}
		}
		return out
	}
	a, b := runs(plan(5)), runs(plan(5))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("the same seed, other faults (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, runs(plan(6))) {
		t.Errorf("seeds 5 and 6 made the same faults on 80 connections")
	}
	torn := 0
	for _, r := range a {
		for _, rec := range r.Recs {
			if rec.Bytes.Kind == fi.ByteTorn {
				torn++
			}
		}
	}
	if torn < 10 || torn > 40 {
		t.Errorf("torn on %d of 80 connections, want about 24 (p 0.3)", torn)
	}

	narrow := &fi.Plan{Bytes: []fi.ByteFault{{Kind: fi.ByteEOF, At: 10, Worker: "w1", Conn: 2}}}
	for _, tc := range []struct {
		worker string
		conn   int
		hit    bool
	}{{"w1", 2, true}, {"w1", 1, false}, {"w2", 2, false}} {
		mc := &memConn{in: bytes.NewReader(in)}
		rw := narrow.Streams(tc.worker, tc.conn, nil)(mc)
		if hit := rw != io.ReadWriteCloser(mc); hit != tc.hit {
			t.Errorf("%s connection %d: wrapped %v, want %v", tc.worker, tc.conn, hit, tc.hit)
		}
	}
}

// TestByteStreamsDeadlinesAndClose: a stall anywhere in a side's chain
// takes the stream's read deadline, and Close releases it.
func TestByteStreamsDeadlinesAndClose(t *testing.T) {
	p := &fi.Plan{Bytes: []fi.ByteFault{
		{Kind: fi.ByteStall, For: time.Minute},
		{Kind: fi.ByteShort, Side: fi.ReadSide},
	}}
	rw := p.Streams("w1", 1, nil)(&memConn{in: bytes.NewReader(byteInput(100))})
	rw.(interface{ SetReadDeadline(time.Time) error }).SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := rw.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a read in the stall past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	rw.(interface{ SetReadDeadline(time.Time) error }).SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := rw.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	rw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the read released by Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the stall")
	}
}

// TestByteRecordsInLog: byte records survive the log file, and a Replay
// skips them.
func TestByteRecordsInLog(t *testing.T) {
	recs := []fi.Record{
		{Time: 1, Link: msgReqLink, Truth: history.TruthNotApplied, Gen: 2,
			Bytes: &fi.ByteRecord{Kind: fi.ByteEOF, Fault: 3, Conn: 2, At: 40, Text: "cut"}},
		{Time: 2, Link: msgReqLink, N: 1, Decision: fi.Decision{Drop: true, Fired: []int{0}}, Truth: history.TruthNotApplied},
	}
	var buf strings.Builder
	if err := fi.WriteLog(&buf, recs); err != nil {
		t.Fatal(err)
	}
	got, err := fi.ReadLog(strings.NewReader(buf.String()), "faults.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("read back mismatch (-want +got):\n%s", diff)
	}
	r := fi.NewReplay(got)
	if d := r.Decide(msgReqLink, fi.Message{}, 0); !d.Drop || d.N != 1 {
		t.Errorf("replayed decision %+v, want the drop of message 1", d)
	}
	if d := fi.NewReplay(got[:1]).Decide(msgReqLink, fi.Message{}, 0); !d.None() {
		t.Errorf("a replay of a byte record decided %+v, want nothing", d)
	}
	var log fi.Log
	log.Add(recs[0])
	if got := log.Records()[0].Truth; got != history.TruthNotApplied {
		t.Errorf("Log.Add changed a byte record's truth to %q", got)
	}
}
