package workload

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/shm"
)

// edgeClasses names the edges o was drawn from ("" classes: none).
func edgeClasses(o *Op) []string {
	var cs []string
	if slices.Contains(SpecialKeys, o.Key) {
		cs = append(cs, "key "+o.Key)
	}
	switch v := string(o.Value); {
	case v == "":
	case strings.HasPrefix(v, `{"id":`):
		cs = append(cs, "object "+v[strings.Index(v, ",")+1:len(v)-1])
	case strings.HasPrefix(v, `"`) && strings.Contains(v, ":"):
		cs = append(cs, "string "+v[strings.Index(v, ":")+1:len(v)-1])
	case !strings.HasPrefix(v, `"`) && len(v) >= 16 || v == `""` || strings.ContainsAny(v, ".eE") || v == "-0" || v == "-1" || v == "0" || v == "100":
		cs = append(cs, "number "+v)
	}
	switch {
	case o.NoDelta:
		cs = append(cs, "no delta")
	case o.Method == history.Add && (o.Delta < 1 || o.Delta > 5):
		cs = append(cs, "delta")
	}
	if o.Method == history.CAS && o.Old != nil && (strings.HasSuffix(string(o.Old), ".0") || strings.HasPrefix(string(o.Old), `"\u00`)) {
		cs = append(cs, "respelled old")
	}
	return cs
}

// drawEdges draws n operations of every method at an edge share of 0.5,
// each seeing the value it wrote (or 7), and counts their edge classes.
func drawEdges(t *testing.T, js bool, n int) (map[string]int, []Op) {
	t.Helper()
	g := NewShaped(11, "w1", 1, 1, []string{"a", "b"}, Mix{Get: 1, Set: 2, Add: 2, CAS: 2, Delete: 1}, Shape{Edges: 0.5, JS: js})
	got := map[string]int{}
	var ops []Op
	for range n {
		o := g.Next()
		if err := o.Validate(); err != nil {
			t.Fatalf("drew %+v: %v", o, err)
		}
		for _, c := range edgeClasses(&o) {
			got[c]++
		}
		out := history.Output{Value: json.RawMessage("7")}
		if o.Method == history.CAS {
			out.Value = json.RawMessage("true")
		}
		g.Observe(&o, history.StatusOK, out)
		ops = append(ops, o)
	}
	return got, ops
}

// TestEdges: at an edge share, each edge of the set is drawn: special
// keys, big and differently written numbers, strings with escapes,
// deltas negative, zero, at int64's bounds and absent, cas expecting a
// value written differently.
func TestEdges(t *testing.T) {
	got, ops := drawEdges(t, false, 20000)
	if _, again := drawEdges(t, false, 20000); !slices.EqualFunc(ops, again, func(a, b Op) bool { return cmp.Equal(a, b) }) {
		t.Fatal("the same seed drew other edges")
	}
	var want []string
	for _, k := range SpecialKeys {
		want = append(want, "key "+k)
	}
	for _, v := range goEdges.numbers {
		want = append(want, "number "+string(v))
	}
	for _, f := range goEdges.fragments {
		want = append(want, "string "+f)
	}
	for _, m := range goEdges.members {
		want = append(want, "object "+m)
	}
	want = append(want, "no delta", "delta", "respelled old")
	for _, c := range want {
		if got[c] == 0 {
			t.Errorf("edge %q never drawn in 20000 operations at a share of 0.5", c)
		}
	}
	deltas := map[int64]bool{}
	for _, o := range ops {
		if o.Method != history.Add {
			continue
		}
		deltas[o.Delta] = true
		req := o.Request()
		if o.NoDelta && (req.Has&shm.HasDelta != 0 || o.Input().Delta != 1) {
			t.Errorf("add without delta: request %+v, history input %+v: want no delta sent, 1 recorded", req, o.Input())
		}
	}
	for _, d := range goEdges.deltas {
		if !deltas[d] {
			t.Errorf("delta %d never drawn", d)
		}
	}
}

// TestEdgesOff: a shape without edges draws none.
func TestEdgesOff(t *testing.T) {
	g := NewShaped(11, "w1", 1, 1, []string{"a", "b"}, DefaultMix, Shape{})
	for range 5000 {
		o := g.Next()
		if cs := edgeClasses(&o); len(cs) > 0 {
			t.Fatalf("drew %+v, edges %q, with no edge share", o, cs)
		}
	}
}

// TestEdgesJS: a JavaScript target's edges are kept as written by
// JSON.parse then JSON.stringify (run in node), and its deltas stay
// small and present; the Go target's other edges are not kept.
func TestEdgesJS(t *testing.T) {
	got, ops := drawEdges(t, true, 5000)
	if got["no delta"] > 0 || got["respelled old"] > 0 {
		t.Errorf("a JS target drew %d adds without delta and %d respelled cas", got["no delta"], got["respelled old"])
	}
	var texts []string
	for _, o := range ops {
		if o.Method == history.Add && (o.Delta < -5 || o.Delta > 5 || o.Delta == 0) {
			t.Errorf("a JS target drew delta %d", o.Delta)
		}
		for _, v := range []shm.Value{o.Value, o.Old} {
			if v != nil {
				texts = append(texts, string(v))
			}
		}
	}
	for _, v := range goEdges.numbers {
		texts = append(texts, string(v))
	}
	for _, f := range goEdges.fragments {
		texts = append(texts, `"`+f+`"`)
	}
	slices.Sort(texts)
	texts = slices.Compact(texts)
	node := nodetest.Node(t)
	in, _ := json.Marshal(texts)
	cmd := exec.Command(node, "-e", `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
		const out={};for(const t of JSON.parse(s)){out[t]=JSON.stringify(JSON.parse(t));}
		process.stdout.write(JSON.stringify(out));});`)
	cmd.Stdin = strings.NewReader(string(in))
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var back map[string]string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("node wrote %q: %v", b, err)
	}
	jsKept := map[string]bool{}
	for _, o := range ops {
		for _, v := range []shm.Value{o.Value, o.Old} {
			if v != nil {
				jsKept[string(v)] = true
			}
		}
	}
	var lost, kept []string
	for _, tx := range texts {
		switch {
		case jsKept[tx] && back[tx] != tx:
			lost = append(lost, tx+" -> "+back[tx])
		case !jsKept[tx] && back[tx] == tx && !strings.HasPrefix(tx, `"`):
			kept = append(kept, tx)
		}
	}
	if diff := cmp.Diff([]string(nil), lost); diff != "" {
		t.Errorf("a JS target drew values JSON.parse then JSON.stringify change: mismatch (-want +got):\n%s", diff)
	}
	// Numbers JS would keep but the JS set leaves out must be only those
	// an add could take past 2^53.
	for _, tx := range kept {
		n, ok := history.Int(json.RawMessage(tx))
		if ok && (n > -jsLimit && n < jsLimit) {
			t.Errorf("number %s is kept by JavaScript but not in the JS edges", tx)
		}
	}
}
