package history

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// journalStep is one operation the journal tests record.
type journalStep struct {
	Method Method
	Key    string
	Input  Input
	Status Status
	Output Output
}

// journalPlan is the i-th operation of worker w: a set or a get, with
// every 7th unknown and every 11th a failure.
func journalPlan(w, i int) journalStep {
	key := fmt.Sprintf("w%d-k%d", w, i%3)
	switch {
	case i%7 == 6:
		return journalStep{Set, key, Input{Value: raw(strconv.Itoa(i))}, StatusUnknown, Output{Error: &ErrorInfo{Code: "timeout"}}}
	case i%11 == 10:
		return journalStep{Add, key, Input{Delta: int64(i)}, StatusFail, Output{Error: &ErrorInfo{Code: "not_integer", Message: "the value is \"x\""}}}
	case i%2 == 0:
		return journalStep{Set, key, Input{Value: raw(strconv.Itoa(i))}, StatusOK, Output{Value: raw(`"OK"`)}}
	}
	return journalStep{Get, key, Input{}, StatusOK, Output{Value: raw(strconv.Itoa(i - 1))}}
}

// recordPlan records worker w's operations from..to-1 on s; it leaves the
// last one pending if leave, and records an event naming every tenth.
func recordPlan(r *Recorder, s *Session, w, from, to int, leave bool) {
	for i := from; i < to; i++ {
		st := journalPlan(w, i)
		p := s.Call(st.Method, st.Key, st.Input)
		if i%10 == 0 {
			r.Event(Event{Kind: EventFault, Worker: fmt.Sprintf("w%d", w), Fault: "drop", Op: p.ID(), Text: fmt.Sprintf("w%d-%d", w, i)})
		}
		if leave && i == to-1 {
			return
		}
		p.Return(st.Status, st.Output)
	}
}

// workerSteps returns the operations of worker in h, in call order.
func workerSteps(h *History, worker string) ([]journalStep, []*Op) {
	var steps []journalStep
	var ops []*Op
	for i := range h.Ops {
		if op := &h.Ops[i]; op.Worker == worker {
			steps = append(steps, journalStep{op.Method, op.Key, op.Input, op.Status, op.Output})
			ops = append(ops, op)
		}
	}
	return steps, ops
}

// checkStreams checks that ops, one session's in call order, begin a new
// stream after each unknown one and only then, numbered upwards.
func checkStreams(t *testing.T, ops []*Op) {
	t.Helper()
	for i := 1; i < len(ops); i++ {
		prev, op := ops[i-1], ops[i]
		if want := prev.Stream + btoi(prev.Status == StatusUnknown); op.Stream != want {
			t.Errorf("%v on stream %d, then %v on stream %d, not %d", prev, prev.Stream, op, op.Stream, want)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkEvents checks that each event recordPlan recorded names its op.
func checkEvents(t *testing.T, h *History) {
	t.Helper()
	for _, e := range h.Events {
		var w, i int
		if _, err := fmt.Sscanf(e.Text, "w%d-%d", &w, &i); err != nil {
			continue
		}
		if e.Op < 1 || e.Op > int64(len(h.Ops)) {
			t.Errorf("event %q names op %d, not in the history", e.Text, e.Op)
			continue
		}
		op := &h.Ops[e.Op-1]
		if st := journalPlan(w, i); op.Key != st.Key || op.Method != st.Method || op.Input.Delta != st.Input.Delta || string(op.Input.Value) != string(st.Input.Value) {
			t.Errorf("event %q names %v", e.Text, op)
		}
	}
}

func TestJournalRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.journal")
	j, err := CreateJournal(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A clock of distinct readings, so that the order is the same in
	// memory and in the journal.
	r := NewRecorder(RecorderOptions{Clock: tickClock(3), Journal: j})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			s := r.Session(fmt.Sprintf("w%d", w%3)) // w0 twice
			recordPlan(r, s, w, 0, 60+w, w%2 == 0)
		})
	}
	wg.Wait()
	r.Event(Event{Kind: EventMasterRestart, Reset: true, Text: "restart"})
	h := NewHeader(ModelKV, "round trip", 3)
	want := r.History(h)
	if len(want.Ops) != 60+61+62+63 {
		t.Fatalf("the recorder holds %d ops", len(want.Ops))
	}
	for _, closed := range []bool{false, true} {
		if closed {
			if err := j.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		c, err := ReadJournal(path)
		if err != nil {
			t.Fatalf("ReadJournal (closed %v): %v", closed, err)
		}
		if c.Torn != 0 || c.Orphans != 0 || c.Lost != 0 || c.PID != os.Getpid() || c.Capacity != DefaultJournalCapacity {
			t.Errorf("ReadJournal (closed %v): torn %d, orphans %d, lost %d, pid %d, capacity %d", closed, c.Torn, c.Orphans, c.Lost, c.PID, c.Capacity)
		}
		got, err := MergeJournals(h, path)
		if err != nil {
			t.Fatalf("MergeJournals (closed %v): %v", closed, err)
		}
		if d := recorderDiff(want, got); d != "" {
			t.Errorf("merged journal (closed %v) (-recorder +journal):\n%s", closed, d)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= 1<<20 {
		t.Errorf("a closed journal of %d ops takes %d bytes", len(want.Ops), fi.Size())
	}
	checkEvents(t, reread(t, want))
}

// The helper process records into a journal, as a worker does, and dies
// by SIGKILL. The environment says what it does.
const (
	helperModeEnv = "SHMLAB_JOURNAL_HELPER"
	helperPathEnv = "SHMLAB_JOURNAL_PATH"
)

// The helper that kills itself records helperOps operations per worker.
const helperWorkers, helperOps = 3, 40

// TestHelperProcess is not a test: it is the child process of the
// SIGKILL tests.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		t.Skip("the child process of the journal's SIGKILL tests")
	}
	j, err := CreateJournal(os.Getenv(helperPathEnv), 0)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(RecorderOptions{Journal: j})
	switch mode {
	case "kill-self":
		// Every worker leaves its last call pending; the last worker's
		// last call is the last thing done before the kill.
		var wg sync.WaitGroup
		for w := range helperWorkers - 1 {
			wg.Go(func() { recordPlan(r, r.Session(fmt.Sprintf("w%d", w)), w, 0, helperOps, true) })
		}
		wg.Wait()
		w := helperWorkers - 1
		recordPlan(r, r.Session(fmt.Sprintf("w%d", w)), w, 0, helperOps, true)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case "restart":
		for w := range helperWorkers {
			recordPlan(r, r.Session(fmt.Sprintf("w%d", w)), w, helperOps, helperOps+5, false)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	case "loop":
		// Record until killed, from many goroutines at once.
		for w := range 4 {
			go recordPlan(r, r.Session(fmt.Sprintf("w%d", w)), w, 0, 100_000, false)
		}
		fmt.Println("recording")
		time.Sleep(time.Minute)
	default:
		t.Fatalf("unknown mode %q", mode)
	}
}

// runHelper runs the helper process in mode with a journal at path, and
// returns how it ended and its pid.
func runHelper(t *testing.T, mode, path string) (*os.ProcessState, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperPathEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("helper %s: %v", mode, err)
	}
	if mode != "kill-self" && err != nil {
		t.Fatalf("helper %s: %v\n%s", mode, err, out)
	}
	return cmd.ProcessState, cmd.Process.Pid
}

// killedBy reports whether ps ended by signal sig.
func killedBy(ps *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// TestJournalSurvivesSIGKILL runs a worker process that records into a
// journal and SIGKILLs itself right after its last call, then a restart
// of it, and merges the two journals.
func TestJournalSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	killed, restarted := filepath.Join(dir, "killed.journal"), filepath.Join(dir, "restarted.journal")
	ps, pid := runHelper(t, "kill-self", killed)
	if !killedBy(ps, syscall.SIGKILL) {
		t.Fatalf("the helper ended by %v, not by SIGKILL", ps)
	}
	c, err := ReadJournal(killed)
	if err != nil {
		t.Fatal(err)
	}
	if c.Torn != 0 || c.Orphans != 0 || c.Lost != 0 || c.PID != pid {
		t.Errorf("the killed journal: torn %d, orphans %d, lost %d, pid %d (want 0, 0, 0, %d)", c.Torn, c.Orphans, c.Lost, c.PID, pid)
	}
	h := NewHeader(ModelKV, "sigkill", 1)
	merged, err := MergeJournals(h, killed)
	if err != nil {
		t.Fatal(err)
	}
	merged = reread(t, merged)
	lastStream := map[string]int{}
	for w := range helperWorkers {
		name := fmt.Sprintf("w%d", w)
		var want []journalStep
		for i := range helperOps {
			want = append(want, journalPlan(w, i))
		}
		want[helperOps-1].Status, want[helperOps-1].Output = StatusUnknown, Output{}
		got, ops := workerSteps(merged, name)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("worker %s's operations after its SIGKILL (-want +got):\n%s", name, d)
			continue
		}
		for i, op := range ops {
			if unreturned := i == helperOps-1; unreturned != (op.Return == 0) {
				t.Errorf("%v returned at %d", op, op.Return)
			}
		}
		checkStreams(t, ops)
		lastStream[name] = ops[len(ops)-1].Stream
	}
	checkEvents(t, merged)
	if len(merged.Events) != helperWorkers*helperOps/10 {
		t.Errorf("%d events, want %d", len(merged.Events), helperWorkers*helperOps/10)
	}

	// The worker restarts, in a new process with a new journal: its
	// operations go on as new streams.
	runHelper(t, "restart", restarted)
	both, err := MergeJournals(h, killed, restarted)
	if err != nil {
		t.Fatal(err)
	}
	both = reread(t, both)
	for w := range helperWorkers {
		name := fmt.Sprintf("w%d", w)
		_, ops := workerSteps(both, name)
		if len(ops) != helperOps+5 {
			t.Errorf("worker %s has %d ops, want %d", name, len(ops), helperOps+5)
			continue
		}
		checkStreams(t, ops)
		if op := ops[helperOps]; op.Stream != lastStream[name]+1 {
			t.Errorf("after the restart, %v is on stream %d, want %d", op, op.Stream, lastStream[name]+1)
		}
	}
}

// TestJournalKilledWhileRecording SIGKILLs a process while it records
// from several goroutines: records may be torn, but what the merge keeps
// is each worker's first operations, every one returned but the last.
func TestJournalKilledWhileRecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loop.journal")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperModeEnv+"=loop", helperPathEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "recording\n" {
		t.Fatalf("the helper said %q, %v", line, err)
	}
	time.Sleep(time.Duration(20+rand.IntN(30)) * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if !killedBy(cmd.ProcessState, syscall.SIGKILL) {
		t.Fatalf("the helper ended by %v, not by SIGKILL", cmd.ProcessState)
	}
	c, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Torn > 4 || c.Orphans != 0 || c.Lost != 0 {
		t.Errorf("torn %d (at most one per goroutine), orphans %d, lost %d", c.Torn, c.Orphans, c.Lost)
	}
	h, err := MergeJournals(NewHeader(ModelKV, "loop", 1), path)
	if err != nil {
		t.Fatal(err)
	}
	h = reread(t, h)
	total := 0
	for w := range 4 {
		got, ops := workerSteps(h, fmt.Sprintf("w%d", w))
		var want []journalStep
		for i := range got {
			want = append(want, journalPlan(w, i))
		}
		if n := len(got); n > 0 && got[n-1].Status == StatusUnknown && ops[n-1].Return == 0 {
			want[n-1].Status, want[n-1].Output = StatusUnknown, Output{} // its return was not written
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("worker w%d's %d operations (-want +got):\n%s", w, len(got), d)
		}
		checkStreams(t, ops)
		total += len(got)
	}
	t.Logf("%d operations recorded before the kill, %d torn records", total, c.Torn)
	if total == 0 {
		t.Errorf("nothing recorded")
	}
}

// journalSpan is where a record is in a journal file.
type journalSpan struct {
	off, size int
	kind      uint32
}

// journalSpans returns the records of the journal file data, which must
// be whole.
func journalSpans(t *testing.T, data []byte) []journalSpan {
	t.Helper()
	var spans []journalSpan
	for off := journalHeaderSize; off < len(data); {
		kind, _, size := recordAt(data[journalHeaderSize:], off-journalHeaderSize)
		if size == 0 {
			t.Fatalf("no record at offset %d", off)
		}
		spans = append(spans, journalSpan{off, size, kind})
		off += size
	}
	return spans
}

// writeJournal records one worker's plan of n operations into a closed
// journal, and returns its path and the recorder.
func writeJournal(t *testing.T, n int) (string, *Recorder) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.journal")
	j, err := CreateJournal(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(RecorderOptions{Clock: tickClock(1), Journal: j})
	recordPlan(r, r.Session("w0"), 0, 0, n, false)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return path, r
}

func TestJournalTornRecords(t *testing.T) {
	path, r := writeJournal(t, 20)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spans := journalSpans(t, data)
	// recordPlan writes, per op, an event first if i%10 == 0, then the
	// call, then the return.
	calls := map[int]journalSpan{}
	returns := map[int]journalSpan{}
	i := -1
	for _, s := range spans {
		switch s.kind {
		case kindCall:
			i++
			calls[i] = s
		case kindReturn:
			returns[i] = s
		}
	}
	// Op 4: the call's header zeroed, as a kill before its publication
	// leaves it; its return is then an orphan.
	clear(data[calls[4].off : calls[4].off+8])
	// Op 9: a byte of the return's body changed; the op is unknown, and
	// the next ones go on as a new stream.
	data[returns[9].off+recordHeaderSize+3] ^= 0x20
	// Ops 14 and 15: overwritten with garbage holding the magic numbers.
	garbage := []byte("\xfeRJ\xfe\xff\xff\xff\x7f\xfeshmlabj{\"type\":\"op\"}\xfe\xfe")
	for p := calls[14].off; p < returns[15].off+returns[15].size; p++ {
		data[p] = garbage[p%len(garbage)]
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	c, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Torn != 3 || c.Orphans != 1 || c.Lost != 0 {
		t.Errorf("torn %d, orphans %d, lost %d; want 3, 1, 0", c.Torn, c.Orphans, c.Lost)
	}
	want := r.History(Header{}).Ops
	want[9].Status, want[9].Return, want[9].Output = StatusUnknown, 0, Output{}
	want = append(append(want[:4:4], want[5:14]...), want[16:]...)
	var gotKeys, wantKeys []string
	for _, op := range c.Ops {
		gotKeys = append(gotKeys, fmt.Sprintf("%s %s %s %s", op.Method, op.Key, op.Input.Value, op.Status))
	}
	for _, op := range want {
		wantKeys = append(wantKeys, fmt.Sprintf("%s %s %s %s", op.Method, op.Key, op.Input.Value, op.Status))
	}
	if d := cmp.Diff(wantKeys, gotKeys); d != "" {
		t.Errorf("the ops read (-want +got):\n%s", d)
	}

	h, err := MergeJournals(NewHeader(ModelKV, "torn", 1), path)
	if err != nil {
		t.Fatal(err)
	}
	h = reread(t, h)
	_, ops := workerSteps(h, "w0")
	checkStreams(t, ops)
	notes := 0
	for _, e := range h.Events {
		if e.Kind == EventNote && strings.Contains(e.Text, path) && strings.Contains(e.Text, "3 damaged") && strings.Contains(e.Text, "1 returns") {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes of the damage in the merged history's events %v", notes, h.Events)
	}
}

// TestJournalRandomDamage damages a journal at random: reading it must
// never fail or panic, and every op it reads must be one recorded.
func TestJournalRandomDamage(t *testing.T) {
	path, r := writeJournal(t, 50)
	clean, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, op := range r.History(Header{}).Ops {
		recorded[fmt.Sprintf("%s %s %s %d", op.Method, op.Key, op.Input.Value, op.Call)] = true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		data := append([]byte(nil), clean...)
		for range 1 + rng.IntN(4) {
			at := journalHeaderSize + rng.IntN(len(data)-journalHeaderSize)
			n := min(1+rng.IntN(64), len(data)-at)
			switch rng.IntN(3) {
			case 0:
				clear(data[at : at+n])
			case 1:
				for k := range n {
					data[at+k] = byte(rng.UintN(256))
				}
			default:
				data[at] ^= 1 << rng.IntN(8)
			}
		}
		if rng.IntN(5) == 0 {
			data = data[:journalHeaderSize+rng.IntN(len(data)-journalHeaderSize)]
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadJournal(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, op := range c.Ops {
			if !recorded[fmt.Sprintf("%s %s %s %d", op.Method, op.Key, op.Input.Value, op.Call)] {
				t.Fatalf("round %d: read %v, which was not recorded", round, &op)
			}
		}
		h, err := MergeJournals(NewHeader(ModelKV, "", 0), path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("round %d: the merged history: %v", round, err)
		}
	}
}

func TestJournalBadFiles(t *testing.T) {
	good, _ := writeJournal(t, 3)
	clean, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	damaged := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), clean...)) }
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "not a journal", nil},
		{"short", "not a journal", clean[:20]},
		{"history", "bad magic", []byte(`{"type":"header","format":"shmlab-history","version":1,"model":"kv","seed":1}` + "\n")},
		{"magic", "bad magic", damaged(func(b []byte) []byte { b[0] = '{'; return b })},
		{"version", "version 9", damaged(func(b []byte) []byte { b[offVersion] = 9; return b })},
		{"tail", "tail", damaged(func(b []byte) []byte { b[offTail] = 3; return b })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadJournal(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadJournal: %v; want an error naming %s and saying %q", err, path, tc.want)
			}
			if _, merr := MergeJournals(Header{}, good, path); merr == nil || merr.Error() != err.Error() {
				t.Errorf("MergeJournals: %v; want %v", merr, err)
			}
		})
	}
	if _, err := ReadJournal(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadJournal of a missing file: %v", err)
	}
}

func TestJournalFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.journal")
	j, err := CreateJournal(path, 4096)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(RecorderOptions{Journal: j})
	recordPlan(r, r.Session("w0"), 0, 0, 100, false)
	if j.Lost() == 0 {
		t.Fatalf("100 ops fit in 4096 bytes")
	}
	if n := len(r.History(Header{}).Ops); n != 100 {
		t.Errorf("the recorder holds %d ops, want 100", n)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Lost == 0 || len(c.Ops) == 0 || c.Orphans != 0 {
		t.Errorf("lost %d, %d ops, %d orphans", c.Lost, len(c.Ops), c.Orphans)
	}
	h, err := MergeJournals(Header{}, path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "lost") {
		t.Errorf("MergeJournals of a full journal: %v, %v; want an error", h, err)
	}
}

func TestJournalRestartIsNewStream(t *testing.T) {
	dir := t.TempDir()
	clock := tickClock(1)
	var paths []string
	for run := range 2 {
		path := filepath.Join(dir, fmt.Sprint(run))
		j, err := CreateJournal(path, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		r := NewRecorder(RecorderOptions{Clock: clock, Journal: j})
		s := r.Session("w1")
		for range 3 {
			s.Call(Get, "k", Input{}).Return(StatusOK, Output{})
		}
		s.Call(Get, "k", Input{}) // pending when the process dies
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	h, err := MergeJournals(NewHeader(ModelKV, "", 0), paths...)
	if err != nil {
		t.Fatal(err)
	}
	h = reread(t, h)
	var got []string
	for _, op := range h.Ops {
		got = append(got, fmt.Sprintf("#%d %s/%d %s", op.ID, op.Worker, op.Stream, op.Status))
	}
	want := []string{
		"#1 w1/0 ok", "#2 w1/0 ok", "#3 w1/0 ok", "#4 w1/0 unknown",
		"#5 w1/1 ok", "#6 w1/1 ok", "#7 w1/1 ok", "#8 w1/1 unknown",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("merged ops (-want +got):\n%s", d)
	}
}

func TestJournalCreateAndClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateJournal(path, 0); !errors.Is(err, os.ErrExist) {
		t.Errorf("CreateJournal over a file: %v, want it to exist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("CreateJournal changed an existing file to %q", b)
	}
	if _, err := CreateJournal(filepath.Join(dir, "tiny"), 16); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Errorf("CreateJournal with a capacity of 16: %v", err)
	}
	j, err := CreateJournal(filepath.Join(dir, "k"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(RecorderOptions{Journal: j})
	s := r.Session("w1")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("a second Close: %v", err)
	}
	func() {
		defer func() {
			if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "closed journal") {
				t.Errorf("a call recorded after Close: panic %v", p)
			}
		}()
		s.Call(Get, "k", Input{})
	}()
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Errorf("a closed journal served a new recorder")
			}
		}()
		NewRecorder(RecorderOptions{Journal: j})
	}()
}
