package linearizability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/internal/race"
)

// reportOf reads a history from text and writes its report, checked
// first when check is set.
func reportOf(t *testing.T, text string, check bool, opts ReportOptions) (*history.History, string) {
	t.Helper()
	h, err := history.Read(strings.NewReader(text), "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if check {
		opts.Result = Check(h, Options{})
	}
	return h, writeReport(t, h, opts)
}

func writeReport(t *testing.T, h *history.History, opts ReportOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteReport(&b, h, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// opDiv is an operation's bar: its id, classes and text.
type opDiv struct{ ID, Class, Text string }

var opDivRE = regexp.MustCompile(`<div id="op-(\d+)" class="([^"]*)"[^>]*>([^<]*)</div>`)

// opDivs returns the operations' bars in the page, in page order.
func opDivs(page string) []opDiv {
	var out []opDiv
	for _, m := range opDivRE.FindAllStringSubmatch(page, -1) {
		out = append(out, opDiv{ID: m[1], Class: m[2], Text: html.UnescapeString(m[3])})
	}
	return out
}

var rowNameRE = regexp.MustCompile(`<div class="row-name">([^<]*)</div>`)

// rowNames returns the names of the page's rows, in order.
func rowNames(page string) []string {
	var out []string
	for _, m := range rowNameRE.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// staleText: w1 sets x to 1; later w2 reads x absent (not linearizable);
// the final reader reads 1; w10 reads y.
const staleText = `{"type":"header","format":"shmlab-history","version":1,"model":"kv","scenario":"stale <read>","seed":42,"faults":0}
{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w2","method":"get","key":"x","output":{},"call":30,"return":40,"status":"ok"}
{"type":"op","id":3,"worker":"w10","method":"get","key":"y","output":{},"call":5,"return":8,"status":"ok"}
{"type":"op","id":4,"worker":"final","method":"get","key":"x","output":{"value":1},"call":50,"return":60,"status":"ok"}
`

// TestReportHeader: the page heads with the verdict, the scenario, the
// seed, the repro line and the checker's explanation, names the operation
// at fault and the write it should have seen, and marks both.
func TestReportHeader(t *testing.T) {
	repro := `shmlab run --mode sim --seed 42 'stale <read>.yaml'`
	h, page := reportOf(t, staleText, true, ReportOptions{Repro: repro})
	r := Check(h, Options{})
	text := html.UnescapeString(page)
	for _, want := range []string{
		`<span class="verdict illegal">illegal</span>`,
		"<title>shmlab report: illegal · stale &lt;read&gt;</title>",
		"<th>scenario</th><td>stale &lt;read&gt;</td>",
		"<th>seed</th><td>42</td>",
		"<th>faults planned</th><td>0</td>",
		`<code class="repro">` + html.EscapeString(repro) + `</code>`,
		`<th>at fault</th><td><a class="focus" href="#op-2">`,
		`<th>it should have seen</th><td><a class="writer" href="#op-1">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if d := r.Details(); d == "" || !strings.Contains(text, d) {
		t.Errorf("the page lacks the explanation %q", d)
	}
	if !strings.Contains(text, r.String()[:20]) {
		t.Errorf("the page lacks the verdict line %q", r.String())
	}
	classes := map[string]string{}
	for _, d := range opDivs(page) {
		classes[d.ID] = d.Class
	}
	want := map[string]string{"1": "op bad writer", "2": "op bad focus", "3": "op", "4": "op"}
	if diff := cmp.Diff(want, classes); diff != "" {
		t.Errorf("operations' classes mismatch (-want +got):\n%s", diff)
	}
}

// TestReportRowsByWorker: rows are named by worker, in natural order, the
// final reads last, then the event tracks.
func TestReportRowsByWorker(t *testing.T) {
	text := staleText + `{"type":"event","kind":"fault","time":15,"worker":"w1","link":"w1>master","fault":"drop","truth":"applied","op":1,"text":"reply lost"}
{"type":"event","kind":"kill","time":35,"worker":"w2"}
`
	_, page := reportOf(t, text, false, ReportOptions{})
	want := []string{"w1", "w2", "w10", "final", "faults w1>master", "processes"}
	if diff := cmp.Diff(want, rowNames(page)); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
}

// TestReportShowsEventsAndFailures: fault boxes give the id of the
// operation they hit; failed operations and len are shown, marked not
// checked; every operation bar gives its text and its place in its key's
// linearization.
func TestReportShowsEventsAndFailures(t *testing.T) {
	text := `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}
{"type":"op","id":1,"worker":"w1","method":"set","key":"a","input":{"value":"x"},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w2","method":"get","key":"b","output":{},"call":10,"return":20,"status":"ok"}
{"type":"op","id":3,"worker":"w2","method":"add","key":"a","input":{"delta":1},"output":{"error":{"code":"not_integer"}},"call":30,"return":40,"status":"fail"}
{"type":"op","id":4,"worker":"w2","method":"len","output":{"value":1},"call":60,"return":70,"status":"ok"}
{"type":"op","id":5,"worker":"w1","method":"get","key":"a","output":{"value":"x"},"call":60,"return":70,"status":"ok"}
{"type":"op","id":6,"worker":"w1","method":"get","key":"a","output":{"error":{"code":"overloaded"}},"call":80,"return":90,"status":"fail"}
{"type":"event","kind":"fault","time":15,"worker":"w1","link":"w1>master","fault":"drop","truth":"applied","op":1,"text":"reply lost"}
{"type":"event","kind":"kill","time":50,"worker":"w2"}
`
	_, page := reportOf(t, text, false, ReportOptions{})
	want := []opDiv{
		{ID: "1", Class: "op", Text: `[1] #1 set("a", "x") -> "OK"`},
		{ID: "5", Class: "op", Text: `[3] #5 get("a") -> "x"`},
		{ID: "6", Class: "op failed", Text: `#6 get("a") -> fail: overloaded`},
		{ID: "2", Class: "op", Text: `[1] #2 get("b") -> absent`},
		{ID: "3", Class: "op failed", Text: `[2] #3 add("a", +1) -> fail: not_integer`},
		{ID: "4", Class: "op failed", Text: `#4 len() -> 1`},
	}
	if diff := cmp.Diff(want, opDivs(page)); diff != "" {
		t.Errorf("operations mismatch (-want +got):\n%s", diff)
	}
	for _, s := range []string{
		`<div class="event fault applied" data-op="1"`, `>drop w1: applied #1</div>`,
		`title="drop w1: applied #1; operation #1; reply lost; history line 8"`,
		`<div class="event process"`, `>kill w2</div>`,
		`<a href="#op-1">#1</a> → <a href="#op-3">#3</a> → <a href="#op-5">#5</a>`,
		`<option value="a">&#34;a&#34;</option><option value="b">&#34;b&#34;</option>`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
}

// bigHistory is n sequential operations of three workers over keys k0 to
// k4, each set followed by a get of it; the get with id bad reads a value
// nobody wrote.
func bigHistory(n int, bad int64) *history.History {
	h := &history.History{Header: history.NewHeader(history.ModelKV, "big", 7)}
	for i := range n {
		id := int64(i + 1)
		op := history.Op{ID: id, Worker: fmt.Sprintf("w%d", i%3+1), Key: fmt.Sprintf("k%d", i/2%5),
			Call: 10 * id, Return: 10*id + 5, Status: history.StatusOK}
		v := json.RawMessage(fmt.Sprint(i / 2))
		if i%2 == 0 {
			op.Method, op.Input.Value, op.Output.Value = history.Set, v, json.RawMessage(`"OK"`)
		} else {
			op.Method, op.Output.Value = history.Get, v
		}
		if id == bad {
			op.Output.Value = json.RawMessage(`"nowhere"`)
		}
		h.Ops = append(h.Ops, op)
	}
	return h
}

// TestNoRaceReportWindow: a history longer than MaxOps is shown as a window of
// MaxOps operations around its violation, and the page says so.
func TestNoRaceReportWindow(t *testing.T) {
	race.Skip(t)
	h := bigHistory(3000, 2500)
	r := Check(h, Options{})
	if r.Verdict != Illegal || len(r.Keys) != 1 || r.Keys[0].Ops[0].ID != 2500 {
		t.Fatalf("check: %v %+v, want op #2500 at fault", r, r.Keys)
	}
	page := writeReport(t, h, ReportOptions{Result: r, MaxOps: 500})
	divs := opDivs(page)
	if len(divs) != 500 {
		t.Errorf("%d operations shown, want 500", len(divs))
	}
	ids := map[string]bool{}
	for _, d := range divs {
		ids[d.ID] = true
	}
	if !ids["2500"] || ids["1"] || ids["3000"] {
		t.Errorf("the window holds #2500: %v, #1: %v, #3000: %v; want only #2500", ids["2500"], ids["1"], ids["3000"])
	}
	if want := "This history holds 3000 operations; the report shows a window of 500 of them, around the violations: operations 2250 to 2749 in call order, and the events of their time."; !strings.Contains(page, want) {
		t.Errorf("the page does not say what it shows; want %q", want)
	}
	if full := writeReport(t, h, ReportOptions{Result: r, MaxOps: 3000}); strings.Contains(full, `class="window"`) || len(opDivs(full)) != 3000 {
		t.Errorf("with MaxOps 3000: %d operations shown, want all 3000 and no window note", len(opDivs(full)))
	}
	if def := writeReport(t, h, ReportOptions{Result: r}); len(opDivs(def)) != DefaultReportOps {
		t.Errorf("with the default MaxOps: %d operations shown, want %d", len(opDivs(def)), DefaultReportOps)
	}
}

// TestReportDeadline: a deadline that has passed leaves the keys without
// a linearization, says so, and still writes the header.
func TestReportDeadline(t *testing.T) {
	h := hardHistory(40)
	start := time.Now()
	page := writeReport(t, h, ReportOptions{Deadline: start.Add(-time.Second), Timeout: time.Hour})
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the report took %v past its deadline", d)
	}
	for _, want := range []string{"The time for the report ran out", "not searched or undecided in the time given", `<th>seed</th>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestReportOfAConcurrentHistory(t *testing.T) {
	// Enough concurrency for the search to meet states it has seen,
	// which compares them; the evicting model's states are sets.
	for _, model := range []history.Model{history.ModelKV, history.ModelKVEvict} {
		h := hardHistory(6)
		h.Header.Model = model
		page := writeReport(t, h, ReportOptions{Timeout: time.Minute})
		if !strings.Contains(html.UnescapeString(page), `get("k") -> "nowhere"`) {
			t.Errorf("%s: the report does not show the read", model)
		}
		if !strings.Contains(page, "the longest linearizable prefix found has 6 of 7 operations") {
			t.Errorf("%s: the report does not give the longest prefix", model)
		}
	}
}

// TestReportShortensLargeValues: an operation with a 1 MB value is shown
// by its first maxDescription bytes and its length, so that the page
// stays small however large the values.
func TestReportShortensLargeValues(t *testing.T) {
	big := `"` + strings.Repeat("é", 500_000) + `"`
	text := `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}
{"type":"op","id":1,"worker":"w1","method":"set","key":"a","input":{"value":` + big + `},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w2","method":"get","key":"a","output":{"value":` + big + `},"call":30,"return":40,"status":"ok"}
`
	_, page := reportOf(t, text, false, ReportOptions{})
	if len(page) > 40_000 || !utf8.ValidString(page) {
		t.Errorf("page of %d bytes (valid UTF-8: %v), want under 40,000", len(page), utf8.ValidString(page))
	}
	for _, d := range opDivs(page) {
		if !strings.Contains(d.Text, "bytes in all)") {
			t.Errorf("bar %q does not say how long the value was", d.Text)
		}
	}
	if got := shorten("short"); got != "short" {
		t.Errorf("shorten(%q) = %q, want it unchanged", "short", got)
	}
}

func TestNaturalCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"w2", "w10", -1}, {"w10", "w2", 1}, {"w1", "w1", 0}, {"w1.2", "w1.10", -1},
		{"a", "b", -1}, {"w", "w1", -1}, {"w01", "w1", 0}, {"w1", "x", -1},
	} {
		if got := naturalCompare(tc.a, tc.b); got != tc.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestReportOfNothing: a history with no operations still makes a page.
func TestReportOfNothing(t *testing.T) {
	_, page := reportOf(t, `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}`+"\n", true, ReportOptions{})
	if !strings.Contains(page, `<span class="verdict ok">ok</span>`) || len(opDivs(page)) != 0 || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("page of an empty history:\n%s", page)
	}
}
