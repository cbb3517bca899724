package shm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// WorkerFunc is the body of a worker process: it gets a client connected to
// the master and the worker's arguments. Returning ends the process, with
// exit status 0 for nil and 1 otherwise.
type WorkerFunc func(ctx context.Context, c *Client, args []string) error

// RawWorkerFunc is the body of a worker that speaks the wire itself: it
// gets the channel to the master as a raw connection.
type RawWorkerFunc func(ctx context.Context, c net.Conn, args []string) error

var (
	registryMu sync.Mutex
	registry   = map[string]WorkerFunc{}
	rawFuncs   = map[string]RawWorkerFunc{}
	options    = map[string]ClientOptions{}
)

// HandleRaw registers a RawWorkerFunc under name, like Handle.
func HandleRaw(name string, f RawWorkerFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	mustBeNew(name)
	rawFuncs[name] = f
}

// Handle registers f under name so that Master.Spawn(WorkerSpec{Name:
// name}) can run it in a re-executed copy of this binary. Call it before
// Main, typically from an init function.
// It panics if name is already registered (with Handle or HandleRaw).
func Handle(name string, f WorkerFunc) { HandleWith(name, ClientOptions{}, f) }

// HandleWith is Handle with the options of the worker's client (Timeout,
// RetryAfter, MaxFrame, Logf, OnLost; Identity comes from the master). The
// worker still exits with status 3 after OnLost runs.
func HandleWith(name string, opts ClientOptions, f WorkerFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	mustBeNew(name)
	registry[name] = f
	options[name] = opts
}

func mustBeNew(name string) {
	if registry[name] != nil || rawFuncs[name] != nil {
		panic("shm: worker " + strconv.Quote(name) + " registered twice")
	}
}

// mainCalled records that Main ran in this worker process.
var mainCalled atomic.Bool

// IsWorker reports whether this process was started by Master.Spawn.
func IsWorker() bool { return os.Getenv(EnvWorker) != "" }

// WorkerIdentity returns this worker's id and incarnation, from the
// environment the master set (zero outside a worker).
func WorkerIdentity() Identity {
	id, _ := strconv.ParseInt(os.Getenv(EnvWorkerID), 10, 64)
	inc, _ := strconv.ParseUint(os.Getenv(EnvIncarnation), 10, 64)
	return Identity{Worker: id, Inc: inc}
}

// Main runs the registered WorkerFunc and exits if this process is a
// worker; otherwise it returns at once. Call it first in main, or in
// TestMain before m.Run, as the os/exec helper-process tests do.
func Main() {
	name := os.Getenv(EnvWorker)
	if name == "" {
		return
	}
	mainCalled.Store(true)
	registryMu.Lock()
	f, raw, opts := registry[name], rawFuncs[name], options[name]
	registryMu.Unlock()
	switch {
	case f != nil:
		os.Exit(runWorker(f, opts))
	case raw != nil:
		os.Exit(runRaw(raw))
	}
	fmt.Fprintf(os.Stderr, "shm: worker %q is not registered (shm.Handle)\n", name)
	os.Exit(2)
}

func runRaw(f RawWorkerFunc) int {
	nc, err := channel()
	if err == nil {
		err = f(context.Background(), nc, os.Args[1:])
		nc.Close()
	}
	return exitCode(err)
}

// exitCode reports a worker body's error and turns it into the exit status.
func exitCode(err error) int {
	if err != nil {
		fmt.Fprintf(os.Stderr, "shm: worker %d: %v\n", WorkerIdentity().Worker, err)
		return 1
	}
	return 0
}

func runWorker(f WorkerFunc, opts ClientOptions) int {
	userLost := opts.OnLost
	opts.OnLost = func(err error) {
		if userLost != nil {
			userLost(err)
		}
		fmt.Fprintf(os.Stderr, "shm: worker %d: master connection lost: %v\n", WorkerIdentity().Worker, err)
		os.Exit(3)
	}
	c, err := Dial(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	err = f(context.Background(), c, os.Args[1:])
	c.Close()
	return exitCode(err)
}

// Dial connects to the master through the channel inherited at fd 3 and
// returns a client. opts.Identity is taken from the environment if zero.
func Dial(opts ClientOptions) (*Client, error) {
	nc, err := channel()
	if err != nil {
		return nil, err
	}
	if opts.Identity == (Identity{}) {
		opts.Identity = WorkerIdentity()
	}
	compact := strings.Contains(os.Getenv(EnvCodecs), "compact") && os.Getenv(EnvCodec) != "json"
	return NewClient(NewStreamConn(nc, StreamOptions{Compact: compact}), opts), nil
}

// channel returns the connection inherited at fd 3.
func channel() (net.Conn, error) {
	if os.Getenv(EnvChannelFD) != "3" {
		return nil, errors.New("shm: dial: not a worker (NODE_CHANNEL_FD is not 3)")
	}
	f := os.NewFile(3, "shm-channel")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("shm: dial: fd 3: %w", err)
	}
	return nc, nil
}
