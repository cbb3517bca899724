package scenarios

import (
	"errors"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/history"
)

// TestThrew: calls of a Node adapter that threw are counted in a note;
// a method that threw on every call makes the run ErrAdapterBroken.
func TestThrew(t *testing.T) {
	op := func(w string, m history.Method, code string) history.Op {
		o := history.Op{Worker: w, Method: m, Key: "k", Status: history.StatusOK}
		if code != "" {
			o.Status, o.Output.Error = history.StatusUnknown, &history.ErrorInfo{Code: code, Message: "boom"}
		}
		return o
	}
	for _, tc := range []struct {
		name     string
		ops      []history.Op
		note     string
		errWants string
	}{
		{"none", []history.Op{op("w1", "get", ""), op("w1", "set", "timeout")}, "", ""},
		{"some", []history.Op{op("w1", "get", ""), op("w2", "get", "error"), op("w1", "set", "")},
			`1 calls threw or rejected (recorded unknown), the first w2 get("k"): boom`, ""},
		{"every get", []history.Op{op("w1", "get", "error"), op("w2", "get", "error"), op("w1", "set", ""), op("final", "get", "")},
			"", `get threw or rejected on every call (2 of 2), first w1 get("k"): boom`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			note, err := threw(&history.History{Ops: tc.ops})
			if note != tc.note {
				t.Errorf("note %q, want %q", note, tc.note)
			}
			if tc.errWants == "" && err != nil || tc.errWants != "" && (!errors.Is(err, ErrAdapterBroken) || !strings.Contains(err.Error(), tc.errWants)) {
				t.Errorf("error %v, want one saying %q", err, tc.errWants)
			}
		})
	}
}
