package faultinject_test

import (
	"sync/atomic"
	"testing"
	"time"

	fi "github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/internal/pipe"
	"github.com/shmlab/shmlab/shm"
)

// BenchmarkWrappedRoundTrip measures the pipelined get round trip between
// a client and a master over a socket pair (compact codec, 64 calls in
// flight), bare and with the master's side wrapped by Messages with an
// empty plan. The wrapper should cost almost nothing: compare the medians
// of -count 5.
func BenchmarkWrappedRoundTrip(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchRoundTrip(b, false) })
	b.Run("wrapped", func(b *testing.B) { benchRoundTrip(b, true) })
}

func benchRoundTrip(b *testing.B, wrap bool) {
	masterEnd, workerEnd, err := pipe.ConnPair()
	if err != nil {
		b.Fatal(err)
	}
	m := shm.NewMaster(shm.MasterOptions{})
	m.Set("k", shm.Value(`"value"`))
	mc := shm.NewStreamConn(masterEnd, shm.StreamOptions{AcceptCompact: true})
	if wrap {
		mc = fi.Messages(mc, "w1", fi.NewDecider(&fi.Plan{Seed: 1}), &fi.Log{}, fi.ConnOptions{})
	}
	served := make(chan error, 1)
	go func() { served <- m.Serve(mc, shm.Identity{Worker: 1, Inc: 1}) }()
	c := shm.NewClient(shm.NewStreamConn(workerEnd, shm.StreamOptions{Compact: true}), shm.ClientOptions{Timeout: time.Minute})
	defer func() {
		c.Close()
		<-served
	}()
	pipelinedGets(b, c, 64)
}

// pipelinedGets makes b.N gets of "k", keeping depth in flight: each
// reply's callback makes the next call.
func pipelinedGets(b *testing.B, c *shm.Client, depth int) {
	var issued, failed atomic.Int64
	done := make(chan struct{}, depth)
	reqs := make([]shm.Message, depth)
	var next func(i int)
	next = func(i int) {
		if issued.Add(1) > int64(b.N) {
			done <- struct{}{}
			return
		}
		reqs[i] = shm.Message{Method: shm.MethodGet, Key: []byte("k"), Has: shm.HasKey}
		c.Go(&reqs[i], func(_ shm.Message, err error) {
			if err != nil {
				failed.Add(1)
			}
			next(i)
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range depth {
		next(i)
	}
	for range depth {
		<-done
	}
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d calls failed", n)
	}
}

// BenchmarkQuietWrapper measures what the wrapper adds to one Recv and
// one Send of a 16-message batch when no fault can fire, against an
// in-memory connection: the whole of its cost, without the noise of
// sockets and scheduling.
func BenchmarkQuietWrapper(b *testing.B) {
	batch := make([]shm.Message, 16)
	for i := range batch {
		batch[i] = msgGet(uint64(i+1), "k")
	}
	for _, wrap := range []bool{false, true} {
		name := map[bool]string{false: "bare", true: "wrapped"}[wrap]
		b.Run(name, func(b *testing.B) {
			var c shm.Conn = &msgMemConn{batch: batch}
			if wrap {
				c = fi.Messages(c, "w1", fi.NewDecider(&fi.Plan{Seed: 1}), &fi.Log{}, fi.ConnOptions{})
			}
			in := make([]shm.Message, len(batch))
			b.ReportAllocs()
			for b.Loop() {
				n, _ := c.Recv(in)
				c.Send(in[:n])
			}
		})
	}
}

// BenchmarkDecide: one message's decision on a link under five faults
// that each hit 0.2% of messages, as the simulator makes them (a
// LinkDecider deciding in place).
func BenchmarkDecide(b *testing.B) {
	p := &fi.Plan{Seed: 1, Messages: []fi.MessageFault{
		{Kind: fi.Drop, P: 0.002}, {Kind: fi.Duplicate, P: 0.002},
		{Kind: fi.Delay, P: 0.002, Delay: fi.Dist{Kind: fi.Uniform, Min: time.Millisecond, Max: 300 * time.Millisecond}},
		{Kind: fi.Reorder, P: 0.002}, {Kind: fi.Corrupt, P: 0.001, Corruption: fi.CorruptFrame},
	}}
	l := fi.Link{Worker: "w1", Dir: fi.Requests}
	ld := fi.NewDecider(p).On(l)
	log := &fi.Log{}
	m := shm.Request(shm.MethodSet, 1, "k")
	info := fi.MessageInfo(&m)
	hit := 0
	var dec fi.Decision
	for i := 0; b.Loop(); i++ {
		if ld.DecideMessage(log, &info, &m, 0, 1, &dec) {
			hit++
		}
		if i%4096 == 0 {
			log = &fi.Log{} // as a run's log: not one that grows for ever
		}
	}
	b.ReportMetric(float64(hit)/float64(b.N), "hit/msg")
}
