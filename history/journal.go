package history

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// DefaultJournalCapacity is the size of a journal file when CreateJournal
// is given none. The file is sparse: only what is written takes room.
const DefaultJournalCapacity = 256 << 20

// Journal is a file one process records into, so that what it recorded
// survives its death: a worker gives its Recorder a journal, and after the
// run the harness merges the journals of all workers into one history
// (MergeJournals), the journals of workers that were killed included.
//
// The file is created at its full capacity, sparse, and mapped shared
// into memory, so that a record costs no system call (a write(2) per
// record would cost more than the whole record does), and a goroutine
// faults its pages in ahead of the writers. The writer reserves
// room with an atomic add on the tail kept in the file's header (no lock:
// writers never wait for each other), writes the record's body and
// checksum, and publishes the record last, with one atomic store of its
// first word (a magic number and the body's length). A store that
// completed is in the page cache, which outlives the process: a SIGKILL
// loses nothing that was recorded, and a record it tears (reserved, not
// yet published) shows no magic, or a wrong checksum, and is skipped. The
// bodies are JSON texts, which never hold the byte 0xFE that the magic
// numbers hold, so a reader that lost its place finds the next record by
// its magic, and the checksum (CRC-32C) makes a false find as good as
// impossible. The journal does not survive the machine's crash: nothing
// is written to disk before the kernel chooses to.
//
// A journal that is full counts the records it cannot hold as lost; a
// merge of it fails rather than give a history with operations missing.
// A file system that runs out of room while the journal fills its sparse
// file kills the process with SIGBUS: give journals room for their
// capacity.
//
// A Journal is safe for concurrent use. It serves one Recorder.
type Journal struct {
	path     string
	f        *os.File
	attached atomic.Bool
	closed   atomic.Bool

	mu   sync.Mutex // held by Close and Lost, not by writers
	mem  []byte     // nil once closed
	lost int64      // once closed

	// The prefaulter (see prefault) is woken by writers that cross into
	// a new window, told to stop by quit, and closes done when it has.
	wake, quit, done chan struct{}
}

// prefaultWindow is how far ahead of the tail the prefaulter keeps the
// file's pages faulted in: one to two windows.
const prefaultWindow = 1 << 20

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which faults
// pages in as a write would, without writing.
const madvPopulateWrite = 23

// prefault keeps the pages ahead of the tail faulted in, so that writers
// seldom take a page fault: the first write to a page of a sparse file
// costs a few microseconds, ten or more times what a record does, and
// here it is paid on another goroutine, a window at a time. It makes one
// system call per window, and none at all if the kernel is too old to
// know MADV_POPULATE_WRITE: the writers then take the faults.
func (j *Journal) prefault() {
	defer close(j.done)
	var ready uint64 // pages below are faulted in, or behind the tail
	for {
		tail := atomic.LoadUint64(j.word(offTail))
		want := min((tail/prefaultWindow+2)*prefaultWindow, uint64(len(j.mem)))
		if lo := max(ready, tail&^4095); lo < want {
			if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(unsafe.Pointer(&j.mem[lo])), uintptr(want-lo), madvPopulateWrite); errno != 0 {
				return
			}
		}
		ready = max(ready, want)
		select {
		case <-j.wake:
		case <-j.quit:
			return
		}
	}
}

// The file begins with a header of journalHeaderSize bytes: the magic
// fileMagic, then little-endian fields at the offsets below. Records
// follow, each at an offset that is a multiple of 8.
const (
	fileMagic         = "\xfeshmlabj"
	journalVersion    = 1
	journalHeaderSize = 64

	offVersion    = 8  // uint32: journalVersion
	offHeaderSize = 12 // uint32: journalHeaderSize
	offCapacity   = 16 // uint64: the file's size when created
	offTail       = 24 // uint64: the end of the space reserved for records
	offLost       = 32 // uint64: how many records did not fit
	offCreated    = 40 // int64: Now when the journal was created
	offPID        = 48 // uint64: the process that created it
)

// A record is a header of recordHeaderSize bytes, then its body, then
// zeros up to a multiple of 8. The header's first word, stored last,
// holds recordMagic (low half) and the body's length (high half); the
// second holds the CRC-32C of the body and the kind (low half), and the
// kind (high half).
const (
	recordMagic      = 0xfe4a52fe // "\xfeRJ\xfe" in the file
	recordHeaderSize = 16

	kindCall   = 1 // body: the op as AppendOp writes it, ID its Pending ID
	kindReturn = 2 // body: a returnRecord
	kindEvent  = 3 // body: the event as AppendEvent writes it
)

var (
	journalCRC  = crc32.MakeTable(crc32.Castagnoli)
	recordKinds = []byte{0, kindCall, kindReturn, kindEvent}
)

// recordChecksum returns the checksum of a record of kind with body.
func recordChecksum(kind uint32, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(body, journalCRC), journalCRC, recordKinds[kind:kind+1])
}

// CreateJournal creates a journal file at path, which must not exist,
// holding up to capacity bytes (DefaultJournalCapacity if capacity is 0).
func CreateJournal(path string, capacity int64) (*Journal, error) {
	if capacity == 0 {
		capacity = DefaultJournalCapacity
	}
	const most = 1 << 40
	if capacity < journalHeaderSize+recordHeaderSize || capacity > most {
		return nil, fmt.Errorf("create journal %s: capacity %d is not between %d and %d bytes", path, capacity, journalHeaderSize+recordHeaderSize, int64(most))
	}
	capacity = (capacity + 7) &^ 7
	// The file is made under another name and linked into place once its
	// header is written, so that a process killed while creating it
	// leaves no journal at path rather than one that is not a journal.
	tmp := path + ".creating"
	if _, err := os.Lstat(path); err == nil {
		return nil, &os.PathError{Op: "create journal", Path: path, Err: os.ErrExist}
	}
	os.Remove(tmp) // left by a creator that was killed
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Journal, error) {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := f.Truncate(capacity); err != nil {
		return fail(err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(capacity), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fail(&os.PathError{Op: "mmap", Path: path, Err: err})
	}
	le := binary.LittleEndian
	le.PutUint32(mem[offVersion:], journalVersion)
	le.PutUint32(mem[offHeaderSize:], journalHeaderSize)
	le.PutUint64(mem[offCapacity:], uint64(capacity))
	le.PutUint64(mem[offTail:], journalHeaderSize)
	le.PutUint64(mem[offCreated:], uint64(Now()))
	le.PutUint64(mem[offPID:], uint64(os.Getpid()))
	copy(mem, fileMagic)
	if err := os.Link(tmp, path); err != nil {
		syscall.Munmap(mem)
		return fail(err)
	}
	os.Remove(tmp)
	j := &Journal{path: path, f: f, mem: mem, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go j.prefault()
	return j, nil
}

// attach reports whether j was free and open, and makes it taken.
func (j *Journal) attach() bool {
	return !j.closed.Load() && j.attached.CompareAndSwap(false, true)
}

// word returns the header word at off, for atomic use.
func (j *Journal) word(off int) *uint64 { return (*uint64)(unsafe.Pointer(&j.mem[off])) }

// Lost returns how many records did not fit in the journal.
func (j *Journal) Lost() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mem == nil {
		return j.lost
	}
	return int64(atomic.LoadUint64(j.word(offLost)))
}

// Close stops the journal's goroutine, unmaps the journal and truncates
// the file to the records it holds. It must not be called while records
// are being written: close a journal after its recorder's last use.
// Records written after Close panic.
func (j *Journal) Close() error {
	if !j.closed.CompareAndSwap(false, true) {
		return &os.PathError{Op: "close", Path: j.path, Err: os.ErrClosed}
	}
	close(j.quit)
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	used := min(atomic.LoadUint64(j.word(offTail)), uint64(len(j.mem)))
	j.lost = int64(atomic.LoadUint64(j.word(offLost)))
	err := syscall.Munmap(j.mem)
	j.mem = nil
	if err != nil {
		err = &os.PathError{Op: "munmap", Path: j.path, Err: err}
	}
	if terr := j.f.Truncate(int64(used)); err == nil {
		err = terr
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// write appends a record of kind with body, or counts it lost.
func (j *Journal) write(kind uint32, body []byte) {
	if j.closed.Load() {
		panic("linearizability: a record written to the closed journal " + j.path)
	}
	size := uint64(recordHeaderSize+len(body)+7) &^ 7
	end := atomic.AddUint64(j.word(offTail), size)
	if end > uint64(len(j.mem)) || uint64(len(body)) > 1<<32-1 {
		atomic.AddUint64(j.word(offLost), 1)
		return
	}
	if (end-size)/prefaultWindow != end/prefaultWindow {
		select {
		case j.wake <- struct{}{}:
		default: // it is awake
		}
	}
	rec := j.mem[end-size : end]
	copy(rec[recordHeaderSize:], body)
	binary.LittleEndian.PutUint64(rec[8:], uint64(kind)<<32|uint64(recordChecksum(kind, body)))
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&rec[0])), uint64(len(body))<<32|recordMagic)
}

// writeCall writes p's call, encoding it in buf, and returns buf.
func (j *Journal) writeCall(buf []byte, p *Pending) []byte {
	op := Op{ID: p.ID(), Worker: p.s.worker, Stream: p.stream, Method: p.method, Key: p.key,
		Input: p.in, Call: p.call, Status: StatusUnknown}
	buf = AppendOp(buf[:0], &op)
	j.write(kindCall, buf)
	return buf
}

// returnRecord is the body of a return record.
type returnRecord struct {
	ID     int64  `json:"id"`
	Return int64  `json:"return"`
	Status Status `json:"status"`
	Output Output `json:"output"`
}

// writeReturn writes p's return, encoding it in buf, and returns buf.
func (j *Journal) writeReturn(buf []byte, p *Pending) []byte {
	b := append(buf[:0], `{"id":`...)
	b = strconv.AppendInt(b, p.ID(), 10)
	b = append(b, `,"return":`...)
	b = strconv.AppendInt(b, p.ret, 10)
	b = append(b, `,"status":`...)
	b = appendString(b, string(p.status))
	b = append(b, `,"output":`...)
	b = appendOutput(b, &p.out)
	b = append(b, '}')
	j.write(kindReturn, b)
	return b
}

// writeEvent writes e, encoding it in buf, and returns buf.
func (j *Journal) writeEvent(buf []byte, e *Event) []byte {
	buf = AppendEvent(buf[:0], e)
	j.write(kindEvent, buf)
	return buf
}

// JournalContents is what a journal file holds.
type JournalContents struct {
	// Path is the file's.
	Path string
	// PID is the process that created the journal, Created when (on
	// Now's clock), and Capacity its size then.
	PID      int
	Created  int64
	Capacity int64
	// Ops are the calls recorded, in the order they were written, each
	// with its return if one was recorded; a call without one is
	// StatusUnknown, with no Return. An op's ID is its Pending ID and its
	// Stream the recorder's own stream number: MergeJournals renumbers
	// both.
	Ops []Op
	// Events are the events recorded, in the order they were written.
	Events []Event
	// Torn counts the stretches of the file that held no valid record:
	// records torn by the death of their writer, or damage. They are
	// skipped.
	Torn int
	// Orphans counts the returns whose call was not found (damaged).
	Orphans int
	// Lost counts the records that did not fit: the journal was full.
	Lost int64
}

// ReadJournal reads the journal file at path. Damaged records are skipped
// and counted; a file that is not a journal, or whose header is damaged,
// is an error, as is a record whose checksum holds but whose body is not
// what the recorder writes.
func ReadJournal(path string) (*JournalContents, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, end, err := readJournalHeader(f, path)
	if err != nil {
		return nil, err
	}
	data := make([]byte, end-journalHeaderSize)
	if _, err := f.ReadAt(data, journalHeaderSize); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	r := journalReader{c: c, calls: make(map[int64]int)}
	for off := 0; off < len(data); {
		kind, body, size := recordAt(data, off)
		if size == 0 {
			c.Torn++
			for off += 8; off < len(data) && !validRecord(data, off); off += 8 {
			}
			continue
		}
		if err := r.record(kind, body); err != nil {
			return nil, fmt.Errorf("read journal %s: record at offset %d: %w", path, journalHeaderSize+off, err)
		}
		off += size
	}
	return c, nil
}

// readJournalHeader reads and checks the header of the journal f, and
// returns its contents so far and where its records end.
func readJournalHeader(f *os.File, path string) (c *JournalContents, end int64, err error) {
	var h [journalHeaderSize]byte
	if n, err := io.ReadFull(f, h[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("read journal %s: not a journal: %d bytes, shorter than a journal's header", path, n)
		}
		return nil, 0, fmt.Errorf("read journal %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("read journal %s: %w", path, err)
	}
	le := binary.LittleEndian
	capacity, tail := le.Uint64(h[offCapacity:]), le.Uint64(h[offTail:])
	bad := func(format string, args ...any) (*JournalContents, int64, error) {
		return nil, 0, fmt.Errorf("read journal %s: damaged header: "+format, append([]any{path}, args...)...)
	}
	switch {
	case string(h[:len(fileMagic)]) != fileMagic:
		return nil, 0, fmt.Errorf("read journal %s: not a journal (bad magic %q)", path, h[:len(fileMagic)])
	case le.Uint32(h[offVersion:]) != journalVersion:
		return bad("version %d is not %d", le.Uint32(h[offVersion:]), journalVersion)
	case le.Uint32(h[offHeaderSize:]) != journalHeaderSize:
		return bad("header size %d is not %d", le.Uint32(h[offHeaderSize:]), journalHeaderSize)
	case capacity < journalHeaderSize || capacity%8 != 0:
		return bad("capacity %d", capacity)
	case tail < journalHeaderSize || tail%8 != 0:
		return bad("tail %d", tail)
	}
	c = &JournalContents{Path: path, PID: int(le.Uint64(h[offPID:])), Created: int64(le.Uint64(h[offCreated:])),
		Capacity: int64(capacity), Lost: int64(le.Uint64(h[offLost:]))}
	end = int64(min(tail, capacity))
	if size := fi.Size(); end > size {
		// Cut short: what is missing is damage.
		c.Torn++
		end = max(size, journalHeaderSize) &^ 7
	}
	return c, end, nil
}

// recordAt returns the kind, body and size (with padding) of the record
// at off in data, or a zero size if there is no valid record there.
func recordAt(data []byte, off int) (kind uint32, body []byte, size int) {
	if len(data)-off < recordHeaderSize {
		return 0, nil, 0
	}
	le := binary.LittleEndian
	w0, w1 := le.Uint64(data[off:]), le.Uint64(data[off+8:])
	n := int(w0 >> 32)
	kind = uint32(w1 >> 32)
	if uint32(w0) != recordMagic || n > len(data)-off-recordHeaderSize || kind < kindCall || kind > kindEvent {
		return 0, nil, 0
	}
	body = data[off+recordHeaderSize : off+recordHeaderSize+n]
	if recordChecksum(kind, body) != uint32(w1) {
		return 0, nil, 0
	}
	return kind, body, min((recordHeaderSize+n+7)&^7, len(data)-off)
}

// validRecord reports whether a valid record is at off in data.
func validRecord(data []byte, off int) bool {
	_, _, size := recordAt(data, off)
	return size > 0
}

// journalReader decodes records into a JournalContents.
type journalReader struct {
	c     *JournalContents
	calls map[int64]int // Pending ID -> index in c.Ops
}

// record decodes one valid record.
func (r *journalReader) record(kind uint32, body []byte) error {
	c := r.c
	switch kind {
	case kindCall:
		var op Op
		if err := json.Unmarshal(body, &op); err != nil {
			return err
		}
		if _, dup := r.calls[op.ID]; dup {
			return fmt.Errorf("a second call with id %d", op.ID)
		}
		op.Status, op.Return, op.Output = StatusUnknown, 0, Output{}
		r.calls[op.ID] = len(c.Ops)
		c.Ops = append(c.Ops, op)
	case kindReturn:
		var ret returnRecord
		if err := json.Unmarshal(body, &ret); err != nil {
			return err
		}
		i, ok := r.calls[ret.ID]
		if !ok {
			c.Orphans++
			return nil
		}
		delete(r.calls, ret.ID) // a second return is an orphan
		op := &c.Ops[i]
		op.Return, op.Status, op.Output = ret.Return, ret.Status, ret.Output
	case kindEvent:
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		c.Events = append(c.Events, e)
	}
	return nil
}

// MergeJournals reads the journals at paths and merges them into one
// history under the header h (see MergeJournalContents).
func MergeJournals(h Header, paths ...string) (*History, error) {
	cs := make([]*JournalContents, len(paths))
	for i, p := range paths {
		c, err := ReadJournal(p)
		if err != nil {
			return nil, err
		}
		cs[i] = c
	}
	return MergeJournalContents(h, cs...)
}

// MergeJournalContents merges journals into one history under the header
// h. A call without a return is unknown. The operations are sorted by
// call time and numbered 1..n; the streams of each journal are given the
// next stream numbers of their worker in the order of their first calls,
// so that a worker restarted in a new process (a new journal, the same
// worker name) goes on as a new stream; events name operations by their
// new ids. A journal with damaged records adds a note event that counts
// them. A journal that lost records (it was full) is an error: the
// history would be missing operations.
func MergeJournalContents(h Header, cs ...*JournalContents) (*History, error) {
	srcs := make([]recording, len(cs))
	for i, c := range cs {
		if c.Lost > 0 {
			return nil, fmt.Errorf("merge journals: %s: %d records lost: the journal was full (capacity %d bytes)", c.Path, c.Lost, c.Capacity)
		}
		srcs[i] = recording{ops: c.Ops, events: c.Events}
		if c.Torn > 0 || c.Orphans > 0 {
			srcs[i].events = append(slices.Clip(c.Events), Event{Kind: EventNote, Time: c.Created,
				Text: fmt.Sprintf("journal %s: %d damaged stretches skipped (records torn by a kill, or damage), %d returns without their call", c.Path, c.Torn, c.Orphans)})
		}
	}
	return assembleHistory(h, srcs), nil
}
