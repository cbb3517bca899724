package shm

// lookup returns the live entry for key, removing it if it has expired.
func (s *Store) lookup(now int64, key []byte) *entry {
	e := s.entries[string(key)]
	if e != nil && e.expires != 0 && e.expires <= now {
		s.stats.Expirations++
		s.remove(e)
		return nil
	}
	return e
}

// fits checks that an entry of key and val can be stored now, in place
// of e (key's current entry, or nil). With MaxBytes set, an entry larger
// than it never fits (smaller ones evict). Without, the store holds at
// most DefaultMaxBytes and refuses a write that would take it past them,
// evicting nothing: a store nobody bounded loses no data silently.
func (s *Store) fits(now int64, e *entry, key []byte, val Value) *Error {
	size := entrySize(key, val)
	if s.opts.MaxBytes > 0 {
		if size > s.opts.MaxBytes {
			return errorf(ErrTooLarge, "entry of %d bytes exceeds the store limit of %d bytes", size, s.opts.MaxBytes)
		}
		return nil
	}
	grow := func() int64 {
		if e == nil || s.entries[e.key] != e { // none, or swept below
			return size
		}
		return size - entrySize([]byte(e.key), e.val)
	}
	if s.bytes+grow() <= DefaultMaxBytes {
		return nil
	}
	s.expire(now, expireOnFull) // entries past their TTL may make room
	if s.bytes+grow() <= DefaultMaxBytes {
		return nil
	}
	return errorf(ErrTooLarge, "entry of %d bytes would take the store past its default bound of %d bytes (it holds %d; StoreOptions.MaxBytes sets a bound that evicts instead)",
		size, int64(DefaultMaxBytes), s.bytes)
}

// expireOnFull is how many expired entries a write refused for the
// default byte bound sweeps before it looks again (bounded work).
const expireOnFull = 256

func entrySize(key []byte, val Value) int64 {
	return int64(len(key) + len(val) + EntryOverhead)
}

// put stores a copy of val under key, then evicts beyond the limits.
func (s *Store) put(now int64, key []byte, val Value, expires int64) {
	s.keep(s.entries[string(key)], key, append(Value(nil), val...), expires)
}

// keep stores v, which the store now owns, under key: in e, key's entry,
// or a new one if e is nil. Then it evicts beyond the limits.
func (s *Store) keep(e *entry, key []byte, v Value, expires int64) {
	if e == nil {
		e = &entry{key: string(key), heapIdx: -1}
		s.entries[e.key] = e
		s.bytes += int64(len(e.key) + EntryOverhead)
		s.keyBytes += len(e.key)
	} else {
		s.unlink(e)
	}
	s.bytes += int64(len(v) - len(e.val))
	s.work += uint64(len(v)) / workBytes
	e.val = v
	s.setExpiry(e, expires)
	s.pushFront(e)
	s.evict()
}

func (s *Store) evict() {
	for s.overLimit() && s.lru.prev != &s.lru {
		s.stats.Evictions++
		s.remove(s.lru.prev)
	}
}

func (s *Store) overLimit() bool {
	return (s.opts.MaxEntries > 0 && len(s.entries) > s.opts.MaxEntries) ||
		(s.opts.MaxBytes > 0 && s.bytes > s.opts.MaxBytes)
}

func (s *Store) remove(e *entry) {
	s.unlink(e)
	s.setExpiry(e, 0)
	delete(s.entries, e.key)
	s.bytes -= int64(len(e.key) + len(e.val) + EntryOverhead)
	s.keyBytes -= len(e.key)
	s.work++
}

func (s *Store) touch(e *entry) {
	if s.lru.next != e {
		s.unlink(e)
		s.pushFront(e)
	}
}

func (s *Store) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (s *Store) pushFront(e *entry) {
	e.prev, e.next = &s.lru, s.lru.next
	s.lru.next.prev = e
	s.lru.next = e
}

// Len returns the number of entries, expired ones not yet swept included.
func (s *Store) Len() int { return len(s.entries) }

// expire removes up to max entries whose TTL has passed at now.
func (s *Store) expire(now int64, max int) {
	for i := 0; i < max && len(s.ttl) > 0 && s.ttl[0].expires <= now; i++ {
		s.stats.Expirations++
		s.remove(s.ttl[0])
	}
}

// Expire removes every entry whose TTL has passed at now and returns how
// many it removed.
func (s *Store) Expire(now int64) int {
	before := s.stats.Expirations
	s.expire(now, len(s.ttl))
	return int(s.stats.Expirations - before)
}
