// Package sim is the deterministic simulator: one goroutine drives a world
// of N workers and one master over in-memory links, on a virtual clock,
// with every choice (message latencies, think times, the workload, the
// faults) drawn from seeds. The master runs the real shm.Store and the
// workers the real client core (shm.Calls); the links carry shm.Messages
// and are wrapped by the same faultinject decisions as real connections,
// and process faults (kill, restart, pause of a worker or the master) are
// scheduled events. A run records a history in the checkers' format, with
// the faults as events, and checks it.
//
// The same Config and seed give the same history, bit for bit: Result.Hash
// says so in one string.
package sim
