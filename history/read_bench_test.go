package history_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
)

// BenchmarkRead reads a history of 100,000 operations from memory (run
// with -cpu 1 to measure the line decoder alone: a large file is read in
// pieces at once): "plain" as the simulator writes it (integers and short
// strings, unknown and failed operations), "objects" with every written
// value an object of strings, escapes, numbers and an array, which the
// reader validates without decoding.
func BenchmarkRead(b *testing.B) {
	h := historytest.Simulate(historytest.NewSeededChooser(1), historytest.Config{Model: history.ModelKV, Workers: 4,
		Keys: []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}, Ops: 100_000, Unknown: true, Fail: true, Gap: 1000})
	for _, bc := range []struct {
		name  string
		value func(i int, v json.RawMessage) json.RawMessage
	}{
		{"plain", nil},
		{"objects", func(i int, v json.RawMessage) json.RawMessage {
			return json.RawMessage(fmt.Sprintf(`{"id":%d,"name":"caf\u00e9 \"%d\"","tags":["a","b\n",null,true],"score":-12.5e3,"v":%s}`, i, i, v))
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := *h
			if bc.value != nil {
				h.Ops = append([]history.Op(nil), h.Ops...)
				for i := range h.Ops {
					if v := h.Ops[i].Input.Value; v != nil {
						h.Ops[i].Input.Value = bc.value(i, v)
					}
				}
			}
			var buf bytes.Buffer
			if err := h.Write(&buf); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := history.Read(bytes.NewReader(data), "h.jsonl"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
