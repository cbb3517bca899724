package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"sync"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/workload"
)

// ctlConn is one process's control connection: JSON lines over a Unix
// socket, apart from the channel under test (node/lib/control.js).
type ctlConn struct {
	c  net.Conn
	r  *bufio.Reader
	mu sync.Mutex // writes
}

// ctlMsg is any message of the control protocol, from either side.
type ctlMsg struct {
	T string `json:"t"`
	// hello, fork, exit
	Role      string   `json:"role,omitempty"`
	Worker    string   `json:"worker,omitempty"`
	Gen       int      `json:"gen,omitempty"`
	Inc       uint64   `json:"inc,omitempty"`
	Pid       int      `json:"pid,omitempty"`
	Methods   []string `json:"methods,omitempty"`
	Name      string   `json:"name,omitempty"`
	FinalRead bool     `json:"finalRead,omitempty"`
	Code      *int     `json:"code,omitempty"`
	Signal    *string  `json:"signal,omitempty"`
	Stderr    []string `json:"stderr,omitempty"`
	// op (to a worker) and done (its answer)
	N      int             `json:"n,omitempty"`
	Op     *workload.Op    `json:"op,omitempty"`
	Input  *history.Input  `json:"input,omitempty"`
	Record *bool           `json:"record,omitempty"`
	Lock   bool            `json:"lock,omitempty"`   // lock the key first (an increment's read)
	Unlock bool            `json:"unlock,omitempty"` // unlock it after (the increment's write)
	Notify bool            `json:"notify,omitempty"` // say "called" once the library is called
	Wait   int64           `json:"wait,omitempty"`   // end: ms to wait for late answers
	Status history.Status  `json:"status,omitempty"`
	Out    *history.Output `json:"out,omitempty"`
	// start (to every process), final (a request and its answer)
	At     string             `json:"at,omitempty"`
	End    string             `json:"end,omitempty"`
	Keys   []string           `json:"keys,omitempty"`
	Values map[string]*string `json:"values,omitempty"`
	Error  string             `json:"error,omitempty"`
}

func newCtlConn(c net.Conn) *ctlConn {
	return &ctlConn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// recv reads the next message.
func (c *ctlConn) recv() (*ctlMsg, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	var m ctlMsg
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("control message %.200q: %w", line, err)
	}
	return &m, nil
}

// send writes one message.
func (c *ctlConn) send(m *ctlMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.c.Write(append(b, '\n'))
	return err
}

func (c *ctlConn) close() { c.c.Close() }
