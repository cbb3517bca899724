package linearizability

import (
	"bytes"
	"encoding/json"
	"strconv"

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
	return plainNumbers(v)
}

// plainNumbers turns the json.Numbers in v into int64 or float64 where
// that keeps every digit (so that cmp prints them plainly), and into their
// text where it would not (big integers).
func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil && strconv.FormatFloat(f, 'g', -1, 64) == string(x) {
			return f
		}
		return string(x)
	case []any:
		for i := range x {
			x[i] = plainNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = plainNumbers(x[k])
		}
	}
	return v
}
