package sim

import (
	"math/rand/v2"

	"github.com/shmlab/shmlab/faultinject"
)

// The counts aimed faults hold messages for: the client's pending ring
// (shm's tracker: a ring of 64 slots indexed by request id, doubling
// only when half full, which a worker making one call at a time never
// makes it), and where shm.BugWrapIDs wraps request ids.
const (
	ringSlots = 64
	wrapSlots = 4
)

// aimedOdds is one over the share of seeds on which Swarm draws each
// aimed combination.
const aimedOdds = 4

// aimedFaults draws, for the run c (its defaults filled in) of seed,
// the fault combinations that independent probabilities almost never
// make, each on one seed in aimedOdds: a reply held until a ring's
// length of requests later (it arrives while a newer call holds its
// slot), a copy of a request or reply arriving so late, a request held
// past the next ones on its slot, and a retry after a damaged first copy
// (the request arrives damaged and the bad_request answer is lost, so
// the client resends it; only with RetryAfter), and every reply to one
// worker lost from the start for two call timeouts and a retry, while
// its first call is resent (only with RetryAfter below the timeout): it
// must still end by its deadline. Each is aimed at one
// message of one worker (it surely fires if that worker makes that many
// calls), or hits a worker's messages with a small probability. They
// come from a stream of their own, so that the rest of Swarm's draws are
// those of a seed without them.
func aimedFaults(seed uint64, c Config) []faultinject.MessageFault {
	rng := rand.New(rand.NewPCG(seed, 0xa13edfa17))
	a := aimer{rng: rng, c: c}
	var fs []faultinject.MessageFault
	if rng.IntN(aimedOdds) == 0 {
		fs = append(fs, a.aim(faultinject.MessageFault{Kind: faultinject.Reorder, Dir: faultinject.Replies, Hold: a.hold()}))
	}
	if rng.IntN(aimedOdds) == 0 {
		dir := []faultinject.Direction{faultinject.Requests, faultinject.Replies}[rng.IntN(2)]
		fs = append(fs, a.aim(faultinject.MessageFault{Kind: faultinject.Duplicate, Dir: dir, Hold: a.hold()}))
	}
	if rng.IntN(aimedOdds) == 0 {
		fs = append(fs, a.aim(faultinject.MessageFault{Kind: faultinject.Reorder, Dir: faultinject.Requests, Hold: a.hold()}))
	}
	if rng.IntN(aimedOdds) == 0 && c.RetryAfter > 0 {
		t := faultinject.Target{Worker: a.worker(), Nth: a.nth()}
		fs = append(fs,
			faultinject.MessageFault{Kind: faultinject.Corrupt, Dir: faultinject.Requests, Corruption: faultinject.CorruptFrame, Target: t},
			faultinject.MessageFault{Kind: faultinject.Drop, Dir: faultinject.Replies, Target: t})
	}
	if rng.IntN(aimedOdds) == 0 && c.RetryAfter > 0 && c.RetryAfter < c.CallTimeout {
		fs = append(fs, faultinject.MessageFault{Kind: faultinject.Drop, Dir: faultinject.Replies, P: 1,
			Target: faultinject.Target{Worker: a.worker(), Until: 2*c.CallTimeout + c.RetryAfter}})
	}
	return fs
}

// aimer draws where an aimed fault hits.
type aimer struct {
	rng *rand.Rand
	c   Config
}

// aim aims f at one message of a worker, or at each of its messages with
// a small probability.
func (a aimer) aim(f faultinject.MessageFault) faultinject.MessageFault {
	f.Target.Worker = a.worker()
	if a.rng.IntN(2) == 0 {
		f.P = 0.002 + 0.02*a.rng.Float64()
	} else {
		f.Target.Nth = a.nth()
	}
	return f
}

func (a aimer) worker() string { return workerName(a.rng.IntN(max(a.c.Workers, 1))) }

// nth draws a message among the first half of a worker's calls.
func (a aimer) nth() int { return 1 + a.rng.IntN(max(a.c.Ops/2, 1)) }

// hold draws a hold in requests: mostly the ring's length, else the
// wrap-ids counter's, two rings, or less than a ring.
func (a aimer) hold() int {
	switch a.rng.IntN(6) {
	case 0:
		return wrapSlots
	case 1:
		return 2 * ringSlots
	case 2:
		return 1 + a.rng.IntN(ringSlots)
	}
	return ringSlots
}
