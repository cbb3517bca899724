package shm

// ttlHeap is a min-heap of entries by expiry time.
type ttlHeap []*entry

// setExpiry changes e's expiry and its place in the heap.
func (s *Store) setExpiry(e *entry, expires int64) {
	e.expires = expires
	switch {
	case e.heapIdx >= 0 && expires == 0:
		s.ttl.removeAt(e.heapIdx)
	case e.heapIdx >= 0:
		s.ttl.fix(e.heapIdx)
	case expires != 0:
		s.ttl.push(e)
	}
}

func (h *ttlHeap) push(e *entry) {
	e.heapIdx = len(*h)
	*h = append(*h, e)
	h.up(e.heapIdx)
}

func (h *ttlHeap) removeAt(i int) {
	old := *h
	last := len(old) - 1
	old[i].heapIdx = -1
	if i != last {
		old[i] = old[last]
		old[i].heapIdx = i
	}
	old[last] = nil
	*h = old[:last]
	if i != last {
		h.fix(i)
	}
}

func (h ttlHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h ttlHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}

func (h ttlHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].expires <= h[i].expires {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h ttlHeap) down(i int) bool {
	start := i
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].expires < h[c].expires {
			c++
		}
		if h[i].expires <= h[c].expires {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}
