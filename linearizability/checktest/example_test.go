package checktest_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/linearizability/checktest"
)

// A stale read: w2 reads 1 after w1's set of 2 has returned.
const staleRead = `{"type":"header","format":"shmlab-history","version":1,"model":"kv","scenario":"stale-read","seed":1}
{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w1","method":"set","key":"x","input":{"value":2},"output":{"value":"OK"},"call":30,"return":40,"status":"ok"}
{"type":"op","id":3,"worker":"w2","method":"get","key":"x","input":{},"output":{"value":1},"call":50,"return":60,"status":"ok"}
`

// In a test, Require is one line: checktest.Require(t, h, linearizability.Options{}).
// Here a stand-in for the test's t shows what it reports.
func ExampleRequire() {
	h, err := history.Read(strings.NewReader(staleRead), "stale.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "checktest")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	t := &exampleT{dir: dir}
	r := checktest.Require(t, h, linearizability.Options{})
	fmt.Println("verdict:", r.Verdict)
	fmt.Println("failed:", t.failed)
	fmt.Println("report written:", t.report != "")
	first, _, _ := strings.Cut(t.failure, "\n")
	first, _, _ = strings.Cut(first, ", in ") // the time it took varies
	fmt.Println(first)
	// Output:
	// verdict: illegal
	// failed: true
	// report written: true
	// history stale.jsonl: illegal: 3 operations (3 checked), 1 key not linearizable
}

// exampleT is the part of a *testing.T that Require uses, noting what a
// test would print. (A real t stops the test at Fatalf.)
type exampleT struct {
	testing.TB
	dir, failure, report string
	failed               bool
}

func (t *exampleT) Helper()         {}
func (t *exampleT) Name() string    { return "ExampleRequire" }
func (t *exampleT) TempDir() string { return t.dir }
func (t *exampleT) Logf(format string, args ...any) {
	if s := fmt.Sprintf(format, args...); strings.HasPrefix(s, "report: ") {
		t.report = s
	}
}
func (t *exampleT) Fatalf(format string, args ...any) {
	t.failed, t.failure = true, fmt.Sprintf(format, args...)
}
