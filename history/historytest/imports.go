package historytest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/shmlab/shmlab/history"
)

// RequireImport is the property of a reader of another tool's format
// (history/jepsen, history/kvlog), for its tests and fuzz targets: given
// what the reader returned, it fails t unless the reader refused with a
// *history.ParseError (naming the line), or made a valid history that is
// written and read back the same.
func RequireImport(t testing.TB, h *history.History, err error) {
	t.Helper()
	if err != nil {
		var pe *history.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("the error names no line: %v", err)
		}
		return
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("the import is not valid: %v", err)
	}
	var b bytes.Buffer
	if err := h.Write(&b); err != nil {
		t.Fatal(err)
	}
	back, err := history.Read(bytes.NewReader(b.Bytes()), "imported.jsonl")
	if err != nil {
		t.Fatalf("the import does not read back: %v\n%s", err, b.String())
	}
	if diff := Diff(h, back); diff != "" {
		t.Fatalf("written and read back: mismatch (-want +got):\n%s", diff)
	}
}
