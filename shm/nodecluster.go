package shm

import (
	"encoding/json"
	"syscall"
)

// Node's cluster module sends its primary messages of its own,
// {"cmd":"NODE_CLUSTER","act":...,"seq":N}, and waits for an answer
// {"cmd":"NODE_CLUSTER","ack":N,...} to two of them (lib/internal/cluster
// child.js and utils.js):
//
//   - "queryServer", sent by server.listen() (net, http, https, tls) and
//     by a dgram socket's bind() in a worker, which asks the primary for a
//     listening socket. The master has none to share (sharing one means
//     passing descriptors and distributing connections, as Node's primary
//     does), so it answers with errno ENOTSUP: listen fails at once with
//     an 'error' event, "bind ENOTSUP <address>:<port>", where it would
//     otherwise wait forever. A worker that needs a server of its own can
//     listen with {exclusive: true}, which asks the primary nothing.
//   - "exitedAfterDisconnect", sent by cluster.worker.disconnect() and
//     destroy(), which disconnect only once it is acknowledged.
//
// The others ("online", "listening", "close") want no answer.

// nodeClusterErrno is what a queryServer is answered: libuv's errors are
// the negated errno.
var nodeClusterErrno = -int(syscall.ENOTSUP)

// nodeClusterReply returns the answer to a Node-internal message, and
// false for one that wants none.
func nodeClusterReply(msg *Message) (Message, bool) {
	var q struct {
		Cmd  string          `json:"cmd"`
		Act  string          `json:"act"`
		Seq  json.RawMessage `json:"seq"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(msg.Raw, &q) != nil || q.Cmd != "NODE_CLUSTER" || len(q.Seq) == 0 {
		return Message{}, false
	}
	a := struct {
		Cmd   string          `json:"cmd"`
		Ack   json.RawMessage `json:"ack"`
		Errno int             `json:"errno,omitempty"`
		// Data goes back as it came: a TLS server's ticket keys, which
		// the worker reads from every answer (Node's primary echoes them).
		Data   json.RawMessage `json:"data,omitempty"`
		Reason string          `json:"shmlab,omitempty"`
	}{Cmd: "NODE_CLUSTER", Ack: q.Seq}
	switch q.Act {
	case "queryServer":
		a.Errno, a.Data = nodeClusterErrno, q.Data
		a.Reason = "the shmlab master shares no listening sockets; listen with {exclusive: true}"
	case "exitedAfterDisconnect":
	default:
		return Message{}, false
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return Message{}, false
	}
	return Message{Kind: KindInternal, Raw: raw}, true
}
