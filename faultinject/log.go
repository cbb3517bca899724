package faultinject

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/shmlab/shmlab/history"
)

// Decisions decides what happens to messages: a Decider from a plan's
// seed, or a Replay of a log.
type Decisions interface {
	Decide(l Link, m Message, elapsed time.Duration) Decision
}

// Record is one decision that changed something, with its ground truth.
type Record struct {
	// Time is when it was made, on the run's clock (history.Now).
	Time int64 `json:"time"`
	Link Link  `json:"link"`
	// N is the message's number on its link, from 1.
	N        int      `json:"n"`
	Msg      Message  `json:"msg"`
	Decision Decision `json:"decision"`
	// Truth is what the fault did to the operation, which the worker
	// cannot know.
	Truth history.Truth `json:"truth,omitempty"`
	// Bytes, if set, makes this the record of a byte fault (Plan.Streams):
	// N, Msg and Decision are zero, and a Replay skips it.
	Bytes *ByteRecord `json:"bytes,omitempty"`
	// Gen is the master generation it was made under (1 for the first
	// master, 0 if unknown), set by a harness whose master restarts.
	Gen int `json:"gen,omitempty"`
}

// Log keeps the decisions that changed something. It is safe for
// concurrent use.
type Log struct {
	mu      sync.Mutex
	records []Record
	// OnRecord, if set, sees each record as it is added (to journal it
	// as an event, say).
	OnRecord func(Record)
}

// Add logs r, working out the ground truth of a message decision (a
// byte fault's record brings its own).
func (l *Log) Add(r Record) {
	if r.Bytes == nil {
		r.Truth = truth(r.Link.Dir, &r.Decision)
	}
	l.mu.Lock()
	l.records = append(l.records, r)
	on := l.OnRecord
	l.mu.Unlock()
	if on != nil {
		on(r)
	}
}

// Records returns a copy of what was logged.
func (l *Log) Records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Record(nil), l.records...)
}

// truth says what a decision did to the request it concerns.
func truth(dir Direction, d *Decision) history.Truth {
	if dir == Requests {
		switch {
		case d.Drop, d.Discarded, d.Corruption == CorruptFrame:
			return history.TruthNotApplied
		case d.Copies > 0:
			return history.TruthDuplicated
		case d.Corruption != "":
			return history.TruthApplied
		}
		return history.TruthDelayed
	}
	switch {
	case d.Drop, d.Discarded, d.Corruption != "":
		return history.TruthApplied
	case d.Copies > 0:
		return history.TruthNone
	}
	return history.TruthDelayed
}

// Event turns r into a history event.
func (r *Record) Event() history.Event {
	if r.Bytes != nil {
		return r.Bytes.event(r)
	}
	return history.Event{
		Kind:   history.EventFault,
		Time:   r.Time,
		End:    r.Time + int64(r.Decision.Delay),
		Worker: r.Link.Worker,
		Link:   r.Link.String(),
		Fault:  r.Decision.name(),
		Truth:  r.Truth,
		Text:   r.text(),
	}
}

// text says which message a decision was about: "message 3 on
// w1>master: set "a", id 7". Built by hand: a simulator logs many.
func (r *Record) text() string {
	b := make([]byte, 0, 64)
	b = append(b, "message "...)
	b = strconv.AppendInt(b, int64(r.N), 10)
	b = append(b, " on "...)
	if r.Link.Dir == Replies {
		b = append(append(b, "master>"...), r.Link.Worker...)
	} else {
		b = append(append(b, r.Link.Worker...), ">master"...)
	}
	b = append(append(b, ": "...), r.Msg.Method...)
	b = strconv.AppendQuote(append(b, ' '), r.Msg.Key)
	b = strconv.AppendUint(append(b, ", id "...), r.Msg.Seq, 10)
	return string(b)
}

// name names what d did, faults joined by "+".
func (d *Decision) name() string {
	var s string
	add := func(on bool, n string) {
		if !on {
			return
		}
		if s != "" {
			s += "+"
		}
		s += n
	}
	add(d.Drop, string(Drop))
	add(d.Discarded, "discarded")
	add(d.Delay > 0, string(Delay))
	add(d.Copies > 0, string(Duplicate))
	add(d.Reorder, string(Reorder))
	add(d.Corruption != "", string(Corrupt)+"-"+string(d.Corruption))
	return s
}

// WriteLog writes records as JSON lines, for a replay.
func WriteLog(w io.Writer, records []Record) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range records {
		if err := enc.Encode(&records[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadLog reads what WriteLog wrote; name is used in errors.
func ReadLog(r io.Reader, name string) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Replay decides as a log says: the nth message on a link gets the
// decision logged for it, and every other message none. It repeats a
// failure of real processes whose timing differs from run to run.
type Replay struct {
	mu   sync.Mutex
	want map[Link]map[int]Decision
	n    map[Link]int
}

// NewReplay returns a Replay of the message decisions among records
// (byte faults' records are skipped: those come from the plan).
func NewReplay(records []Record) *Replay {
	r := &Replay{want: make(map[Link]map[int]Decision), n: make(map[Link]int)}
	for _, rec := range records {
		if rec.Bytes != nil {
			continue
		}
		if r.want[rec.Link] == nil {
			r.want[rec.Link] = make(map[int]Decision)
		}
		r.want[rec.Link][rec.N] = rec.Decision
	}
	return r
}

// Decide returns the logged decision for the next message on l.
func (r *Replay) Decide(l Link, _ Message, _ time.Duration) Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[l]++
	d := r.want[l][r.n[l]]
	d.N = r.n[l]
	return d
}
