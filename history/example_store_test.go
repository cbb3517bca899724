package history_test

import (
	"fmt"
	"log"
	"os"

	"github.com/shmlab/shmlab/history"
)

// A history of a store of at most 100 entries and 64 KiB: its header
// states the limits, so that the checker holds every eviction and expiry
// to them.
func ExampleStoreLimits() {
	hd := history.NewHeader(history.ModelKVEvict, "bounded", 7)
	hd.Store = &history.StoreLimits{MaxEntries: 100, MaxBytes: 64 << 10, EntryOverhead: 64, Sweep: 2, ResendAfter: 20e6}
	w := history.NewWriter(os.Stdout, hd)
	w.Op(&history.Op{ID: 1, Worker: "w1", Method: history.Set, Key: "k", Input: history.Input{Value: history.Value(1), TTL: 5},
		Output: history.Output{Value: history.Value("OK")}, Call: 0, Return: 300, Status: history.StatusOK})
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(hd.Store.Bounded())
	// Output:
	// {"type":"header","format":"shmlab-history","version":1,"model":"kv-evict","scenario":"bounded","seed":7,"store":{"max_entries":100,"max_bytes":65536,"entry_overhead":64,"sweep":2,"resend_after":20000000}}
	// {"type":"op","id":1,"worker":"w1","stream":0,"method":"set","key":"k","input":{"value":1,"ttl":5},"output":{"value":"OK"},"call":0,"return":300,"status":"ok"}
	// true
}

// A history whose calls each end within 150ms of their call, as its
// clients promise: the checker holds every call to that deadline.
func ExampleCallLimits() {
	hd := history.NewHeader(history.ModelKV, "deadlines", 7)
	hd.Calls = &history.CallLimits{Timeout: 150e6}
	w := history.NewWriter(os.Stdout, hd)
	w.Op(&history.Op{ID: 1, Worker: "w1", Method: history.Get, Key: "k", Call: 0, Return: 150e6, Status: history.StatusUnknown,
		Output: history.Output{Error: &history.ErrorInfo{Code: "timeout", Message: "no reply before the deadline"}}})
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"type":"header","format":"shmlab-history","version":1,"model":"kv","scenario":"deadlines","seed":7,"calls":{"timeout":150000000}}
	// {"type":"op","id":1,"worker":"w1","stream":0,"method":"get","key":"k","input":{},"output":{"error":{"code":"timeout","message":"no reply before the deadline"}},"call":0,"return":150000000,"status":"unknown"}
}
