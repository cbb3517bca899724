// Package shm is shmlab's reference implementation of "shared memory over
// IPC": a master process owns a key-value [Store] and worker processes read
// and write it by sending messages over a pipe.
//
// It follows the design of the Node.js cluster pattern (and its wire format:
// one JSON object per line on an AF_UNIX socket at fd 3), but is correct and
// hardened: every operation is linearizable, every call returns, duplicated
// or retried requests are applied at most once, and the master survives any
// input a worker can send. PROTOCOL.md in this directory documents the wire
// format.
//
// The pieces, from the bottom up:
//
//   - [Message], [Value] and [Error]: what travels on the wire.
//   - [AppendFrame] and [DecodeFrame]: the JSON-lines codec;
//     [AppendCompact] and [DecodeCompact]: the binary one, negotiated per
//     connection between Go processes; [Codec]: either one a frame at a
//     time in memory, as a connection and the simulator use them.
//   - [Conn]: a connection that carries batches of messages; [NewStreamConn]
//     makes one from a byte stream.
//   - [Store]: the master's state machine, pure (no I/O, no clock).
//   - [Master]: one owner of a Store, serving any number of Conns.
//   - [Client]: the worker's side, pipelined and safe for many goroutines.
//   - [Master.Spawn] and [Main]: workers as real re-executed processes.
package shm
