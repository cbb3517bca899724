package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shmlab/shmlab/scenarios"
	"golang.org/x/term"
)

// progress tells what a suite is doing: on a terminal, one line redrawn
// in place; otherwise (a pipe, a CI log) a plain line per run that ends.
type progress struct {
	w       io.Writer
	tty     bool
	verbose bool // on a terminal too, a line per run that ends
	began   time.Time
	runs    int
}

func newProgress(w io.Writer, verbose bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty, verbose: verbose, began: time.Now()}
}

func (p *progress) update(sc *scenarios.Scenario, mode scenarios.Mode, seed uint64, o *scenarios.Outcome) {
	switch {
	case o == nil && p.tty:
		fmt.Fprintf(p.w, "\r\033[K[%d runs, %s] %s (%s) seed %d…", p.runs, time.Since(p.began).Round(time.Second), sc.Name, mode, seed)
	case o == nil:
	case !p.tty || p.verbose:
		if p.tty {
			fmt.Fprint(p.w, "\r\033[K") // the line goes above the progress line
		}
		fmt.Fprintf(p.w, "run: %s (%s) seed %d: %s, %d operations in %s\n", sc.Name, mode, seed, outcomeWord(o), o.Ops, o.Wall.Round(time.Millisecond))
		p.runs++
	default:
		p.runs++
	}
}

func outcomeWord(o *scenarios.Outcome) string {
	if o.Err != nil {
		return "error: " + o.Err.Error()
	}
	return o.Verdict().String()
}

// done clears the progress line.
func (p *progress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// sweepProgress tells how far a sweep of n seeds is: on a terminal, one
// line redrawn at most every 100ms; otherwise a line per tenth of the
// seeds.
type sweepProgress struct {
	w            io.Writer
	tty          bool
	n, done_     uint64
	began, drawn time.Time
}

func newSweepProgress(w io.Writer, n uint64) *sweepProgress {
	p := newProgress(w, false)
	return &sweepProgress{w: w, tty: p.tty, n: n, began: time.Now()}
}

// seedDone counts a seed that ended; failed and undecided are the counts
// so far.
func (p *sweepProgress) seedDone(failed, undecided int) {
	p.done_++
	line := fmt.Sprintf("sim: %d/%d seeds, %d failed, %d undecided, %s", p.done_, p.n, failed, undecided, time.Since(p.began).Round(100*time.Millisecond))
	switch {
	case p.tty:
		if time.Since(p.drawn) >= 100*time.Millisecond || p.done_ == p.n {
			fmt.Fprintf(p.w, "\r\033[K%s…", line)
			p.drawn = time.Now()
		}
	case p.done_*10/p.n != (p.done_-1)*10/p.n || p.done_ == 1:
		fmt.Fprintln(p.w, line)
	}
}

// done clears the progress line.
func (p *sweepProgress) done() { p.clear() }

// clear clears the progress line (on a terminal), to be drawn again at
// the next seed.
func (p *sweepProgress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = time.Time{}
	}
}
