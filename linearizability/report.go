package linearizability

import (
	"bufio"
	"cmp"
	"fmt"
	"html"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shmlab/shmlab/history"
)

// DefaultReportOps is how many operations a report shows at most, unless
// ReportOptions.MaxOps says otherwise: a longer history is shown as a
// window around its violations.
const DefaultReportOps = 2000

// ReportOptions tune WriteReport.
type ReportOptions struct {
	// Model overrides the history header's model, as in Options.
	Model history.Model
	// Timeout bounds the writing of the report, its search for the
	// linearizations it shows included (0: none). Deadline, if set, bounds
	// it too; the earlier of the two wins. Past it, the keys not yet
	// searched are shown without a linearization, and the page says so.
	Timeout  time.Duration
	Deadline time.Time
	// Result, if set, is a finished check: its verdict and explanation
	// head the page, and its violations are marked on the operations at
	// fault. The page opens at the operation the explanation names first.
	Result *Result
	// Repro, if set, is the command line that runs the history again
	// (spec.Repro), shown in the header.
	Repro string
	// MaxOps is how many operations the page shows at most
	// (DefaultReportOps if 0).
	MaxOps int
}

// WriteReport writes one self-contained HTML page (no scripts or styles
// from elsewhere) that shows h: a header with the verdict, the scenario,
// the seed, the repro line and the checker's explanation; a time line
// with a row per worker, named as in the history, each operation a bar
// with its text (its id first) and its place in its key's linearization
// (or in the longest linearizable prefix found); the events (faults with
// their ground truth and the id of the operation they hit, kills,
// restarts, late replies) on tracks of their own; the operation at fault
// and the write it should have seen highlighted; and a filter by key.
// The page opens at the operation at fault. A history of more than
// MaxOps operations is shown as a window of that many around its
// violations, and the page says so.
func WriteReport(w io.Writer, h *history.History, opts ReportOptions) error {
	deadline := opts.Deadline
	if opts.Timeout > 0 {
		if d := time.Now().Add(opts.Timeout); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	model := h.Header.Model
	if opts.Model != "" {
		model = opts.Model
	}
	p := &reportPage{h: h, opts: opts, opRows: map[int64]*history.Op{}}
	p.focus, p.writer = focusOf(opts.Result)
	p.window(opts.MaxOps)
	p.lin = linPlaces(p.search(model, deadline))
	p.timedOut = !deadline.IsZero() && time.Now().After(deadline)
	bw := bufio.NewWriterSize(w, 64<<10)
	p.write(bw)
	return bw.Flush()
}

// WriteReportFile writes the report to the file at path.
func WriteReportFile(path string, h *history.History, opts ReportOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteReport(f, h, opts); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// reportPage is what a report shows.
type reportPage struct {
	h    *history.History
	opts ReportOptions
	// shown are the operations shown, in call order; first and total say
	// where they are in the history, in call order.
	shown        []*history.Op
	first, total int
	opRows       map[int64]*history.Op // the operations shown, by id
	// focus is the operation at fault the explanation names first, writer
	// the write it should have seen (0: none).
	focus, writer int64
	// bad holds the ids of the operations of any violation.
	bad map[int64]string
	// lin places the operations in their keys' linearizations.
	lin      linearizations
	timedOut bool
}

// focusOf returns the operation the checker's explanation names first,
// and the write it should have seen: a key's stuck operation and the
// write of the value it contradicts; a session violation's last read
// and its first write; a counter's final read; a call never answered.
func focusOf(r *Result) (focus, writer int64) {
	if r == nil {
		return 0, 0
	}
	for _, k := range r.Keys {
		if k.Verdict == Illegal && len(k.Ops) > 0 {
			if len(k.Ops) > 1 {
				writer = k.Ops[1].ID
			}
			return k.Ops[0].ID, writer
		}
	}
	if len(r.Sessions) > 0 && len(r.Sessions[0].Ops) > 1 {
		ops := r.Sessions[0].Ops
		return ops[len(ops)-1].ID, ops[0].ID
	}
	for _, vs := range [][]Violation{r.Invariants, r.Liveness} {
		for _, v := range vs {
			if len(v.Ops) > 0 {
				return v.Ops[0].ID, 0
			}
		}
	}
	return 0, 0
}

// violationOps returns the ids of the operations of r's violations,
// each with the check that names it.
func violationOps(r *Result) map[int64]string {
	bad := map[int64]string{}
	if r == nil {
		return bad
	}
	for _, k := range r.Keys {
		for _, op := range k.Ops {
			bad[op.ID] = "not linearizable"
		}
	}
	for _, vs := range [][]Violation{r.Sessions, r.Invariants, r.Liveness} {
		for _, v := range vs {
			for _, op := range v.Ops {
				if _, ok := bad[op.ID]; !ok {
					bad[op.ID] = v.Check
				}
			}
		}
	}
	return bad
}

// window picks the operations to show: all of them, or n of them
// around the violations, in call order.
func (p *reportPage) window(n int) {
	if n <= 0 {
		n = DefaultReportOps
	}
	p.bad = violationOps(p.opts.Result)
	byCall := make([]*history.Op, len(p.h.Ops))
	for i := range p.h.Ops {
		byCall[i] = &p.h.Ops[i]
	}
	slices.SortStableFunc(byCall, func(a, b *history.Op) int { return cmp.Compare(a.Call, b.Call) })
	p.total = len(byCall)
	lo, hi := 0, len(byCall)
	if len(byCall) > n {
		lo, hi = windowAround(byCall, p.bad, p.focus, n)
	}
	p.first, p.shown = lo, byCall[lo:hi]
	for _, op := range p.shown {
		p.opRows[op.ID] = op
	}
}

// windowAround returns the bounds of n operations of byCall around
// those in bad: all of them with as many before as after if they fit,
// else centred on focus (or the first of them).
func windowAround(byCall []*history.Op, bad map[int64]string, focus int64, n int) (lo, hi int) {
	first, last, at := -1, -1, -1
	for i, op := range byCall {
		if _, ok := bad[op.ID]; ok {
			if first < 0 {
				first = i
			}
			last = i
		}
		if op.ID == focus {
			at = i
		}
	}
	switch {
	case first < 0:
		return 0, n
	case last-first+1 <= n:
		lo = first - (n-(last-first+1))/2
	case at >= 0:
		lo = at - n/2
	default:
		lo = first - n/2
	}
	lo = min(max(lo, 0), len(byCall)-n)
	return lo, lo + n
}

// keysShown returns the keys that have an operation shown.
func (p *reportPage) keysShown(keys []*keyHistory) []*keyHistory {
	if len(p.shown) == p.total {
		return keys
	}
	shown := map[string]bool{}
	for _, op := range p.shown {
		shown[op.Key] = true
	}
	var out []*keyHistory
	for _, kh := range keys {
		if shown[kh.key] {
			out = append(out, kh)
		}
	}
	return out
}

// linearizations says where each operation stands in its key's
// linearization, and what was found per key.
type linearizations struct {
	place map[int64]int // an operation's place, from 1, by id
	keys  []keyLin
}

// keyLin is what the search found for one key.
type keyLin struct {
	key     string
	decided bool
	full    bool    // a linearization of every operation
	order   []int64 // the operation ids, in order (the longest prefix if not full)
	ops     int     // how many operations the key has
	store   bool    // the whole of a bounded store, every key at once
}

// linPlaces turns what the search found into places by operation id.
// Entries of no recorded operation (epoch boundaries, a get's copies)
// are left out.
func linPlaces(s *searched) linearizations {
	l := linearizations{place: map[int64]int{}}
	for i, kh := range s.keys {
		kl := keyLin{key: kh.key, decided: s.lin[i] != nil}
		if len(kh.ops) > 0 {
			_, kl.store = kh.ops[0].Input.(*boundedOp)
		}
		for _, op := range kh.ops {
			if recordedOp(op.Input) != nil {
				kl.ops++
			}
		}
		var best []int
		for _, p := range s.lin[i] {
			if len(p) > len(best) {
				best = p
			}
		}
		for _, j := range best {
			if op := recordedOp(kh.ops[j].Input); op != nil {
				kl.order = append(kl.order, op.ID)
				l.place[op.ID] = len(kl.order)
			}
		}
		kl.full = kl.decided && len(kl.order) == kl.ops
		l.keys = append(l.keys, kl)
	}
	return l
}

// recordedOp returns the recorded operation a search input stands for:
// a key's operation (*kvOp) or a whole store's (*boundedOp, not one of a
// get's copies); nil for anything else.
func recordedOp(in any) *history.Op {
	switch o := in.(type) {
	case *kvOp:
		return o.op
	case *boundedOp:
		if !o.touch {
			return o.op
		}
	}
	return nil
}

// maxLabel is how much of an operation's text its bar shows; its tooltip
// shows up to maxDescription.
const maxLabel = 80

// maxDescription is how much of an operation's or an event's text the
// report holds: a 1 MB value would otherwise make the page megabytes.
const maxDescription = 512

// shorten cuts a description longer than maxDescription (at a rune's
// start), saying how long it was.
func shorten(s string) string { return cut(s, maxDescription) }

// cut cuts s to at most n bytes (at a rune's start), saying how long it
// was.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + fmt.Sprintf("… (%d bytes in all)", len(s))
}

// esc escapes s for HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// write writes the page.
func (p *reportPage) write(w *bufio.Writer) {
	title := "shmlab report"
	if r := p.opts.Result; r != nil {
		title += ": " + r.Verdict.String()
	}
	if sc := p.h.Header.Scenario; sc != "" {
		title += " · " + sc
	}
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(title), reportCSS)
	p.writeHeader(w)
	p.writeTimeline(w)
	p.writeLinearizations(w)
	fmt.Fprintf(w, "<script>%s</script>\n</body>\n</html>\n", reportJS)
}

// writeHeader writes the verdict, what the run was, the repro line, the
// explanation and, for a window, what it leaves out.
func (p *reportPage) writeHeader(w *bufio.Writer) {
	r, hd := p.opts.Result, &p.h.Header
	verdict := "not checked"
	if r != nil {
		verdict = r.Verdict.String()
	}
	fmt.Fprintf(w, "<header id=\"summary\">\n<h1>shmlab report: <span class=\"verdict %s\">%s</span></h1>\n<table class=\"meta\">\n", esc(verdict), esc(verdict))
	row := func(name, value string) {
		fmt.Fprintf(w, "<tr><th>%s</th><td>%s</td></tr>\n", name, value)
	}
	if r != nil {
		row("verdict", esc(r.String()))
	}
	if hd.Scenario != "" {
		row("scenario", esc(hd.Scenario))
	}
	if seed := strconv.FormatUint(hd.Seed, 10); hd.Seed != 0 || hd.Scenario != "" {
		row("seed", seed)
	} else {
		row("seed", "not said") // 0 with no scenario: a history written by hand or imported
	}
	if p.h.Name != "" {
		row("history", esc(p.h.Name))
	}
	row("model", esc(string(hd.Model)))
	switch {
	case hd.Faults == nil:
		row("faults planned", "not said")
	default:
		row("faults planned", strconv.Itoa(*hd.Faults))
	}
	if p.opts.Repro != "" {
		row("repro", "<code class=\"repro\">"+esc(p.opts.Repro)+"</code>")
	}
	if p.focus != 0 {
		row("at fault", p.opLink(p.focus, "focus"))
	}
	if p.writer != 0 {
		row("it should have seen", p.opLink(p.writer, "writer"))
	}
	fmt.Fprintf(w, "</table>\n")
	if len(p.shown) < p.total {
		what := "around the violations"
		if len(p.bad) == 0 {
			what = "from the start (there is no violation to centre on)"
		}
		fmt.Fprintf(w, "<p class=\"window\">This history holds %d operations; the report shows a window of %d of them, %s: operations %d to %d in call order, and the events of their time. The rest is left out.</p>\n",
			p.total, len(p.shown), what, p.first+1, p.first+len(p.shown))
	}
	if p.timedOut {
		fmt.Fprintf(w, "<p class=\"window\">The time for the report ran out: the keys not searched by then are shown without a linearization.</p>\n")
	}
	if r != nil {
		if d := r.Details(); d != "" {
			fmt.Fprintf(w, "<details open><summary>explanation</summary>\n<pre class=\"explanation\">%s</pre>\n</details>\n", esc(d))
		}
	}
	fmt.Fprintf(w, "</header>\n")
}

// opLink links to operation id, described, if it is shown.
func (p *reportPage) opLink(id int64, class string) string {
	op := p.opRows[id]
	if op == nil {
		return fmt.Sprintf("#%d (outside the window shown)", id)
	}
	return fmt.Sprintf("<a class=\"%s\" href=\"#op-%d\">%s</a>", class, id, esc(shorten(op.String())))
}

// timeScale places the times shown on the page: each distinct time is
// one step, so that operations a microsecond apart and an hour apart
// read alike, and only their order shows.
type timeScale struct{ ts []int64 }

const stepPx = 24

func (s *timeScale) add(t int64) { s.ts = append(s.ts, t) }

func (s *timeScale) finish() {
	slices.Sort(s.ts)
	s.ts = slices.Compact(s.ts)
}

// x returns where time t is, in pixels: the step of the latest time
// shown not after t.
func (s *timeScale) x(t int64) int {
	i, found := slices.BinarySearch(s.ts, t)
	if !found && i > 0 {
		i--
	}
	return i * stepPx
}

func (s *timeScale) width() int { return (len(s.ts) + 1) * stepPx }

// end is where an operation shown ends: its return, or, for one of
// unknown outcome, when its worker gave up (the end of the page if it
// did not say).
func end(op *history.Op, last int64) int64 {
	switch {
	case op.Status != history.StatusUnknown:
		return op.Return
	case op.Return > 0:
		return op.Return
	}
	return last
}

// writeTimeline writes the key filter, a row per worker and a track per
// kind of event.
func (p *reportPage) writeTimeline(w *bufio.Writer) {
	var ts timeScale
	var last int64
	for _, op := range p.shown {
		ts.add(op.Call)
		last = max(last, op.Call, op.Return)
		if op.Return > 0 {
			ts.add(op.Return)
		}
	}
	lo, hi := int64(0), last
	if len(p.shown) > 0 {
		lo = p.shown[0].Call
	}
	var events []*history.Event
	for i := range p.h.Events {
		e := &p.h.Events[i]
		if max(e.Time, e.End) >= lo && e.Time <= hi || len(p.shown) == p.total {
			events = append(events, e)
			ts.add(e.Time)
			if e.End > e.Time {
				ts.add(e.End)
			}
		}
	}
	ts.add(last)
	ts.finish()
	p.writeFilter(w)
	fmt.Fprintf(w, "<main id=\"timeline\" style=\"--width:%dpx\">\n", ts.width())
	for _, name := range p.workers() {
		fmt.Fprintf(w, "<div class=\"row\"><div class=\"row-name\">%s</div><div class=\"lane\">\n", esc(name))
		for _, op := range p.shown {
			if op.Worker == name {
				p.writeOp(w, op, &ts, last)
			}
		}
		fmt.Fprintf(w, "</div></div>\n")
	}
	tracks, byTrack := eventTracks(events)
	for _, track := range tracks {
		fmt.Fprintf(w, "<div class=\"row track\"><div class=\"row-name\">%s</div><div class=\"lane\">\n", esc(track))
		for _, e := range byTrack[track] {
			p.writeEvent(w, e, &ts)
		}
		fmt.Fprintf(w, "</div></div>\n")
	}
	fmt.Fprintf(w, "</main>\n")
}

// writeFilter writes the key filter: the keys of the operations shown.
func (p *reportPage) writeFilter(w *bufio.Writer) {
	var keys []string
	seen := map[string]bool{}
	for _, op := range p.shown {
		if op.Method.Keyed() && !seen[op.Key] {
			seen[op.Key] = true
			keys = append(keys, op.Key)
		}
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "<nav><label>key <select id=\"keyfilter\"><option value=\"\" data-all=\"1\">all keys</option>")
	for _, k := range keys {
		fmt.Fprintf(w, "<option value=\"%s\">%s</option>", esc(k), esc(strconv.Quote(k)))
	}
	fmt.Fprintf(w, "</select></label> <span class=\"key\">bars: <span class=\"swatch ok\"></span> ok <span class=\"swatch unknown\"></span> unknown (to when its worker gave up) <span class=\"swatch failed\"></span> failed or spanning every key (not checked) <span class=\"swatch bad\"></span> in a violation <span class=\"swatch focus\"></span> at fault <span class=\"swatch writer\"></span> the write it should have seen; a number in brackets is the operation's place in its key's linearization</span></nav>\n")
}

// workers returns the worker names of the operations shown, in natural
// order (w2 before w10), the final reads last.
func (p *reportPage) workers() []string {
	seen := map[string]bool{}
	var names []string
	for _, op := range p.shown {
		if !seen[op.Worker] {
			seen[op.Worker] = true
			names = append(names, op.Worker)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(isFinal(a), isFinal(b)), naturalCompare(a, b))
	})
	return names
}

// isFinal is 1 for the final reads' worker ("final"), for sorting.
func isFinal(name string) int {
	if name == "final" {
		return 1
	}
	return 0
}

// naturalCompare compares names with their runs of digits as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitsAt(a), digitsAt(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), cmp.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

// digitsAt returns how many ASCII digits s begins with.
func digitsAt(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// writeOp writes op as a bar in its worker's row.
func (p *reportPage) writeOp(w *bufio.Writer, op *history.Op, ts *timeScale, last int64) {
	classes := []string{"op"}
	switch {
	case op.Status == history.StatusUnknown:
		classes = append(classes, "unknown")
	case op.Status == history.StatusFail || !op.Method.Keyed():
		classes = append(classes, "failed")
	}
	note := ""
	if check, ok := p.bad[op.ID]; ok {
		classes = append(classes, "bad")
		note = "; in a violation: " + check
	}
	switch op.ID {
	case p.focus:
		classes = append(classes, "focus")
		note += "; at fault"
	case p.writer:
		classes = append(classes, "writer")
		note += "; the write it should have seen"
	}
	label := barLabel(op)
	if n, ok := p.lin.place[op.ID]; ok {
		label = fmt.Sprintf("[%d] %s", n, label)
		note += fmt.Sprintf("; number %d in its key's linearization", n)
	}
	switch {
	case checkedFailure(op) != notFailed:
		note += "; surely not applied, checked as what the key held"
	case op.Status == history.StatusFail:
		note += "; surely not applied, not checked"
	case !op.Method.Keyed():
		note += "; spans every key, not checked"
	}
	x0, x1 := ts.x(op.Call), ts.x(end(op, last))
	key := ""
	if op.Method.Keyed() {
		key = fmt.Sprintf(" data-key=\"%s\"", esc(op.Key))
	}
	fmt.Fprintf(w, "<div id=\"op-%d\" class=\"%s\"%s style=\"left:%dpx;width:%dpx\" title=\"%s\">%s</div>\n",
		op.ID, strings.Join(classes, " "), key, x0, max(x1-x0, stepPx-2),
		esc(shorten(op.String())+fmt.Sprintf(" [call %d, return %d]", op.Call, op.Return)+note), esc(cut(label, maxLabel)))
}

// barLabel is op's text on its bar: as Describe, without the worker and
// stream that its row gives.
func barLabel(op *history.Op) string {
	return strings.Replace(op.Describe(), " "+op.Worker+"/"+strconv.Itoa(op.Stream)+" ", " ", 1)
}

// eventTracks sorts events into their tracks, in a fixed order of kinds.
func eventTracks(events []*history.Event) ([]string, map[string][]*history.Event) {
	byTrack := map[string][]*history.Event{}
	var tracks []string
	for _, e := range events {
		t := eventTrack(e)
		if byTrack[t] == nil {
			tracks = append(tracks, t)
		}
		byTrack[t] = append(byTrack[t], e)
	}
	slices.SortFunc(tracks, func(a, b string) int { return cmp.Or(cmp.Compare(trackRank(a), trackRank(b)), naturalCompare(a, b)) })
	return tracks, byTrack
}

func trackRank(t string) int {
	for i, prefix := range []string{"faults", "processes", "late replies", "notes"} {
		if strings.HasPrefix(t, prefix) {
			return i
		}
	}
	return 4
}

// writeEvent writes e as a box on its track, naming the operation it hit.
func (p *reportPage) writeEvent(w *bufio.Writer, e *history.Event, ts *timeScale) {
	label := eventTitle(e)
	ref := ""
	if e.Op != 0 {
		label = fmt.Sprintf("%s #%d", label, e.Op)
		if p.opRows[e.Op] != nil {
			ref = fmt.Sprintf(" data-op=\"%d\"", e.Op)
		}
	}
	x0, x1 := ts.x(e.Time), ts.x(max(e.Time, e.End))
	fmt.Fprintf(w, "<div class=\"event %s\"%s style=\"left:%dpx;width:%dpx\" title=\"%s\">%s</div>\n",
		eventClass(e), ref, x0, max(x1-x0, stepPx-2), esc(shorten(label+"; "+eventDetails(e))), esc(cut(label, maxLabel)))
}

// writeLinearizations writes, per key shown, the order the search found.
func (p *reportPage) writeLinearizations(w *bufio.Writer) {
	fmt.Fprintf(w, "<section id=\"linearizations\">\n<h2>Linearizations</h2>\n")
	for _, kl := range p.lin.keys {
		what := "key " + strconv.Quote(kl.key)
		if kl.store {
			what = "the whole store (bounded: its keys are checked together)"
		}
		fmt.Fprintf(w, "<div class=\"lin\" data-key=\"%s\"><h3>%s: ", esc(kl.key), esc(what))
		switch {
		case !kl.decided:
			fmt.Fprintf(w, "not searched or undecided in the time given</h3>")
		case kl.full:
			fmt.Fprintf(w, "linearizable, in this order</h3>")
		default:
			fmt.Fprintf(w, "not linearizable; the longest linearizable prefix found has %d of %d operations</h3>", len(kl.order), kl.ops)
		}
		if len(kl.order) > 0 {
			fmt.Fprintf(w, "<p>")
			const maxShown = 200
			for i, id := range kl.order[:min(len(kl.order), maxShown)] {
				if i > 0 {
					w.WriteString(" → ")
				}
				if p.opRows[id] != nil {
					fmt.Fprintf(w, "<a href=\"#op-%d\">#%d</a>", id, id)
				} else {
					fmt.Fprintf(w, "#%d", id)
				}
			}
			if len(kl.order) > maxShown {
				fmt.Fprintf(w, " … and %d more", len(kl.order)-maxShown)
			}
			fmt.Fprintf(w, "</p>")
		}
		fmt.Fprintf(w, "</div>\n")
	}
	fmt.Fprintf(w, "</section>\n")
}

func eventTrack(e *history.Event) string {
	switch e.Kind {
	case history.EventFault:
		if e.Link != "" {
			return "faults " + e.Link
		}
		if e.Worker != "" {
			return "faults " + e.Worker
		}
		return "faults"
	case history.EventNote:
		return "notes"
	case history.EventLateReply:
		return "late replies"
	}
	return "processes"
}

func eventTitle(e *history.Event) string {
	s := string(e.Kind)
	if e.Fault != "" {
		s = e.Fault
	}
	if e.Worker != "" {
		s += " " + e.Worker
	}
	if e.Truth != history.TruthNone {
		s += ": " + strings.ReplaceAll(string(e.Truth), "_", " ")
	}
	if e.Reset {
		s += " (state lost)"
	}
	return s
}

func eventDetails(e *history.Event) string {
	var parts []string
	if e.Op != 0 {
		parts = append(parts, fmt.Sprintf("operation #%d", e.Op))
	}
	if e.Exit != "" {
		parts = append(parts, e.Exit)
	}
	if e.Text != "" {
		parts = append(parts, e.Text)
	}
	if e.Stderr != "" {
		parts = append(parts, "stderr: "+e.Stderr)
	}
	if e.Line > 0 {
		parts = append(parts, fmt.Sprintf("history line %d", e.Line))
	}
	return strings.Join(parts, "; ")
}

// eventClass is the CSS class that colours e.
func eventClass(e *history.Event) string {
	switch {
	case e.Kind == history.EventFault && e.Truth == history.TruthApplied:
		return "fault applied"
	case e.Kind == history.EventFault:
		return "fault"
	case e.Kind == history.EventNote:
		return "note"
	case e.Kind == history.EventCrash:
		return "crash"
	case e.Kind == history.EventLateReply:
		return "late"
	}
	return "process"
}

const reportCSS = `
body{font:13px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{padding:12px 16px;border-bottom:1px solid #ccc;background:#fafafa}
h1{font-size:18px;margin:0 0 8px}
.verdict.illegal{color:#b00}.verdict.ok{color:#070}.verdict.unknown{color:#a60}
table.meta th{text-align:left;padding-right:12px;font-weight:600;vertical-align:top}
code.repro{background:#eee;padding:1px 4px;user-select:all}
pre.explanation{white-space:pre-wrap;background:#fff;border:1px solid #ddd;padding:8px;max-height:40vh;overflow:auto}
p.window{background:#fff3a8;padding:4px 8px}
nav{position:sticky;top:0;z-index:3;background:#fff;padding:6px 16px;border-bottom:1px solid #ddd}
.key{margin-left:12px;color:#555}
.swatch{display:inline-block;width:12px;height:10px;border:1px solid #888;vertical-align:middle}
main{overflow:auto;position:relative;padding-bottom:8px;max-height:75vh}
.row{display:flex;min-width:calc(var(--width) + 90px);border-bottom:1px solid #eee}
.row-name{position:sticky;left:0;z-index:2;flex:0 0 80px;padding:3px 6px;background:#f4f4f4;font-weight:600;border-right:1px solid #ccc}
.lane{position:relative;flex:1;height:24px}
.op,.event{position:absolute;top:2px;height:18px;box-sizing:border-box;border:1px solid #6a8;background:#dfe;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;font-size:11px;padding:0 2px;border-radius:3px}
.op.unknown,.swatch.unknown{background:repeating-linear-gradient(45deg,#fff,#fff 4px,#eee 4px,#eee 8px);border-style:dashed;border-color:#999}
.op.failed,.swatch.failed{background:#ddd;border-color:#aaa;color:#666}
.swatch.ok{background:#dfe}
.op.bad,.swatch.bad{background:#fcc;border-color:#c66}
.op.focus,.swatch.focus{background:#f66;border:2px solid #900;color:#fff;z-index:1}
.op.writer,.swatch.writer{background:#9cf;border:2px solid #036;z-index:1}
.op.hidden,.lin.hidden{display:none}
.op.flash{outline:3px solid #fc0}
.event{background:#fff3a8;border-color:#cb6}
.event.applied{background:#ffd59c}.event.note{background:#e0e0ff;border-color:#99c}
.event.crash{background:#ff9c9c;border-color:#c33}.event.process{background:#c8e6ff;border-color:#69c}
.event.late{background:#e8f5e9;border-color:#8b8}
.event[data-op]{cursor:pointer}
#linearizations{padding:8px 16px}
.lin h3{font-size:13px;margin:8px 0 2px}
.lin p{margin:0;word-break:break-word}
`

const reportJS = `
(function(){
  var sel=document.getElementById('keyfilter');
  function filter(){
    var k=sel.value;
    document.querySelectorAll('.op[data-key],.lin').forEach(function(el){
      el.classList.toggle('hidden', k!=='' && el.getAttribute('data-key')!==k);
    });
  }
  sel.addEventListener('change', filter);
  function show(el){
    if(!el)return;
    el.scrollIntoView({block:'center',inline:'center'});
    el.classList.add('flash');
    setTimeout(function(){el.classList.remove('flash');},1500);
  }
  document.querySelectorAll('.event[data-op]').forEach(function(el){
    el.addEventListener('click',function(){show(document.getElementById('op-'+el.getAttribute('data-op')));});
  });
  var start=location.hash?document.getElementById(location.hash.slice(1)):null;
  start=start||document.querySelector('.op.focus')||document.querySelector('.op.bad');
  if(start){
    var k=start.getAttribute('data-key');
    if(k!==null&&document.querySelectorAll('.op[data-key]').length>200){sel.value=k;filter();}
    show(start);
  }
})();
`
