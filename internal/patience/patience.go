// Package patience scales the upper time bounds of tests, so that a check
// written for a quiet machine holds on a busy one.
//
// A test that must give up at some point (a call that should return, a
// worker that should exit) waits Bound(d), where d is what the wait needs
// on a quiet machine. Bound multiplies d by the factor in the environment
// variable SHMLAB_TEST_PATIENCE, 10 when it is unset: a 2-core machine
// running 20 CPU-bound processes beside the tests gives each process about
// a tenth of the time it would have alone. Lower bounds ("took at least
// the timeout") need no scaling, and nothing here is for measuring speed:
// speed is measured by benchmarks, never asserted by tests.
package patience

import (
	"os"
	"strconv"
	"time"
)

// EnvFactor names the environment variable that holds the factor.
const EnvFactor = "SHMLAB_TEST_PATIENCE"

// DefaultFactor is the factor when EnvFactor is unset or not a positive number.
const DefaultFactor = 10

// Factor returns the factor Bound multiplies by.
func Factor() float64 {
	f, err := strconv.ParseFloat(os.Getenv(EnvFactor), 64)
	if err != nil || !(f > 0) || f > 1e6 {
		return DefaultFactor
	}
	return f
}

// Bound returns d scaled by Factor: how long a test waits for what takes d
// on a quiet machine.
func Bound(d time.Duration) time.Duration {
	return time.Duration(float64(d) * Factor())
}
