package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// masterRun is one master generation's part of a run: its store, its
// workers, the message faults on their links and the process faults on
// them. It runs in the harness's process, or in a master process of its
// own (masterproc.go).
type masterRun struct {
	sp   *runSpec
	gen  int
	logf func(format string, args ...any)
	// onStart, if set, sees every worker process started.
	onStart func(w *shm.Worker)

	m       *shm.Master
	runner  *faultinject.Runner
	began   int64 // when the generation began, on history.Now's clock
	start   int64 // when the workload began (0 until then)
	events  *history.Recorder
	journal *history.Journal
	flog    *faultinject.Log

	mu      sync.Mutex
	current map[string]*shm.Worker   // each name's latest process
	started []*shm.Worker            // every process, in start order
	conns   map[string]int           // each name's connections so far
	connOf  map[*shm.Worker]int      // each process's connection number
	streams map[*shm.Worker]shm.Conn // each process's stream connection, for its codec
	cut     map[connKey][]string     // the byte faults that may end a connection, fired
	logs    []string
	logFile *os.File
	logErr  error
	closed  bool // the journal and log file are closed: events are dropped
	exits   exitJudge
}

// masterReport is what a master generation says of its run.
type masterReport struct {
	MasterResult
	Workers []WorkerResult `json:"workers"`
	// Faults are the errors of the process faults it applied.
	Faults string `json:"faults,omitempty"`
	// Missed says why each process fault it had to apply (by its index
	// in the plan) did not happen.
	Missed map[int]string `json:"missed,omitempty"`
}

func (r *masterReport) faultErr() error {
	if r.Faults == "" {
		return nil
	}
	return errors.New(r.Faults)
}

// connKey names a worker's connection under one master.
type connKey struct {
	name string
	conn int
}

func newMasterRun(sp *runSpec, gen int, logf func(string, ...any)) *masterRun {
	return &masterRun{sp: sp, gen: gen, logf: logf, began: history.Now(), current: make(map[string]*shm.Worker),
		conns: make(map[string]int), connOf: make(map[*shm.Worker]int), streams: make(map[*shm.Worker]shm.Conn), cut: make(map[connKey][]string), exits: newExitJudge()}
}

// eventCapacity is the room of an event journal: a quarter of a million
// fault events or so (the file is sparse).
const eventCapacity = 64 << 20

// aliveWait bounds the wait for a master's Stats at the end of its run.
const aliveWait = 5 * time.Second

// run runs the generation until its workers are done and its process
// faults applied or past hope, or ctx ends; then it closes the master.
// The first generation begins the workload once every worker is ready
// (start.go).
func (r *masterRun) run(ctx context.Context) (masterReport, error) {
	rep := masterReport{MasterResult: MasterResult{Gen: r.gen}}
	if err := r.open(); err != nil {
		return rep, err
	}
	defer r.closeFiles()
	r.start, _ = readStart(r.sp.Dir)
	if t, ok := readTime(genBegan(r.sp.Dir, r.gen)); ok {
		r.began = t
	}
	var b *barrier
	if r.start == 0 {
		var err error
		if b, err = openBarrier(r.sp.Dir, r.gen); err != nil {
			return rep, err
		}
		defer b.close()
	}
	r.runner = r.newRunner()
	opts, err := r.options()
	if err != nil {
		return rep, err
	}
	r.m = shm.NewMaster(opts)
	defer r.close()
	var ws []*shm.Worker
	for i := 1; i <= r.sp.Workers; i++ {
		w, err := r.startWorker(fmt.Sprintf("w%d", i), nil)
		if err != nil {
			return rep, err
		}
		ws = append(ws, w)
	}
	if b != nil {
		if err := r.begin(ctx, b, ws); err != nil {
			return rep, err
		}
	}
	missed, ferr := r.runner.Run(ctx)
	werr := r.wait(ctx)
	if werr == nil {
		r.finalReads()
		r.judgeKills()
	}
	rep.Stats, rep.Alive = r.stats()
	r.close()
	rep.Workers = r.workerResults()
	rep.Logs = r.logLines()
	rep.Missed = missed
	if ferr != nil {
		rep.Faults = ferr.Error()
	}
	return rep, werr
}

// begin begins the workload once every worker of ws is ready.
func (r *masterRun) begin(ctx context.Context, b *barrier, ws []*shm.Worker) error {
	if err := b.await(ctx, ws); err != nil {
		return err
	}
	t := history.Now()
	if err := writeStart(r.sp.Dir, t); err != nil {
		return err
	}
	r.mu.Lock()
	r.start = t
	r.mu.Unlock()
	r.runner.SetStart(asTime(t))
	b.close() // the workers go
	return nil
}

// newRunner makes the runner of the generation's worker faults: those
// aimed by time that fall in its life (the first generation's from the
// start; a later one's from when it began), and those aimed by progress
// that have not happened under an earlier one.
func (r *masterRun) newRunner() *faultinject.Runner {
	var start time.Time
	if r.start != 0 {
		start = asTime(r.start)
	}
	return faultinject.NewRunner(faultinject.RunnerOptions{Faults: r.sp.faults(), Skip: r.skip, Start: start,
		Targets: r, Record: r.event, Happened: func(i int) { markHappened(r.sp.Dir, i) }, Over: r.over,
		Lossy: r.sp.Plan.MayLoseRequests()})
}

// skip reports whether the generation leaves process fault i alone: the
// master's (the harness applies them), one that happened already, or
// one aimed at a time before the generation began (was asked to start:
// a fault timed while it starts is applied late, not dropped).
func (r *masterRun) skip(i int) bool {
	f := r.sp.faults()[i]
	switch {
	case f.Target == faultinject.MasterTarget, happened(r.sp.Dir, i):
		return true
	case f.After == nil && r.start != 0:
		return r.start+int64(f.At) < r.began
	}
	return false
}

// over returns a channel closed once every worker's latest process has
// exited.
func (r *masterRun) over() <-chan struct{} {
	r.mu.Lock()
	ws := make([]*shm.Worker, 0, len(r.current))
	for _, w := range r.current {
		ws = append(ws, w)
	}
	r.mu.Unlock()
	ch := make(chan struct{})
	go func() {
		for _, w := range ws {
			<-w.Done()
		}
		close(ch)
	}()
	return ch
}

// finalReads records, once every worker has finished, the master's own
// read of each key: the final read that the counter check needs.
func (r *masterRun) finalReads() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	s := r.events.Session(FinalReader)
	for _, k := range r.sp.Keys {
		p := s.Call(history.Get, k, history.Input{})
		v, _ := r.m.Get(k)
		p.Return(history.StatusOK, history.Output{Value: json.RawMessage(v)})
	}
}

// FinalReader is the worker name of the final reads in a history: the
// master's own reads of every key once the workers have finished.
const FinalReader = "final"

// open makes the generation's event journal and fault log.
func (r *masterRun) open() error {
	j, events, err := openEvents(r.sp.Dir, r.gen)
	if err != nil {
		return err
	}
	r.journal, r.events = j, events
	if r.logFile, err = os.OpenFile(faultLog(r.sp.Dir, r.gen), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644); err != nil {
		j.Close()
		return fmt.Errorf("harness: %w", err)
	}
	r.flog = &faultinject.Log{OnRecord: r.onRecord}
	return nil
}

// onRecord writes a fault decision into the event journal, as an event
// with its ground truth, and into the fault log file, one write each, so
// that both survive the death of this process. It notes the byte faults
// that may end a connection.
func (r *masterRun) onRecord(rec faultinject.Record) {
	rec.Gen = r.gen
	line, err := json.Marshal(&rec)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exits.faulted[rec.Link.Worker] = true
	if b := rec.Bytes; b != nil && !b.Kind.Harmless() {
		k := connKey{rec.Link.Worker, b.Conn}
		if !slices.Contains(r.cut[k], string(b.Kind)) {
			r.cut[k] = append(r.cut[k], string(b.Kind))
		}
	}
	if r.closed {
		return // a message held past the end of the run
	}
	r.events.Event(rec.Event())
	if err == nil {
		_, err = r.logFile.Write(append(line, '\n'))
	}
	if err != nil && r.logErr == nil {
		r.logErr = err
	}
}

// event records a process event into the event journal.
func (r *masterRun) event(e history.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exits.planned(&e)
	if !r.closed {
		r.events.Event(e)
	}
}

func (r *masterRun) closeFiles() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.logFile.Close()
	r.journal.Close()
}

func (r *masterRun) options() (shm.MasterOptions, error) {
	opts := shm.MasterOptions{Store: r.sp.Store, Logf: r.log, OnExit: r.exited}
	opts.Stream.MaxFrame = r.sp.MaxFrame
	d, err := r.decisions()
	if err != nil {
		return opts, err
	}
	opts.WrapConn = func(w *shm.Worker, c shm.Conn) shm.Conn {
		r.mu.Lock()
		r.streams[w] = c
		r.mu.Unlock()
		if d != nil {
			c = faultinject.Messages(c, workerName(w), d, r.flog, faultinject.ConnOptions{Since: r.since, Logf: r.log})
		}
		return watchProgress(c, workerName(w), r.sp.faults(), r.skip, r.runner)
	}
	if r.sp.Plan != nil && len(r.sp.Plan.Bytes) > 0 {
		opts.WrapStream = r.wrapStream
	}
	return opts, nil
}

// decisions returns what decides the generation's message faults: the
// records it replays, or the plan's seed (nil: no message faults).
func (r *masterRun) decisions() (faultinject.Decisions, error) {
	if r.sp.Replay != "" {
		recs, err := readFaultLog(filepath.Join(r.sp.Dir, r.sp.Replay))
		if err != nil {
			return nil, err
		}
		recs = slices.DeleteFunc(recs, func(rec faultinject.Record) bool { return rec.Bytes != nil || max(rec.Gen, 1) != r.gen })
		if len(recs) == 0 {
			return nil, nil
		}
		return faultinject.NewReplay(recs), nil
	}
	if r.sp.Plan != nil && len(r.sp.Plan.Messages) > 0 {
		return faultinject.NewDecider(r.sp.Plan), nil
	}
	return nil, nil
}

// wrapStream puts the plan's byte faults on the master's end of a new
// connection of w, numbered among its name's connections.
func (r *masterRun) wrapStream(w *shm.Worker, rw io.ReadWriteCloser) io.ReadWriteCloser {
	name := workerName(w)
	r.mu.Lock()
	r.conns[name]++
	n := r.conns[name]
	r.connOf[w] = n
	r.mu.Unlock()
	return r.sp.Plan.Streams(name, n, r.flog)(rw)
}

// since is the time since the workload began (0 before).
func (r *masterRun) since() time.Duration {
	r.mu.Lock()
	start := r.start
	r.mu.Unlock()
	if start == 0 {
		return 0
	}
	return time.Duration(history.Now() - start)
}

func workerName(w *shm.Worker) string { return fmt.Sprintf("w%d", w.ID) }

func (r *masterRun) log(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.logs = append(r.logs, line)
	r.mu.Unlock()
	if r.logf != nil {
		r.logf("master %d: %s", r.gen, line)
	}
}

func (r *masterRun) logLines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logs...)
}

// startWorker starts name's worker process: the first (old is nil, and the
// master gives it the next worker id, which is name's number), or
// another incarnation of old.
func (r *masterRun) startWorker(name string, old *shm.Worker) (*shm.Worker, error) {
	var w *shm.Worker
	var err error
	if old == nil {
		w, err = r.m.Spawn(r.workerSpec(name))
	} else {
		w, err = r.m.Restart(old)
	}
	if err != nil {
		return nil, fmt.Errorf("harness: start worker %s: %w", name, err)
	}
	r.mu.Lock()
	r.current[name] = w
	r.started = append(r.started, w)
	r.mu.Unlock()
	if r.onStart != nil {
		r.onStart(w)
	}
	return w, nil
}

func (r *masterRun) workerSpec(name string) shm.WorkerSpec {
	cfg, err := json.Marshal(workerConfig{Name: name, Gen: r.gen, runSpec: *r.sp})
	if err != nil {
		panic(err) // a spec is plain data
	}
	tail := NewTail(TailLines)
	r.mu.Lock()
	r.exits.tails[name] = tail
	r.mu.Unlock()
	out := &lineWriter{emit: func(line string) {
		r.log("worker %s: %s", name, line)
		tail.Write([]byte(line + "\n"))
	}}
	return shm.WorkerSpec{Name: WorkerName, Env: []string{envWorker + "=" + string(cfg)}, Stdout: out, Stderr: out}
}

// lineWriter passes what a worker process writes to emit, a line at a
// time: into the master's log (Result and Config.Logf), not onto the
// terminal of whoever runs the harness. It is used from one goroutine.
type lineWriter struct {
	emit    func(string)
	partial []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.emit(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 4096 {
		l.emit(string(l.partial))
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

// Process and Start make the workers the targets of process faults.
func (r *masterRun) Process(name string) faultinject.Process {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.current[name]; w != nil {
		return w
	}
	return nil
}

func (r *masterRun) Start(name string) (faultinject.Process, error) {
	r.mu.Lock()
	old := r.current[name]
	r.mu.Unlock()
	if old == nil {
		return nil, fmt.Errorf("no worker %s", name)
	}
	return r.startWorker(name, old)
}

// wait waits for every worker's latest process to end.
func (r *masterRun) wait(ctx context.Context) error {
	r.mu.Lock()
	ws := make([]*shm.Worker, 0, len(r.current))
	for _, w := range r.current {
		ws = append(ws, w)
	}
	r.mu.Unlock()
	for _, w := range ws {
		select {
		case <-w.Done():
		case <-ctx.Done():
			return fmt.Errorf("harness: waiting for the workers: %w", ctx.Err())
		}
	}
	return nil
}

// stats asks the master for its stats; alive is false if it does not
// answer in time.
func (r *masterRun) stats() (shm.MasterStats, bool) {
	ch := make(chan shm.MasterStats, 1)
	go func() { ch <- r.m.Stats() }()
	select {
	case st := <-ch:
		return st, true
	case <-time.After(aliveWait):
		return shm.MasterStats{}, false
	}
}

// workerResults describes every worker process that ran; their journals
// add the counts of calls later (collect).
func (r *masterRun) workerResults() []WorkerResult {
	r.mu.Lock()
	started := append([]*shm.Worker(nil), r.started...)
	conns := make([]int, len(started))
	codecs := make([]string, len(started))
	for i, w := range started {
		conns[i] = r.connOf[w]
		if c, ok := shm.ConnCodec(r.streams[w]); ok {
			codecs[i] = c.String()
		}
	}
	r.mu.Unlock()
	// Wait outside the lock: fault records still arriving (a delayed
	// message's timer) take it.
	out := make([]WorkerResult, len(started))
	for i, w := range started {
		err := w.Wait()
		ps := w.ProcessState()
		out[i] = WorkerResult{Name: workerName(w), Gen: r.gen, Inc: w.Inc, Pid: w.Pid(), Killed: killed(ps), Codec: codecs[i]}
		r.mu.Lock()
		out[i].Crashed = r.exits.crashed[w.Pid()]
		r.mu.Unlock()
		if err != nil {
			out[i].Exit = err.Error()
		}
		if ps.ExitCode() == lostExit {
			r.mu.Lock()
			out[i].Cut = strings.Join(r.cut[connKey{out[i].Name, conns[i]}], "+")
			r.mu.Unlock()
		}
	}
	return out
}

// openEvents makes the event journal of master generation gen in dir, and
// a recorder writing into it.
func openEvents(dir string, gen int) (*history.Journal, *history.Recorder, error) {
	j, err := history.CreateJournal(eventJournal(dir, gen), eventCapacity)
	if err != nil {
		return nil, nil, fmt.Errorf("harness: %w", err)
	}
	return j, history.NewRecorder(history.RecorderOptions{Journal: j}), nil
}

// killed reports whether a process died by SIGKILL.
func killed(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
