package linearizability

import (
	"time"

	"github.com/shmlab/shmlab/history"
)

// search returns what the report shows of the search: the keys with an
// operation shown, as the Result's search found them; without one (no
// Result, or a bounded store's), it searches them until deadline.
func (p *reportPage) search(model history.Model, deadline time.Time) *searched {
	limits := storeChecked(p.h)
	if r := p.opts.Result; r != nil && r.search != nil {
		if limits != nil {
			return r.search // the whole store, one entry
		}
		return r.search.only(p.keysShown(r.search.keys))
	}
	var ss streams
	if limits != nil {
		return searchStoreForReport(partitionStore(p.h, *limits, &ss), deadline)
	}
	keys := partition(p.h, model, &ss)
	reduceKeys(keys) // as Check searches them
	return searchForReport(p.keysShown(keys), deadline)
}

// searchForReport searches each key once, as Check does, keys one after
// another, until deadline (zero: none); the keys it could not decide in
// time have no linearization.
func searchForReport(keys []*keyHistory, deadline time.Time) *searched {
	s := &searched{keys: keys, lin: make([][][]int, len(keys))}
	for i, kh := range keys {
		if _, ok := remaining(deadline); !ok {
			break
		}
		if res := searchKey(kh, deadline); res.verdict != Unknown {
			s.lin[i] = res.prefixes
			if s.lin[i] == nil {
				s.lin[i] = [][]int{}
			}
		}
	}
	return s
}

// searchStoreForReport searches a bounded store's whole history once,
// as Check does, and keeps it as one entry (key "") of searched.
func searchStoreForReport(sh *storeHistory, deadline time.Time) *searched {
	s := &searched{keys: []*keyHistory{{ops: sh.ops}}, lin: make([][][]int, 1)}
	if _, ok := remaining(deadline); ok {
		_, s.lin[0] = searchStore(sh, deadline)
	}
	return s
}

// only returns what s found of keys, a subsequence of s.keys.
func (s *searched) only(keys []*keyHistory) *searched {
	out := &searched{keys: keys, lin: make([][][]int, len(keys))}
	for i, j := 0, 0; i < len(s.keys) && j < len(keys); i++ {
		if s.keys[i] == keys[j] {
			out.lin[j] = s.lin[i]
			j++
		}
	}
	return out
}
