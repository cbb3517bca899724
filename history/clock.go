package history

import _ "unsafe" // for go:linkname

// Now returns the time in nanoseconds on CLOCK_MONOTONIC: the one clock
// every process of a run records on (on Linux, the system's monotonic
// clock, shared by all processes of the machine and of its time namespace).
//
// It is the runtime's own clock reading, runtime.nanotime, which on Linux
// calls clock_gettime(CLOCK_MONOTONIC) through the vDSO, with no system
// call. The alternatives do not fit: time.Now's monotonic reading counts
// from the start of the process, so two processes' readings do not
// compare, and a clock_gettime system call (syscall.Syscall, or
// golang.org/x/sys/unix, which is not a dependency) costs several times
// more (BenchmarkNow measures both). runtime.nanotime is one of the
// runtime symbols kept reachable by go:linkname (go.dev/issue/67401).
func Now() int64 { return nanotime() }

//go:linkname nanotime runtime.nanotime
func nanotime() int64
