package shm

import (
	"fmt"
	"strings"
)

// Bugs are deliberately broken behaviours of the reference
// implementation. They exist to test the testers: a fault injector, a
// simulator or a checker is trusted only once it catches each of them.
// Never set them outside such tests.
type Bugs uint32

// The bugs. BugNoDedup and BugAddGetSet are the store's
// (StoreOptions.Bugs); BugWrapIDs and BugReadCache the client's
// (ClientOptions.Bugs, CallsOptions.Bugs).
const (
	// BugNoDedup makes the store apply a duplicated or retried request
	// again instead of replaying its reply: at-most-once is gone.
	BugNoDedup Bugs = 1 << iota
	// BugAddGetSet makes the store do add as a read, then a write that
	// lands only after the next request is applied, as a master that
	// reads, yields and writes back would: two adds at once lose one.
	BugAddGetSet
	// BugWrapIDs makes the client's request ids wrap after wrapIDsAt (as
	// a small counter would) and send no ack watermark: the master takes
	// a reused id for a retry and replays an old reply, and a late reply
	// is delivered to the newer call that has its id.
	BugWrapIDs
	// BugReadCache makes the client answer a get from the last value it
	// read or wrote for the key, without asking the master: reads go
	// stale as soon as another worker writes.
	BugReadCache
)

// wrapIDsAt is where BugWrapIDs wraps request ids: small, so that a short
// test reaches it.
const wrapIDsAt = 4

// bugNames names the bugs, in the order of their bits.
var bugNames = []string{"no-dedup", "add-get-set", "wrap-ids", "read-cache"}

// Has reports whether b includes bug.
func (b Bugs) Has(bug Bugs) bool { return b&bug != 0 }

// String names the bugs in b, joined by "+" ("none" for none).
func (b Bugs) String() string {
	s := ""
	for i, n := range bugNames {
		if b&(1<<i) == 0 {
			continue
		}
		if s != "" {
			s += "+"
		}
		s += n
	}
	if s == "" {
		return "none"
	}
	return s
}

// ParseBug returns the bug named name (as Bugs.String names it).
func ParseBug(name string) (Bugs, bool) {
	for i, n := range bugNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// MarshalText names the bugs as String does.
func (b Bugs) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText reads bug names joined by "+" (or "none").
func (b *Bugs) UnmarshalText(text []byte) error {
	var all Bugs
	for _, name := range strings.Split(string(text), "+") {
		if name == "none" || name == "" {
			continue
		}
		bug, ok := ParseBug(name)
		if !ok {
			return fmt.Errorf("shm: unknown bug %q (want %s)", name, strings.Join(bugNames, ", "))
		}
		all |= bug
	}
	*b = all
	return nil
}

// BugNames returns the names of every bug.
func BugNames() []string { return append([]string(nil), bugNames...) }

// deferredAdd is the write of an add that BugAddGetSet holds back.
type deferredAdd struct {
	key     string
	val     Value
	expires int64
}

// executeBefore applies req, then writes back the add held since the
// previous request (BugAddGetSet): the write lands after a request that
// read the key it is about to overwrite.
func (s *Store) executeBefore(now int64, req *Message) Message {
	held := s.deferred
	s.deferred = nil
	rep := s.run(now, req)
	if err := s.fits([]byte(held.key), held.val); err == nil {
		s.put(now, []byte(held.key), held.val, held.expires)
	}
	return rep
}
