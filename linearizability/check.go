package linearizability

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/shmlab/shmlab/history"
)

// Verdict is a checker's answer.
type Verdict int

// The verdicts. Unknown means the check ran out of time: it is never
// reported as Ok.
const (
	Ok Verdict = iota
	Illegal
	Unknown
)

func (v Verdict) String() string {
	switch v {
	case Ok:
		return "ok"
	case Illegal:
		return "illegal"
	}
	return "unknown"
}

// validateBuilt validates h unless Read made it, and checks model.
func validateBuilt(h *history.History, model history.Model) error {
	if !model.Valid() {
		return fmt.Errorf("%w: unknown model %q (want %s)", ErrInvalid, model, history.Models)
	}
	if err := registerProblem(h, model); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for i := range h.Ops {
		if h.Ops[i].Line == 0 {
			if err := h.Validate(); err != nil {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			return nil
		}
	}
	return nil
}

// MarshalText writes v as its name, for JSON.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// worse returns the worse of two verdicts: Illegal, then Unknown, then Ok.
func worse(a, b Verdict) Verdict {
	if a == Illegal || b == Illegal {
		return Illegal
	}
	if a == Unknown || b == Unknown {
		return Unknown
	}
	return Ok
}

// Options tune Check. The zero value checks everything with no time limit.
type Options struct {
	// Model overrides the history header's model.
	Model history.Model
	// Timeout bounds the linearizability search (0: none). Keys not
	// decided in time are Unknown.
	Timeout time.Duration
	// Parallel is how many keys are checked at once (0: GOMAXPROCS).
	Parallel int
	// NoSessions, NoCounters and NoLiveness turn those checks off.
	NoSessions, NoCounters, NoLiveness bool
	// NoReduce searches every unknown operation as recorded, without the
	// reductions (reduce.go) that take out those that cannot change the
	// verdict: for comparing, and measuring. (The search still takes
	// identical unknown operations in the order of their calls: see
	// searcher.twin.)
	NoReduce bool
}

// Result is what Check found.
type Result struct {
	// Verdict sums up the others: Illegal if any check found a violation,
	// else Unknown if the linearizability search ran out of time.
	Verdict Verdict
	// Linearizable is the linearizability checker's verdict.
	Linearizable Verdict
	// Keys holds the keys that are not linearizable, or not decided, in
	// key order.
	Keys []KeyResult
	// Sessions holds the violated session guarantees.
	Sessions []Violation
	// Invariants holds the violated invariants (the counter check, and
	// the read-back check: readback.go; the answer check: CheckAnswer).
	Invariants []Violation
	// Liveness holds the crashes (LivenessCrashed), the calls never
	// answered (LivenessNeverAnswered), the operations left without a
	// real answer that no planned fault explains (LivenessUnavailable)
	// and the calls past their deadline (LivenessOverdue).
	Liveness []Violation
	// Outcomes counts the operations of unknown outcome, the expired
	// answers among them and the late replies.
	Outcomes Outcomes
	// Counters says which keys the counter check counted, and which it
	// could not.
	Counters CounterKeys
	// Ops is how many operations the history holds; Checked how many of
	// them the linearizability checker looked at.
	Ops, Checked int
	// Reduced counts, by reduction, the unknown operations the search
	// left out, bounded or ordered, knowing that this could not change
	// the verdict (reduce.go). Those the fault log says never reached the master
	// (Reduced.NotApplied) are checked as failed, not counted in Checked;
	// the others are.
	Reduced Reduced
	// Duration is how long the check took; Search the part of it spent in
	// the linearizability search.
	Duration, Search time.Duration
	// Invalid, if not nil, says why nothing was checked: the history or
	// the options are not valid. The verdict is then Unknown.
	Invalid error
	// search is what the search found, for the report (nil when the
	// history was invalid).
	search *searched
}

// searched is what Check's search found, kept so that explanations and
// the report reuse it.
type searched struct {
	// keys holds every key checked, in key order (after reduce).
	keys []*keyHistory
	// lin holds per key: for a linearizable key one linearization
	// (indices into keys[i].ops, in order); for a key that is not, the
	// longest linearizable prefixes found; nil if undecided.
	lin [][][]int
}

// KeyResult is the verdict on one key.
type KeyResult struct {
	Key     string  `json:"key"`
	Verdict Verdict `json:"verdict"`
	// Ops are the operations at fault: first the one that could not be
	// linearized, then the one that wrote the value it contradicts.
	Ops []history.Op `json:"ops,omitempty"`
	// Explanation says why, with a diff of the value returned against
	// the only one allowed where there is one.
	Explanation string `json:"explanation"`
}

// Violation is a broken session guarantee or invariant.
type Violation struct {
	// Check names it: read-your-writes, monotonic-reads,
	// monotonic-writes, writes-follow-reads, counter, read-back, answer,
	// never-answered, crashed, unavailable or overdue.
	Check string `json:"check"`
	Key   string `json:"key"`
	// Ops is the offending pair, in order, then any witnesses (the call
	// never answered, for liveness; none for a crash).
	Ops []history.Op `json:"ops"`
	// Event is the crash, for LivenessCrashed.
	Event *history.Event `json:"event,omitempty"`
	Text  string         `json:"text"`
	// More counts the further violations of the same check that were
	// found but not listed (on the last one listed).
	More int `json:"more,omitempty"`
}

// Check checks h: linearizability per key, the session guarantees per
// worker, the counter invariant, and liveness (crashes, calls never
// answered). A history built in memory (its
// operations have no Line) is first validated as Read validates a file;
// an invalid one is not checked (Result.Invalid).
func Check(h *history.History, opts Options) *Result {
	start := time.Now()
	model := h.Header.Model
	if opts.Model != "" {
		model = opts.Model
	}
	r := &Result{Ops: len(h.Ops), Outcomes: countOutcomes(h)}
	if err := validateBuilt(h, model); err != nil {
		r.Verdict, r.Linearizable, r.Invalid = Unknown, Unknown, err
		r.Duration = time.Since(start)
		return r
	}
	var ss streams
	var keys []*keyHistory
	limits := storeChecked(h)
	if limits == nil { // a whole store's search takes no ground truth
		skip := notApplied(h)
		keys = partitionSkipping(h, model, &ss, skip)
		r.Checked, r.Reduced.NotApplied = checkedOps(h, skip), len(skip)
	} else {
		r.Checked = checkedOps(h, nil)
	}
	if !opts.NoReduce {
		r.Reduced.add(reduceKeys(keys))
	}
	// The session and counter checks run beside the search: they fill
	// the processors that keys with short histories leave idle.
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A store with limits loses keys whatever the header's model
		// says: the session and counter checks take it as evicting.
		vanish := model
		if h.Header.Store.Bounded() {
			vanish = history.ModelKVEvict
		}
		if !opts.NoSessions {
			r.Sessions = checkSessions(h, vanish)
		}
		if !opts.NoCounters {
			r.Invariants, r.Counters = checkCounters(h, vanish)
		}
		r.Invariants = append(r.Invariants, checkReadBack(h)...)
		r.Invariants = append(r.Invariants, checkAnswers(h)...)
		if !opts.NoLiveness {
			r.Liveness = checkLiveness(h)
		}
	}()
	t0 := time.Now()
	if limits != nil {
		r.Keys, r.search, r.Linearizable = checkWholeStore(h, *limits, &ss, opts)
	} else {
		r.search = &searched{keys: keys}
		r.Keys, r.search.lin, r.Linearizable = checkKeys(keys, opts)
	}
	r.Search = time.Since(t0)
	<-done
	r.Verdict = r.Linearizable
	if len(r.Sessions) > 0 || len(r.Invariants) > 0 || len(r.Liveness) > 0 {
		r.Verdict = Illegal
	}
	r.Duration = time.Since(start)
	return r
}

// checkKeys searches each key once, several at once, and explains the
// keys that fail. It returns the keys not linearizable or undecided,
// what the search found of each key (searched.lin), and the verdict.
func checkKeys(keys []*keyHistory, opts Options) ([]KeyResult, [][][]int, Verdict) {
	par := opts.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	var deadline time.Time
	if opts.Timeout > 0 {
		deadline = time.Now().Add(opts.Timeout)
	}
	results := make([]KeyResult, len(keys))
	lin := make([][][]int, len(keys))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(par, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], lin[i] = checkKey(keys[i], deadline)
			}
		}()
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	var bad []KeyResult
	v := Ok
	for _, kr := range results {
		if kr.Verdict != Ok {
			bad = append(bad, kr)
			v = worse(v, kr.Verdict)
		}
	}
	return bad, lin, v
}

// remaining returns the time left before deadline, or 0 for none; ok is
// false once it has passed.
func remaining(deadline time.Time) (time.Duration, bool) {
	if deadline.IsZero() {
		return 0, true
	}
	d := time.Until(deadline)
	return d, d > 0
}

// checkKey searches kh once and explains it if it is not linearizable.
// It returns the verdict and what the search found (searched.lin).
func checkKey(kh *keyHistory, deadline time.Time) (KeyResult, [][]int) {
	kr := KeyResult{Key: kh.key}
	if _, ok := remaining(deadline); !ok {
		kr.Verdict = Unknown
		kr.Explanation = "not checked: the time ran out"
		return kr, nil
	}
	res := searchKey(kh, deadline)
	kr.Verdict = res.verdict
	switch res.verdict {
	case Unknown:
		kr.Explanation = fmt.Sprintf("undecided: the search over %d operations ran out of time", len(kh.ops))
	case Illegal:
		kr.Ops, kr.Explanation = kh.explain(res.prefixes)
	}
	return kr, res.prefixes
}

// explain says why a key's history is not linearizable: where the
// longest linearizable prefixes get stuck, what the key could hold there,
// and what the stuck operation should have returned.
func (kh *keyHistory) explain(prefixes [][]int) ([]history.Op, string) {
	longest := 0
	for _, p := range prefixes {
		longest = max(longest, len(p))
	}
	if longest == 0 {
		prefixes = [][]int{nil}
	}
	ends, in := kh.prefixEnds(prefixes, longest)
	stuck := kh.stuck(in)
	if stuck == nil {
		return nil, fmt.Sprintf("the longest linearizable prefix has %d of %d operations", longest, len(kh.ops))
	}
	ops := []history.Op{*stuck.op}
	var b strings.Builder
	fmt.Fprintf(&b, "%s cannot be linearized: no order of the operations before and beside it allows that answer.\n", stuck.op)
	if longest == 0 {
		fmt.Fprintf(&b, "  It cannot even come first, where the key is absent.\n")
	} else {
		fmt.Fprintf(&b, "  After the most operations that can be put in order (%d):\n", longest)
	}
	for _, e := range ends {
		if longest > 0 {
			fmt.Fprintf(&b, "  the key holds %s%s\n", kh.model.held(e.state), e.why())
		}
		if e.writer != nil && len(ops) == 1 {
			ops = append(ops, *e.writer)
		}
	}
	if e := ends[0].state.epoch(); stuck.epoch < e {
		fmt.Fprintf(&b, "  but it was called before the master's restart: having returned, it took effect before it (HISTORY.md, \"Events\")")
		return ops, b.String()
	}
	if kh.nowhere(stuck) {
		fmt.Fprintf(&b, "  No operation wrote %s to this key: a value from nowhere.\n", history.OutputText(stuck.op))
		kh.notAppliedWriters(&b, stuck)
	}
	if stuck.method == history.Get {
		kh.readable(&b, stuck)
	} else {
		kh.allowed(&b, ends, in, stuck)
	}
	return ops, strings.TrimRight(b.String(), "\n")
}

// readable writes what the stuck get could have read: the values of the
// writes that may be the last before it, those not followed, before it
// was called, by a write that returned.
func (kh *keyHistory) readable(b *strings.Builder, stuck *kvOp) {
	call, ret := stuck.op.Call, stuck.op.Return
	bound := int64(math.MinInt64) // the latest call of a write that returned before the get was called
	for i := range kh.ops {
		if o := kh.ops[i].Input.(*kvOp); o.writes() && !o.unknown && kh.ops[i].Return < call {
			bound = max(bound, kh.ops[i].Call)
		}
	}
	var vals []string
	seen := map[string]bool{}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	if bound == math.MinInt64 || kh.model.evict {
		add("absent")
	}
	for i := range kh.ops {
		o := kh.ops[i].Input.(*kvOp)
		if !o.writes() || kh.ops[i].Call >= ret || kh.ops[i].Return < bound {
			continue
		}
		add(kh.model.written(o))
	}
	got := history.OutputText(stuck.op)
	switch {
	case !seen[got] && len(vals) == 1 && compound(vals[0]) && compound(got) && valueDiff(vals[0], got) != "":
		fmt.Fprintf(b, "  The only value it could have read (-want +got):\n%s", valueDiff(vals[0], got))
	case !seen[got]:
		fmt.Fprintf(b, "  It read %s; the values it could have read: %s.", got, strings.Join(vals, ", "))
		if len(vals) == 1 && vals[0] != got && valueDiff(vals[0], got) == "" {
			b.WriteString(" (The same members in another order: values compare as JSON text.)")
		}
	default:
		fmt.Fprintf(b, "  It read %s, which a write before or beside it left, but no order of the other operations on the key lets it read that value then (the values those writes left: %s).", got, strings.Join(vals, ", "))
	}
}

// writes reports whether o may change the key's value.
func (o *kvOp) writes() bool {
	switch o.method {
	case history.Add:
		return !o.reset && o.fail == notFailed
	case history.Set, history.Delete, history.Append:
		return !o.reset
	case history.CAS:
		return o.unknown || o.flag
	}
	return o.reset
}

// written is what o leaves in the key, as text ("absent", or "an
// integer" for an add of unknown outcome).
func (m *kvModel) written(o *kvOp) string {
	switch {
	case o.reset, o.method == history.Delete:
		return "absent"
	case o.method == history.Add && o.unknown:
		return "an integer"
	case o.method == history.Append:
		return "… + " + m.in.vals[o.value]
	}
	return m.in.vals[o.value]
}

// allowed writes the answers the stuck operation could have given there:
// in the states the prefixes end in, or one step later, when an operation
// concurrent with it (or unknown) takes effect first.
func (kh *keyHistory) allowed(b *strings.Builder, ends []prefixEnd, in map[int]bool, stuck *kvOp) {
	var wants []string
	seen := map[string]bool{}
	add := func(s kvState) {
		for _, w := range kh.model.answers(s, stuck) {
			if !seen[w] {
				seen[w] = true
				wants = append(wants, w)
			}
		}
	}
	ret := stuck.op.Return
	for _, e := range ends {
		add(e.state)
		for i := range kh.ops {
			if o := kh.ops[i].Input.(*kvOp); !in[i] && o != stuck && !o.reset && kh.ops[i].Call < ret {
				add(kh.model.follow(e.state, o))
			}
		}
	}
	got := history.OutputText(stuck.op)
	switch {
	case len(wants) > 1:
		fmt.Fprintf(b, "  It answered %s; answers an order would allow there: %s.", got, strings.Join(wants, ", "))
	case compound(wants[0]) && compound(got) && valueDiff(wants[0], got) != "":
		fmt.Fprintf(b, "  The answer an order would allow there (-want +got):\n%s", valueDiff(wants[0], got))
	default:
		fmt.Fprintf(b, "  It answered %s; the answer an order would allow there: %s.", got, wants[0])
		if wants[0] != got && valueDiff(wants[0], got) == "" {
			b.WriteString(" (The same members in another order: values compare as JSON text.)")
		}
	}
}

// compound reports whether a JSON text is an object or an array.
func compound(v string) bool { return strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") }

// nowhere reports whether o is a get that returned a value no operation
// on its key could have written.
func (kh *keyHistory) nowhere(o *kvOp) bool {
	if o.method != history.Get || !o.present {
		return false
	}
	for i := range kh.ops {
		w := kh.ops[i].Input.(*kvOp)
		switch {
		case (w.method == history.Set || w.method == history.CAS) && w.value == o.value:
			return false
		case w.method == history.Add && (w.unknown || w.value == o.value), w.method == history.Append:
			return false
		}
	}
	return true
}

// prefixEnd is a state a longest linearizable prefix ends in, with the
// operation that last wrote it (nil for the initial state or a restart).
type prefixEnd struct {
	state   kvState
	writer  *history.Op
	restart bool // a restart came after the writer
}

func (e prefixEnd) why() string {
	switch {
	case e.restart && e.writer != nil:
		return ", since the master's restart (the last write before it: " + e.writer.String() + ")"
	case e.restart:
		return ", since the master's restart"
	case e.writer != nil && !e.state.present() && e.writer.Method != history.Delete:
		return ", having vanished after " + e.writer.String()
	case e.writer != nil:
		return ", written by " + e.writer.String()
	}
	return ""
}

// prefixEnds replays the longest prefixes and returns their distinct end
// states, and the set of operations they hold.
func (kh *keyHistory) prefixEnds(prefixes [][]int, longest int) ([]prefixEnd, map[int]bool) {
	var ends []prefixEnd
	seen := map[kvState]bool{}
	in := map[int]bool{}
	for _, p := range prefixes {
		if len(p) != longest {
			continue
		}
		e := prefixEnd{state: mkState(0, false, 0)}
		for _, i := range p {
			in[i] = true
			o := kh.ops[i].Input.(*kvOp)
			e.state = kh.model.follow(e.state, o)
			switch {
			case o.reset:
				e.restart = true
			case o.writes():
				e.writer, e.restart = o.op, false
			}
		}
		if !seen[e.state] {
			seen[e.state] = true
			ends = append(ends, e)
		}
	}
	return ends, in
}

// stuck returns the operation the prefixes could not take: of those left
// out, the one that returned first.
func (kh *keyHistory) stuck(in map[int]bool) *kvOp {
	var best *kvOp
	var ret int64
	for i := range kh.ops {
		o := kh.ops[i].Input.(*kvOp)
		if in[i] || o.reset || o.unknown {
			continue
		}
		if best == nil || kh.ops[i].Return < ret {
			best, ret = o, kh.ops[i].Return
		}
	}
	return best
}

// held describes what state s holds.
func (m *kvModel) held(s kvState) string {
	if !s.present() {
		return "absent"
	}
	return m.in.vals[s.value()]
}

// answers returns what o may answer in state s: one answer, or two when
// the key may vanish first.
func (m *kvModel) answers(s kvState, o *kvOp) []string {
	w := []string{m.expect(s, o)}
	if m.evict && s.present() {
		if v := m.expect(s.absent(), o); v != w[0] {
			w = append(w, v)
		}
	}
	return w
}

// follow is the state after o; for the evicting model, the one where the
// key did not vanish if that works.
func (m *kvModel) follow(s kvState, o *kvOp) kvState {
	if m.evict {
		if next := m.stepEvict(s, o); len(next) > 0 {
			return next[0]
		}
		return s
	}
	_, next := m.step(s, o)
	return next
}

// expect returns the output o should have had in state s, as JSON text
// ("absent" for no value).
func (m *kvModel) expect(s kvState, o *kvOp) string {
	switch o.method {
	case history.Get:
		return m.held(s)
	case history.Set:
		return "any answer"
	case history.Delete:
		return fmt.Sprint(s.present())
	case history.CAS:
		match := !s.present()
		if o.hasOld {
			match = s.present() && s.value() == o.old
		}
		return fmt.Sprint(match)
	case history.Add:
		cur := int64(0)
		if s.present() {
			if !m.in.isInt[s.value()] {
				return "error not_integer"
			}
			cur = m.in.intOf[s.value()]
		}
		if sum, ok := addInt(cur, o.delta); ok {
			return fmt.Sprint(sum)
		}
		return "error overflow"
	case history.Append:
		if s.present() && !m.in.isStr(s.value()) {
			return "error not_string"
		}
		return "any answer"
	}
	return "?"
}
