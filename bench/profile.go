package bench

import (
	"os"
	"path/filepath"
	"runtime/pprof"
)

// EnvProfileDir, when set in the environment, makes every bench worker
// write a CPU profile named after itself into that directory.
const EnvProfileDir = "SHMLAB_BENCH_PROFILE_DIR"

// Profile starts a CPU profile named name if EnvProfileDir is set and
// returns the function that stops it and puts it in place as NAME.prof.
// The profile is written to a new temporary file and renamed over that
// path, so a symbolic link planted there is replaced, never followed.
func Profile(name string) func() {
	dir := os.Getenv(EnvProfileDir)
	if dir == "" {
		return func() {}
	}
	f, err := os.CreateTemp(dir, "."+name+".prof-*")
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if f.Close() != nil || os.Rename(f.Name(), filepath.Join(dir, name+".prof")) != nil {
			os.Remove(f.Name())
		}
	}
}
