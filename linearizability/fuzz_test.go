package linearizability

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
)

// FuzzRead feeds the reader damaged histories: it must never panic, and
// what it accepts must survive a write and a second read unchanged, and
// be checkable.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"type":"header","format":"shmlab-history","version":1,"model":"kv"}
{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":[1,{"a":"\u00e9"}]},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w2","method":"get","key":"x\ud83d\ude00","output":{},"call":30,"return":40,"status":"ok"}
{"type":"op","id":3,"worker":"w2","stream":1,"method":"cas","key":"x","input":{"old":1,"value":null,"ttl":5},"call":50,"status":"unknown"}
{"type":"event","kind":"master_restart","time":60,"reset":true,"text":"x"}
`))
	f.Add([]byte(`{"type":"header","format":"shmlab-history","version":1,"model":"kv-evict","seed":18446744073709551615,"meta":{"a":[true,false,null,-1.5e3]}}
{"type":"op","id":9,"worker":"w","method":"add","key":"","input":{"delta":-9223372036854775808},"output":{"error":{"code":"overflow","message":"m"}},"call":1,"return":1,"status":"fail"}
{"type":"event","kind":"fault","time":1,"end":2,"worker":"w","link":"l","fault":"drop","truth":"not_applied","op":9}
`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := history.Read(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := h.Write(&b); err != nil {
			t.Fatal(err)
		}
		h2, err := history.Read(bytes.NewReader(b.Bytes()), "fuzz.jsonl")
		if err != nil {
			t.Fatalf("re-reading what was written: %v\n%s", err, b.Bytes())
		}
		if diff := cmp.Diff(h.Ops, h2.Ops, cmp.Comparer(func(a, b history.Op) bool { a.Line, b.Line = 0, 0; return cmp.Equal(a, b) })); diff != "" {
			t.Fatalf("round trip changed the operations (-first +second):\n%s", diff)
		}
		Check(h, Options{Timeout: time.Second})
	})
}
