package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/workload"
)

const good = `name: drops
description: lost requests and replies
mode: sim
workers: 3
ops: 50
keys: {count: 4, distribution: hot, hot: 0.5}
mix: {get: 2, set: 1}
values: {min: 8, max: 32}
store: {entries: 100, ttl: 2s, ttl_share: 0.5}
variant: reference
timeout: 150ms
retry: 20ms
faults:
  messages:
    - {kind: drop, p: 0.05, dir: replies}
    - kind: delay
      p: 0.1
      delay: {kind: uniform, min: 1ms, max: 5ms}
  processes:
    - {kind: restart, target: w2, at: 3ms, for: 1ms}
seeds: [1, 7]
expect: pass
`

func TestParseGood(t *testing.T) {
	sc, err := Parse("drops.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{Name: "drops", Description: "lost requests and replies", Mode: Sim, Workers: 3, Ops: 50,
		Keys: Keys{Count: 4, Distribution: "hot", Hot: 0.5}, Mix: workload.Mix{Get: 2, Set: 1},
		Values: Values{Min: 8, Max: 32}, Store: Store{Entries: 100, TTL: 2 * time.Second, TTLShare: 0.5}, Variant: "reference",
		Timeout: 150 * time.Millisecond, Retry: 20 * time.Millisecond,
		Faults: faultinject.Plan{Messages: []faultinject.MessageFault{
			{Kind: faultinject.Drop, P: 0.05, Dir: faultinject.Replies},
			{Kind: faultinject.Delay, P: 0.1, Delay: faultinject.Dist{Kind: faultinject.Uniform, Min: time.Millisecond, Max: 5 * time.Millisecond}},
		}, Processes: []faultinject.ProcessFault{{Kind: faultinject.Restart, Target: "w2", At: 3 * time.Millisecond, For: time.Millisecond}}},
		Seeds: Seeds{List: []uint64{1, 7}}, Expect: ExpectPass, File: "drops.yaml", Source: []byte(good)}
	if diff := cmp.Diff(want, *sc, cmpopts.IgnoreUnexported(Seeds{})); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// script is a scenario with a script, in every form the format has.
const script = `name: shrunk
mode: sim
keys: {names: [k0, "0", ""]}
variant: no-dedup+wrap-ids
latency: 30µs
store: {entries: 2, dedup_window: 16}
script:
  w2:
    - {delete: ""}
  w1:
    - {set: k0, value: 1, ttl: 5ms}
    - {set: "0", value: "1-..", incr: 1}
    - {cas: k0, old: 1, value: {json: ' {"a": [1]}'}}
    - {cas: k0, value: null}
    - {add: k0, delta: -3}
    - {add: k0, no_delta: true}
    - get: k0
    - {set: k0, value: True}
    - {set: k0, value: 1.50}
    - {set: k0, value: }
  w3: []
seeds: [7]
`

func TestParseScript(t *testing.T) {
	sc, err := Parse("shrunk.yaml", []byte(script))
	if err != nil {
		t.Fatal(err)
	}
	want := Script{
		{
			{Method: "set", Key: "k0", Value: shm.Value("1"), TTLms: 5},
			{Method: "set", Key: "0", Value: shm.Value(`"1-.."`), Incr: 1},
			{Method: "cas", Key: "k0", Old: shm.Value("1"), Value: shm.Value(` {"a": [1]}`)},
			{Method: "cas", Key: "k0", Value: shm.Null},
			{Method: "add", Key: "k0", Delta: -3},
			{Method: "add", Key: "k0", Delta: 1, NoDelta: true},
			{Method: "get", Key: "k0"},
			{Method: "set", Key: "k0", Value: shm.True},
			{Method: "set", Key: "k0", Value: shm.Value("1.50")},
			{Method: "set", Key: "k0", Value: shm.Null},
		},
		{{Method: "delete", Key: ""}},
		{},
	}
	if diff := cmp.Diff(want, sc.Script); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	cfg := sc.Spec(7)
	if cfg.Workers != 3 || sc.Latency != 30*time.Microsecond || cfg.Store.DedupWindow != 16 || cfg.Bugs != shm.BugNoDedup|shm.BugWrapIDs {
		t.Errorf("config %+v", cfg)
	}
}

// TestParseErrors: each broken file is refused with its place and what is
// wrong.
func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"unknown field", "name: a\nworkerz: 2\n", []string{"f.yaml:2:1:", `unknown field "workerz"`, "   2 | workerz: 2"}},
		{"duplicate key", "name: a\nops: 1\nops: 2\n", []string{"f.yaml:3:1:", `"ops" already defined`}},
		{"wrong type", "workers: two\n", []string{"f.yaml:1:10:", "two is not an integer"}},
		{"wrong type decoded", "keys: {hot: lots}\n", []string{"f.yaml:1:13:", "cannot unmarshal string"}},
		{"bad duration", "faults:\n  processes:\n    - {kind: kill, target: w1, at: 5 parsecs}\n", []string{"f.yaml:3:36:", "5 parsecs is not a duration"}},
		{"number for duration", "timeout: 200\n", []string{"f.yaml:1:10:", "200 is not a duration"}},
		{"bad run duration", "duration: soon\n", []string{"f.yaml:1:11:", "soon is not a duration"}},
		{"out of range", "workers: 3\nops: -5\n", []string{"f.yaml:2:6:", "ops -5"}},
		{"bad mode", "mode: cloud\n", []string{"f.yaml:1:7:", `mode "cloud"`}},
		{"bad variant", "variant: nodedup\n", []string{"f.yaml:1:10:", `variant "nodedup"`}},
		{"bad target", "workers: 2\nfaults:\n  processes:\n    - {kind: kill, target: w9, at: 0s}\n", []string{"f.yaml:4:28:", `target "w9"`}},
		{"bad fault", "faults:\n  messages:\n    - {kind: explode}\n", []string{"f.yaml:3:7:", "explode"}},
		{"hold of 0", "faults:\n  messages:\n    - {kind: reorder, p: 0.1, hold: 0}\n", []string{"f.yaml:3:37:", "a hold of no requests"}},
		{"hold on a drop", "faults:\n  messages:\n    - {kind: drop, p: 0.1, hold: 3}\n", []string{"f.yaml:3:", "hold is set on a drop fault"}},
		{"hold not an integer", "faults:\n  messages:\n    - {kind: reorder, p: 0.1, hold: 2.5}\n", []string{"f.yaml:3:37:", "2.5 is not an integer"}},
		{"bad seeds", "seeds: many\n", []string{"f.yaml:1:8:", "seeds: want a count"}},
		{"bad seed", "seeds: [1, x]\n", []string{"f.yaml:1:12:", "seed x"}},
		{"seed bomb", "seeds: 9223372036854775807\n", []string{"f.yaml:1:8:", "want 1 to 100000"}},
		{"no seeds", "seeds: 0\n", []string{"f.yaml:1:8:", "seeds 0"}},
		{"seed twice", "seeds: [3, 3]\n", []string{"f.yaml:1:12:", "seed 3 is listed twice"}},
		{"negative incr", "mix: {incr: -1}\n", []string{"f.yaml:1:13:", "weight -1"}},
		{"too many ops", "workers: 64\nops: 1000000\n", []string{"f.yaml:2:6:", "64000000 operations"}},
		{"too many workers for processes", "workers: 100\n", []string{"f.yaml:1:10:", "workers 100: want 1 to 64 on real processes (mode: sim allows up to 1024)"}},
		{"too many workers", "mode: sim\nworkers: 2000\n", []string{"f.yaml:2:10:", "workers 2000: want 1 to 1024"}},
		{"byte faults in sim", "mode: both\nfaults:\n  bytes:\n    - {kind: short}\n", []string{"f.yaml:4:5:", "byte faults need real streams"}},
		{"hot without share", "keys: {distribution: hot}\n", []string{"f.yaml:1:7:", "hot share 0"}},
		{"zero without unit", "think: 0\n", []string{"f.yaml:1:8:", "0 is not a duration (write it with its unit"}},
		{"float for int", "workers: 2.7\n", []string{"f.yaml:1:10:", "2.7 is not an integer"}},
		{"string for int", "workers: \"2\"\n", []string{"f.yaml:1:10:", "is not an integer"}},
		{"float weight", "mix: {get: 1.5}\n", []string{"f.yaml:1:12:", "1.5 is not an integer"}},
		{"syntax", "name: [a\n", []string{"f.yaml:1:"}},
		{"two problems", "workers: -1\nexpect: maybe\n", []string{"f.yaml:1:10:", "f.yaml:2:9:", `expect "maybe"`}},
		{"expect check unknown", "expect: {violation: linearisable}\n", []string{"f.yaml:1:21:", `check "linearisable": want one of linearizable, read-your-writes`}},
		{"expect check of a pass", "expect: {pass: linearizable}\n", []string{"f.yaml:1:10:", "the one key violation"}},
		{"expect two keys", "expect: {violation: counter, pass: x}\n", []string{"f.yaml:1:30:", "the one key violation"}},
		{"expect check not a name", "expect: {violation: [counter]}\n", []string{"f.yaml:1:21:", "want the name of a check"}},
		{"expect check empty", "expect: {violation: }\n", []string{"f.yaml:1:", "want the name of a check"}},
		{"expect a list", "expect: [violation]\n", []string{"f.yaml:1:9:", "want pass, violation or {violation: CHECK}"}},
		{"bad latency", "latency: 5\n", []string{"f.yaml:1:10:", "5 is not a duration"}},
		{"negative dedup window", "store: {dedup_window: -1}\n", []string{"f.yaml:1:23:", "dedup_window -1 is negative"}},
		{"float dedup window", "store: {dedup_window: 1.5}\n", []string{"f.yaml:1:23:", "1.5 is not an integer"}},
		{"bad second bug", "variant: no-dedup+nope\n", []string{"f.yaml:1:10:", `variant "no-dedup+nope"`, "joined by +"}},
		{"stray plus", "variant: no-dedup+\n", []string{"f.yaml:1:10:", `variant "no-dedup+": bug 2 of 2 is empty`}},
		{"leading plus", "variant: +no-dedup\n", []string{"f.yaml:1:10:", `bug 1 of 2 is empty`}},
		{"bug twice", "variant: no-dedup+no-dedup\n", []string{"f.yaml:1:10:", "no-dedup is named twice"}},
		{"none and a bug", "variant: none+no-dedup\n", []string{"f.yaml:1:10:", "none means no bug: it stands alone"}},
		{"reference and a bug", "variant: reference+no-dedup\n", []string{"f.yaml:1:10:", "reference means no bug: it stands alone"}},
		{"bad codec", "codec: yaml\n", []string{"f.yaml:1:8:", `codec "yaml": want json, compact or mixed`}},
		{"codec of a wrong type", "codec: [json]\n", []string{"f.yaml:1:"}},
		{"latency of a day", "latency: 24h\n", []string{"f.yaml:1:10:", "latency 24h0m0s: at most 1h0m0s"}},
		{"latency overflowing the clock", "latency: 2000000h\n", []string{"f.yaml:1:10:", "at most 1h0m0s"}},
		{"dedup window of a typo", "store: {dedup_window: 99999999999}\n", []string{"f.yaml:1:23:", "dedup_window 99999999999: at most 1048576"}},
		{"frame limit too small", "mode: process\nmax_frame: 100\n", []string{"f.yaml:2:12:", "max_frame 100: want 256 to 4194304 bytes"}},
		{"frame limit too large", "mode: process\nmax_frame: 4194305\n", []string{"f.yaml:2:12:", "max_frame 4194305: want 256 to 4194304 bytes"}},
		{"frame limit in the simulator", "max_frame: 4096\n", []string{"f.yaml:1:12:", "the simulator has no master: set mode: process"}},
		{"frame limit of a Node target", "mode: process\ntarget: {node: {adapter: a.js}}\nmax_frame: 4096\n", []string{"f.yaml:3:12:", "max_frame is the reference master's frame limit"}},
		{"script of too many workers", "mode: sim\nscript:\n" + manyWorkers(MaxSimWorkers+1), []string{"f.yaml:3:3:", "1025 workers in the script: at most 1024"}},
		{"op key missing", "mode: sim\nscript:\n  w1: [{get: }]\n", []string{"f.yaml:3:9:", `get: the key is missing (write it after the method: {get: k0}, or {get: ""} for the empty key)`}},
		{"op key missing in a block", "mode: sim\nscript:\n  w1:\n    - get:\n", []string{"f.yaml:4:", "get: the key is missing"}},
		{"script in process mode", "script:\n  w1: []\n", []string{"f.yaml:2:3:", "a script runs in the simulator only: set mode: sim"}},
		{"script empty", "mode: sim\nscript:\n", []string{"f.yaml:2:9:", "script is empty"}},
		{"script of no workers", "mode: sim\nscript: {}\n", []string{"f.yaml:2:9:", "a script names its workers"}},
		{"script worker missing", "mode: sim\nscript:\n  w2: []\n", []string{"f.yaml:3:3:", `worker "w2"`, "none left out"}},
		{"script worker twice", "mode: sim\nscript:\n  w1: []\n  w1: []\n", []string{"f.yaml:4:3:", `"w1" already defined`}},
		{"script not a list", "mode: sim\nscript:\n  w1: {get: k0}\n", []string{"f.yaml:3:7:", "want a list of operations"}},
		{"op not a mapping", "mode: sim\nscript:\n  w1: [get k0]\n", []string{"f.yaml:3:8:", "an operation is a mapping"}},
		{"op unknown field", "mode: sim\nscript:\n  w1: [{set: k0, vaule: 1}]\n", []string{"f.yaml:3:18:", `unknown field "vaule"`}},
		{"op two methods", "mode: sim\nscript:\n  w1: [{get: k0, set: k0}]\n", []string{"f.yaml:3:18:", "one method, and this one has get"}},
		{"op no method", "mode: sim\nscript:\n  w1:\n    - value: 1\n      ttl: 5ms\n", []string{"f.yaml:4:7:", "needs its method and key"}},
		{"op field of another method", "mode: sim\nscript:\n  w1: [{get: k0, value: 1}]\n", []string{"f.yaml:3:18:", "a get has no value"}},
		{"op incr on a get", "mode: sim\nscript:\n  w1: [{get: k0, incr: 1}]\n", []string{"f.yaml:3:18:", "a get has no incr"}},
		{"op without its value", "mode: sim\nscript:\n  w1: [{cas: k0, old: 1}]\n", []string{"f.yaml:3:8:", "a cas needs its value"}},
		{"op key not a string", "mode: sim\nscript:\n  w1: [{get: 5}]\n", []string{"f.yaml:3:14:", `the key 5 is not a string (quote it: "5")`}},
		{"op hex value", "mode: sim\nscript:\n  w1: [{set: k0, value: 0x10}]\n", []string{"f.yaml:3:25:", "0x10 is not a number as JSON writes it"}},
		{"op ambiguous number", "mode: sim\nscript:\n  w1: [{set: k0, value: 123456789012345678901234567890}]\n", []string{"f.yaml:3:25:", "a number to JSON and a string to YAML"}},
		{"op bad json", "mode: sim\nscript:\n  w1: [{set: k0, value: {json: '{a'}}]\n", []string{"f.yaml:3:32:", "json: {a is not JSON"}},
		{"op list value", "mode: sim\nscript:\n  w1: [{set: k0, value: [1]}]\n", []string{"f.yaml:3:25:", "want a JSON value"}},
		{"op ttl in µs", "mode: sim\nscript:\n  w1: [{set: k0, value: 1, ttl: 1500us}]\n", []string{"f.yaml:3:33:", "want whole milliseconds"}},
		{"op no_delta false", "mode: sim\nscript:\n  w1: [{add: k0, no_delta: false}]\n", []string{"f.yaml:3:28:", "no_delta false: want true"}},
		{"op no_delta and delta", "mode: sim\nscript:\n  w1: [{add: k0, delta: 2, no_delta: true}]\n", []string{"f.yaml:3:8:", "a delta or no_delta: true, not both"}},
		{"op no_delta on a get", "mode: sim\nscript:\n  w1: [{get: k0, no_delta: true}]\n", []string{"f.yaml:3:18:", "a get has no no_delta"}},
		{"op float delta", "mode: sim\nscript:\n  w1: [{add: k0, delta: 1.5}]\n", []string{"f.yaml:3:25:", "1.5 is not an integer"}},
		{"script and ops", "mode: sim\nops: 5\nscript: {w1: []}\n", []string{"f.yaml:2:6:", "ops draws the workload, and the script replaces it"}},
		{"script and mix", "mode: sim\nmix: {get: 1}\nscript: {w1: []}\n", []string{"f.yaml:2:6:", "mix draws the workload"}},
		{"script and store ttl", "mode: sim\nstore: {ttl: 5ms}\nscript: {w1: []}\n", []string{"f.yaml:2:14:", "store.ttl draws the workload"}},
		{"script and other workers", "mode: sim\nworkers: 3\nscript: {w1: []}\n", []string{"f.yaml:2:10:", "workers 3, but the script has 1"}},
		// Zero where it cannot mean anything is not the default.
		{"mix all zero", "mix: {get: 0, set: 0}\n", []string{"f.yaml:1:6:", "mix: every weight is 0"}},
		{"mix empty", "mix: {}\n", []string{"f.yaml:1:6:", "mix: every weight is 0"}},
		{"mix block all zero", "mix:\n  get: 0\n", []string{"f.yaml:2:", "mix: every weight is 0"}},
		{"no keys", "keys: {count: 0}\n", []string{"f.yaml:1:15:", "count 0: no key to use"}},
		{"no key names", "keys: {names: []}\n", []string{"f.yaml:1:15:", "names is empty"}},
		{"no seeds listed", "seeds: []\n", []string{"f.yaml:1:8:", "seeds is empty: nothing would run"}},
		{"no workers", "workers: 0\n", []string{"f.yaml:1:10:", "workers 0: no worker would run: want 1 or more, or leave workers out for 2"}},
		{"no ops", "ops: 0\n", []string{"f.yaml:1:6:", "ops 0: no operation would run"}},
		{"no timeout", "timeout: 0s\n", []string{"f.yaml:1:10:", "timeout 0s: every call would time out at once"}},
		{"no duration", "duration: 0ms\n", []string{"f.yaml:1:11:", "duration 0ms: the workload would end before it began"}},
		{"no latency", "latency: 0s\n", []string{"f.yaml:1:10:", "latency 0s"}},
		{"values of no bytes", "values: {min: 0, max: 0}\n", []string{"f.yaml:1:23:", "values.max 0: no value has 0 bytes"}},
		{"values empty", "values: {}\n", []string{"f.yaml:1:9:", "values is empty ({})"}},
		{"falsy share 0", "values: {falsy: 0}\n", []string{"f.yaml:1:17:", "values.falsy 0: no write would be falsy"}},
		{"falsy share over 1", "values: {falsy: 1.5}\n", []string{"f.yaml:1:17:", "falsy share 1.5: want more than 0, at most 1"}},
		{"edges share 0", "values: {edges: 0}\n", []string{"f.yaml:1:17:", "values.edges 0: no operation would be drawn from the edges"}},
		{"edges share over 1", "values: {edges: 2}\n", []string{"f.yaml:1:17:", "edges share 2: want more than 0, at most 1"}},
		{"keys empty", "keys: {}\n", []string{"f.yaml:1:7:", "keys is empty ({}): say something in it, or leave keys out for its default"}},
		{"hot share 0", "keys: {distribution: hot, hot: 0}\n", []string{"f.yaml:1:32:", "keys.hot 0"}},
		{"store of no entries", "store: {entries: 0}\n", []string{"f.yaml:1:18:", "store.entries 0: a store of no entries: want 1 or more, or leave entries out for no bound on entries"}},
		{"store of no bytes", "store: {bytes: 0}\n", []string{"f.yaml:1:16:", "store.bytes 0"}},
		{"ttl 0", "store: {ttl: 0s}\n", []string{"f.yaml:1:14:", "store.ttl 0s"}},
		{"grid 0", "mode: sim\ngrid: 0s\n", []string{"f.yaml:2:7:", "grid 0s: a grid of no step"}},
		{"grid in process mode", "grid: 1ms\n", []string{"f.yaml:1:7:", "a grid is the simulator's clock: set mode: sim"}},
		{"grid and latency", "mode: sim\ngrid: 1ms\nlatency: 20us\n", []string{"f.yaml:3:10:", "latency 20µs on a grid"}},
		{"think off the grid", "mode: sim\ngrid: 1ms\nthink: 1500us\n", []string{"f.yaml:3:8:", "think 1.5ms is not a whole number of grid steps of 1ms, 1 or more"}},
		{"no think on a grid", "mode: sim\ngrid: 1ms\n", []string{"f.yaml:2:7:", "a grid of 1ms and no think: a worker's operations would share one instant"}},
		{"pipeline 0", "mode: sim\npipeline: 0\n", []string{"f.yaml:2:11:", "no call would be in flight"}},
		{"pipeline too deep", "mode: sim\npipeline: 17\n", []string{"f.yaml:2:11:", "pipeline 17: want 1 to 16 calls in flight per worker"}},
		{"pipeline in process mode", "pipeline: 2\n", []string{"f.yaml:1:11:", "a pipeline is the simulator's workers': set mode: sim"}},
		{"pipeline of a script", "mode: sim\npipeline: 2\nscript:\n  w1: [{get: a}]\n", []string{"f.yaml:2:11:", "a script makes one call at a time"}},
		{"pipeline not a number", "mode: sim\npipeline: two\n", []string{"f.yaml:2:11:"}},
		{"ttl share 0", "store: {ttl: 5ms, ttl_share: 0}\n", []string{"f.yaml:1:30:", "store.ttl_share 0: no write would get the ttl"}},
		{"ttl share over 1", "store: {ttl: 5ms, ttl_share: 1.5}\n", []string{"f.yaml:1:30:", "ttl_share 1.5: want more than 0, at most 1"}},
		{"ttl share of no ttl", "store: {ttl_share: 0.5}\n", []string{"f.yaml:1:20:", "ttl_share 0.5 of no ttl: set ttl too"}},
		{"script and ttl share", "mode: sim\nstore: {ttl_share: 0.5}\nscript: {w1: []}\n", []string{"f.yaml:2:20:", "store.ttl_share draws the workload"}},
		{"dedup window 0", "store: {dedup_window: 0}\n", []string{"f.yaml:1:23:", "store.dedup_window 0: no reply would be remembered"}},
		{"frame limit 0", "max_frame: 0\n", []string{"f.yaml:1:12:", "max_frame 0: no frame would fit"}},
		{"store empty", "store: {}\n", []string{"f.yaml:1:8:", "store is empty"}},
		{"plan seed 0", "faults: {seed: 0}\n", []string{"f.yaml:1:16:", "faults.seed 0: seed 0 is no seed"}},
		{"faults empty", "faults: {}\n", []string{"f.yaml:1:9:", "faults is empty"}},
		{"process faults empty", "faults:\n  processes: []\n", []string{"f.yaml:2:14:", "faults.processes is empty ([])"}},
		{"name empty", "name: \"\"\n", []string{"f.yaml:1:7:", "name is empty: give a value, or leave name out"}},
		{"variant null", "variant:\n", []string{"f.yaml:1:", "variant has no value"}},
		{"fault without when", "faults:\n  processes:\n    - {kind: kill, target: w1}\n", []string{"f.yaml:3:7:", "a process fault needs its time (at: 10ms; at: 0s for the workload's start) or its point of progress"}},
		{"kill for", "faults:\n  processes:\n    - {kind: kill, target: w1, at: 10ms, for: 10ms}\n", []string{"f.yaml:3:42:", "a kill has no for"}},
		{"quoted kill for", "faults:\n  processes:\n    - {kind: \"kill\", target: w1, at: 10ms, for: 0s}\n", []string{"f.yaml:3:44:", "a kill has no for"}},
		{"poison for", "mode: process\nfaults:\n  processes:\n    - {kind: poison, target: w1, at: 10ms, for: 10ms}\n", []string{"f.yaml:4:44:", "a poison has no for"}},
		{"poison in sim", "faults:\n  processes:\n    - {kind: poison, target: w1, at: 10ms}\n", []string{"f.yaml:3:14:", "a poison is raw frames a real worker sends: set mode: process"}},
		{"poison by the master", "mode: process\nfaults:\n  processes:\n    - {kind: poison, target: master, at: 10ms}\n", []string{"f.yaml:", "a poison is sent by a worker to the master"}},
		{"poison while paused", "mode: process\nfaults:\n  processes:\n    - {kind: pause, target: w1, at: 10ms, for: 30ms}\n    - {kind: poison, target: w1, at: 15ms}\n",
			[]string{"f.yaml:5:38:", "w1 is paused from 10ms to 40ms"}},
		// Faults the file shows cannot both happen.
		{"pauses overlap", "ops: 80\nfaults:\n  processes:\n    - {kind: pause, target: w1, at: 10ms, for: 30ms}\n    - {kind: pause, target: w1, at: 15ms, for: 5ms}\n",
			[]string{"f.yaml:5:37:", "processes[1] (pause w1 at 15ms for 5ms) and processes[0] (pause w1 at 10ms for 30ms): w1 is paused from 10ms to 40ms; a process takes one fault at a time"}},
		{"pauses touch", "faults:\n  processes:\n    - {kind: pause, target: w1, at: 10ms, for: 5ms}\n    - {kind: pause, target: w1, at: 15ms, for: 5ms}\n",
			[]string{"f.yaml:4:37:", "w1 is paused from 10ms to 15ms"}},
		{"kill while restarting", "faults:\n  processes:\n    - {kind: restart, target: w1, at: 5ms, for: 30ms}\n    - {kind: kill, target: w1, at: 20ms}\n",
			[]string{"f.yaml:4:36:", "w1 is down from 5ms to 35ms"}},
		{"fault after a kill", "faults:\n  processes:\n    - {kind: kill, target: w1, at: 20ms}\n    - {kind: restart, target: w1, at: 50ms, for: 1ms}\n",
			[]string{"f.yaml:4:39:", "w1 is killed for good at 20ms"}},
		{"fault before a kill", "faults:\n  processes:\n    - {kind: kill, target: w1, at: 20ms}\n    - {kind: pause, target: w1, at: 10ms, for: 15ms}\n",
			[]string{"f.yaml:4:37:", "w1 is paused from 10ms to 25ms"}},
		{"worker of a killed master", "faults:\n  processes:\n    - {kind: kill, target: master, at: 20ms}\n    - {kind: pause, target: w2, at: 30ms, for: 1ms}\n",
			[]string{"f.yaml:4:37:", "w2 is killed for good at 20ms"}},
		{"same request twice", "ops: 80\nfaults:\n  processes:\n    - {kind: restart, target: w1, after: {worker: w1, ops: 10}, for: 5ms}\n    - {kind: restart, target: w1, after: {worker: w1, ops: 10}, for: 5ms}\n",
			[]string{"f.yaml:5:42:", "processes[1] (restart w1 after request 10 of w1 for 5ms) and processes[0] (restart w1 after request 10 of w1 for 5ms): both come at request 10 of w1"}},
		{"after a kill by progress", "ops: 60\nfaults:\n  processes:\n    - {kind: kill, target: w2, after: {worker: w2, ops: 10}}\n    - {kind: pause, target: w2, after: {worker: w2, ops: 30}, for: 10ms}\n",
			[]string{"f.yaml:5:40:", "w2 is killed for good by processes[0] at request 10 of w2, before request 30"}},
		{"pause's own length", "duration: 200ms\nfaults:\n  processes:\n    - {kind: pause, target: w1, at: 1s, for: 1s}\n",
			[]string{"f.yaml:4:37:", "at 1s is past the end of the workload: its duration, 200ms, with a last call's timeout and the other faults' pauses, 400ms in all"}},
		{"progress past the default ops", "faults:\n  processes:\n    - {kind: kill, target: w2, after: {worker: w2, ops: 101}}\n",
			[]string{"f.yaml:3:57:", "request 101 of w2 is past ops (the default when ops is left out), 100"}},
		// A fault the file can never reach.
		{"fault past the duration", "duration: 2s\nfaults:\n  processes:\n    - {kind: kill, target: w1, at: 10h}\n",
			[]string{"f.yaml:4:36:", "at 10h0m0s is past the end of the workload: its duration, 2s, with a last call's timeout and the other faults' pauses, 2.2s in all; the fault could never happen"}},
		{"fault past the duration and pauses", "duration: 2s\ntimeout: 1s\nfaults:\n  processes:\n    - {kind: pause, target: w2, at: 1s, for: 1s}\n    - {kind: kill, target: w1, at: 4001ms}\n",
			[]string{"f.yaml:6:36:", "4s in all"}},
		{"progress past the ops", "ops: 40\nfaults:\n  processes:\n    - {kind: kill, target: w2, after: {worker: w2, ops: 50}}\n",
			[]string{"f.yaml:4:57:", "request 50 of w2 is past ops, 40: the fault could never happen"}},
		{"progress past the script", "mode: sim\nscript:\n  w1: [{get: k0}]\nfaults:\n  processes:\n    - {kind: kill, target: w1, after: {worker: w1, ops: 2}}\n",
			[]string{"f.yaml:6:57:", "past its script's operations, 1"}},
		{"progress of no worker", "workers: 2\nfaults:\n  processes:\n    - {kind: kill, target: w2, after: {worker: w3, ops: 5}}\n", []string{"f.yaml:4:48:", `worker "w3": want w1 to w2`}},
		{"progress of zero ops", "faults:\n  processes:\n    - {kind: kill, target: w2, after: {worker: w2, ops: 0}}\n", []string{"f.yaml:3:", "ops 0: want 1 or more"}},
		{"progress float ops", "faults:\n  processes:\n    - {kind: kill, target: w2, after: {worker: w2, ops: 1.5}}\n", []string{"f.yaml:3:57:", "1.5 is not an integer"}},
		{"at and after", "faults:\n  processes:\n    - {kind: kill, target: w2, at: 5ms, after: {worker: w2, ops: 5}}\n", []string{"f.yaml:3:", "give at or after, not both"}},
		{"master after progress", "faults:\n  processes:\n    - {kind: restart, target: master, after: {worker: w2, ops: 5}}\n", []string{"f.yaml:3:", "the master's faults go by time"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// manyWorkers is a script of n workers that do nothing.
func manyWorkers(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  w%d: []\n", i+1)
	}
	return b.String()
}

// TestParseVariants: the reference is named reference or none (or left
// out), and bugs are joined by +.
func TestParseVariants(t *testing.T) {
	for _, tt := range []struct {
		variant string
		want    shm.Bugs
	}{{"", 0}, {"variant: reference", 0}, {"variant: none", 0}, {"variant: wrap-ids+no-dedup", shm.BugNoDedup | shm.BugWrapIDs}} {
		sc, err := Parse("f.yaml", []byte("mode: sim\n"+tt.variant+"\n"))
		if err != nil {
			t.Errorf("%q: %v", tt.variant, err)
			continue
		}
		if got, err := sc.Bugs(); err != nil || got != tt.want {
			t.Errorf("%q: bugs %v, %v; want %v", tt.variant, got, err, tt.want)
		}
	}
}

// TestParseLimitsAllowed: the bounds themselves are accepted.
func TestParseLimitsAllowed(t *testing.T) {
	for _, src := range []string{
		"mode: sim\nlatency: 1h\n",
		"mode: sim\nstore: {dedup_window: 1048576}\n",
		"mode: process\nmax_frame: 256\n",
		"mode: process\nmax_frame: 4194304\n",
		"mode: sim\nscript:\n" + manyWorkers(MaxSimWorkers),
		"duration: 2s\nfaults:\n  processes:\n    - {kind: kill, target: w1, at: 2200ms}\n",
		"ops: 40\nfaults:\n  processes:\n    - {kind: kill, target: w2, after: {worker: w2, ops: 40}}\n",
		"mix: {get: 0, set: 1}\nkeys: {names: [a]}\nseeds: [0]\n",
	} {
		if _, err := Parse("f.yaml", []byte(src)); err != nil {
			t.Errorf("%.40q: %v", src, err)
		}
	}
}
