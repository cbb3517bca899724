// Package bench measures the reference implementation in shm against a
// floor: a raw request/reply ping-pong over the same transport (an AF_UNIX
// socket pair to a re-executed worker process) with the same framing and
// message sizes, but no decoding and no store. Every figure is reported
// next to the floor measured in the same run, as a ratio.
//
// The worker bodies are registered with shm.Handle when this package is
// imported, so a binary that imports it must call shm.Main first thing.
package bench
