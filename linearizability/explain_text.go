package linearizability

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// String sums r up in one line: the verdict, the counts and the times.
func (r *Result) String() string {
	if r.Invalid != nil {
		return "not checked: " + r.Invalid.Error()
	}
	s := fmt.Sprintf("%s: %s (%d checked)", r.Verdict, plural(r.Ops, "operation"), r.Checked)
	if f := r.Findings(); f != "" {
		s += ", " + f
	}
	if n := len(r.Keys) - r.illegalKeys(); n > 0 {
		s += fmt.Sprintf(", %s undecided", plural(n, "key"))
	}
	return s + fmt.Sprintf(", in %v", r.Duration.Round(10_000))
}

// Findings counts what the checks found wrong, in a few words ("1 key
// not linearizable, 1 invariant violation (counter)"); empty when they
// found nothing.
func (r *Result) Findings() string {
	var parts []string
	if n := r.illegalKeys(); n > 0 {
		parts = append(parts, plural(n, "key")+" not linearizable")
	}
	if n := count(r.Sessions); n > 0 {
		parts = append(parts, plural(n, "session guarantee violation"))
	}
	if n := count(r.Invariants); n > 0 {
		parts = append(parts, plural(n, "invariant violation")+" ("+checks(r.Invariants)+")")
	}
	if n := r.Crashes(); n > 0 {
		parts = append(parts, strings.Replace(plural(n, "crash"), "crashs", "crashes", 1))
	}
	if n := r.NeverAnswered(); n > 0 {
		parts = append(parts, plural(n, "call")+" never answered")
	}
	if n := r.Unavailable(); n > 0 {
		parts = append(parts, plural(n, "operation")+" unavailable")
	}
	if n := r.Overdue(); n > 0 {
		parts = append(parts, plural(n, "call")+" past the deadline")
	}
	return strings.Join(parts, ", ")
}

// checks names the checks of vs, each once.
func checks(vs []Violation) string {
	var names []string
	for _, v := range vs {
		if !slices.Contains(names, v.Check) {
			names = append(names, v.Check)
		}
	}
	return strings.Join(names, ", ")
}

func (r *Result) illegalKeys() int {
	n := 0
	for _, k := range r.Keys {
		if k.Verdict == Illegal {
			n++
		}
	}
	return n
}

// Details says what is wrong, key by key and violation by violation,
// for people; empty when the verdict is Ok.
func (r *Result) Details() string {
	var b strings.Builder
	for _, k := range r.Keys {
		fmt.Fprintf(&b, "key %q: %s\n%s\n", k.Key, k.Verdict, indent(k.Explanation))
	}
	for _, v := range append(append([]Violation(nil), r.Sessions...), r.Invariants...) {
		fmt.Fprintf(&b, "%s on key %q:\n%s\n", v.Check, v.Key, indent(v.Text))
	}
	for _, v := range r.Liveness {
		fmt.Fprintf(&b, "%s:\n%s\n", v.Check, indent(v.Text))
	}
	return b.String()
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Crashes counts the crashes among the liveness violations.
func (r *Result) Crashes() int { return countCheck(r.Liveness, LivenessCrashed) }

// NeverAnswered counts the calls never answered, those not listed
// included.
func (r *Result) NeverAnswered() int { return countCheck(r.Liveness, LivenessNeverAnswered) }

// Unavailable counts the operations left without an answer in a run
// with no fault planned, those not listed included.
func (r *Result) Unavailable() int { return countCheck(r.Liveness, LivenessUnavailable) }

// BadAnswers counts the ok answers their method cannot give (CheckAnswer,
// among the invariant violations), those not listed included.
func (r *Result) BadAnswers() int { return countCheck(r.Invariants, CheckAnswer) }

// Overdue counts the calls that outlived their deadline, those not
// listed included.
func (r *Result) Overdue() int { return countCheck(r.Liveness, LivenessOverdue) }

func countCheck(vs []Violation, check string) int {
	n := 0
	for _, v := range vs {
		if v.Check == check {
			n += 1 + v.More
		}
	}
	return n
}

// CountViolations counts violations, those not listed (More) included.
func CountViolations(vs []Violation) int { return count(vs) }

// count counts violations, those not listed included.
func count(vs []Violation) int {
	n := len(vs)
	for _, v := range vs {
		n += v.More
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// The errors Result.Err wraps, for errors.Is.
var (
	// ErrViolation: the history breaks linearizability, a session
	// guarantee, an invariant or liveness.
	ErrViolation = errors.New("violation")
	// ErrUndecided: the check ran out of time before it could decide.
	ErrUndecided = errors.New("undecided")
	// ErrInvalid: the history or the options are not valid, and nothing
	// was checked.
	ErrInvalid = errors.New("invalid history")
)

// Err returns nil when the verdict is Ok, else an error that wraps
// ErrViolation or ErrUndecided and says what was found, for callers that
// check histories as they check anything else.
func (r *Result) Err() error {
	switch {
	case r.Invalid != nil:
		return r.Invalid
	case r.Verdict == Ok:
		return nil
	case r.Verdict == Illegal:
		return fmt.Errorf("%w: %v\n%s", ErrViolation, r, r.Details())
	}
	return fmt.Errorf("%w: %v\n%s", ErrUndecided, r, r.Details())
}
