package harness

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/spec"
)

var workerJournalRE = regexp.MustCompile(`^g([0-9]+)-i([0-9]+)-(.+)\.journal$`)

// incKey names a worker process: its master's generation and its
// incarnation under that master.
type incKey struct {
	gen int
	inc uint64
}

// collect merges the run's journals into its history and gathers the
// rest of the result.
func collect(sp *runSpec, reports []masterReport) (*Result, error) {
	paths, err := filepath.Glob(filepath.Join(sp.Dir, "g*.journal"))
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	cs := make([]*history.JournalContents, 0, len(paths))
	counts := make(map[incKey]WorkerResult)
	for _, p := range paths {
		c, err := history.ReadJournal(p)
		if err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		cs = append(cs, c)
		if m := workerJournalRE.FindStringSubmatch(filepath.Base(p)); m != nil {
			gen, _ := strconv.Atoi(m[1])
			inc, _ := strconv.ParseUint(m[2], 10, 64)
			counts[incKey{gen, inc}] = journalCounts(c, m[3], gen, inc)
		}
	}
	h, err := history.MergeJournalContents(sp.header(), cs...)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	h.Header.Store = sp.StoreLimits(h.Ops, ClockTolerance)
	h.Header.DedupWindow = sp.DedupWindow()
	h.Header.Calls = sp.CallLimits(CallSlack)
	res := &Result{History: h}
	for _, rep := range reports {
		res.Masters = append(res.Masters, rep.MasterResult)
		recs, err := readFaultLog(faultLog(sp.Dir, rep.Gen))
		if err != nil {
			return nil, err
		}
		res.Records = append(res.Records, recs...)
	}
	res.Workers = workerResults(reports, counts)
	return res, nil
}

// journalCounts describes a worker process from its journal alone.
func journalCounts(c *history.JournalContents, name string, gen int, inc uint64) WorkerResult {
	w := WorkerResult{Name: name, Gen: gen, Inc: inc, Pid: c.PID, Ops: len(c.Ops)}
	for i := range c.Ops {
		if c.Ops[i].Return == 0 {
			w.Unreturned++
		}
	}
	return w
}

// workerResults joins what the masters said of their workers with what
// the journals hold. A worker of a master that died before reporting is
// known by its journal alone: it died with its master.
func workerResults(reports []masterReport, counts map[incKey]WorkerResult) []WorkerResult {
	var out []WorkerResult
	for _, rep := range reports {
		for _, w := range rep.Workers {
			k := incKey{w.Gen, w.Inc}
			c := counts[k]
			delete(counts, k)
			w.Ops, w.Unreturned = c.Ops, c.Unreturned
			out = append(out, w)
		}
	}
	var orphans []WorkerResult
	for _, w := range counts {
		w.Exit, w.Killed = "died with its master", true
		orphans = append(orphans, w)
	}
	slices.SortFunc(orphans, func(a, b WorkerResult) int {
		return cmp.Or(cmp.Compare(a.Gen, b.Gen), cmp.Compare(a.Inc, b.Inc))
	})
	return append(out, orphans...)
}

// readFaultLog reads a generation's fault log; a missing one is empty.
func readFaultLog(path string) ([]faultinject.Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	defer f.Close()
	recs, err := faultinject.ReadLog(f, path)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	return recs, nil
}

// ClockTolerance is how far the master's clock, as its store reads it,
// may stand from the history's: both are CLOCK_MONOTONIC, the master
// reads it once a batch has arrived and a worker stamps a call before
// sending it, so the store's time lies within each operation's span; the
// margin covers the master's clock being read once per batch of
// requests (a lock slice) rather than per request.
const ClockTolerance = time.Millisecond

// CallSlack is how much later than its deadline a call's return may be
// recorded on real processes: the client's sweeper checks deadlines every
// tenth of the timeout, and a loaded machine may leave a worker's
// goroutines unscheduled for seconds (the late-reply wait gives 5 s too).
const CallSlack = 5 * time.Second

// header is the history's header, with the run's description as meta.
func (sp *runSpec) header() history.Header {
	h := history.NewHeader(sp.model(), sp.Scenario, sp.Seed)
	// A replay's records are in a file (sp.Replay), not counted: with no
	// plan beside them, the faults are left unknown.
	if n := sp.PlannedFaults(); n > 0 || sp.Replay == "" {
		h.Faults = &n
	}
	meta := struct {
		runSpec
		// Codecs are the codecs the run gives its workers, by worker.
		Codecs []string `json:"codecs"`
	}{runSpec: *sp, Codecs: sp.codecs()}
	meta.Dir, meta.Start = "", 0
	h.Meta, _ = json.Marshal(&meta)
	return h
}

// codecs returns the codec each worker speaks: the run's (runSpec.codec)
// on the reference, but JSON lines for a worker that sends poison; JSON
// lines for every worker of another target.
func (sp *runSpec) codecs() []string {
	out := make([]string, sp.Workers)
	for i, name := range workerNames(sp.Workers) {
		out[i] = spec.CodecJSON
		if sp.Target.IsReference() && !(&workerConfig{Name: name, runSpec: *sp}).poisoned() {
			out[i] = sp.codec(name)
		}
	}
	return out
}
