package linearizability

import (
	"bytes"
	"encoding/json"

	"github.com/google/go-cmp/cmp"
)

// valueDiff shows two JSON texts' difference with cmp.Diff, decoded so
// that objects and arrays differ member by member.
func valueDiff(want, got string) string {
	return cmp.Diff(decodeForDiff(want), decodeForDiff(got))
}

func decodeForDiff(s string) any {
	var v any
	if s == "absent" {
		return "<absent>"
	}
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return s
	}
	return v
}
