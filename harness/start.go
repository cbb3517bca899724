package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/shm"
)

// The workload begins when every worker of the first master generation
// is ready to make its first call: process faults, a Duration and the
// message faults' windows count from then, as the simulator's do from
// its first instant. The first master makes two FIFOs in the run's
// directory before it starts its workers; each worker, once its client
// and journal are made, opens the go FIFO, writes its name into the
// ready FIFO and reads the go FIFO. When every name has come, the master
// writes the start time into startFile and closes its end of the go
// FIFO: every worker reads the end of it at once. Later processes (a
// restarted worker, the workers of a restarted master) find startFile
// and start at once.

// startFile holds the workload's start, on history.Now's clock.
const startFile = "start"

func readyFIFO(dir string, gen int) string {
	return filepath.Join(dir, fmt.Sprintf("g%d-ready.fifo", gen))
}
func goFIFO(dir string, gen int) string { return filepath.Join(dir, fmt.Sprintf("g%d-go.fifo", gen)) }

// readStart returns the workload's start, if it has begun.
func readStart(dir string) (int64, bool) { return readTime(filepath.Join(dir, startFile)) }

// writeStart writes the workload's start.
func writeStart(dir string, t int64) error { return writeTime(filepath.Join(dir, startFile), t) }

// genBegan is the file that holds when master generation gen was asked
// to start (a restarted master process: its predecessor was killed
// before). Worker faults timed before then were its predecessor's to
// apply; those timed after, it applies, late if it takes long to start.
func genBegan(dir string, gen int) string { return filepath.Join(dir, fmt.Sprintf("g%d-began", gen)) }

// readTime reads a time written by writeTime.
func readTime(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	t, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return t, err == nil
}

// writeTime writes a time on history.Now's clock to path: whole
// or not at all (a file written aside, then renamed).
func writeTime(path string, t int64) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(t, 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// asTime turns a time on history.Now's clock into one on this
// process's time.Now clock.
func asTime(t int64) time.Time {
	return time.Now().Add(-time.Duration(history.Now() - t))
}

// barrier is the master's side of the start of the workload.
type barrier struct {
	ready, goes *os.File
}

// openBarrier makes and opens the FIFOs of master generation gen. Both
// are opened for reading and writing, which never blocks: the workers'
// opens do not block either, and the go FIFO ends for its readers only
// when the master closes it.
func openBarrier(dir string, gen int) (*barrier, error) {
	var b barrier
	for _, f := range []struct {
		path string
		to   **os.File
	}{{readyFIFO(dir, gen), &b.ready}, {goFIFO(dir, gen), &b.goes}} {
		if err := syscall.Mkfifo(f.path, 0o600); err != nil {
			b.close()
			return nil, fmt.Errorf("harness: mkfifo %s: %w", f.path, err)
		}
		fh, err := os.OpenFile(f.path, os.O_RDWR, 0)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("harness: %w", err)
		}
		*f.to = fh
	}
	return &b, nil
}

func (b *barrier) close() {
	for _, f := range []*os.File{b.ready, b.goes} {
		if f != nil {
			f.Close()
		}
	}
}

// await waits until every worker of ws has said it is ready; close then
// lets them go. A worker that exits first (it could not start) ends the
// wait with an error; so does ctx.
func (b *barrier) await(ctx context.Context, ws []*shm.Worker) error {
	names, stop := make(chan string), make(chan struct{})
	defer close(stop)
	go func() {
		defer close(names)
		buf := make([]byte, 256)
		var line []byte
		for {
			n, err := b.ready.Read(buf)
			for _, c := range buf[:n] {
				if c == '\n' {
					select {
					case names <- string(line):
					case <-stop:
						return
					}
					line = line[:0]
				} else {
					line = append(line, c)
				}
			}
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan *shm.Worker, len(ws))
	for _, w := range ws {
		go func() {
			<-w.Done()
			exited <- w
		}()
	}
	want := make(map[string]bool, len(ws))
	for _, w := range ws {
		want[workerName(w)] = true
	}
	for len(want) > 0 {
		select {
		case n, ok := <-names:
			if !ok {
				return errors.New("harness: the ready FIFO ended")
			}
			delete(want, n)
		case w := <-exited:
			if want[workerName(w)] {
				return fmt.Errorf("harness: worker %s exited before it was ready: %v", workerName(w), w.Wait())
			}
		case <-ctx.Done():
			return fmt.Errorf("harness: waiting for the workers to be ready: %w", ctx.Err())
		}
	}
	return nil
}

// awaitStart is the worker's side: it says it is ready and waits for the
// master to let every worker go, unless the workload has begun already
// (a restarted worker). It returns the workload's start.
func awaitStart(cfg *workerConfig) (int64, error) {
	if t, ok := readStart(cfg.Dir); ok {
		return t, nil
	}
	goes, err := os.OpenFile(goFIFO(cfg.Dir, cfg.Gen), os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer goes.Close()
	ready, err := os.OpenFile(readyFIFO(cfg.Dir, cfg.Gen), os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	_, err = ready.Write([]byte(cfg.Name + "\n")) // one write under PIPE_BUF: whole
	ready.Close()
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(io.Discard, goes); err != nil {
		return 0, err
	}
	t, ok := readStart(cfg.Dir)
	if !ok {
		return 0, errors.New("let go with no start time written")
	}
	return t, nil
}

// waitStart waits until the workload has begun and returns its start,
// or fails once done is closed (the master process exited first) or
// ctx ends.
func waitStart(ctx context.Context, dir string, done <-chan struct{}) (int64, error) {
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	for {
		if t, ok := readStart(dir); ok {
			return t, nil
		}
		select {
		case <-tk.C:
		case <-done:
			if t, ok := readStart(dir); ok {
				return t, nil
			}
			return 0, errors.New("harness: the master exited before the workload began")
		case <-ctx.Done():
			return 0, fmt.Errorf("harness: waiting for the workload to begin: %w", ctx.Err())
		}
	}
}

// Each fault that happens leaves a marker file in the run's directory,
// written by whichever process applied it, so that a fault is counted
// (and done) once across master generations, whatever process dies.

func faultMarker(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("fault-%d.happened", i))
}

func markHappened(dir string, i int) {
	if f, err := os.OpenFile(faultMarker(dir, i), os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
		f.Close()
	}
}

func happened(dir string, i int) bool {
	_, err := os.Stat(faultMarker(dir, i))
	return err == nil
}
