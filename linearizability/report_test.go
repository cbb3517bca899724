package linearizability

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/history"
)

// reportData extracts the data porcupine's page renders.
type reportData struct {
	Partitions []struct {
		History []struct {
			ClientId    int
			Description string
			Metadata    string
		}
		PartialLinearizations [][]struct{ Index int }
	}
	Annotations []struct {
		Tag         string
		ClientId    int
		Description string
		Details     string
	}
}

func renderReport(t interface {
	Helper()
	Fatal(...any)
	Fatalf(string, ...any)
}, text string, opts ReportOptions) reportData {
	t.Helper()
	h, err := history.Read(strings.NewReader(text), "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteReport(&b, h, opts); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const data = (.*)\n`).FindSubmatch(b.Bytes())
	if m == nil {
		t.Fatalf("no data in the report:\n%.500s", b.String())
	}
	var d reportData
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestReportShowsKeysEventsAndFailures(t *testing.T) {
	text := `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}
{"type":"op","id":1,"worker":"w1","method":"set","key":"a","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w2","method":"get","key":"b","output":{},"call":10,"return":20,"status":"ok"}
{"type":"op","id":3,"worker":"w2","method":"add","key":"a","input":{"delta":1},"output":{"error":{"code":"not_integer"}},"call":30,"return":40,"status":"fail"}
{"type":"op","id":4,"worker":"w2","method":"len","output":{"value":1},"call":60,"return":70,"status":"ok"}
{"type":"event","kind":"fault","time":15,"worker":"w1","link":"w1>master","fault":"drop","truth":"applied","op":1,"text":"reply lost"}
{"type":"event","kind":"kill","time":50,"worker":"w2"}
`
	d := renderReport(t, text, ReportOptions{})
	var got []string
	for _, p := range d.Partitions {
		for _, op := range p.History {
			got = append(got, op.Description+" | "+op.Metadata)
		}
		if len(p.PartialLinearizations) == 0 || len(p.PartialLinearizations[0]) != len(p.History) {
			t.Errorf("partition %v: not fully linearized: %v", p.History, p.PartialLinearizations)
		}
	}
	want := []string{
		`#1 w1/0 set("a", 1) -> "OK" | history line 2`,
		`#2 w2/0 get("b") -> absent | history line 3`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
	var notes []string
	for _, a := range d.Annotations {
		notes = append(notes, a.Tag+" | "+a.Description+" | "+a.Details)
	}
	wantNotes := []string{
		"faults w1>master | drop w1: applied | operation #1; reply lost; history line 6",
		"processes | kill w2 | history line 7",
		` | failed: add | #3 w2/0 add("a", +1) -> fail: not_integer (line 4) (surely not applied; not checked)`,
		` | #4 w2/0 len() -> 1 | #4 w2/0 len() -> 1 (line 5) (spans every key; not checked)`,
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}

func TestReportMarksViolations(t *testing.T) {
	text := `{"type":"header","format":"shmlab-history","version":1,"model":"kv"}
{"type":"op","id":1,"worker":"w1","method":"set","key":"x","input":{"value":1},"output":{"value":"OK"},"call":10,"return":20,"status":"ok"}
{"type":"op","id":2,"worker":"w1","method":"get","key":"x","output":{},"call":30,"return":40,"status":"ok"}
`
	h, err := history.Read(strings.NewReader(text), "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r := Check(h, Options{})
	if r.Verdict != Illegal {
		t.Fatalf("verdict %v, want illegal", r.Verdict)
	}
	if len(r.Sessions) != 1 || r.Sessions[0].Check != "read-your-writes" {
		t.Fatalf("sessions %+v, want one read-your-writes violation", r.Sessions)
	}
	d := renderReport(t, text, ReportOptions{Result: r})
	n := 0
	for _, a := range d.Annotations {
		if a.Tag == "violations" && a.Description == "read-your-writes" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d violation marks, want 2 (one per operation of the pair): %+v", n, d.Annotations)
	}
	if len(d.Partitions) != 1 || len(d.Partitions[0].PartialLinearizations) == 0 {
		t.Fatalf("no partial linearization shown: %+v", d.Partitions)
	}
	if l := len(d.Partitions[0].PartialLinearizations[0]); l != 1 {
		t.Errorf("longest partial linearization has %d operations, want 1 (the set; the get cannot follow)", l)
	}
}

func TestReportOfAConcurrentHistory(t *testing.T) {
	// Enough concurrency for the search to meet states it has seen,
	// which compares them; the evicting model's states are sets.
	for _, model := range []history.Model{history.ModelKV, history.ModelKVEvict} {
		h := hardHistory(6)
		h.Header.Model = model
		var b bytes.Buffer
		if err := WriteReport(&b, h, ReportOptions{Timeout: time.Minute}); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		if !bytes.Contains(b.Bytes(), []byte(`get(\"k\") -\u003e \"nowhere\"`)) {
			t.Errorf("%s: the report does not show the read", model)
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
	d := renderReport(t, text, ReportOptions{})
	for _, op := range d.Partitions[0].History {
		if len(op.Description) > maxDescription+40 || !strings.Contains(op.Description, "bytes in all)") || !utf8.ValidString(op.Description) {
			t.Errorf("description of %d bytes %.80q…, want at most %d and its length said, valid UTF-8", len(op.Description), op.Description, maxDescription+40)
		}
	}
	if got := shorten("short"); got != "short" {
		t.Errorf("shorten(%q) = %q, want it unchanged", "short", got)
	}
}
