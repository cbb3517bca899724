package linearizability

import (
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
)

// searched is what Check's search found, kept so that explanations and
// the report reuse it (the seam of contracts14: h-speed's Check fills it;
// until then the report fills it itself, with searchForReport).
type searched struct {
	// keys are the keys checked, in key order.
	keys []*keyHistory
	// lin is, per key: for a linearizable key one linearization (indices
	// into keys[i].ops, in order); for a key that is not, the longest
	// linearizable prefixes found; nil if undecided.
	lin [][][]int
}

// search returns what the report shows of the search: the keys with an
// operation shown, searched until deadline. (Once Check keeps what its
// search found, Result.search, this takes it from p.opts.Result and
// searches only where that is nil.)
func (p *reportPage) search(model history.Model, deadline time.Time) *searched {
	var ss streams
	if limits := storeChecked(p.h); limits != nil {
		return searchStoreForReport(partitionStore(p.h, *limits, &ss), deadline)
	}
	keys := partition(p.h, model, &ss)
	reduceKeys(keys) // as Check searches them
	return searchForReport(p.keysShown(keys), deadline)
}

// searchForReport searches each key once with porcupine's verbose check,
// keys one after another, until deadline (zero: none); the keys it could
// not decide in time have no linearization.
func searchForReport(keys []*keyHistory, deadline time.Time) *searched {
	s := &searched{keys: keys, lin: make([][][]int, len(keys))}
	for i, kh := range keys {
		left, ok := remaining(deadline)
		if !ok {
			break
		}
		res, info := porcupine.CheckOperationsVerbose(kh.model.porcupine(), kh.ops, left)
		if res == porcupine.Unknown {
			continue
		}
		parts := info.PartialLinearizations()
		if len(parts) == 0 {
			s.lin[i] = [][]int{}
			continue
		}
		if res == porcupine.Ok {
			for _, p := range parts[0] {
				if len(p) == len(kh.ops) {
					s.lin[i] = [][]int{p}
					break
				}
			}
			continue
		}
		s.lin[i] = parts[0]
		if s.lin[i] == nil {
			s.lin[i] = [][]int{}
		}
	}
	return s
}

// searchStoreForReport searches a bounded store's whole history once,
// as Check does, and keeps it as one entry (key "") of searched.
func searchStoreForReport(sh *storeHistory, deadline time.Time) *searched {
	s := &searched{keys: []*keyHistory{{ops: sh.ops}}, lin: make([][][]int, 1)}
	left, ok := remaining(deadline)
	if !ok {
		return s
	}
	res, info := porcupine.CheckOperationsVerbose(sh.model.porcupine(), sh.ops, left)
	if res == porcupine.Unknown {
		return s
	}
	s.lin[0] = [][]int{}
	if parts := info.PartialLinearizations(); len(parts) > 0 && parts[0] != nil {
		s.lin[0] = parts[0]
	}
	return s
}
