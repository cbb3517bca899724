package npmcache_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/internal/npmcache"
)

func TestDir(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skipf("no home folder: %v", err)
	}
	for _, tt := range []struct{ env, xdg, want string }{
		{"/c/npm", "/x", "/c/npm"},
		{"", "/x", "/x/shmlab/npm"},
		{"", "", filepath.Join(home, ".cache", "shmlab", "npm")},
	} {
		t.Run(tt.want, func(t *testing.T) {
			t.Setenv(npmcache.EnvDir, tt.env)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			got, err := npmcache.Dir()
			if err != nil || got != tt.want {
				t.Errorf("Dir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want npmcache.Spec
		bad  bool
	}{
		{in: "cluster-shared-memory@1.1.5", want: npmcache.Spec{Name: "cluster-shared-memory", Version: "1.1.5"}},
		{in: "@scope/pkg@2.0.0-rc.1", want: npmcache.Spec{Name: "@scope/pkg", Version: "2.0.0-rc.1"}},
		{in: "memored@latest", want: npmcache.Spec{Name: "memored", Version: "latest"}},
		{in: "memored", bad: true},
		{in: "memored@", bad: true},
		{in: "../x@1.0.0", bad: true},
		{in: "a@1 b@2", bad: true},
		{in: "a@^1.0.0", bad: true},
		{in: "file:/tmp/x@1.0.0", bad: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := npmcache.ParseSpec(tt.in)
			if tt.bad {
				if !errors.Is(err, npmcache.ErrSpec) || !strings.Contains(err.Error(), tt.in) {
					t.Errorf("ParseSpec(%q) = %v, %v; want an ErrSpec naming it", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// fakeNPM is a shell script standing in for npm: it logs each call to
// calls.log, fails when FAKE_NPM_FAIL is set, and otherwise writes the
// package.json npm would, with the version FAKE_NPM_VERSION when set.
const fakeNPM = `#!/bin/sh
set -e
log="$(dirname "$0")/calls.log"
echo "$*" >> "$log"
[ "$1" = install ] || { echo "fake npm: no command $1" >&2; exit 2; }
while [ "$1" != --prefix ]; do shift; done
prefix=$2 spec=$3
if [ -n "$FAKE_NPM_FAIL" ]; then
	echo "npm error 404 Not Found - GET https://registry.npmjs.org/$spec" >&2
	exit 1
fi
name=${spec%@*} version=${FAKE_NPM_VERSION:-${spec##*@}}
sleep 0.2 # long enough for concurrent callers to meet at the lock
mkdir -p "$prefix/node_modules/$name"
printf '{"name":"%s","version":"%s"}\n' "$name" "$version" > "$prefix/node_modules/$name/package.json"
`

// newFake returns a Cache in a fresh folder using fakeNPM, and the path
// of its call log.
func newFake(t *testing.T) (*npmcache.Cache, string) {
	t.Helper()
	bin := t.TempDir()
	npm := filepath.Join(bin, "npm")
	if err := os.WriteFile(npm, []byte(fakeNPM), 0o755); err != nil {
		t.Fatal(err)
	}
	return &npmcache.Cache{Dir: filepath.Join(t.TempDir(), "cache"), NPM: npm}, filepath.Join(bin, "calls.log")
}

// calls returns the fake npm's calls, one line each.
func calls(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestInstallOnceConcurrently(t *testing.T) {
	c, log := newFake(t)
	const n = 8
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dirs[i], errs[i] = c.Install(context.Background(), "@s/p@1.2.3") })
	}
	wg.Wait()
	want := filepath.Join(c.Dir, "@s+p@1.2.3")
	for i := range n {
		if errs[i] != nil || dirs[i] != want {
			t.Errorf("call %d: %q, %v; want %q", i, dirs[i], errs[i], want)
		}
	}
	if _, err := os.Stat(filepath.Join(want, "node_modules", "@s", "p", "package.json")); err != nil {
		t.Error(err)
	}
	wantCalls := []string{"install --no-save --no-audit --no-fund --prefix " + want + " @s/p@1.2.3"}
	if diff := cmp.Diff(wantCalls, calls(t, log)); diff != "" {
		t.Errorf("npm calls: mismatch (-want +got):\n%s", diff)
	}
	// Another version is another folder and another install.
	if _, err := c.Install(context.Background(), "@s/p@1.2.4"); err != nil {
		t.Fatal(err)
	}
	if got := len(calls(t, log)); got != 2 {
		t.Errorf("%d npm calls after a second version, want 2", got)
	}
}

// TestInstallOnceAcrossProcesses runs the install from several processes
// at once (this test binary, re-run as TestHelperInstall), as parallel
// test binaries do.
func TestInstallOnceAcrossProcesses(t *testing.T) {
	c, log := newFake(t)
	const n = 4
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperInstall$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), "NPMCACHE_HELPER="+c.Dir+"|"+c.NPM)
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper %d: %v", i, err)
		}
	}
	if got := calls(t, log); len(got) != 1 {
		t.Errorf("npm ran %d times from %d processes, want once: %q", len(got), n, got)
	}
}

func TestHelperInstall(t *testing.T) {
	env := os.Getenv("NPMCACHE_HELPER")
	if env == "" {
		t.Skip("helper process for TestInstallOnceAcrossProcesses")
	}
	dir, npm, _ := strings.Cut(env, "|")
	c := &npmcache.Cache{Dir: dir, NPM: npm}
	if _, err := c.Install(context.Background(), "p@1.0.0"); err != nil {
		t.Fatal(err)
	}
}

func TestInstallFailureNamesPackage(t *testing.T) {
	c, log := newFake(t)
	t.Setenv("FAKE_NPM_FAIL", "1")
	_, err := c.Install(context.Background(), "nosuch@1.0.0")
	if err == nil || !strings.Contains(err.Error(), "npm install nosuch@1.0.0") || !strings.Contains(err.Error(), "404 Not Found") {
		t.Fatalf("Install = %v; want an error naming the package with npm's output", err)
	}
	// A failed install is not remembered: the next call tries again.
	t.Setenv("FAKE_NPM_FAIL", "")
	if _, err := c.Install(context.Background(), "nosuch@1.0.0"); err != nil {
		t.Fatal(err)
	}
	if got := len(calls(t, log)); got != 2 {
		t.Errorf("%d npm calls, want 2", got)
	}
}

func TestInstallWrongVersion(t *testing.T) {
	c, _ := newFake(t)
	t.Setenv("FAKE_NPM_VERSION", "9.9.9")
	_, err := c.Install(context.Background(), "p@1.0.0")
	if err == nil || !strings.Contains(err.Error(), "is p@9.9.9") {
		t.Fatalf("Install = %v; want an error saying what npm installed", err)
	}
	// A tag installs whatever version it names.
	if _, err := c.Install(context.Background(), "p@latest"); err != nil {
		t.Fatal(err)
	}
}

// TestInstallRedoesHalfInstall: a folder without the marker (a run killed
// mid-install) is installed again from scratch.
func TestInstallRedoesHalfInstall(t *testing.T) {
	c, log := newFake(t)
	half := filepath.Join(c.Dir, "p@1.0.0", "node_modules", "junk")
	if err := os.MkdirAll(half, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Install(context.Background(), "p@1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the half install's leftovers are still there: %v", err)
	}
	if _, err := c.Install(context.Background(), "p@1.0.0"); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, log); len(got) != 1 {
		t.Errorf("npm calls %q, want 1", got)
	}
}
