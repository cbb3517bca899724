package scenarios

import (
	"errors"
	"fmt"

	"github.com/shmlab/shmlab/harness"
	"github.com/shmlab/shmlab/history"
)

// threwCode is the error code a Node target's worker records for a call
// its adapter's method threw or rejected without a code of its own (a
// TypeError, say): the library was perhaps never reached.
const threwCode = "error"

// ErrAdapterBroken is the error of a Node run in which some method of the
// adapter threw or rejected on every call: the run did not test the
// library's method at all, so it decides nothing.
var ErrAdapterBroken = errors.New("the adapter's calls did not reach the library")

// threw looks at the calls of a Node run's history that threw or
// rejected: it returns ErrAdapterBroken, naming the method and the first
// message, if every call of some method did, and otherwise a note
// counting them ("" if none did).
func threw(h *history.History) (note string, err error) {
	calls := map[history.Method]int{}
	failed := map[history.Method]int{}
	first := map[history.Method]string{}
	var order []history.Method
	for _, op := range h.Ops {
		if op.Worker == "" || op.Worker == harness.FinalReader {
			continue
		}
		calls[op.Method]++
		if e := op.Output.Error; e != nil && e.Code == threwCode {
			if failed[op.Method] == 0 {
				order = append(order, op.Method)
				first[op.Method] = fmt.Sprintf("%s %s(%q): %s", op.Worker, op.Method, op.Key, e.Message)
			}
			failed[op.Method]++
		}
	}
	n := 0
	for _, m := range order {
		if failed[m] == calls[m] {
			return "", fmt.Errorf("%w: %s threw or rejected on every call (%d of %d), first %s", ErrAdapterBroken, m, failed[m], calls[m], first[m])
		}
		n += failed[m]
	}
	if n == 0 {
		return "", nil
	}
	return fmt.Sprintf("%d calls threw or rejected (recorded unknown), the first %s", n, first[order[0]]), nil
}
