package shm

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// Bugs are deliberately broken behaviours of the reference
// implementation. They exist to test the testers: a fault injector, a
// simulator or a checker is trusted only once it catches each of them.
// Never set them outside such tests.
type Bugs uint32

// The bugs. BugNoDedup, BugAddGetSet, BugEvictInFlight and BugNoReply
// are the store's (StoreOptions.Bugs); BugWrapIDs, BugReadCache and
// BugAckBeforeApply the client's (ClientOptions.Bugs, CallsOptions.Bugs);
// BugCrashKey is the master's (MasterOptions.Store.Bugs), and
// BugRouteByClaim the master's and the client's.
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
	// read or wrote for the key, without asking the master (a get that
	// found nothing is not kept: the next one asks again, as a cache of
	// values does): reads go stale as soon as another worker writes,
	// while the key stays present, which no session guarantee sees
	// (the worker's own reads and writes stay in order) and only
	// linearizability does.
	BugReadCache
	// BugRouteByClaim makes the master send each reply to the worker
	// whose id the request claims, not back on the connection it came on
	// (dropping it if there is none), and the client claim its
	// neighbour's id (1 and 2 swap, 3 and 4, …, as workers that number
	// themselves from 0 and flip the last bit would): neighbours get each
	// other's replies. It is a bug of the master and the client together.
	BugRouteByClaim
	// BugAckBeforeApply makes the client answer a set OK at once and send
	// it with its next call (a write-behind buffer): a read may miss an
	// acknowledged write, and a crash (or the end) loses it.
	BugAckBeforeApply
	// BugEvictInFlight makes the store, when it is full, drop a set of a
	// key it holds, as if eviction had taken the entry while the write was
	// on its way and the write had landed on the evicted copy: the write
	// is acknowledged, and the old value stays.
	BugEvictInFlight
	// BugNoReply makes the store neither apply nor answer a delete, as
	// a master whose handler for a method never calls back: the call
	// never returns (the liveness check's "never answered").
	BugNoReply
	// BugCrashKey makes the master crash on a request for the key
	// CrashKey, as a master that throws on an input it did not expect:
	// its process exits with status 2 and a stack on stderr, as a panic
	// does (the liveness check's "crashed").
	// The harness runs a master with it in a process of its own; the
	// simulator stops its master there and records the crash.
	BugCrashKey
)

// CrashKey is the key on which BugCrashKey makes the master panic.
const CrashKey = "crash"

// crash ends the process as an unrecovered panic does, status 2 and the
// stack on stderr, without running deferred calls: a real panic here,
// under the master's lock, would hang in the deferred calls that take it.
func crash(msg string) {
	fmt.Fprintf(os.Stderr, "panic: %s\n\n%s", msg, debug.Stack())
	os.Exit(2)
}

// StoreBugs, ClientBugs and MasterBugs are the bugs each part acts on.
const (
	StoreBugs  = BugNoDedup | BugAddGetSet | BugEvictInFlight | BugNoReply
	ClientBugs = BugWrapIDs | BugReadCache | BugAckBeforeApply | BugRouteByClaim
	MasterBugs = BugRouteByClaim | BugCrashKey
	// MasterExitBugs are the bugs that may make the master's process
	// exit.
	MasterExitBugs = BugCrashKey
)

// wrapIDsAt is where BugWrapIDs wraps request ids: small, so that a short
// test reaches it.
const wrapIDsAt = 4

// bugNames names the bugs, in the order of their bits.
var bugNames = []string{"no-dedup", "add-get-set", "wrap-ids", "read-cache", "route-by-claim", "ack-before-apply", "evict-in-flight", "no-reply", "crash-key"}

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

// UnmarshalText reads bugs as ParseBugs does.
func (b *Bugs) UnmarshalText(text []byte) error {
	bugs, err := ParseBugs(string(text))
	if err != nil {
		return fmt.Errorf("shm: bugs %q: %w", text, err)
	}
	*b = bugs
	return nil
}

// ParseBugs reads a variant of the reference: "none" or "reference" (no
// bug), or bug names (as Bugs.String names them) joined by "+", each
// once. Its error names the part at fault; the caller says where the
// text came from.
func ParseBugs(text string) (Bugs, error) {
	if text == "" {
		return 0, errors.New("empty: " + wantBugs)
	}
	parts := strings.Split(text, "+")
	var all Bugs
	for i, name := range parts {
		bug, err := parseBugPart(name, i, len(parts))
		if err == nil && all.Has(bug) {
			err = fmt.Errorf("%s is named twice", name)
		}
		if err != nil {
			return 0, err
		}
		all |= bug
	}
	return all, nil
}

// parseBugPart reads part i of n of a variant's name.
func parseBugPart(name string, i, n int) (Bugs, error) {
	switch {
	case name == "" && n > 1:
		return 0, fmt.Errorf("bug %d of %d is empty (a stray +)", i+1, n)
	case (name == "none" || name == "reference") && n > 1:
		return 0, fmt.Errorf("%s means no bug: it stands alone, not joined by + to bugs", name)
	case name == "none" || name == "reference":
		return 0, nil
	}
	bug, ok := ParseBug(name)
	if !ok {
		return 0, fmt.Errorf("unknown bug %q (%s)", name, wantBugs)
	}
	return bug, nil
}

// wantBugs says what a variant's name may be.
var wantBugs = "want reference (or none), or bugs joined by +: " + strings.Join(bugNames, ", ")

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
func (s *Store) executeBefore(now int64, req *Message, rep *Message) {
	held := s.deferred
	s.deferred = nil
	s.run(now, req, rep)
	if err := s.fits(now, s.entries[held.key], []byte(held.key), held.val); err == nil {
		s.put(now, []byte(held.key), held.val, held.expires)
	}
}

// full reports whether the store is at its entry limit (BugEvictInFlight).
func (s *Store) full() bool {
	return s.opts.MaxEntries > 0 && len(s.entries) >= s.opts.MaxEntries
}

// handleByClaim is handle under BugRouteByClaim: each reply goes to the
// connection of the worker whose id the request claims (as a master that
// looks its workers up by the id a message names would), not back on the
// connection it came from.
func (m *Master) handleByClaim(c Conn, id Identity, in []Message) error {
	type routed struct {
		to  Conn
		rep Message
	}
	var out []routed
	m.requests.Add(uint64(countRequests(in)))
	m.mu.Lock()
	m.registerClaim(id, c)
	now := m.Now()
	for i := range in {
		rep, ok := m.reply(now, nil, id, &in[i]) // no locks under this bug
		if to, known := m.claims[in[i].Worker]; ok && known {
			out = append(out, routed{to, rep})
		}
	}
	m.mu.Unlock()
	m.notify(id, in)
	for _, r := range out {
		if err := r.to.Send([]Message{r.rep}); err != nil && r.to == c {
			return err
		}
	}
	return nil
}

// registerClaim records c as the connection of worker id.Worker, where
// BugRouteByClaim looks workers up. m.mu is held.
func (m *Master) registerClaim(id Identity, c Conn) {
	if m.claims == nil {
		m.claims = make(map[int64]Conn)
	}
	m.claims[id.Worker] = c
}
