package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A Stage is one command of the suite, run with a tree's shmlab. Stages
// run cheapest first, and a mutant's run stops at the first that kills it.
type Stage struct {
	Name string   // as the table names it
	Args []string // shmlab's arguments; "{dir}" is replaced by the stage's scratch folder
}

// Stages returns the suite: the bundled suite in the simulator, then
// seeds swarm seeds, then (full only) the bundled suite as it is defined,
// each scenario in its own modes (real processes included). A run of the
// bundled suite (checking included) gets 2 minutes, a swarm seed's check
// 1 minute (shmlab's default): the unmutated tree's take well under a
// second; a mutant can make a history whose check explodes, which is
// then undecided (and the mutant killed) rather than searched for long.
func Stages(short bool, seeds int) []Stage {
	run := []string{"run", "--json", "--keep", "none", "--store", "{dir}", "--timeout", "2m"}
	st := []Stage{
		{"suite-sim", append(append([]string(nil), run...), "--mode", "sim")},
		{"swarm", []string{"sim", "--swarm", "--seeds", strconv.Itoa(seeds), "--json", "--out", "{dir}", "--check-timeout", "1m"}},
	}
	if !short {
		st = append(st, Stage{"suite", run})
	}
	return st
}

// Row is what the runner reads of a JSON row of shmlab run or shmlab sim.
type Row struct {
	End      bool      `json:"end"`
	Scenario string    `json:"scenario"`
	Mode     string    `json:"mode"`
	Expect   string    `json:"expect"`
	Verdict  string    `json:"verdict"`
	Met      bool      `json:"met"`
	Failures []Failure `json:"failures"`
}

// Failure is one failing seed of a row.
type Failure struct {
	Seed    uint64 `json:"seed"`
	Verdict string `json:"verdict"`
	Message string `json:"message"`
}

func (r Row) key() string { return r.Scenario + " (" + r.Mode + ")" }

// Outcome is what one stage's run printed and how it ended.
type Outcome struct {
	Exit     int            // the exit status; -1 killed by a signal
	Rows     map[string]Row // by scenario and mode
	Complete bool           // its end line was printed
	TimedOut bool
	Stopped  string // why it was stopped early: its first failure (Stopper)
	Stderr   string // the last lines of its standard error
}

// A Stopper reads a stage's progress lines (its standard error) and
// returns what failed when a line shows the stage will fail, so that it
// is stopped there rather than run to its end; "" otherwise.
type Stopper func(line string) string

var (
	runLine  = regexp.MustCompile(`^run: (\S+) \((\w+)\) seed (\d+): (\w+)[,:](.*)$`)
	seedLine = regexp.MustCompile(`^seed (\d+): (\w+)(.*)$`)
)

// FirstFailure returns the Stopper of stage st judged against the
// unmutated tree's outcome base: a seed of a scenario that expects a
// pass, and passed on the unmutated tree, that does not pass (shmlab
// run's progress lines), or a failing swarm seed the unmutated tree
// did not fail (shmlab sim's lines for failing seeds).
func FirstFailure(st Stage, base Outcome) Stopper {
	if st.Name == "swarm" {
		known := map[string]bool{}
		for _, r := range base.Rows {
			for _, f := range r.Failures {
				known[strconv.FormatUint(f.Seed, 10)] = true
			}
		}
		return func(line string) string {
			m := seedLine.FindStringSubmatch(line)
			if m == nil || known[m[1]] {
				return ""
			}
			return fmt.Sprintf("swarm seed %s: %s%s", m[1], m[2], msg(strings.TrimPrefix(m[3], ":")))
		}
	}
	return func(line string) string {
		m := runLine.FindStringSubmatch(line)
		if m == nil || m[4] == "ok" {
			return ""
		}
		r := base.Rows[m[1]+" ("+m[2]+")"]
		if r.Expect != "pass" || !r.Met {
			return ""
		}
		return fmt.Sprintf("%s (%s): %s, seed %s%s", m[1], m[2], m[4], m[3], msg(m[5]))
	}
}

// ParseRows reads shmlab's JSON rows (one object a line) from out.
func ParseRows(out []byte) (rows map[string]Row, complete bool, err error) {
	rows = make(map[string]Row)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return rows, false, fmt.Errorf("line %d of the JSON rows: %w", n, err)
		}
		if r.End {
			complete = true
			continue
		}
		rows[r.key()] = r
	}
	return rows, complete, sc.Err()
}

// RunStage runs one stage with the shmlab binary bin, in the scratch
// folder dir, for at most timeout, stopping it at the first line of its
// progress that stop (if not nil) reports. Only a failure to start the
// binary is an error: how it ended is the outcome's.
func RunStage(ctx context.Context, bin, dir string, st Stage, timeout time.Duration, stop Stopper) (Outcome, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Outcome{}, err
	}
	args := make([]string, len(st.Args))
	for i, a := range st.Args {
		args[i] = strings.ReplaceAll(a, "{dir}", dir)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) } // the workers too
	cmd.WaitDelay = 10 * time.Second
	var stdout bytes.Buffer
	stderr := &tail{max: 4096, stop: stop, cancel: cancel}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	err := cmd.Run()
	o := Outcome{Exit: cmd.ProcessState.ExitCode(), Stderr: stderr.String(), Stopped: stderr.stopped}
	var exit *exec.ExitError
	switch {
	case o.Stopped != "":
		return o, nil
	case ctx.Err() == context.DeadlineExceeded:
		o.TimedOut = true
	case err != nil && !errors.As(err, &exit):
		return o, fmt.Errorf("running %s %s: %w", bin, strings.Join(args, " "), err)
	}
	rows, complete, perr := ParseRows(stdout.Bytes())
	o.Rows, o.Complete = rows, complete && perr == nil
	return o, nil
}

// Judge compares a mutant's outcome of a stage with the unmutated tree's
// (base) and says what killed the mutant there, or "" if nothing did. A
// row the unmutated tree met and the mutant does not kills it (a
// violation, an expectation not met, a zoo variant no longer caught, a
// run that could not be done); so does a timeout, a failing exit status
// other than the unmutated tree's, or output that stops before its end
// line. An exit of 0 never kills: every row it printed was met.
// Rows the unmutated tree does not meet either are not the mutant's doing.
func Judge(st Stage, base, got Outcome) string {
	if got.Stopped != "" {
		return got.Stopped
	}
	if got.TimedOut {
		return "timed out (the unmutated tree finished)"
	}
	keys := make([]string, 0, len(got.Rows))
	for k := range got.Rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var by []string
	for _, k := range keys {
		r, b := got.Rows[k], base.Rows[k]
		if b.Met && !r.Met {
			by = append(by, describe(st, r))
		}
	}
	if len(by) > 0 {
		s := by[0]
		if len(by) > 1 {
			s += fmt.Sprintf(" (+%d more)", len(by)-1)
		}
		return s
	}
	if got.Exit != base.Exit && got.Exit != 0 {
		return fmt.Sprintf("exit %d, %s (the unmutated tree exits %d: the mutant's doing)%s", got.Exit, exitMeaning(got.Exit), base.Exit, lastLine(got.Stderr))
	}
	if base.Complete && !got.Complete {
		return fmt.Sprintf("output ended before its end line (exit %d)%s", got.Exit, lastLine(got.Stderr))
	}
	return ""
}

// describe names the row that killed a mutant: a swarm seed, or a
// scenario and mode with its verdict and first failing seed.
func describe(st Stage, r Row) string {
	if st.Name == "swarm" {
		if len(r.Failures) > 0 {
			f := r.Failures[0]
			return fmt.Sprintf("swarm seed %d: %s%s", f.Seed, f.Verdict, msg(f.Message))
		}
		return "swarm: " + r.Verdict
	}
	s := fmt.Sprintf("%s: %s", r.key(), r.Verdict)
	if len(r.Failures) > 0 {
		f := r.Failures[0]
		s += fmt.Sprintf(", seed %d%s", f.Seed, msg(f.Message))
	}
	return s
}

func msg(m string) string {
	m = strings.Join(strings.Fields(m), " ")
	if m == "" {
		return ""
	}
	if len(m) > 80 {
		m = m[:77] + "..."
	}
	return " (" + m + ")"
}

func exitMeaning(code int) string {
	switch code {
	case 1:
		return "a violation"
	case 2:
		return "a check undecided"
	case 254:
		return "bad input"
	case 255:
		return "a run could not be done"
	case -1:
		return "killed by a signal"
	}
	return "a crash"
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return ""
	}
	return ": " + msg(s)[2:len(msg(s))-1]
}

// tail keeps the last max bytes written to it, and passes each whole
// line to stop (if not nil): the first it reports is kept in stopped,
// and cancel is called.
type tail struct {
	max     int
	b       []byte
	stop    Stopper
	cancel  func()
	line    []byte
	stopped string
}

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	if t.stop == nil || t.stopped != "" {
		return len(p), nil
	}
	t.line = append(t.line, p...)
	for {
		i := bytes.IndexByte(t.line, '\n')
		if i < 0 {
			break
		}
		l := string(t.line[:i])
		t.line = t.line[i+1:]
		if why := t.stop(l); why != "" {
			t.stopped = why
			t.cancel()
			break
		}
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.b) }
