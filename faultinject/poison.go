package faultinject

import (
	"errors"
	"slices"
	"strings"

	"github.com/shmlab/shmlab/history"
)

// poisonFrames are the messages a Poison fault has its worker send into
// the master's channel, one JSON text each: the known crashers of naive
// masters (a master of the Node article's style reads msg.method and
// msg.key of whatever comes, and indexes objects with them). None has a
// uuid, so that no answer to one can complete a call of the worker, and
// the reference master applies none (a request without a uuid is a
// bad_request). node/lib/poison.js holds the same list for Node workers;
// the shared test vectors keep the two equal.
var poisonFrames = []string{
	`null`,
	`"poison"`,
	`42`,
	`[1,2]`,
	`{"isSharedMemoryMessage":true}`,
	`{"isSharedMemoryMessage":true,"method":"frobnicate","key":"a"}`,
	`{"isSharedMemoryMessage":true,"method":"__proto__","key":"a"}`,
	`{"isSharedMemoryMessage":true,"method":"constructor","key":"a"}`,
	`{"isSharedMemoryMessage":true,"method":"get","key":"__proto__"}`,
	`{"isSharedMemoryMessage":true,"method":"set","key":"__proto__","value":{"polluted":true}}`,
	`{"isSharedMemoryMessage":true,"method":"get","key":42}`,
}

// PoisonFrames returns the messages of a Poison fault, in the order they
// are sent, each a JSON text without its newline.
func PoisonFrames() []string { return slices.Clone(poisonFrames) }

// Poisoner is implemented by the Targets of a run whose workers can send
// the poison frames: Poison has worker target send them on its channel
// to the master now, and returns the history event saying so (at the
// time they were sent). It returns ErrNotRunning if the worker has
// exited, or exits, before sending them.
type Poisoner interface {
	Poison(target string) (history.Event, error)
}

// ErrNoPoison is returned when a poison fault's targets cannot send one.
var ErrNoPoison = errors.New("faultinject: these targets cannot send poison messages")

// poison applies a Poison fault to ts.
func poison(target string, ts Targets) (history.Event, error) {
	p, ok := ts.(Poisoner)
	if !ok {
		return history.Event{}, ErrNoPoison
	}
	return p.Poison(target)
}

// PoisonText is the text of a poison event: what was sent, one frame a
// line.
func PoisonText() string {
	return "poison frames sent: " + strings.Join(poisonFrames, " | ")
}
