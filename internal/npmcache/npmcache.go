// Package npmcache installs npm packages into a cache folder shared by
// tests and runs: one folder per package@version, installed once by
// `npm install --no-save --prefix <folder> <spec>`, never committed.
//
// The cache is the folder named by $SHMLAB_NPM_CACHE, else
// $XDG_CACHE_HOME/shmlab/npm, else ~/.cache/shmlab/npm. Installing takes an
// exclusive lock on a file beside the package's folder (flock(2)), so that
// test binaries running side by side install a package once and never see
// it half installed; a folder counts as installed only when the marker file
// written after a successful install is there.
package npmcache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// EnvDir names the environment variable that, when set, is the cache folder.
const EnvDir = "SHMLAB_NPM_CACHE"

// marker is the file written into a package's folder once its install
// succeeded; it holds the spec.
const marker = ".shmlab-installed"

// ErrSpec is returned for a spec that is not name@version.
var ErrSpec = errors.New("npm package spec must be name@version")

// Dir returns the cache folder (not created).
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "shmlab", "npm"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("npm cache folder: set %s or XDG_CACHE_HOME: %w", EnvDir, err)
	}
	return filepath.Join(home, ".cache", "shmlab", "npm"), nil
}

// specRE is an npm package name (scoped or not) and an exact version or a
// tag: what `npm install` takes, without paths, URLs or ranges that could
// name something else each day.
var specRE = regexp.MustCompile(`^((?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*)@([0-9A-Za-z][0-9A-Za-z.+-]*)$`)

// exactRE matches a version that is not a tag ("1.1.5", "2.0.0-rc.1").
var exactRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+`)

// Spec is a parsed name@version.
type Spec struct {
	Name    string // "cluster-shared-memory", "@scope/pkg"
	Version string // "1.1.5"
}

// ParseSpec parses name@version, as npm writes it; its errors wrap
// ErrSpec and say what is wrong with s.
func ParseSpec(s string) (Spec, error) {
	if err := checkSpec(s); err != nil {
		return Spec{}, fmt.Errorf("package %q: %s: %w", s, err, ErrSpec)
	}
	m := specRE.FindStringSubmatch(s)
	if m == nil {
		return Spec{}, fmt.Errorf("%w, got %q", ErrSpec, s)
	}
	return Spec{Name: m[1], Version: m[2]}, nil
}

// checkSpec says in words what makes s no name@version, for the common
// mistakes; specRE decides the rest.
func checkSpec(s string) error {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return errors.New("want name@version (memored@1.1.1)")
	}
	name, version := s[:at], s[at+1:]
	switch {
	case version == "":
		return errors.New("no version after @ (memored@1.1.1)")
	case strings.ContainsAny(s, " \t\n\"'`$\\"):
		return errors.New("spaces, quotes and backslashes are not part of a package spec")
	case strings.HasPrefix(name, "@") && !strings.Contains(name[1:], "/"):
		return errors.New("a scoped name is @scope/name")
	case strings.HasPrefix(name, "-") || strings.HasPrefix(name, "."):
		return fmt.Errorf("a name cannot begin with %q", name[:1])
	}
	return nil
}

func (s Spec) String() string { return s.Name + "@" + s.Version }

// folder is the spec's folder name in the cache ("/" of a scope becomes "+").
func (s Spec) folder() string { return strings.ReplaceAll(s.String(), "/", "+") }

// Cache is an npm cache folder and the npm command that fills it.
type Cache struct {
	Dir string // the cache folder; created when missing
	NPM string // the npm command; "npm" when empty
}

// Default returns the Cache at Dir() using npm from PATH.
func Default() (*Cache, error) {
	d, err := Dir()
	if err != nil {
		return nil, err
	}
	return &Cache{Dir: d}, nil
}

// Install returns the folder holding node_modules/<name> for spec
// (name@version), installing it first unless an earlier install finished.
// Concurrent calls, from this process or others, install it once. The
// error names the package and carries the end of npm's output.
func (c *Cache) Install(ctx context.Context, spec string) (string, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c.Dir, s.folder())
	if installed(dir, s) {
		return dir, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", fmt.Errorf("npm install %s: %w", s, err)
	}
	unlock, err := lock(dir + ".lock")
	if err != nil {
		return "", fmt.Errorf("npm install %s: %w", s, err)
	}
	defer unlock()
	if installed(dir, s) { // installed by whoever held the lock before
		return dir, nil
	}
	if err := c.install(ctx, s, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// installed reports whether dir holds a finished install of s.
func installed(dir string, s Spec) bool {
	b, err := os.ReadFile(filepath.Join(dir, marker))
	return err == nil && string(b) == s.String()+"\n"
}

// install runs npm into a fresh dir, checks what it installed and writes
// the marker. It runs under the lock.
func (c *Cache) install(ctx context.Context, s Spec, dir string) error {
	if err := os.RemoveAll(dir); err != nil { // a half install of a killed run
		return fmt.Errorf("npm install %s: %w", s, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("npm install %s: %w", s, err)
	}
	npm := c.NPM
	if npm == "" {
		npm = "npm"
	}
	cmd := exec.CommandContext(ctx, npm, "install", "--no-save", "--no-audit", "--no-fund",
		"--prefix", dir, s.String())
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install %s into %s: %w\n%s", s, dir, err, tail(out.String(), 20))
	}
	if err := checkInstalled(dir, s); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, marker), []byte(s.String()+"\n"), 0o644)
}

// checkInstalled reads node_modules/<name>/package.json and checks its
// name, and its version when spec names an exact one.
func checkInstalled(dir string, s Spec) error {
	pkgDir := filepath.Join(dir, "node_modules", filepath.FromSlash(s.Name))
	path := filepath.Join(pkgDir, "package.json")
	pkg, err := ReadPackage(pkgDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("npm install %s: npm succeeded but %w", s, err)
	case err != nil:
		return fmt.Errorf("npm install %s: %w", s, err)
	}
	exact := exactRE.MatchString(s.Version)
	if pkg.Name != s.Name || (exact && pkg.Version != s.Version) {
		return fmt.Errorf("npm install %s: %s is %s@%s", s, path, pkg.Name, pkg.Version)
	}
	return nil
}

// ReadPackage reads the name and version of the npm package in dir (its
// package.json).
func ReadPackage(dir string) (Spec, error) {
	path := filepath.Join(dir, "package.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, err
	}
	var pkg Spec
	if err := json.Unmarshal(b, &pkg); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	return pkg, nil
}

// lock takes an exclusive flock on path, creating it, and returns the
// function that releases it.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
