package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/spec"
)

// Keep says which runs a RunStore keeps.
type Keep string

// The runs a RunStore keeps: every one, those that went against the
// expectation (Outcome.Failed), or none.
const (
	KeepAll      Keep = "all"
	KeepFailures Keep = "failures"
	KeepNone     Keep = "none"
)

// DefaultKeepLast is how many runs a RunStore keeps per scenario, of those
// that passed and of those that failed each, after a suite (Prune): the
// store's disk use stays bounded however often the suite runs.
const DefaultKeepLast = 20

// DefaultKeepBytes bounds the size of a store after a suite (Prune): a
// scenario of large values makes runs of tens of megabytes (a history and
// its HTML report), so a count alone does not bound the disk.
const DefaultKeepBytes = 1 << 30

// LatestLink is the name of the link, in the store and in each scenario's
// folder, to the newest run folder.
const LatestLink = "latest"

// stampLayout is the time a run folder's name starts with: UTC, to the
// millisecond, sorting as the runs started.
const stampLayout = "20060102T150405.000Z"

// runFolderName matches the names of a store's run folders.
var runFolderName = regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z-`)

// RunStore keeps runs as Jepsen's store does: each in a folder of its own,
// DIR/SCENARIO/TIME-MODE-SEED/, with its scenario, history, fault log,
// report, run.json and repro line, and a link "latest" to the newest, per
// scenario and overall. A folder is made new for each run (a suffix -2,
// -3, … if two runs would share a name) and its files are created there
// exclusively: nothing is overwritten, and no file is written through a
// link planted in its place.
type RunStore struct {
	Dir      string
	Keep     Keep
	KeepLast int // per scenario, of passes and failures each (0: no pruning)
	// KeepBytes bounds the store's size after Prune (0: no bound): the
	// oldest runs go first, passes before failures, never one this store
	// saved.
	KeepBytes int64
	Command   []string // the command line, for run.json
	// ReproArgs go into each repro line before the scenario file (the
	// user's --store and --timeout, say).
	ReproArgs []string
	// Began is when this invocation began: Prune removes only runs that
	// started before it, so that it never removes one of this invocation
	// (nor of another, sharing the store, that began later).
	Began   time.Time
	touched map[string]bool
	saved   map[string]bool // the folders this store saved
}

// RunInfo is a run folder's run.json.
type RunInfo struct {
	Scenario string `json:"scenario,omitempty"`
	File     string `json:"file,omitempty"`
	Mode     Mode   `json:"mode"`
	Seed     uint64 `json:"seed"`
	Verdict  string `json:"verdict,omitempty"` // ok, illegal, unknown or error
	Failed   bool   `json:"failed"`            // against the expectation (Outcome.Failed)
	Error    string `json:"error,omitempty"`
	Ops      int    `json:"ops"`
	// The process faults the scenario plans, and how many happened.
	FaultsPlanned  int       `json:"faults_planned"`
	FaultsHappened int       `json:"faults_happened"`
	Start          time.Time `json:"start"`
	WallMs         float64   `json:"wall_ms"`
	Command        []string  `json:"command,omitempty"`
	Host           string    `json:"host,omitempty"`
	// Target is the system under test ("reference", "node:ADAPTER");
	// for a Node target, Packages are the npm packages it pinned (each
	// installed at exactly that version) and NodeVersion what the node
	// binary says of itself.
	Target      string   `json:"target"`
	Packages    []string `json:"packages,omitempty"`
	NodeVersion string   `json:"node_version,omitempty"`
	Build
}

// Build says which shmlab made a run: its module version and VCS
// revision, as the Go toolchain stamped them into the binary, and the Go
// version.
type Build struct {
	Version   string `json:"shmlab_version"`
	Revision  string `json:"vcs_revision,omitempty"`
	Time      string `json:"vcs_time,omitempty"`
	Modified  bool   `json:"vcs_modified,omitempty"`
	GoVersion string `json:"go_version"`
}

// BuildInfo returns the running binary's Build (runtime/debug.ReadBuildInfo).
func BuildInfo() Build {
	b := Build{Version: "(unknown)", GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String says it in one line: "shmlab VERSION (REVISION[, modified]) GO".
func (b Build) String() string {
	rev := b.Revision
	if rev == "" {
		rev = "no VCS revision"
	}
	if b.Modified {
		rev += ", modified"
	}
	return fmt.Sprintf("shmlab %s (%s) %s", b.Version, rev, b.GoVersion)
}

// ParseKeep returns the Keep named s.
func ParseKeep(s string) (Keep, error) {
	switch k := Keep(s); k {
	case KeepAll, KeepFailures, KeepNone:
		return k, nil
	}
	return "", fmt.Errorf("--keep %q: want all, failures or none", s)
}

// Keeps reports whether the store keeps o.
func (s *RunStore) Keeps(o *Outcome) bool {
	return s != nil && (s.Keep == KeepAll || s.Keep == KeepFailures && o.Failed())
}

// Save writes o's folder if the store keeps it, and sets o.Folder and
// o.Repro; it points the latest links at it.
func (s *RunStore) Save(o *Outcome) error {
	if !s.Keeps(o) {
		return nil
	}
	scDir := filepath.Join(s.Dir, safeName(o.Scenario.Name))
	if err := os.MkdirAll(scDir, 0o755); err != nil {
		return err
	}
	name, err := MkdirNew(scDir, o.Start.UTC().Format(stampLayout)+"-"+string(o.Mode)+"-"+strconv.FormatUint(o.Seed, 10))
	if err != nil {
		return err
	}
	dir := filepath.Join(scDir, name)
	if s.touched == nil {
		s.touched, s.saved = map[string]bool{}, map[string]bool{}
	}
	s.touched[scDir] = true
	s.saved[filepath.Join(scDir, name)] = true
	if err := writeFolder(dir, o, s.info(o), s.ReproArgs...); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	o.Folder = dir
	err = link(scDir, name)
	if err == nil {
		err = link(s.Dir, filepath.Join(filepath.Base(scDir), name))
	}
	if err != nil {
		return &LinkError{Folder: dir, Err: err}
	}
	return nil
}

// LinkError says that a run folder was written (Folder) but a latest link
// to it could not be made.
type LinkError struct {
	Folder string
	Err    error
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("kept in %s, but its %s link could not be made: %v", e.Folder, LatestLink, e.Err)
}

func (e *LinkError) Unwrap() error { return e.Err }

// Ready checks, before a suite, that the store can keep runs of the
// scenarios named: that the store, and each scenario's folder in it if
// there is one, is a folder, and that each latest link there is a link
// (not a file or a folder it could not replace).
func (s *RunStore) Ready(names []string) error {
	if s == nil || s.Keep == KeepNone {
		return nil
	}
	if err := isLinkOrNothing(filepath.Join(s.Dir, LatestLink)); err != nil {
		return err
	}
	for _, n := range names {
		dir := filepath.Join(s.Dir, safeName(n))
		fi, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a folder: the store keeps the runs of scenario %q there", dir, n)
		}
		if err := isLinkOrNothing(filepath.Join(dir, LatestLink)); err != nil {
			return err
		}
	}
	return nil
}

// isLinkOrNothing says what is at path if it is there and is not a link.
func isLinkOrNothing(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink == 0:
		return fmt.Errorf("%s is not a link (the store's link to the newest run): remove it", path)
	}
	return nil
}

// info is o's run.json.
func (s *RunStore) info(o *Outcome) RunInfo {
	host, _ := os.Hostname()
	ri := RunInfo{Scenario: o.Scenario.Name, File: o.Scenario.File, Mode: o.Mode, Seed: o.Seed, Verdict: o.Verdict().String(),
		Failed: o.Failed(), Ops: o.Ops, FaultsPlanned: o.FaultsPlanned, FaultsHappened: o.FaultsHappened, Start: o.Start.UTC(), WallMs: ms(o.Wall.Seconds()), Command: s.Command, Host: host, Build: BuildInfo()}
	if o.Err != nil {
		ri.Verdict, ri.Error = "error", o.Err.Error()
	}
	ri.Target = o.Scenario.Target.String()
	if o.Scenario.Target.Kind == spec.Node {
		ri.Packages, ri.NodeVersion = o.Scenario.Target.Node.Packages, harness.NodeVersion()
	}
	return ri
}

// MkdirNew makes a new folder in dir named name, or name-2, name-3, … if
// that is taken (by another run, or anything else), and returns the name
// it made: a folder of one run only, that the files of the run can be
// created in exclusively.
func MkdirNew(dir, name string) (string, error) {
	for i := 1; ; i++ {
		n := name
		if i > 1 {
			n = name + "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(filepath.Join(dir, n), 0o755)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, fs.ErrExist) || i > 10000 {
			return "", err
		}
	}
}

// link points the link LatestLink in dir at target, replacing the link
// (never what it points at) in one rename.
func link(dir, target string) error {
	tmp := filepath.Join(dir, fmt.Sprintf(".%s-%d-%d", LatestLink, os.Getpid(), time.Now().UnixNano()))
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, LatestLink)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Prune removes, in each scenario folder this store wrote to, the oldest
// run folders past KeepLast of those that passed and of those that
// failed; then, while the store holds more than KeepBytes, its oldest
// runs (passes first). It never removes a run this store saved, nor one
// that began after Began (another invocation's, sharing the store). A
// latest link left pointing at nothing is pointed at the newest run left,
// or removed. It returns how many runs it removed.
func (s *RunStore) Prune() (int, error) {
	if s == nil || len(s.touched) == 0 {
		return 0, nil
	}
	removed, err := s.pruneCounts()
	n, berr := s.pruneBytes()
	lerr := s.relink()
	return removed + n, errors.Join(err, berr, lerr)
}

// prunable reports whether the run folder path, named name, may go: it is
// not one this store saved, and began before the store did (Began).
func (s *RunStore) prunable(path, name string) bool {
	if s.saved[path] {
		return false
	}
	return s.Began.IsZero() || name < s.Began.UTC().Format(stampLayout)
}

// relink points each latest link of the store that pruning left dangling
// at the newest run that is left, or removes it if none is.
func (s *RunStore) relink() error {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	var errs []error
	newest := ""
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		scDir := filepath.Join(s.Dir, e.Name())
		runs, err := os.ReadDir(scDir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		last := ""
		for _, r := range runs {
			if r.IsDir() && runFolderName.MatchString(r.Name()) && r.Name() > last {
				last = r.Name()
			}
		}
		errs = append(errs, fixLink(scDir, last))
		if last != "" && (newest == "" || last > filepath.Base(newest)) {
			newest = filepath.Join(e.Name(), last)
		}
	}
	return errors.Join(append(errs, fixLink(s.Dir, newest))...)
}

// fixLink repoints dir's latest link at target if it points at nothing,
// or removes it if target is "".
func fixLink(dir, target string) error {
	l := filepath.Join(dir, LatestLink)
	fi, err := os.Lstat(l)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil // no link (or not one of ours)
	}
	if _, err := os.Stat(l); err == nil {
		return nil // it points at a run
	}
	if target == "" {
		return os.Remove(l)
	}
	return link(dir, target)
}

// pruneCounts keeps, in each scenario folder this store wrote to, the
// newest KeepLast passes and KeepLast failures.
func (s *RunStore) pruneCounts() (int, error) {
	if s.KeepLast <= 0 {
		return 0, nil
	}
	removed := 0
	var errs []error
	for _, scDir := range slices.Sorted(maps.Keys(s.touched)) {
		n, err := s.pruneDir(scDir)
		removed += n
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// storedRun is a run folder of the store, for pruneBytes.
type storedRun struct {
	path, name string
	failed     bool
	size       int64
}

// pruneBytes removes the oldest run folders of the whole store, passes
// before failures, until it holds at most KeepBytes, sparing those this
// store saved; it returns how many it removed.
func (s *RunStore) pruneBytes() (int, error) {
	if s.KeepBytes <= 0 {
		return 0, nil
	}
	runs, total, err := s.scan()
	if err != nil || total <= s.KeepBytes {
		return 0, err
	}
	slices.SortFunc(runs, func(a, b storedRun) int {
		if a.failed != b.failed {
			if a.failed {
				return 1
			}
			return -1
		}
		return strings.Compare(a.name, b.name)
	})
	removed := 0
	for _, r := range runs {
		if total <= s.KeepBytes {
			break
		}
		if !s.prunable(r.path, r.name) {
			continue
		}
		if err := os.RemoveAll(r.path); err != nil {
			return removed, err
		}
		total -= r.size
		removed++
	}
	return removed, nil
}

// scan lists the store's run folders and their total size.
func (s *RunStore) scan() ([]storedRun, int64, error) {
	scenarios, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, 0, err
	}
	var runs []storedRun
	var total int64
	for _, sc := range scenarios {
		if !sc.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.Dir, sc.Name()))
		if err != nil {
			return nil, 0, err
		}
		for _, e := range entries {
			if !e.IsDir() || !runFolderName.MatchString(e.Name()) {
				continue
			}
			r := storedRun{path: filepath.Join(s.Dir, sc.Name(), e.Name()), name: e.Name(), failed: true}
			files, _ := os.ReadDir(r.path)
			for _, f := range files {
				if info, err := f.Info(); err == nil && info.Mode().IsRegular() {
					r.size += info.Size()
				}
			}
			var ri RunInfo
			if b, err := os.ReadFile(filepath.Join(r.path, RunFile)); err == nil && json.Unmarshal(b, &ri) == nil {
				r.failed = ri.Failed
			}
			total += r.size
			runs = append(runs, r)
		}
	}
	return runs, total, nil
}

// pruneDir keeps the newest KeepLast passed and KeepLast failed run
// folders in scDir and removes the others that may go (prunable).
func (s *RunStore) pruneDir(scDir string) (int, error) {
	keep := s.KeepLast
	entries, err := os.ReadDir(scDir)
	if err != nil {
		return 0, err
	}
	var passed, failed []string
	for _, e := range entries {
		if !e.IsDir() || !runFolderName.MatchString(e.Name()) { // a link is not a dir here
			continue
		}
		var ri RunInfo
		if b, err := os.ReadFile(filepath.Join(scDir, e.Name(), RunFile)); err == nil && json.Unmarshal(b, &ri) == nil && !ri.Failed {
			passed = append(passed, e.Name())
		} else {
			failed = append(failed, e.Name()) // unreadable: kept as long as a failure
		}
	}
	removed := 0
	for _, names := range [][]string{passed, failed} {
		slices.Sort(names)
		for _, n := range names[:max(len(names)-keep, 0)] {
			if !s.prunable(filepath.Join(scDir, n), n) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(scDir, n)); err != nil {
				return removed, err
			}
			removed++
		}
	}
	return removed, nil
}

// createNew creates the file at path, which must not exist yet (nor be a
// link), and writes it with write.
func createNew(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// bytesTo is a write function for createNew that writes b.
func bytesTo(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}
