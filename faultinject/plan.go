// Package faultinject makes faults, reproducibly, and tells the truth
// about each one: message faults around a shm connection, byte faults
// around an io.ReadWriter, process faults (kill, pause, restart). Faults
// are data (a Plan); every decision comes from a generator seeded from
// (plan seed, link) and is logged with its ground truth, which becomes
// events in a history.
package faultinject

import (
	"errors"
	"fmt"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// Kind is what a message fault does.
type Kind string

// The message fault kinds.
const (
	// Drop loses the message.
	Drop Kind = "drop"
	// Delay holds the message for a time drawn from the fault's Delay.
	Delay Kind = "delay"
	// Duplicate delivers the message, then Copies more of it.
	Duplicate Kind = "duplicate"
	// Reorder holds the message until the next one on its link has gone.
	Reorder Kind = "reorder"
	// Corrupt changes the message: see Corruption.
	Corrupt Kind = "corrupt"
)

// Direction says which way a message travels on a worker's link.
type Direction string

// The directions. Requests go from a worker to the master; replies come
// back.
const (
	Requests Direction = "requests"
	Replies  Direction = "replies"
	Both     Direction = "both"
)

// Corruption is how a Corrupt fault changes a message.
type Corruption string

// The corruptions.
const (
	// CorruptFrame makes the frame invalid: the master answers
	// bad_request, or the worker drops the reply it cannot read.
	CorruptFrame Corruption = "frame"
	// CorruptID changes a request's id to another valid one: the master
	// applies it under that id, and the worker never sees its reply.
	CorruptID Corruption = "id"
	// CorruptValue changes the value a set or cas stores to another valid
	// one. No store can notice; a checker must.
	CorruptValue Corruption = "value"
)

// Plan is a fault plan: what may go wrong, how often and where. It is
// data: scenario files hold it, and a run can be repeated from it.
type Plan struct {
	// Seed seeds every decision, with one generator per link and
	// direction.
	Seed uint64 `json:"seed" yaml:"seed"`
	// Messages are the message faults, tried in order for each message.
	Messages []MessageFault `json:"messages,omitempty" yaml:"messages,omitempty"`
	// Processes are the process faults (process.go), at their times.
	Processes []ProcessFault `json:"processes,omitempty" yaml:"processes,omitempty"`
	// Bytes are the byte faults (bytes_plan.go) on the master's end of
	// the workers' connections, drawn per connection.
	Bytes []ByteFault `json:"bytes,omitempty" yaml:"bytes,omitempty"`
}

// MessageFault is one message fault and where it applies.
type MessageFault struct {
	Kind Kind `json:"kind" yaml:"kind"`
	// Dir is the direction it applies to (Both if empty).
	Dir Direction `json:"dir,omitempty" yaml:"dir,omitempty"`
	// P is the probability that a message the Target matches is hit. A
	// Target with Nth and P 0 hits that message surely.
	P float64 `json:"p,omitempty" yaml:"p,omitempty"`
	// Target narrows the messages it may hit.
	Target Target `json:"target,omitempty" yaml:"target,omitempty"`
	// Delay is the delay's distribution (Delay faults).
	Delay Dist `json:"delay,omitzero" yaml:"delay,omitempty"`
	// Copies is how many extra copies a Duplicate delivers (1 if 0).
	Copies int `json:"copies,omitempty" yaml:"copies,omitempty"`
	// Corruption is what a Corrupt fault does (CorruptFrame if empty).
	Corruption Corruption `json:"corruption,omitempty" yaml:"corruption,omitempty"`
	// Hold measures a reorder's or a duplicate's hold in requests rather
	// than in time: the message (a reorder) or its extra copies (a
	// duplicate) wait until the worker has sent Hold more requests, and
	// go just after the last of them (hold.go). 0: a reorder waits for
	// the next message on its link or HoldLimit, a duplicate's copies go
	// at once. With the client's pending ring of 64 slots, a reply held
	// 64 requests arrives while the call 64 ids later holds its slot.
	Hold int `json:"hold,omitempty" yaml:"hold,omitempty"`
}

// Target aims a fault. Every field set must match; the zero Target
// matches every message.
type Target struct {
	// Worker is the name of the worker whose link it is ("w1").
	Worker string `json:"worker,omitempty" yaml:"worker,omitempty"`
	// Method and Key are the request's (for a reply, its request's).
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	Key    string `json:"key,omitempty" yaml:"key,omitempty"`
	// Nth is the message's number on its link and direction, from 1.
	Nth int `json:"nth,omitempty" yaml:"nth,omitempty"`
	// From and Until bound the time since the run began (Until 0: no end).
	From  time.Duration `json:"from,omitempty" yaml:"from,omitempty"`
	Until time.Duration `json:"until,omitempty" yaml:"until,omitempty"`
}

// DistKind is a delay distribution's shape.
type DistKind string

// The distributions.
const (
	Fixed       DistKind = "fixed"       // always Min
	Uniform     DistKind = "uniform"     // from Min to Max
	Exponential DistKind = "exponential" // mean Mean, at most Cap
)

// Dist is a distribution of delays.
type Dist struct {
	Kind DistKind      `json:"kind,omitempty" yaml:"kind,omitempty"`
	Min  time.Duration `json:"min,omitempty" yaml:"min,omitempty"`
	Max  time.Duration `json:"max,omitempty" yaml:"max,omitempty"`
	Mean time.Duration `json:"mean,omitempty" yaml:"mean,omitempty"`
	Cap  time.Duration `json:"cap,omitempty" yaml:"cap,omitempty"` // 0: no cap
}

// GetProcesses returns p's process faults (none if p is nil).
func (p *Plan) GetProcesses() []ProcessFault {
	if p == nil {
		return nil
	}
	return p.Processes
}

// Validate reports what is wrong with p, all of it, joined.
func (p *Plan) Validate() error {
	var errs []error
	for i := range p.Messages {
		if err := p.Messages[i].validate(); err != nil {
			errs = append(errs, fmt.Errorf("messages[%d]: %w", i, err))
		}
	}
	for i := range p.Processes {
		if err := p.Processes[i].validate(); err != nil {
			errs = append(errs, fmt.Errorf("processes[%d]: %w", i, err))
		}
	}
	for i := range p.Bytes {
		if err := p.Bytes[i].validate(); err != nil {
			errs = append(errs, fmt.Errorf("bytes[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (f *MessageFault) validate() error {
	switch f.Kind {
	case Drop, Delay, Duplicate, Reorder, Corrupt:
	default:
		return fmt.Errorf("unknown kind %q (want drop, delay, duplicate, reorder or corrupt)", f.Kind)
	}
	switch f.Dir {
	case "", Requests, Replies, Both:
	default:
		return fmt.Errorf("unknown dir %q (want requests, replies or both)", f.Dir)
	}
	switch {
	case !(f.P >= 0 && f.P <= 1): // NaN too
		return fmt.Errorf("p %v is not a probability", f.P)
	case f.P == 0 && f.Target.Nth == 0:
		return errors.New("p is 0 and no nth is targeted: the fault would never fire")
	case f.Copies < 0 || f.Copies > MaxCopies:
		return fmt.Errorf("copies %d is not from 0 to %d", f.Copies, MaxCopies)
	case f.Target.Nth < 0:
		return fmt.Errorf("target nth %d is negative", f.Target.Nth)
	case f.Hold < 0 || f.Hold > MaxHold:
		return fmt.Errorf("hold %d is not from 0 to %d requests", f.Hold, MaxHold)
	case f.Target.Until != 0 && f.Target.Until < f.Target.From:
		return fmt.Errorf("target until %v is before from %v", f.Target.Until, f.Target.From)
	}
	switch f.Corruption {
	case "", CorruptFrame, CorruptID, CorruptValue:
	default:
		return fmt.Errorf("unknown corruption %q (want frame, id or value)", f.Corruption)
	}
	if err := f.Target.validate(); err != nil {
		return err
	}
	if err := f.unused(); err != nil {
		return err
	}
	if f.Kind == Delay {
		return f.Delay.validate()
	}
	return nil
}

// MaxCopies bounds a duplicate fault's extra copies, MaxDelay a delay
// and MaxHold a hold in requests: beyond them a plan asks for a flood or
// for a run of years, not for a test.
const (
	MaxCopies = 100
	MaxDelay  = time.Hour
	MaxHold   = 4096
)

func (d *Dist) validate() error {
	switch {
	case max(d.Min, d.Max, d.Mean, d.Cap) > MaxDelay:
		return fmt.Errorf("a delay is at most %v", MaxDelay)
	case d.Kind == Fixed && d.Min <= 0:
		return errors.New("a fixed delay needs min > 0")
	case d.Kind == Uniform && (d.Min < 0 || d.Max <= d.Min):
		return errors.New("a uniform delay needs 0 <= min < max")
	case d.Kind == Exponential && (d.Mean <= 0 || d.Cap < 0):
		return errors.New("an exponential delay needs mean > 0 and cap >= 0")
	case d.Kind != Fixed && d.Kind != Uniform && d.Kind != Exponential:
		return fmt.Errorf("unknown delay kind %q (want fixed, uniform or exponential)", d.Kind)
	}
	return nil
}

func (t *Target) validate() error {
	if _, ok := shm.ParseMethod(t.Method); t.Method != "" && !ok {
		return fmt.Errorf("target method %q is not a method (want get, set, delete, cas, add, len or keys)", t.Method)
	}
	return nil
}

// unused reports a parameter set on a fault of a kind that ignores it.
func (f *MessageFault) unused() error {
	switch {
	case f.Kind != Delay && f.Delay != (Dist{}):
		return fmt.Errorf("delay is set on a %s fault, which has none", f.Kind)
	case f.Kind != Duplicate && f.Copies != 0:
		return fmt.Errorf("copies is set on a %s fault, which makes none", f.Kind)
	case f.Kind != Corrupt && f.Corruption != "":
		return fmt.Errorf("corruption is set on a %s fault, which corrupts nothing", f.Kind)
	case f.Hold != 0 && f.Kind != Reorder && f.Kind != Duplicate:
		return fmt.Errorf("hold is set on a %s fault, which holds nothing back (want reorder or duplicate)", f.Kind)
	}
	return nil
}
