package history

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
	"unicode/utf8"
)

// MaxLine is the longest line Read accepts.
const MaxLine = 64 << 20

// ParseError is a problem with one line of a history file.
type ParseError struct {
	Name  string // the file
	Line  int    // 1-based
	Field string // the field at fault, if one is
	Err   error
}

func (e *ParseError) Error() string {
	s := fmt.Sprintf("%s:%d: ", e.Name, e.Line)
	if e.Field != "" {
		s += fmt.Sprintf("field %q: ", e.Field)
	}
	return s + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadFile reads the history file at path.
func ReadFile(path string) (*History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(0)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return readStream(f, path, size)
}

// Read reads a history from r; name is used in errors. A damaged history
// is rejected whole: the error names the line and field at fault. The
// text is read a chunk at a time, each chunk in pieces side by side, and
// not kept: values are copied together, in chunks of their own.
func Read(r io.Reader, name string) (*History, error) {
	return readStream(r, name, 0)
}

// parse reads a history from data.
func parse(data []byte, name string) (*History, error) {
	return readStream(bytes.NewReader(data), name, int64(len(data)))
}

// chunkSize is how much text the reader holds at once, at least (a
// variable for tests); a longer line makes it grow, up to MaxLine.
var chunkSize = 16 << 20

// reader reads a history a chunk at a time.
type reader struct {
	h    *History
	size int64 // the file's size if known, to size h.Ops
	ids  idSet
	// decoders, one per piece of a chunk, kept from chunk to chunk.
	decoders []lineDecoder
	line     int // the number of the chunk's first line
}

// readStream reads a history from r, whose size is size (0: unknown).
func readStream(r io.Reader, name string, size int64) (*History, error) {
	rd := &reader{h: &History{Name: name}, size: size, line: 1, decoders: make([]lineDecoder, runtime.GOMAXPROCS(0))}
	rd.ids.limit = 1 << 22
	if size > 0 {
		rd.ids.limit = size/16 + 4096 // ids up to 4 times the operations a file of this size can hold
	}
	bufSize := int64(chunkSize)
	if size > 0 && size < bufSize {
		bufSize = size + 1
	}
	buf := make([]byte, 0, bufSize)
	first := true
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		data, rest := buf, buf[len(buf):]
		if !eof {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 && cap(buf) <= MaxLine {
				buf = slices.Grow(buf, cap(buf)) // a line longer than the buffer
				continue
			}
			if i >= 0 {
				data, rest = buf[:i+1], buf[i+1:]
			} // else a line past MaxLine: parsing it says so
		}
		if first {
			data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark, as some editors write
		}
		if first || len(data) > 0 {
			if err := rd.chunk(data, first); err != nil {
				return nil, err
			}
		}
		first = false
		if eof {
			break
		}
		buf = buf[:copy(buf, rest)]
	}
	if err := rd.h.validate(&rd.ids); err != nil {
		return nil, err
	}
	return rd.h, nil
}

// chunk reads the lines of data, in pieces side by side, into the
// history; only the first chunk may hold the header.
func (rd *reader) chunk(data []byte, first bool) error {
	pieces := split(data, len(rd.decoders), pieceMin)
	total := 0
	for i := range pieces {
		total += pieces[i].lines
	}
	h := rd.h
	if h.Ops == nil && rd.size > 0 && len(data) > 0 {
		// Sized for the whole file, from the length of this chunk's lines.
		h.Ops = make([]Op, 0, int(rd.size*int64(total)/int64(len(data)))*21/20+16)
	}
	base := len(h.Ops)
	h.Ops = slices.Grow(h.Ops, total)[:base+total]
	all := h.Ops[base:]
	var wg sync.WaitGroup
	off := 0
	for i := range pieces {
		p := &pieces[i]
		p.h = &History{Name: h.Name, Ops: all[off : off : off+p.lines]}
		p.first = rd.line
		p.d = &rd.decoders[i]
		off, rd.line = off+p.lines, rd.line+p.lines
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.err = p.parse(first && i == 0)
		}()
	}
	wg.Wait()
	return rd.join(pieces, base)
}

// pieceMin is the least a piece of a file read at once holds (a variable
// for tests).
var pieceMin = 1 << 20

// piece is a part of a history file, read on its own.
type piece struct {
	data  []byte
	lines int // lines it holds (the last may lack its newline)
	first int // the number of its first line
	h     *History
	d     *lineDecoder
	err   error
}

// split cuts data at line ends into at most n pieces of at least min
// bytes.
func split(data []byte, n, min int) []piece {
	var ps []piece
	for len(data) > 0 {
		cut := len(data)
		if len(ps) < n-1 && len(data) >= 2*min {
			size := max(min, len(data)/(n-len(ps)))
			if i := bytes.IndexByte(data[size:], '\n'); i >= 0 {
				cut = size + i + 1
			}
		}
		p := piece{data: data[:cut], lines: bytes.Count(data[:cut], []byte{'\n'})}
		if cut > 0 && data[cut-1] != '\n' {
			p.lines++
		}
		ps = append(ps, p)
		data = data[cut:]
	}
	if len(ps) == 0 {
		ps = append(ps, piece{})
	}
	return ps
}

// parse reads the piece's lines; only the first piece may hold the header.
func (p *piece) parse(first bool) error {
	sawHeader := !first
	data := p.data
	for n := p.first; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) > MaxLine {
			return &ParseError{Name: p.h.Name, Line: n, Err: fmt.Errorf("line longer than %d bytes", MaxLine)}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return &ParseError{Name: p.h.Name, Line: n, Err: errors.New("empty line")}
		}
		if err := p.d.decode(p.h, line, n, &sawHeader); err != nil {
			return err
		}
	}
	if !sawHeader {
		return &ParseError{Name: p.h.Name, Line: 1, Err: errors.New("no header line: not a history, or an empty file")}
	}
	return nil
}

// join adds the pieces read to the history, from base in its
// operations: the first error in the file's order, operation ids unique
// across the file.
func (rd *reader) join(pieces []piece, base int) error {
	h := rd.h
	n := base
	for i := range pieces {
		p := &pieces[i]
		for j := range p.h.Ops {
			op := &p.h.Ops[j]
			if prev := rd.ids.add(op.ID, op.Line); prev != 0 {
				return &ParseError{Name: h.Name, Line: op.Line, Field: "id", Err: fmt.Errorf("%d is already the id of line %d", op.ID, prev)}
			}
		}
		if p.err != nil {
			return p.err
		}
		if p.h.Header.Format != "" {
			h.Header = p.h.Header
		}
		n += copy(h.Ops[n:], p.h.Ops)
		h.Events = append(h.Events, p.h.Events...)
	}
	h.Ops = h.Ops[:n]
	return nil
}

// lineDecoder decodes lines into a history. The reader checks that
// operation ids are unique, across the pieces.
type lineDecoder struct {
	sc   lineScanner
	vals valueArena
}

// idSet remembers the line of each operation id: in a slice for the
// small ids harnesses usually write, in a map for the others.
type idSet struct {
	limit int64 // ids below it go in small
	small []int
	large map[int64]int
}

// has reports whether id was added.
func (s *idSet) has(id int64) bool {
	if id < int64(len(s.small)) {
		return id >= 0 && s.small[id] != 0
	}
	_, ok := s.large[id]
	return ok
}

// add records that id is on line n, and returns the line that already
// had it, or 0.
func (s *idSet) add(id int64, n int) int {
	if id < s.limit {
		for int64(len(s.small)) <= id {
			s.small = append(s.small, make([]int, max(len(s.small), 1024))...)
		}
		prev := s.small[id]
		if prev == 0 {
			s.small[id] = n
		}
		return prev
	}
	if prev, ok := s.large[id]; ok {
		return prev
	}
	if s.large == nil {
		s.large = make(map[int64]int)
	}
	s.large[id] = n
	return 0
}

func (d *lineDecoder) decode(h *History, b []byte, n int, sawHeader *bool) error {
	var l line
	if d.sc.intern == nil {
		d.sc.intern = make(map[string]string)
	}
	if err := d.sc.parse(b, &l); err != nil {
		se := err.(*scanError)
		return &ParseError{Name: h.Name, Line: n, Field: se.field, Err: se.err}
	}
	perr := func(field string, format string, args ...any) error {
		return &ParseError{Name: h.Name, Line: n, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if !*sawHeader && l.Type != "header" {
		return perr("type", "the first line must be the header, not %q", l.Type)
	}
	var allowed field
	switch l.Type {
	case "header":
		allowed = headerFields
	case "op":
		allowed = opFields
	case "event":
		allowed = eventFields
	case "":
		return perr("type", "missing")
	default:
		return perr("type", "unknown line type %q (want header, op or event)", l.Type)
	}
	if extra := l.has &^ allowed; extra != 0 {
		return perr(extra.name(), "not a member of %s line", article(l.Type))
	}
	switch l.Type {
	case "header":
		if *sawHeader {
			return perr("type", "a second header")
		}
		*sawHeader = true
		return d.header(h, &l, perr)
	case "op":
		return d.op(h, &l, n, perr)
	}
	return d.event(h, &l, n, perr)
}

type perrFunc func(field string, format string, args ...any) error

func (d *lineDecoder) header(h *History, l *line, perr perrFunc) error {
	switch {
	case l.has&fFormat == 0:
		return perr("format", "missing")
	case l.Format != FormatName:
		return perr("format", "%q is not %q", l.Format, FormatName)
	case l.has&fVersion == 0:
		return perr("version", "missing")
	case l.Version != FormatVersion:
		return perr("version", "version %d is not supported (this shmlab reads version %d)", l.Version, FormatVersion)
	case l.has&fModel == 0:
		return perr("model", "missing")
	case !l.Model.Valid():
		return perr("model", "unknown model %q (want %s)", l.Model, Models)
	}
	h.Header = Header{Format: l.Format, Version: l.Version, Model: l.Model, Meta: bytes.Clone(l.Meta), Scenario: l.Scenario, Seed: l.Seed, Store: l.Store, DedupWindow: l.DedupWindow, Calls: l.Calls}
	if l.has&fFaults != 0 {
		n := l.Faults
		h.Header.Faults = &n
	}
	if l.Calls != nil {
		if err := l.Calls.validate(); err != nil {
			return perr("calls", "%v", err)
		}
	}
	return nil
}

func (d *lineDecoder) op(h *History, l *line, n int, perr perrFunc) error {
	// The operation is built in place: one built aside would be moved
	// to the heap, one allocation per line.
	h.Ops = append(h.Ops, Op{})
	if err := d.fill(&h.Ops[len(h.Ops)-1], l, n, perr); err != nil {
		h.Ops = h.Ops[:len(h.Ops)-1]
		return err
	}
	return nil
}

// fill makes *op the operation of line l, numbered n, if it is one.
func (d *lineDecoder) fill(op *Op, l *line, n int, perr perrFunc) error {
	switch {
	case l.has&fID == 0:
		return perr("id", "missing")
	case l.ID < 1:
		return perr("id", "%d is not a positive integer", l.ID)
	case l.Worker == "":
		return perr("worker", "missing")
	case l.Stream < 0:
		return perr("stream", "negative")
	case l.has&fMethod == 0:
		return perr("method", "missing")
	case !validMethod(l.Method):
		return perr("method", "unknown method %q", l.Method)
	case l.has&fKey == 0 && l.Method.Keyed():
		return perr("key", "missing (%s acts on a key)", l.Method)
	case l.has&fCall == 0:
		return perr("call", "missing")
	case l.has&fStatus == 0:
		return perr("status", "missing")
	}
	*op = Op{ID: l.ID, Worker: l.Worker, Stream: l.Stream, Method: l.Method, Key: l.Key, Input: l.Input,
		Output: l.Output, Call: l.Call, Status: l.Status, Line: n}
	switch op.Status {
	case StatusOK, StatusFail:
		if l.has&fReturn == 0 {
			return perr("return", "missing (an operation with status %q has returned)", op.Status)
		}
		op.Return = l.Return
		if op.Return < op.Call {
			return perr("return", "return time %d before call time %d", op.Return, op.Call)
		}
	case StatusUnknown:
		if l.has&fReturn != 0 {
			op.Return = l.Return // when the worker gave up; checked as infinity
			if op.Return < op.Call {
				return perr("return", "return time %d before call time %d", op.Return, op.Call)
			}
		}
	default:
		return perr("status", "unknown status %q (want ok, fail or unknown)", op.Status)
	}
	if f, err := checkOpValues(op, l.inputHas); err != nil {
		return perr(f, "%v", err)
	}
	d.vals.intern(&op.Input.Value)
	d.vals.intern(&op.Input.Old)
	d.vals.intern(&op.Output.Value)
	return nil
}

// valueArena holds copies of the values a piece of a file read, in
// chunks, so that operations do not hold the text read, which can then
// go.
type valueArena struct{ chunk []byte }

// arenaChunk is the size of an arena's chunks; a value longer than a
// quarter of it is copied on its own.
const arenaChunk = 64 << 10

// intern makes *p a copy of its value in the arena (nil stays nil).
func (a *valueArena) intern(p *json.RawMessage) {
	v := *p
	switch {
	case v == nil:
		return
	case len(v) > arenaChunk/4:
		*p = bytes.Clone(v)
		return
	case len(a.chunk)+len(v) > cap(a.chunk):
		a.chunk = make([]byte, 0, arenaChunk)
	}
	n := len(a.chunk)
	a.chunk = append(a.chunk, v...)
	*p = a.chunk[n:len(a.chunk):len(a.chunk)]
}

func validMethod(m Method) bool {
	return m.Keyed() || m == Len || m == Keys
}

// checkOpValues checks op's input, whose members are has, and its output
// against its method, and compacts its values so that they compare as
// text.
func checkOpValues(op *Op, has uint8) (field string, err error) {
	if extra := has &^ inputAllowed(op.Method); extra != 0 {
		name := inputNames[bits.TrailingZeros8(extra)]
		return "input." + name, fmt.Errorf("%s takes no %s", article(string(op.Method)), name)
	}
	for _, v := range []struct {
		name string
		p    *json.RawMessage
	}{{"input.value", &op.Input.Value}, {"input.old", &op.Input.Old}, {"output.value", &op.Output.Value}} {
		if err := compactValue(v.p); err != nil {
			return v.name, err
		}
	}
	in, out := &op.Input, &op.Output
	switch op.Method {
	case Set, CAS:
		if has&inValue == 0 {
			return "input.value", fmt.Errorf("missing (%s stores a value)", op.Method)
		}
		if in.TTL < 0 {
			return "input.ttl", errors.New("negative")
		}
	case Append:
		if has&inValue == 0 || in.Value[0] != '"' {
			return "input.value", fmt.Errorf("append appends a JSON string, not %s", orAbsent(in.Value))
		}
	}
	if op.Status != StatusOK {
		if out.Value != nil {
			return "output.value", fmt.Errorf("an operation with status %q has no value", op.Status)
		}
		return "", nil
	}
	if out.Error != nil {
		return "output.error", errors.New("an operation with status \"ok\" has no error")
	}
	// An ok answer its method cannot give (a delete's 17) is what was
	// answered: the checker reports it (HISTORY.md, "What is checked").
	return "", nil
}

func orAbsent(v json.RawMessage) string {
	if v == nil {
		return "nothing"
	}
	return string(v)
}

// compactValue removes insignificant white space from *p.
func compactValue(p *json.RawMessage) error {
	v := *p
	if v == nil {
		return nil
	}
	if !bytes.ContainsAny(v, " \t\r\n") {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return err
	}
	*p = b.Bytes()
	return nil
}

func (d *lineDecoder) event(h *History, l *line, n int, perr perrFunc) error {
	if l.has&fKind == 0 {
		return perr("kind", "missing")
	}
	if l.has&fTime == 0 {
		return perr("time", "missing")
	}
	e := Event{Kind: l.Kind, Time: l.Time, Worker: l.Worker, Link: l.Link, Fault: l.Fault, Text: l.Text, Op: l.Op,
		Exit: l.Exit, Stderr: l.Stderr, Line: n}
	switch e.Kind {
	case EventFault, EventKill, EventRestart, EventPause, EventResume, EventMasterKill, EventMasterRestart, EventNote, EventCrash, EventPoison:
	case EventLateReply:
		if l.has&fOp == 0 {
			return perr("op", "missing (a late_reply names the operation it answers)")
		}
	default:
		return perr("kind", "unknown event kind %q", e.Kind)
	}
	if l.has&fEnd != 0 {
		if l.End < e.Time {
			return perr("end", "end time %d before time %d", l.End, e.Time)
		}
		e.End = l.End
	}
	switch l.Truth {
	case TruthNone, TruthNotApplied, TruthApplied, TruthDuplicated, TruthDelayed:
		e.Truth = l.Truth
	default:
		return perr("truth", "unknown truth %q", l.Truth)
	}
	if e.Kind != EventCrash {
		for _, f := range []field{fExit, fStderr} {
			if l.has&f != 0 {
				return perr(f.name(), "only a crash has it, not a %s", e.Kind)
			}
		}
	}
	if l.has&fReset != 0 {
		if e.Kind != EventMasterRestart {
			return perr("reset", "only a master_restart resets the state, not a %s", e.Kind)
		}
		e.Reset = l.Reset
	}
	h.Events = append(h.Events, e)
	return nil
}

// validate checks what no single line shows: that each stream's
// operations follow one another, that an unknown operation ends its
// stream, and that events name operations that exist.
func (h *History) validate(ids *idSet) error {
	type sk struct {
		w string
		s int
	}
	streams := make(map[sk][]*Op)
	for i := range h.Ops {
		op := &h.Ops[i]
		k := sk{op.Worker, op.Stream}
		streams[k] = append(streams[k], op)
	}
	var errs []*ParseError
	for _, ops := range streams {
		slices.SortStableFunc(ops, func(a, b *Op) int { return cmp.Compare(a.Call, b.Call) })
		for i := 1; i < len(ops); i++ {
			prev, op := ops[i-1], ops[i]
			switch {
			case prev.Status == StatusUnknown:
				errs = append(errs, &ParseError{Name: h.Name, Line: op.Line, Field: "stream",
					Err: fmt.Errorf("worker %s stream %d goes on after the unknown operation on line %d (a new stream must begin)", op.Worker, op.Stream, prev.Line)})
			case op.Call < prev.Return:
				errs = append(errs, &ParseError{Name: h.Name, Line: op.Line, Field: "call",
					Err: fmt.Errorf("worker %s stream %d calls at %d, before its operation on line %d returned at %d (a stream is sequential)", op.Worker, op.Stream, op.Call, prev.Line, prev.Return)})
			}
		}
	}
	for i := range h.Events {
		if e := &h.Events[i]; e.Op != 0 && !ids.has(e.Op) {
			errs = append(errs, &ParseError{Name: h.Name, Line: e.Line, Field: "op", Err: fmt.Errorf("no operation has id %d", e.Op)})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs[0]
}

// Validate checks a history built in memory as Read checks a file: each
// stream sequential, an unknown operation last in its stream, ids unique
// and positive, events naming operations that exist.
func (h *History) Validate() error {
	if err := h.Header.validate(); err != nil {
		return fmt.Errorf("%s: header: %w", h.Name, err)
	}
	ids := idSet{limit: 4*int64(len(h.Ops)) + 4096}
	for i := range h.Ops {
		op := &h.Ops[i]
		if err := op.validate(); err != nil {
			return fmt.Errorf("%s: operation %d (%s): %w", h.Name, i+1, op, err)
		}
		if prev := ids.add(op.ID, i+1); prev != 0 {
			return fmt.Errorf("%s: operations %d and %d have the same id %d", h.Name, prev, i+1, op.ID)
		}
	}
	return h.validate(&ids)
}

// validate checks a header built in memory.
func (hd *Header) validate() error {
	switch {
	case hd.Format != FormatName && hd.Format != "":
		return fmt.Errorf("format %q is not %q", hd.Format, FormatName)
	case hd.Version != FormatVersion && hd.Version != 0:
		return fmt.Errorf("version %d is not supported", hd.Version)
	case !hd.Model.Valid():
		return fmt.Errorf("unknown model %q (want %s)", hd.Model, Models)
	case hd.Faults != nil && *hd.Faults < 0:
		return fmt.Errorf("faults %d is negative", *hd.Faults)
	case hd.DedupWindow < 0:
		return fmt.Errorf("dedup_window %d is negative", hd.DedupWindow)
	case hd.Store != nil:
		if err := hd.Store.validate(); err != nil {
			return err
		}
	}
	if hd.Calls != nil {
		return hd.Calls.validate()
	}
	return nil
}

// validate checks one operation built in memory as the reader checks a
// line.
func (op *Op) validate() error {
	switch {
	case op.ID < 1:
		return errors.New("id is not a positive integer")
	case op.Worker == "" || !utf8.ValidString(op.Worker):
		return errors.New("the worker name is empty or not UTF-8")
	case !validMethod(op.Method):
		return fmt.Errorf("unknown method %q", op.Method)
	case !utf8.ValidString(op.Key):
		return errors.New("the key is not UTF-8")
	case op.Stream < 0:
		return errors.New("negative stream")
	case op.Status != StatusOK && op.Status != StatusFail && op.Status != StatusUnknown:
		return fmt.Errorf("unknown status %q", op.Status)
	case op.Status != StatusUnknown && op.Return < op.Call:
		return fmt.Errorf("return time %d before call time %d", op.Return, op.Call)
	}
	for _, v := range []json.RawMessage{op.Input.Value, op.Input.Old, op.Output.Value} {
		if v != nil && !json.Valid(v) {
			return fmt.Errorf("%q is not a JSON text", v)
		}
	}
	if f, err := checkOpValues(op, op.Input.members()); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	return nil
}

// members returns the members in would have written as JSON.
func (in *Input) members() uint8 {
	var has uint8
	for _, m := range []struct {
		set bool
		bit uint8
	}{{in.Value != nil, inValue}, {in.Old != nil, inOld}, {in.Delta != 0, inDelta}, {in.TTL != 0, inTTL}, {in.Incr != 0, inIncr}} {
		if m.set {
			has |= m.bit
		}
	}
	return has
}

// article puts "a" or "an" before a line type.
func article(t string) string {
	if t == "op" || t == "event" || t == "add" || t == "append" {
		return "an " + t
	}
	return "a " + t
}
