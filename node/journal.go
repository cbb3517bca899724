package node

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/history"
)

// JournalVersion is the version of the journal format lib/journal.js
// writes and ReadJournal reads.
const JournalVersion = 1

// Journal is what one Node process's journal holds (lib/journal.js).
type Journal struct {
	// Role is "worker" or "primary".
	Role string
	// Worker, Gen and Inc name a worker process: its name, its master's
	// generation and its incarnation (Worker and Inc are empty for the
	// primary).
	Worker string
	Gen    int
	Inc    uint64
	// Contents are its calls (a call without a return is unknown) and
	// its events (fault decisions as fault events, notes), as
	// history.MergeJournalContents takes them. A last line torn
	// by a kill counts in Contents.Torn.
	Contents *history.JournalContents
	// Records are the fault decisions it logged, as Go's fault log
	// holds them.
	Records []faultinject.Record
}

// ErrJournal is wrapped by every error about a journal's contents.
var ErrJournal = errors.New("bad node journal")

type journalHead struct {
	T       string `json:"t"`
	Version int    `json:"version"`
	Role    string `json:"role"`
	Worker  string `json:"worker"`
	Gen     int    `json:"gen"`
	Inc     uint64 `json:"inc"`
	PID     int    `json:"pid"`
	Created int64  `json:"created"`
}

type journalCall struct {
	T      string         `json:"t"`
	ID     int64          `json:"id"`
	Method history.Method `json:"method"`
	Key    *string        `json:"key"`
	Input  *history.Input `json:"input"`
	Call   int64          `json:"call"`
}

type journalReturn struct {
	T      string          `json:"t"`
	ID     int64           `json:"id"`
	Status history.Status  `json:"status"`
	Output *history.Output `json:"output"`
	Return int64           `json:"return"`
}

type journalFault struct {
	T      string              `json:"t"`
	Record *faultinject.Record `json:"record"`
}

type journalLate struct {
	T    string `json:"t"`
	ID   int64  `json:"id"`
	Time int64  `json:"time"`
}

type journalNote struct {
	T    string `json:"t"`
	Time int64  `json:"time"`
	Text string `json:"text"`
}

// ReadJournal reads the Node journal at path strictly: a line that is
// not one JSON object of a known type with exactly its members, a return
// without its call, a time out of order, is an error naming path:line.
// Only the last line may be torn (no line end: its writer was killed in
// the middle of the write); it is skipped and counted.
func ReadJournal(path string) (*Journal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readJournal(f, path)
}

func readJournal(r io.Reader, path string) (*Journal, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	j := &Journal{Contents: &history.JournalContents{Path: path}}
	jr := journalReader{j: j, calls: make(map[int64]int)}
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 {
				j.Contents.Torn++ // a write cut by a kill
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if err := jr.line(n, line[:len(line)-1]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w: %w", path, n, ErrJournal, err)
		}
	}
	if j.Role == "" {
		return nil, fmt.Errorf("%s: %w: empty: no header line", path, ErrJournal)
	}
	return j, nil
}

type journalReader struct {
	j     *Journal
	calls map[int64]int // call id -> index in Contents.Ops, while it has no return
	seen  map[int64]bool
	last  int64 // the last time read
}

// line decodes line n.
func (r *journalReader) line(n int, b []byte) error {
	var probe struct {
		T string `json:"t"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	if n == 1 && probe.T != "journal" {
		return fmt.Errorf("first line has type %q, want the header (\"journal\")", probe.T)
	}
	switch probe.T {
	case "journal":
		if n != 1 {
			return errors.New("a second header")
		}
		return r.head(b)
	case "call":
		return r.call(b)
	case "return":
		return r.ret(b)
	case "fault":
		return r.fault(b)
	case "late":
		var l journalLate
		if err := strict(b, &l); err != nil {
			return err
		}
		if !r.seen[l.ID] {
			return fmt.Errorf("a late answer to call %d, which the journal does not hold", l.ID)
		}
		r.j.Contents.Events = append(r.j.Contents.Events, history.Event{Kind: history.EventLateReply, Time: l.Time,
			Worker: r.j.Worker, Op: l.ID, Text: "answered after its worker gave up on it"})
		return nil
	case "note":
		var l journalNote
		if err := strict(b, &l); err != nil {
			return err
		}
		r.j.Contents.Events = append(r.j.Contents.Events, history.Event{Kind: history.EventNote, Time: l.Time,
			Worker: r.j.Worker, Text: l.Text})
		return nil
	}
	return fmt.Errorf("unknown line type %q", probe.T)
}

// strict decodes b into v refusing unknown members.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

func (r *journalReader) head(b []byte) error {
	var h journalHead
	if err := strict(b, &h); err != nil {
		return err
	}
	switch {
	case h.Version != JournalVersion:
		return fmt.Errorf("version %d, want %d", h.Version, JournalVersion)
	case h.Role != "worker" && h.Role != "primary":
		return fmt.Errorf("role %q, want worker or primary", h.Role)
	case h.Role == "worker" && (h.Worker == "" || h.Inc == 0):
		return errors.New("a worker's header needs its worker name and incarnation")
	case h.Gen < 1 || h.PID <= 0 || h.Created <= 0:
		return fmt.Errorf("gen %d, pid %d, created %d: want each positive", h.Gen, h.PID, h.Created)
	}
	j := r.j
	j.Role, j.Worker, j.Gen, j.Inc = h.Role, h.Worker, h.Gen, h.Inc
	j.Contents.PID, j.Contents.Created = h.PID, h.Created
	r.last = h.Created
	return nil
}

// tick checks that time t does not go back.
func (r *journalReader) tick(what string, t int64) error {
	if t < r.last {
		return fmt.Errorf("%s time %d before the time %d of an earlier line", what, t, r.last)
	}
	r.last = t
	return nil
}

func (r *journalReader) call(b []byte) error {
	var c journalCall
	if err := strict(b, &c); err != nil {
		return err
	}
	if r.j.Role != "worker" {
		return errors.New("a call in the primary's journal")
	}
	switch c.Method {
	case history.Get, history.Set, history.Delete, history.CAS, history.Add:
	default:
		return fmt.Errorf("method %q: want get, set, delete, cas or add", c.Method)
	}
	switch {
	case c.ID <= 0:
		return fmt.Errorf("call id %d: want a positive integer", c.ID)
	case r.seen[c.ID]:
		return fmt.Errorf("a second call with id %d", c.ID)
	case c.Key == nil || c.Input == nil:
		return errors.New("a call needs its key and input")
	}
	if err := r.tick("call", c.Call); err != nil {
		return err
	}
	if r.seen == nil {
		r.seen = make(map[int64]bool)
	}
	r.seen[c.ID] = true
	r.calls[c.ID] = len(r.j.Contents.Ops)
	r.j.Contents.Ops = append(r.j.Contents.Ops, history.Op{ID: c.ID, Worker: r.j.Worker, Method: c.Method,
		Key: *c.Key, Input: *c.Input, Call: c.Call, Status: history.StatusUnknown})
	return nil
}

func (r *journalReader) ret(b []byte) error {
	var c journalReturn
	if err := strict(b, &c); err != nil {
		return err
	}
	i, ok := r.calls[c.ID]
	switch {
	case !ok && r.seen[c.ID]:
		return fmt.Errorf("a second return of call %d", c.ID)
	case !ok:
		return fmt.Errorf("a return of call %d, which the journal does not hold", c.ID)
	case c.Output == nil:
		return errors.New("a return needs its output")
	}
	switch c.Status {
	case history.StatusOK, history.StatusFail, history.StatusUnknown:
	default:
		return fmt.Errorf("status %q: want ok, fail or unknown", c.Status)
	}
	if c.Status == history.StatusUnknown && c.Output.Value != nil {
		return errors.New("an unknown return with a value")
	}
	if err := r.tick("return", c.Return); err != nil {
		return err
	}
	delete(r.calls, c.ID)
	op := &r.j.Contents.Ops[i]
	op.Status, op.Output, op.Return = c.Status, *c.Output, c.Return
	return nil
}

func (r *journalReader) fault(b []byte) error {
	var l journalFault
	if err := strict(b, &l); err != nil {
		return err
	}
	if l.Record == nil {
		return errors.New("a fault line needs its record")
	}
	rec := *l.Record
	if rec.Link.Worker == "" || (rec.Link.Dir != faultinject.Requests && rec.Link.Dir != faultinject.Replies) || rec.N < 1 {
		return fmt.Errorf("fault record on link %+v, message %d: want a worker, a direction and a message number", rec.Link, rec.N)
	}
	rec.Gen = r.j.Gen
	r.j.Records = append(r.j.Records, rec)
	r.j.Contents.Events = append(r.j.Contents.Events, rec.Event())
	return nil
}
