package faultinject

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// Link names one direction of one worker's connection.
type Link struct {
	Worker string    `json:"worker"`
	Dir    Direction `json:"dir"` // Requests or Replies
}

func (l Link) String() string {
	if l.Dir == Replies {
		return "master>" + l.Worker
	}
	return l.Worker + ">master"
}

// Message is what a decision may look at: the request's method, key and
// id (for a reply, those of the request it answers).
type Message struct {
	Method string `json:"method"`
	Key    string `json:"key"`
	Seq    uint64 `json:"seq"`
}

// Decision is what happens to one message.
type Decision struct {
	Drop       bool          `json:"drop,omitempty"`
	Delay      time.Duration `json:"delay,omitempty"`
	Copies     int           `json:"copies,omitempty"`  // extra copies delivered
	Reorder    bool          `json:"reorder,omitempty"` // held until the next message on the link has gone
	Corruption Corruption    `json:"corruption,omitempty"`
	// Hold, if not 0, says the reordered message (with Reorder) or the
	// extra copies (without) wait until the worker has sent Hold more
	// requests, instead of for the next message or not at all.
	Hold int `json:"hold,omitempty"`
	// Discarded says a held message was thrown away when its connection
	// closed: it never went on.
	Discarded bool `json:"discarded,omitempty"`
	// Fired lists the faults that fired, by their index in the plan.
	Fired []int `json:"fired,omitempty"`
	// N is the message's number on its link, from 1.
	N int `json:"-"`
}

// None reports whether d changes nothing.
func (d *Decision) None() bool {
	return !d.Drop && d.Delay == 0 && d.Copies == 0 && !d.Reorder && d.Corruption == "" && !d.Discarded && d.Hold == 0
}

// Decider makes the decisions of a plan. Each fault has, on each link,
// its own generator, seeded from the plan's seed, the link and the
// fault's place in the plan. It draws the gap to the next message it
// hits (a geometric draw: the same law as a coin thrown for every
// message, at a cost paid only when the fault fires). So the same seed
// and the same messages on a link give the same decisions, whatever
// happens on other links, and a fault's decisions do not depend on the
// other faults of the plan. It is safe for concurrent use.
type Decider struct {
	plan  *Plan
	mu    sync.Mutex
	links map[Link]*linkState
}

type linkState struct {
	n   int   // messages decided so far
	aim []aim // per fault of the plan
}

// aim is a fault's aim at one link: whether it can hit the link's
// messages, and when it hits next.
type aim struct {
	never   bool // another direction or worker
	message bool // it hits only some messages (a method, key, number or time window)
	always  bool // it hits every message it matches (p 1, or an nth)
	logq    float64
	rng     rand.PCG // the fault's own draws on this link
	matched int      // messages it matched so far
	next    int      // the matched message it hits next
}

// gap draws how many matched messages the fault lets by before it hits
// one: geometric, with P(k) = (1-p)^k p, from log(1-p) (logq).
func (a *aim) gap() int {
	if a.always {
		return 0
	}
	u := (float64(a.rng.Uint64()>>11) + 0.5) / (1 << 53) // in (0, 1)
	g := math.Floor(math.Log(u) / a.logq)
	if g >= 1<<62 {
		return 1 << 62
	}
	return int(g)
}

// NewDecider returns the decider of p.
func NewDecider(p *Plan) *Decider {
	return &Decider{plan: p, links: make(map[Link]*linkState)}
}

// Seed returns the seed of fault i's generator on link l under plan
// seed s.
func Seed(s uint64, l Link, i int) (uint64, uint64) {
	return s, hash64(l.Worker + "\x00" + string(l.Dir) + "\x00" + strconv.Itoa(i))
}

// hash64 names a stream of decisions: the second half of a PCG seed.
func hash64(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// Decide decides what happens to the next message on link l, at elapsed
// time since the run began. A fault's decision depends only on the seed,
// the link, and the messages on it that the fault matched so far (for a
// fault aimed at every message, the message's place on the link).
func (d *Decider) Decide(l Link, m Message, elapsed time.Duration) Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	var dec Decision
	d.decide(d.state(l), &m, elapsed, &dec)
	return dec
}

// state returns link l's faults and count. d.mu is held, or the link is
// owned by a LinkDecider.
func (d *Decider) state(l Link) *linkState {
	ls := d.links[l]
	if ls == nil {
		ls = &linkState{aim: make([]aim, len(d.plan.Messages))}
		for i := range d.plan.Messages {
			a := &ls.aim[i]
			*a = d.plan.Messages[i].aimAt(l)
			a.rng.Seed(Seed(d.plan.Seed, l, i))
			a.next = 1 + a.gap()
		}
		d.links[l] = ls
	}
	return ls
}

// decide makes, into dec, the decision of link ls's next message m.
func (d *Decider) decide(ls *linkState, m *Message, elapsed time.Duration, dec *Decision) {
	ls.n++
	*dec = Decision{N: ls.n}
	for i := range ls.aim {
		a := &ls.aim[i]
		if a.never || (a.message && !d.plan.Messages[i].matches(m, ls.n, elapsed)) {
			continue
		}
		if a.matched++; a.matched < a.next {
			continue
		}
		f := &d.plan.Messages[i]
		dec.Fired = append(dec.Fired, i)
		f.apply(dec, low32(a.rng.Uint64()))
		a.next = a.matched + 1 + a.gap()
	}
}

// low32 is a uniform draw in [0, 1) of u's low 32 bits: plenty for a
// fault's parameters.
func low32(u uint64) float64 {
	const unit = 1.0 / (1 << 32)
	return float64(u&0xffffffff) * unit
}

// LinkDecider makes the decisions of one link of a Decider, the same ones
// the Decider would make for it, without its lock or lookup: for a caller
// that owns the link and uses it from one goroutine (the simulator). A
// link decided through a LinkDecider must not also be decided through the
// Decider.
type LinkDecider struct {
	d  *Decider
	l  Link
	ls *linkState
}

// On returns the LinkDecider of link l.
func (d *Decider) On(l Link) *LinkDecider {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &LinkDecider{d: d, l: l, ls: d.state(l)}
}

// Decide decides what happens to the next message on the LinkDecider's
// link. l is ignored (it is there to make a LinkDecider a Decisions): the
// decision is always for the link On was given.
func (ld *LinkDecider) Decide(_ Link, m Message, elapsed time.Duration) Decision {
	var dec Decision
	ld.d.decide(ld.ls, &m, elapsed, &dec)
	return dec
}

// DecideMessage is faultinject.DecideMessage on the LinkDecider's link,
// deciding into dec in place (a Decision is large, and the simulator
// decides every message). It reports whether the decision changes
// something.
func (ld *LinkDecider) DecideMessage(log *Log, info *Message, m *shm.Message, elapsed time.Duration, now int64, dec *Decision) bool {
	ld.d.decide(ld.ls, info, elapsed, dec)
	return settle(dec, log, ld.l, info, m, now)
}

// aimAt returns f's aim at link l, before its generator is seeded.
func (f *MessageFault) aimAt(l Link) aim {
	t := &f.Target
	if (f.Dir != "" && f.Dir != Both && f.Dir != l.Dir) || (t.Worker != "" && t.Worker != l.Worker) {
		return aim{never: true}
	}
	return aim{
		message: t.Method != "" || t.Key != "" || t.Nth != 0 || t.From != 0 || t.Until != 0,
		always:  f.P == 1 || (f.P == 0 && t.Nth != 0), // p 0 is for an nth alone: it hits its message
		never:   f.P == 0 && t.Nth == 0,
		logq:    math.Log1p(-f.P),
	}
}

// matches reports whether f hits message m, the nth on its link, at
// elapsed: the part of aiming that depends on the message.
func (f *MessageFault) matches(m *Message, n int, elapsed time.Duration) bool {
	t := &f.Target
	switch {
	case t.Method != "" && t.Method != m.Method:
		return false
	case t.Key != "" && t.Key != m.Key:
		return false
	case t.Nth != 0 && t.Nth != n:
		return false
	case elapsed < t.From || (t.Until != 0 && elapsed >= t.Until):
		return false
	}
	return true
}

// apply adds f's effect to dec; u is a uniform draw for its parameters.
func (f *MessageFault) apply(dec *Decision, u float64) {
	switch f.Kind {
	case Drop:
		dec.Drop = true
	case Delay:
		dec.Delay += f.Delay.draw(u)
	case Duplicate:
		dec.Copies += max(f.Copies, 1)
		dec.Hold = max(dec.Hold, f.Hold)
	case Reorder:
		dec.Reorder = true
		dec.Hold = max(dec.Hold, f.Hold)
	case Corrupt:
		dec.Corruption = f.Corruption
		if dec.Corruption == "" {
			dec.Corruption = CorruptFrame
		}
	}
}

// draw maps a uniform u in [0, 1) to a delay of the distribution.
func (d *Dist) draw(u float64) time.Duration {
	switch d.Kind {
	case Uniform:
		return d.Min + time.Duration(u*float64(d.Max-d.Min))
	case Exponential:
		v := time.Duration(-math.Log(1-u) * float64(d.Mean))
		if d.Cap > 0 && v > d.Cap {
			v = d.Cap
		}
		return v
	}
	return d.Min
}
