package shm_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/shmlab/shmlab/shm"
)

func init() {
	// A worker body, run in a re-executed copy of the test binary (see
	// TestMain in main_test.go, which calls shm.Main).
	shm.Handle("example-plus-one", func(ctx context.Context, c *shm.Client, args []string) error {
		for range 10 {
			if _, err := c.Add(ctx, "visits", 1); err != nil {
				return err
			}
		}
		return nil
	})
}

// Fork two worker processes that each count ten visits with the atomic
// add (the article's plusOne, without its lost updates), then read the
// total from the master.
func ExampleMaster_Fork() {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	workers, err := m.Fork(2, shm.WorkerSpec{Name: "example-plus-one"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range workers {
		if err := w.Wait(); err != nil {
			fmt.Println("worker", w.ID, err)
		}
	}
	rep := m.Apply(&shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Key: []byte("visits"), Has: shm.HasKey | shm.HasSeq})
	fmt.Println("visits:", rep.Value)
	// Output: visits: 20
}

// A client and a master in one process, over an in-memory pipe: the same
// types that serve real worker processes.
func ExampleClient() {
	masterEnd, workerEnd := net.Pipe()
	m := shm.NewMaster(shm.MasterOptions{})
	go m.Serve(shm.NewStreamConn(masterEnd, shm.StreamOptions{}), shm.Identity{Worker: 1, Inc: 1})
	c := shm.NewClient(shm.NewStreamConn(workerEnd, shm.StreamOptions{}), shm.ClientOptions{})
	defer c.Close()

	ctx := context.Background()
	c.Set(ctx, "big", shm.Value("123456789012345678901234567890"))
	v, found, _ := c.Get(ctx, "big")
	fmt.Println(v, found)
	_, found, _ = c.Get(ctx, "missing")
	fmt.Println(found)
	swapped, _ := c.CAS(ctx, "lock", nil, shm.String("worker-1"))
	fmt.Println("lock taken:", swapped)
	n, _ := c.Add(ctx, "hits", 41)
	n, _ = c.Add(ctx, "hits", 1)
	fmt.Println("hits:", n)
	_, err := c.Add(ctx, "lock", 1)
	fmt.Println(err, "definite:", shm.IsDefinite(err))
	// Output:
	// 123456789012345678901234567890 true
	// false
	// lock taken: true
	// hits: 42
	// shm: not_integer: value of key "lock" is "worker-1", not an integer in the int64 range (definite) definite: true
}

// The callback API keeps many requests in flight from one goroutine.
func ExampleClient_Go() {
	masterEnd, workerEnd := net.Pipe()
	m := shm.NewMaster(shm.MasterOptions{})
	go m.Serve(shm.NewStreamConn(masterEnd, shm.StreamOptions{}), shm.Identity{Worker: 1, Inc: 1})
	c := shm.NewClient(shm.NewStreamConn(workerEnd, shm.StreamOptions{}), shm.ClientOptions{})
	defer c.Close()

	done := make(chan int64, 3)
	reqs := make([]shm.Message, 3)
	for i := range reqs {
		reqs[i] = shm.Message{Method: shm.MethodAdd, Key: []byte("n"), Delta: 1, Has: shm.HasKey | shm.HasDelta}
		c.Go(&reqs[i], func(rep shm.Message, err error) {
			n, _ := rep.Value.Int()
			done <- n
		})
	}
	sum := int64(0)
	for range reqs {
		sum += <-done
	}
	fmt.Println("1+2+3 =", sum)
	// Output: 1+2+3 = 6
}

// The store is a pure state machine: the time is an argument.
func ExampleStore() {
	s := shm.NewStore(shm.StoreOptions{MaxEntries: 2})
	from := shm.Identity{Worker: 1, Inc: 1}
	set := func(seq uint64, key string, ttlMS int64) {
		req := shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Seq: seq, Key: []byte(key),
			Value: shm.Int(int64(seq)), TTL: ttlMS, Has: shm.HasSeq | shm.HasKey | shm.HasValue}
		if ttlMS > 0 {
			req.Has |= shm.HasTTL
		}
		s.Apply(0, from, &req)
	}
	set(1, "a", 0)
	set(2, "b", 1000) // expires at 1s
	set(3, "c", 0)    // evicts "a", the least recently used
	keys := shm.Message{Kind: shm.KindRequest, Method: shm.MethodKeys, Seq: 4, Has: shm.HasSeq}
	fmt.Println(s.Apply(0, from, &keys).Value)
	fmt.Println(s.Apply(2e9, from, &keys).Value) // two seconds later
	// Output:
	// ["b","c"]
	// ["c"]
}

// Binary data travels in a documented JSON form.
func ExampleBinary() {
	v := shm.Binary([]byte{0, 1, 2, 255})
	fmt.Println(v)
	b, _ := v.Binary()
	fmt.Println(b)
	// Output:
	// {"$binary":"AAEC/w=="}
	// [0 1 2 255]
}

// One request in the JSON-lines wire format.
func ExampleAppendFrame() {
	req := shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Worker: 1, Seq: 7, Key: []byte("__proto__"),
		Value: shm.Value(`{"polluted":false}`), Has: shm.HasWorker | shm.HasSeq | shm.HasKey | shm.HasValue}
	fmt.Printf("%s", shm.AppendFrame(nil, &req))
	// Output: {"isSharedMemoryMessage":true,"method":"set","id":1,"uuid":7,"key":"__proto__","value":{"polluted":false}}
}

// A master with no byte limit set holds at most DefaultMaxBytes and
// refuses, definitely, a write that would take it past them: nothing
// already stored is lost.
func ExampleDefaultMaxBytes() {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	big := shm.String(strings.Repeat("x", 1<<20))
	stored := 0
	for i := 0; ; i++ {
		err := m.Set(fmt.Sprint("big-", i), big)
		if err != nil {
			fmt.Println(stored, "values of 1 MiB stored, then:", shm.IsDefinite(err), err.(*shm.Error).Code)
			break
		}
		stored++
	}
	_, ok := m.Get("big-0")
	fmt.Println("the first is still there:", ok)
	// Output:
	// 63 values of 1 MiB stored, then: true too_large
	// the first is still there: true
}

// A value is stored only if a reply can carry it back within the frame
// limit, on either codec and with the longest uuid: one byte more is
// refused, definitely.
func ExampleMaxValueBytes() {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	n := shm.MaxValueBytes(0) // the frame limit, 4 MiB, less a reply's 67 bytes
	fmt.Println(n)
	fmt.Println(m.Set("fits", shm.String(strings.Repeat("x", n-2)))) // a JSON string of n bytes
	err := m.Set("over", shm.String(strings.Repeat("x", n-1)))
	fmt.Println(shm.IsDefinite(err), err.(*shm.Error).Code)
	// Output:
	// 4194237
	// <nil>
	// true too_large
}
