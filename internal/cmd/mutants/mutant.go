package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// A Mutant is one patch of the mutant set: a small, realistic bug.
type Mutant struct {
	Name     string // the file name without .patch: NN-slug
	Path     string // the patch file
	What     string // the Mutant: line
	Area     string // the Area: line
	Survives string // the Survives: line, the reason the suite cannot catch it ("" if none)
}

// Areas are the values an Area: line may take (mutants/README.md).
var Areas = []string{"store", "eviction", "ttl", "dedup", "tracker", "client", "codec-json", "codec-compact", "master", "locks", "node", "workload", "checker"}

var mutantName = regexp.MustCompile(`^[0-9]{2,}-[a-z0-9]+(-[a-z0-9]+)*$`)

// ErrBadMutant is wrapped by every error about a mutant file's form.
var ErrBadMutant = errors.New("bad mutant file")

// ParseMutant reads the header lines of a mutant file (everything before
// its diff): Mutant: and Area: are required, Survives: is optional, and
// any other line before the diff is refused, naming file:line.
func ParseMutant(path string, text []byte) (Mutant, error) {
	m := Mutant{Path: path, Name: strings.TrimSuffix(filepath.Base(path), ".patch")}
	if !mutantName.MatchString(m.Name) {
		return m, fmt.Errorf("%s: %w: the name must be NN-slug.patch (lower case words joined by -)", path, ErrBadMutant)
	}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	line, diff := 0, false
	for sc.Scan() {
		line++
		t := sc.Text()
		if strings.HasPrefix(t, "diff --git ") || strings.HasPrefix(t, "--- ") {
			diff = true
			break
		}
		key, val, ok := strings.Cut(t, ":")
		val = strings.TrimSpace(val)
		if !ok || val == "" {
			return m, fmt.Errorf("%s:%d: %w: want a header line (Mutant:, Area:, Survives:) or the diff, got %q", path, line, ErrBadMutant, t)
		}
		var dst *string
		switch key {
		case "Mutant":
			dst = &m.What
		case "Area":
			dst = &m.Area
		case "Survives":
			dst = &m.Survives
		default:
			return m, fmt.Errorf("%s:%d: %w: unknown header %q (want Mutant, Area or Survives)", path, line, ErrBadMutant, key)
		}
		if *dst != "" {
			return m, fmt.Errorf("%s:%d: %w: %s: given twice", path, line, ErrBadMutant, key)
		}
		*dst = val
	}
	switch {
	case !diff:
		return m, fmt.Errorf("%s: %w: no diff (want a unified diff from the module root after the headers)", path, ErrBadMutant)
	case m.What == "":
		return m, fmt.Errorf("%s: %w: no Mutant: line", path, ErrBadMutant)
	case m.Area == "":
		return m, fmt.Errorf("%s: %w: no Area: line", path, ErrBadMutant)
	case !knownArea(m.Area):
		return m, fmt.Errorf("%s: %w: area %q is none of %s", path, ErrBadMutant, m.Area, strings.Join(Areas, ", "))
	}
	return m, nil
}

func knownArea(a string) bool {
	for _, x := range Areas {
		if a == x {
			return true
		}
	}
	return false
}

// LoadMutants reads every *.patch in dir, in name order, keeping those
// whose name matches sel (nil: all).
func LoadMutants(dir string, sel *regexp.Regexp) ([]Mutant, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.patch"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var ms []Mutant
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		m, err := ParseMutant(p, text)
		if err != nil {
			return nil, err
		}
		if sel == nil || sel.MatchString(m.Name) {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no mutants in %s (*.patch)%s", dir, map[bool]string{true: " matching --run", false: ""}[sel != nil])
	}
	return ms, nil
}
