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
// returns the function that stops it (and closes its file).
func Profile(name string) func() {
	dir := os.Getenv(EnvProfileDir)
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name+".prof"))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
