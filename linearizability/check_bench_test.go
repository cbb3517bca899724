package linearizability

import (
	"fmt"
	"hash/maphash"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
)

// BenchmarkCheck100k checks a linearizable history of 100,000
// operations (4 workers, 10 keys, half of them gets), made from a fixed
// seed, two ways: from the file to the verdict (ReadFile and Check), and
// porcupine alone on operations built beforehand with a plain model of
// its own, partitioned by key. The target: file-to-verdict under 1 s and
// within 1.2 times porcupine-bare. Run with -count 5 and compare the
// medians: the two alternate within each count.
func BenchmarkCheck100k(b *testing.B) {
	benchCheck(b, benchHistory(), Ok)
}

// BenchmarkCheck100kFailing is BenchmarkCheck100k on the history with
// one get in the middle made to read a value no operation wrote: its key
// is searched to the end, by both, and Check explains it.
func BenchmarkCheck100kFailing(b *testing.B) {
	h := benchHistory()
	if !historytest.BreakGet(h, len(h.Ops)/2) {
		b.Fatal("no get to break")
	}
	benchCheck(b, h, Illegal)
}

// benchCheck measures file-to-verdict and porcupine-bare on h, whose
// verdict is want.
func benchCheck(b *testing.B, h *history.History, want Verdict) {
	path := filepath.Join(b.TempDir(), "h.jsonl")
	if err := h.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	ops := bareOps(h)
	b.Run("file-to-verdict", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			h, err := history.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			if r := Check(h, Options{}); r.Verdict != want {
				b.Fatalf("verdict %s; want %s\n%s", r.Verdict, want, explanations(r))
			}
		}
	})
	b.Run("porcupine-bare", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if porcupine.CheckOperations(bareModel, ops) != (want == Ok) {
				b.Fatalf("porcupine disagrees: want %s", want)
			}
		}
	})
}

// reportCPU starts measuring the processor time the process spends (user
// and system, all threads) and returns the function that reports it per
// operation as cpu-ms/op: on a machine other processes keep busy, a
// steadier figure than the time that passed.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/1e6/float64(b.N), "cpu-ms/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchHistory is the benchmark's history, the same every time.
func benchHistory() *history.History {
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	methods := []history.Method{history.Get, history.Get, history.Get, history.Get, history.Get, history.Get, history.Get, history.Get, history.Get, history.Get, history.Set, history.Set, history.Set, history.Set, history.CAS, history.CAS, history.Delete, history.Add, history.Add, history.Add}
	return historytest.Simulate(historytest.NewSeededChooser(1), historytest.Config{Model: history.ModelKV, Workers: 4, Keys: keys, Ops: 100_000, Methods: methods, Gap: 1000})
}

// The bare model: a key's state is its value's text, inputs and outputs
// are the history's, compared as strings.
type (
	bareState struct {
		present bool
		value   string
	}
	bareInput struct {
		key, value, old string
		method          history.Method
		hasOld          bool
		delta           int64
	}
	bareOutput struct {
		present bool
		value   string
	}
)

// bareOps turns h's operations into porcupine's, outputs and all,
// leaving out the failed ones (adds on strings), as Check does.
func bareOps(h *history.History) []porcupine.Operation {
	clients := map[string]int{}
	ops := make([]porcupine.Operation, 0, len(h.Ops))
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Status == history.StatusFail {
			continue
		}
		c, ok := clients[op.Worker]
		if !ok {
			c = len(clients)
			clients[op.Worker] = c
		}
		in := bareInput{key: op.Key, method: op.Method, value: string(op.Input.Value), old: string(op.Input.Old), hasOld: op.Input.Old != nil, delta: op.Input.Delta}
		out := bareOutput{present: op.Output.Value != nil, value: string(op.Output.Value)}
		ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Output: out, Call: op.Call, Return: op.Return})
	}
	return ops
}

var bareSeed = maphash.MakeSeed()

var bareModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string]int{}
		var parts [][]porcupine.Operation
		for _, op := range history {
			k := op.Input.(bareInput).key
			i, ok := byKey[k]
			if !ok {
				i = len(parts)
				byKey[k] = i
				parts = append(parts, nil)
			}
			parts[i] = append(parts[i], op)
		}
		return parts
	},
	Init: func() any { return bareState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(bareState), input.(bareInput), output.(bareOutput)
		switch in.method {
		case history.Get:
			return out.present == s.present && out.value == s.value, s
		case history.Set:
			return true, bareState{true, in.value}
		case history.Delete:
			return out.value == strconv.FormatBool(s.present), bareState{}
		case history.CAS:
			match := !s.present
			if in.hasOld {
				match = s.present && s.value == in.old
			}
			if out.value != strconv.FormatBool(match) {
				return false, s
			}
			if match {
				return true, bareState{true, in.value}
			}
			return true, s
		case history.Add:
			var cur int64
			if s.present {
				n, err := strconv.ParseInt(s.value, 10, 64)
				if err != nil {
					return false, s
				}
				cur = n
			}
			sum := strconv.FormatInt(cur+in.delta, 10)
			return out.value == sum, bareState{true, sum}
		}
		return false, s
	},
	Hash: func(state any) uint64 {
		s := state.(bareState)
		if !s.present {
			return 0
		}
		return maphash.String(bareSeed, s.value)
	},
}
