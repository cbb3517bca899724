package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// A Score is a suite's mutation score: how many of the mutants it killed,
// and which survived.
type Score struct {
	Suite     string   // "full" or "short"
	Killed    int      // mutants the suite killed
	Total     int      // mutants run
	Survivors []string // names of the mutants that survived, sorted
}

// Percent is the share of mutants killed, 0 to 100 (0 for no mutants).
func (s Score) Percent() float64 {
	if s.Total == 0 {
		return 0
	}
	return 100 * float64(s.Killed) / float64(s.Total)
}

func (s Score) String() string {
	return fmt.Sprintf("%d/%d killed (%.1f %%)", s.Killed, s.Total, s.Percent())
}

// Below reports whether s is a lower score than ref (compared exactly,
// as fractions).
func (s Score) Below(ref Score) bool {
	if ref.Total == 0 {
		return false
	}
	if s.Total == 0 {
		return ref.Killed > 0
	}
	return s.Killed*ref.Total < ref.Killed*s.Total
}

// Compare says how s stands against the committed score ref: ok is false
// when s is below it. The lines name what dropped (mutants that survive
// now and did not then) and what was gained.
func Compare(ref, s Score) (ok bool, lines []string) {
	ok = !s.Below(ref)
	verb := "at least"
	if !ok {
		verb = "BELOW"
	}
	lines = append(lines, fmt.Sprintf("%s score %s: %s the committed %s", s.Suite, s, verb, ref))
	then := make(map[string]bool, len(ref.Survivors))
	for _, n := range ref.Survivors {
		then[n] = true
	}
	now := make(map[string]bool, len(s.Survivors))
	for _, n := range s.Survivors {
		now[n] = true
		if !then[n] {
			lines = append(lines, "  dropped: "+n+" survives now; it was killed (or not in the set) when the figure was committed")
		}
	}
	for _, n := range ref.Survivors {
		if !now[n] {
			lines = append(lines, "  gained: "+n+" survived when the figure was committed; it is killed now (or gone)")
		}
	}
	return ok, lines
}

// ErrScoreFile is wrapped by every error about the score file's form.
var ErrScoreFile = errors.New("bad score file")

// ReadScores reads a score file: comment lines (#) and lines
// "SUITE KILLED/TOTAL survived: NAME,NAME" (an empty list after the
// colon when none survived). A missing file holds no scores.
func ReadScores(path string) (map[string]Score, error) {
	text, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Score{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseScores(path, text)
}

// ParseScores parses a score file's text (path names it in errors).
func ParseScores(path string, text []byte) (map[string]Score, error) {
	scores := make(map[string]Score)
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseScore(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w: %v", path, n, ErrScoreFile, err)
		}
		if _, dup := scores[s.Suite]; dup {
			return nil, fmt.Errorf("%s:%d: %w: suite %q given twice", path, n, ErrScoreFile, s.Suite)
		}
		scores[s.Suite] = s
	}
	return scores, sc.Err()
}

func parseScore(line string) (Score, error) {
	head, list, ok := strings.Cut(line, "survived:")
	f := strings.Fields(head)
	if !ok || len(f) != 2 {
		return Score{}, fmt.Errorf("want \"SUITE KILLED/TOTAL survived: NAMES\", got %q", line)
	}
	k, t, ok := strings.Cut(f[1], "/")
	killed, err1 := strconv.Atoi(k)
	total, err2 := strconv.Atoi(t)
	if !ok || err1 != nil || err2 != nil || killed < 0 || killed > total {
		return Score{}, fmt.Errorf("want KILLED/TOTAL with 0 <= KILLED <= TOTAL, got %q", f[1])
	}
	s := Score{Suite: f[0], Killed: killed, Total: total}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			s.Survivors = append(s.Survivors, n)
		}
	}
	if len(s.Survivors) != total-killed {
		return Score{}, fmt.Errorf("%d survivors listed, but %d/%d leaves %d", len(s.Survivors), killed, total, total-killed)
	}
	return s, nil
}

// FormatScores writes the score file's text, suites in name order.
func FormatScores(scores map[string]Score) []byte {
	var b bytes.Buffer
	b.WriteString("# The bundled suite's mutation score (make mutants: full; make mutants-short:\n")
	b.WriteString("# short), compared by each run; go run ./internal/cmd/mutants [--short] --write\n")
	b.WriteString("# records a new figure. SUITE KILLED/TOTAL survived: MUTANTS\n")
	names := make([]string, 0, len(scores))
	for n := range scores {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := scores[n]
		fmt.Fprintf(&b, "%s %d/%d survived: %s\n", s.Suite, s.Killed, s.Total, strings.Join(s.Survivors, ","))
	}
	return b.Bytes()
}
