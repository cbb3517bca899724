package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/spec"
)

// bundled holds the bundled suite, and whatever its scenarios name
// beside them (a Node target's adapter, resolved in it: spec.ParseFS).
//
//go:embed bundled
var bundled embed.FS

// Bundled returns the bundled suite, in file name order. Their File is
// "bundled/NAME.yaml".
func Bundled() ([]*Scenario, error) {
	names, err := fs.Glob(bundled, "bundled/*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []*Scenario
	var errs []error
	for _, n := range names {
		src, err := bundled.ReadFile(n)
		if err != nil {
			return nil, err
		}
		sc, err := spec.ParseFS(bundled, path.Clean(n), src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sc)
	}
	return out, errors.Join(errs...)
}

// LoadAll reads the scenario files at paths: a directory stands for its
// .yaml and .yml files, in name order. Every file is read; the errors of
// all the broken ones are returned together.
func LoadAll(paths []string) ([]*Scenario, error) {
	var out []*Scenario
	var errs []error
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			sc, err := spec.Load(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, sc)
		}
	}
	return out, errors.Join(errs...)
}

// expand returns the scenario files p stands for.
func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if ext := strings.ToLower(filepath.Ext(e.Name())); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no scenario files (.yaml) in it", p)
	}
	return files, nil
}
