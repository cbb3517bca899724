package linearizability

import "slices"

// CheckLinearizable names the linearizability check (per key, or over
// the whole store) among the checks of CheckNames.
const CheckLinearizable = "linearizable"

// CheckNames returns the names of the checks whose violations a Result
// reports, in a fixed order: linearizable (Result.Linearizable), the
// session guarantees (read-your-writes, monotonic-reads,
// monotonic-writes, writes-follow-reads), the invariants (counter,
// read-back, answer) and the liveness checks (crashed, never-answered,
// unavailable, overdue), as Violation.Check names them. A scenario may name one
// as the violation it expects.
func CheckNames() []string {
	names := []string{CheckLinearizable}
	names = append(names, sessionChecks...)
	return append(names, invariantCounter, invariantReadBack, CheckAnswer, LivenessCrashed, LivenessNeverAnswered, LivenessUnavailable, LivenessOverdue)
}

// Violates reports whether the check named check (one of CheckNames)
// found a violation in r: for linearizable, a key (or the store) not
// linearizable; for the others, a Violation of that Check. It is false
// for a name that is none of CheckNames.
func (r *Result) Violates(check string) bool {
	if check == CheckLinearizable {
		return r.Linearizable == Illegal
	}
	has := func(v Violation) bool { return v.Check == check }
	return slices.ContainsFunc(r.Sessions, has) || slices.ContainsFunc(r.Invariants, has) || slices.ContainsFunc(r.Liveness, has)
}
