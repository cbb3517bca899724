package faultinject_test

import (
	"cmp"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	fi "github.com/shmlab/shmlab/faultinject"
	"github.com/shmlab/shmlab/shm"
)

var update = flag.Bool("update", false, "rewrite ../node/testdata/decisions.json from the Go decider")

// vectorsFile holds the decisions that node/lib/decide.js must make too
// ($SHMLAB_DECISIONS names another, to show that a wrong one fails).
var vectorsFile = cmp.Or(os.Getenv("SHMLAB_DECISIONS"), filepath.Join("..", "node", "testdata", "decisions.json"))

// vectors is the shared test vectors' file: what Go computes, for the
// Node port to compute the same.
type vectors struct {
	Comment string `json:"comment"`
	// Log and Log1p are math.Log's and math.Log1p's results: [input,
	// output] as the hexadecimal bits of float64s.
	Log   [][2]string `json:"log"`
	Log1p [][2]string `json:"log1p"`
	// PCG are rand.PCG's first outputs from seeds.
	PCG []pcgVector `json:"pcg"`
	// Seeds are faultinject.Seed's results.
	Seeds []seedVector `json:"seeds"`
	// Methods and Keys name the messages' methods and keys by index.
	Methods []string      `json:"methods"`
	Keys    []string      `json:"keys"`
	Cases   []decideCase  `json:"cases"`
	Corrupt []corruptCase `json:"corrupt"`
	Poison  []string      `json:"poison"`
}

type pcgVector struct {
	Seed [2]string `json:"seed"`
	Out  []string  `json:"out"`
}

type seedVector struct {
	Seed uint64    `json:"seed,string"`
	Link fi.Link   `json:"link"`
	I    int       `json:"i"`
	Want [2]string `json:"want"`
}

// decideCase is one plan and, per link, the messages decided and every
// decision in which a fault fired (the others are {n} alone).
type decideCase struct {
	Plan  string       `json:"plan"` // the plan's JSON, as json.Marshal writes it
	Links []linkVector `json:"links"`
}

type linkVector struct {
	Link fi.Link `json:"link"`
	// Messages are [method index, key index, nanoseconds since the
	// previous message (the first: since the run began)].
	Messages  [][3]int64  `json:"messages"`
	Decisions []vDecision `json:"decisions"`
}

// vDecision is a Decision as Go's JSON writes it, with its N.
type vDecision struct {
	fi.Decision
	N int `json:"n"`
}

// corruptCase is a frame, a direction and a corruption, and the frame
// as the corruption changes it (JSON text; see node/lib/corrupt.js).
type corruptCase struct {
	Frame      string        `json:"frame"`
	Dir        fi.Direction  `json:"dir"`
	Corruption fi.Corruption `json:"corruption"`
	Want       string        `json:"want"` // "" when the corruption cannot change it
}

// TestDecisionVectors checks that the Go decider still makes the shared
// vectors' decisions (with -update it writes them), and the rest of the
// file: the float functions, the generator, the corruptions, the poison
// list. node/test/decide.test.js checks the same file against the port.
func TestDecisionVectors(t *testing.T) {
	if *update {
		b, err := json.Marshal(makeVectors(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("%v (run go test ./faultinject -run TestDecisionVectors -update)", err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", vectorsFile, err)
	}
	want := makeVectors(t)
	for i := range max(len(want.Cases), len(v.Cases)) {
		if i >= len(want.Cases) || i >= len(v.Cases) {
			t.Errorf("%s: %d cases, want %d", vectorsFile, len(v.Cases), len(want.Cases))
			break
		}
		if diff := gocmp.Diff(want.Cases[i], v.Cases[i]); diff != "" {
			t.Errorf("%s: cases[%d]: the Go decider no longer makes these decisions: mismatch (-want +got):\n%s", vectorsFile, i, diff)
		}
	}
	want.Cases, v.Cases = nil, nil
	if diff := gocmp.Diff(want, &v); diff != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", vectorsFile, diff)
	}
	for i, c := range v.Corrupt {
		checkFrameCorruption(t, i, c)
	}
}

// makeVectors computes the whole file from fixed seeds.
func makeVectors(t *testing.T) *vectors {
	r := rand.New(rand.NewPCG(13, 2026))
	v := &vectors{
		Comment: "shared test vectors of node/lib/decide.js, written by go test ./faultinject -run TestDecisionVectors -update",
		Methods: []string{"get", "set", "delete", "cas", "add", "len", "keys"},
		Keys:    []string{"", "a", "b", "k1", "__proto__", "é"},
		Poison:  fi.PoisonFrames(),
	}
	v.Log, v.Log1p = floatVectors(r)
	for i := range 6 {
		s1, s2 := r.Uint64(), r.Uint64()
		if i == 0 {
			s1, s2 = 0, 0
		}
		g := rand.NewPCG(s1, s2)
		pv := pcgVector{Seed: [2]string{u64(s1), u64(s2)}}
		for range 5 {
			pv.Out = append(pv.Out, u64(g.Uint64()))
		}
		v.PCG = append(v.PCG, pv)
	}
	for i, l := range vectorLinks {
		s := r.Uint64()
		hi, lo := fi.Seed(s, l, i)
		v.Seeds = append(v.Seeds, seedVector{Seed: s, Link: l, I: i, Want: [2]string{u64(hi), u64(lo)}})
	}
	for range 40 {
		v.Cases = append(v.Cases, makeCase(t, r, v))
	}
	v.Corrupt = corruptVectors()
	return v
}

func u64(u uint64) string { return strconv.FormatUint(u, 10) }

func bits(x float64) string { return strconv.FormatUint(math.Float64bits(x), 16) }

// floatVectors returns Log's and Log1p's results on the inputs decisions
// give them (gap draws, 1-u of delays, -p), and on their edges.
func floatVectors(r *rand.Rand) (logs, log1ps [][2]string) {
	in := []float64{1, 2, 0.5, 0.75, math.Sqrt2 / 2, math.Sqrt2, math.Sqrt2 / 4, math.SmallestNonzeroFloat64,
		0x1p-1022, math.MaxFloat64, 0.5 / (1 << 53), 1 - 1.0/(1<<32), 1.0 / (1 << 32), 0, math.Inf(1), -1, math.NaN()}
	for _, x := range []float64{math.Sqrt2 / 2, 1, 0.5} {
		in = append(in, math.Nextafter(x, 0), math.Nextafter(x, 2))
	}
	for range 1000 {
		in = append(in, (float64(r.Uint64()>>11)+0.5)/(1<<53), 1-float64(r.Uint32())/(1<<32))
	}
	for _, x := range in {
		logs = append(logs, [2]string{bits(x), bits(math.Log(x))})
	}
	in1 := []float64{0, math.Copysign(0, -1), -1, -1 - 1e-9, -0.5, math.Inf(1), math.NaN(), 1 << 53, 1 << 60,
		0x1p-29, -0x1p-29, 0x1p-54, -0x1p-54, 4.142135623730950488017e-01, -2.928932188134524755992e-01, 1e-20, -1e-300}
	for _, x := range []float64{4.142135623730950488017e-01, -2.928932188134524755992e-01, 0x1p-29, 0x1p-54} {
		in1 = append(in1, math.Nextafter(x, -1), math.Nextafter(x, 1))
	}
	for range 600 {
		in1 = append(in1, -math.Pow(10, -4*r.Float64()), -r.Float64(), 2*r.Float64()-1, -math.Pow(10, -300*r.Float64()))
	}
	for _, x := range in1 {
		log1ps = append(log1ps, [2]string{bits(x), bits(math.Log1p(x))})
	}
	return logs, log1ps
}

// vectorLinks are the links the cases decide: both directions, several
// workers, a name that is not ASCII.
var vectorLinks = []fi.Link{
	{Worker: "w1", Dir: fi.Requests}, {Worker: "w1", Dir: fi.Replies},
	{Worker: "w2", Dir: fi.Requests}, {Worker: "w12", Dir: fi.Replies}, {Worker: "wé", Dir: fi.Requests},
}

// makeCase draws a plan and decides messages on three of the links.
func makeCase(t *testing.T, r *rand.Rand, v *vectors) decideCase {
	plan := randomPlan(r, v)
	if err := plan.Validate(); err != nil {
		t.Fatalf("drawn plan %+v: %v", plan, err)
	}
	text, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	c := decideCase{Plan: string(text)}
	d := fi.NewDecider(plan)
	for k, i := range r.Perm(len(vectorLinks))[:3] {
		lv := linkVector{Link: vectorLinks[i]}
		var decide func(fi.Message, time.Duration) fi.Decision
		if k == 0 { // the Decider, and a LinkDecider for the others
			decide = func(m fi.Message, e time.Duration) fi.Decision { return d.Decide(lv.Link, m, e) }
		} else {
			ld := d.On(lv.Link)
			decide = func(m fi.Message, e time.Duration) fi.Decision { return ld.Decide(lv.Link, m, e) }
		}
		var elapsed time.Duration
		for range 100 + r.IntN(250) {
			msg := [3]int64{int64(r.IntN(len(v.Methods))), int64(r.IntN(len(v.Keys))), int64(r.IntN(3_000_000))}
			if e := nextEdge(plan, elapsed); e > elapsed && r.IntN(8) == 0 { // land on a window's edge, or 1ns short
				msg[2] = int64(e-elapsed) - int64(r.IntN(2))
			}
			elapsed += time.Duration(msg[2])
			lv.Messages = append(lv.Messages, msg)
			dec := decide(fi.Message{Method: v.Methods[msg[0]], Key: v.Keys[msg[1]], Seq: uint64(len(lv.Messages))}, elapsed)
			if len(dec.Fired) > 0 {
				n := dec.N
				dec.N = 0 // not in Go's JSON: the outer n
				lv.Decisions = append(lv.Decisions, vDecision{Decision: dec, N: n})
			}
		}
		c.Links = append(c.Links, lv)
	}
	return c
}

// nextEdge returns the first from or until of p's targets after elapsed
// (0 if none).
func nextEdge(p *fi.Plan, elapsed time.Duration) time.Duration {
	var next time.Duration
	for _, f := range p.Messages {
		for _, e := range []time.Duration{f.Target.From, f.Target.Until} {
			if e > elapsed && (next == 0 || e < next) {
				next = e
			}
		}
	}
	return next
}

// randomPlan draws a valid plan of one to five message faults.
func randomPlan(r *rand.Rand, v *vectors) *fi.Plan {
	p := &fi.Plan{Seed: r.Uint64()}
	if r.IntN(8) == 0 {
		p.Seed = uint64(r.IntN(100))
	}
	kinds := []fi.Kind{fi.Drop, fi.Delay, fi.Duplicate, fi.Reorder, fi.Corrupt}
	dirs := []fi.Direction{"", fi.Requests, fi.Replies, fi.Both}
	for range 1 + r.IntN(5) {
		f := fi.MessageFault{Kind: kinds[r.IntN(len(kinds))], Dir: dirs[r.IntN(len(dirs))]}
		switch r.IntN(6) {
		case 0:
			f.P = 1
		case 1:
			f.Target.Nth = 1 + r.IntN(60) // p 0: that message surely
		default:
			f.P = math.Pow(10, -4*r.Float64())
		}
		f.Target = randomTarget(r, v, f.Target)
		switch f.Kind {
		case fi.Delay:
			f.Delay = randomDist(r)
		case fi.Duplicate:
			f.Copies = r.IntN(4)
		case fi.Corrupt:
			f.Corruption = []fi.Corruption{"", fi.CorruptFrame, fi.CorruptID, fi.CorruptValue}[r.IntN(4)]
		}
		p.Messages = append(p.Messages, f)
	}
	return p
}

func randomTarget(r *rand.Rand, v *vectors, t fi.Target) fi.Target {
	if r.IntN(4) == 0 {
		t.Worker = []string{"w1", "w2", "w12", "wé", "w3"}[r.IntN(5)]
	}
	if r.IntN(4) == 0 {
		t.Method = v.Methods[r.IntN(len(v.Methods))]
	}
	if r.IntN(5) == 0 {
		t.Key = v.Keys[1+r.IntN(len(v.Keys)-1)]
	}
	if t.Nth == 0 && r.IntN(6) == 0 {
		t.Nth = 1 + r.IntN(100)
	}
	if r.IntN(4) == 0 {
		t.From = time.Duration(r.IntN(20)) * time.Millisecond
	}
	if r.IntN(4) == 0 {
		t.Until = t.From + time.Duration(1+r.IntN(300))*time.Millisecond
	}
	return t
}

func randomDist(r *rand.Rand) fi.Dist {
	ms := func(n int) time.Duration { return time.Duration(r.IntN(n*1_000_000) + 1) }
	switch r.IntN(3) {
	case 0:
		return fi.Dist{Kind: fi.Fixed, Min: ms(50)}
	case 1:
		lo := time.Duration(r.IntN(3)) * ms(10)
		return fi.Dist{Kind: fi.Uniform, Min: lo, Max: lo + ms(100)}
	}
	d := fi.Dist{Kind: fi.Exponential, Mean: ms(40)}
	if r.IntN(2) == 0 {
		d.Cap = ms(60)
	}
	return d
}

// corruptVectors applies each corruption to canonical frames of both
// directions and writes what comes out, as JSON.
func corruptVectors() []corruptCase {
	sm := `{"isSharedMemoryMessage":true,`
	requests := []string{
		sm + `"method":"get","id":1,"uuid":7,"key":"a"}`,
		sm + `"method":"set","id":1,"uuid":8,"key":"a","value":"abc"}`,
		sm + `"method":"set","id":1,"uuid":9,"key":"a","value":"\"q"}`,
		sm + `"method":"set","id":2,"uuid":10,"key":"b","value":"~x"}`,
		sm + `"method":"set","id":2,"uuid":11,"key":"b","value":-17}`,
		sm + `"method":"set","id":2,"uuid":12,"key":"b","value":2.5e+21}`,
		sm + `"method":"set","id":2,"uuid":13,"key":"b","value":true}`,
		sm + `"method":"set","id":2,"uuid":14,"key":"b","value":null}`,
		sm + `"method":"set","id":2,"uuid":15,"key":"b","value":{"x":[1,"é"]}}`,
		sm + `"method":"set","id":2,"uuid":16,"key":"b","value":""}`,
		sm + `"method":"cas","id":3,"uuid":17,"key":"c","old":1,"value":false}`,
		sm + `"method":"add","id":3,"uuid":18,"key":"c"}`,
		sm + `"method":"add","id":3,"uuid":19,"key":"c","delta":-4}`,
		sm + `"method":"delete","id":3,"uuid":20,"key":"c"}`,
		sm + `"method":"len","id":3,"uuid":21}`,
	}
	replies := []string{
		sm + `"uuid":7,"value":"OK"}`,
		sm + `"uuid":8,"value":[1,2]}`,
		sm + `"uuid":9,"value":3}`,
		sm + `"uuid":10}`,
		sm + `"uuid":11,"error":{"code":"bad_request","message":"no","definite":true}}`,
	}
	var out []corruptCase
	for _, c := range []fi.Corruption{fi.CorruptFrame, fi.CorruptID, fi.CorruptValue} {
		for _, f := range requests {
			out = append(out, corruptCase{Frame: f, Dir: fi.Requests, Corruption: c, Want: corruptFrame(f, fi.Requests, c)})
		}
		for _, f := range replies {
			out = append(out, corruptCase{Frame: f, Dir: fi.Replies, Corruption: c, Want: corruptFrame(f, fi.Replies, c)})
		}
	}
	return out
}

// corruptFrame returns frame f as corruption c changes it, as JSON ("" if
// it cannot). A request's frame corruption, which Go makes a frame that
// failed to decode, is on a Node channel the frame with its
// isSharedMemoryMessage made a string (checkFrameCorruption holds the
// two to the same effect).
func corruptFrame(f string, dir fi.Direction, c fi.Corruption) string {
	var m shm.Message
	shm.DecodeFrame([]byte(f), &m, nil)
	if !fi.Corruptible(&m, dir, c) {
		return ""
	}
	if c == fi.CorruptFrame && dir == fi.Requests {
		return `{"isSharedMemoryMessage":"frame damaged in transit (faultinject)",` + f[len(`{"isSharedMemoryMessage":true,`):]
	}
	fi.CorruptMessage(&m, dir, c, 2048)
	b := shm.AppendFrame(nil, &m)
	return string(b[:len(b)-1])
}

// checkFrameCorruption checks that a request's frame corruption as a Node
// channel makes it has Go's effect: the master answers the request, by
// its uuid, with a definite error, and applies nothing.
func checkFrameCorruption(t *testing.T, i int, c corruptCase) {
	if c.Corruption != fi.CorruptFrame || c.Dir != fi.Requests {
		return
	}
	var in, got shm.Message
	shm.DecodeFrame([]byte(c.Frame), &in, nil)
	shm.DecodeFrame([]byte(c.Want), &got, nil)
	st := shm.NewStore(shm.StoreOptions{})
	var rep shm.Message
	st.Answer(0, shm.Identity{Worker: 1, Inc: 1}, &got, &rep)
	if rep.Err == nil || !rep.Err.Definite || rep.Seq != in.Seq || rep.Has&shm.HasSeq == 0 || st.Len() != 0 {
		t.Errorf("corrupt[%d]: %s answered %+v (error %v), store holds %d: want a definite error for uuid %d, nothing applied",
			i, c.Want, rep, rep.Err, st.Len(), in.Seq)
	}
}
