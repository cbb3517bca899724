package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/shmlab/shmlab/internal/pipe"
	"github.com/shmlab/shmlab/shm"
)

const (
	floorWorkerName = "shmlab-bench-floor"
	refWorkerName   = "shmlab-bench-ref"
)

func init() {
	shm.HandleRaw(floorWorkerName, floorWorker)
	shm.Handle(refWorkerName, refWorker)
}

// frames are the exact bytes the reference would send for one set and one
// get, and receive in reply: the floor moves the same bytes.
type frames struct {
	set, get, setReply, getReply []byte
}

func makeFrames(worker int64, value int, compact bool) frames {
	key := []byte(keyFor(worker, 0))
	seq := uint64(1_000_000) // a typical seven-digit request id
	set := shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Worker: worker, Inc: 1, Seq: seq, Key: key,
		Value: makeValue(value), Has: shm.HasWorker | shm.HasInc | shm.HasSeq | shm.HasKey | shm.HasValue}
	get := set
	get.Method, get.Value, get.Has = shm.MethodGet, nil, get.Has&^shm.HasValue
	setRep := shm.Message{Kind: shm.KindReply, Seq: seq, Value: shm.Value(`"OK"`), Has: shm.HasSeq | shm.HasValue}
	getRep := setRep
	getRep.Value = makeValue(value)
	enc := shm.AppendFrame
	if compact {
		enc = shm.AppendCompact
	}
	set.Has |= shm.HasAck
	set.Ack = seq
	get.Has |= shm.HasAck
	get.Ack = seq
	return frames{set: enc(nil, &set), get: enc(nil, &get), setReply: enc(nil, &setRep), getReply: enc(nil, &getRep)}
}

// floorServe is the master's end of the floor: it answers each frame with
// the reply the reference would send, alternating set and get as the
// worker does, without decoding anything.
func floorServe(value int, compact bool) func(net.Conn) error {
	return func(c net.Conn) error {
		defer c.Close()
		f := makeFrames(0, value, compact)
		fc := frameCounter{compact: compact, skip: compact}
		buf := make([]byte, 256<<10)
		var out []byte
		var n uint64
		for {
			k, err := c.Read(buf)
			if err != nil {
				return nil
			}
			for range fc.feed(buf[:k]) {
				out = append(out, pick(n, f.setReply, f.getReply)...)
				n++
			}
			if _, err := c.Write(out); err != nil {
				return nil
			}
			out = out[:0]
		}
	}
}

func pick(n uint64, even, odd []byte) []byte {
	if n%2 == 0 {
		return even
	}
	return odd
}

// floorWorker keeps Inflight requests outstanding from one goroutine: the
// cheapest way to drive the socket, so the floor is a true floor.
func floorWorker(ctx context.Context, c net.Conn, args []string) error {
	p, err := parseParams(args)
	if err != nil {
		return err
	}
	f := makeFrames(shm.WorkerIdentity().Worker, p.Value, p.Compact)
	d := floorDriver{f: f, sent: make([]time.Time, p.Inflight), win: newWindow(p), hist: &Hist{}}
	d.fc.compact = p.Compact
	if p.Compact {
		d.out = append(d.out, shm.CompactHello+"\n"...)
	}
	if d.w, err = pipe.NewWriter(c); err != nil {
		return err
	}
	if err := d.run(c, p.Inflight); err != nil {
		return err
	}
	if os.Getenv("SHMLAB_BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "floor worker: reads %d writes %d replies %d\n", d.reads, d.writes, d.replied)
	}
	return writeReport(os.Stdout, d.ops, d.replied, d.win.span(), d.hist)
}

type floorDriver struct {
	f               frames
	sent            []time.Time
	win             *window
	hist            *Hist
	issued, replied uint64
	ops             uint64
	out             []byte
	reads, writes   uint64
	fc              frameCounter
	w               *pipe.Writer
}

func (d *floorDriver) run(c net.Conn, inflight int) error {
	now := time.Now()
	for range inflight {
		d.issue(now)
	}
	buf := make([]byte, 256<<10)
	for d.replied < d.issued {
		if len(d.out) > 0 {
			// Like the reference's reader, the floor never blocks on a
			// write: both ends stuck writing would never read again.
			d.writes++
			if err := d.w.Write(d.out); err != nil {
				return err
			}
			d.out = d.out[:0]
		}
		k, err := c.Read(buf)
		d.reads++
		if err != nil {
			return err
		}
		d.complete(d.fc.feed(buf[:k]))
	}
	return nil
}

func (d *floorDriver) issue(now time.Time) {
	d.sent[d.issued%uint64(len(d.sent))] = now
	d.out = append(d.out, pick(d.issued, d.f.set, d.f.get)...)
	d.issued++
}

func (d *floorDriver) complete(replies int) {
	now := time.Now()
	for range replies {
		sent := d.sent[d.replied%uint64(len(d.sent))]
		d.replied++
		if d.win.record(now) {
			d.ops++
			d.hist.Record(now.Sub(sent))
		}
		if d.win.open(now) {
			d.issue(now)
		}
	}
}
