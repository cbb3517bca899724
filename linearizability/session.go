package linearizability

// checkSessions checks the session guarantees. (Stub until written.)
func checkSessions(h *History, model Model) []Violation { return nil }
