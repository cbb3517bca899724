// Package race tells tests whether the race detector is on, so that a
// CPU-bound test can leave the race pass of make test for its second,
// plain pass.
//
// make test runs every test with -race, then the tests named TestNoRace*
// without it. A test that is one goroutine's computation repeated many
// times (a simulation sweep, a property over generated histories, the
// copying of megabytes) has nothing for the detector to find, and the
// detector multiplies its time by five to ten: such a test is named
// TestNoRace* and calls Skip first.
package race

import "testing"

// Skip skips t when the race detector is on; make test runs it again in
// its plain pass.
func Skip(t testing.TB) {
	t.Helper()
	if Enabled {
		t.Skip("CPU-bound and single-threaded: make test runs it without the race detector (TestNoRace*)")
	}
}
