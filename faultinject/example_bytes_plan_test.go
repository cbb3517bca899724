package faultinject_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/shmlab/shmlab/faultinject"
)

// readOnly is a connection whose master end reads from a string.
type readOnly struct{ io.Reader }

func (readOnly) Write(p []byte) (int, error) { return len(p), nil }
func (readOnly) Close() error                { return nil }

// Byte faults are plan data; Streams puts those a connection gets on
// it (for shm.MasterOptions.WrapStream), and logs each one as it fires.
func ExamplePlan_Streams() {
	plan := faultinject.Plan{Seed: 1, Bytes: []faultinject.ByteFault{
		{Kind: faultinject.ByteSplit, At: 4},
		{Kind: faultinject.ByteEOF, Worker: "w1", At: 10},
	}}
	var log faultinject.Log
	conn := plan.Streams("w1", 1, &log)(readOnly{strings.NewReader(`{"a":1}` + "\n" + `{"b":2}` + "\n")})
	data, err := io.ReadAll(conn)
	fmt.Printf("read %q, %v\n", data, err)
	for _, r := range log.Records() {
		e := r.Event()
		fmt.Printf("%s (%s): %s\n", e.Fault, e.Truth, e.Text)
	}
	// Output:
	// read "{\"a\":1}\n{\"", <nil>
	// split (): connection 1 on w1>master, byte 4: a read stops here, splitting what crosses it
	// eof (not_applied): connection 1 on w1>master, byte 10: the stream the master reads ends: the request it cuts, if any, and every later one are not applied
}
