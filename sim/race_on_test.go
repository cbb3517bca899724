//go:build race

package sim

// raceOn: the race detector multiplies a run's time by five to ten;
// long sweeps run fewer seeds under it.
const raceOn = true
