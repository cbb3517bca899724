package shm

// Bugs are deliberately broken behaviours of the reference
// implementation. They exist to test the testers: a fault injector, a
// simulator or a checker is trusted only once it catches each of them.
// Never set them outside such tests.
type Bugs uint32

// The bugs.
const (
	// BugNoDedup makes the store apply a duplicated or retried request
	// again instead of replaying its reply: at-most-once is gone.
	BugNoDedup Bugs = 1 << iota
)

// Has reports whether b includes bug.
func (b Bugs) Has(bug Bugs) bool { return b&bug != 0 }
