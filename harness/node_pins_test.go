package harness

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckPins: a copy of a pinned package beside or above the adapter
// is refused unless it is the pinned version.
func TestCheckPins(t *testing.T) {
	root := t.TempDir()
	adapter := filepath.Join(root, "app", "lib", "adapter.js")
	put := func(dir, name, version string) {
		d := filepath.Join(dir, "node_modules", name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "package.json"), []byte(`{"name":"`+name+`","version":"`+version+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkPins(adapter, []string{"memored@1.1.1", "@scope/x@2.0.0"}); err != nil {
		t.Fatalf("no copies: %v", err)
	}
	put(filepath.Join(root, "app"), "memored", "1.1.1")
	if err := checkPins(adapter, []string{"memored@1.1.1"}); err != nil {
		t.Fatalf("the pinned version above: %v", err)
	}
	put(filepath.Join(root, "app", "lib"), "@scope/x", "1.0.0")
	err := checkPins(adapter, []string{"memored@1.1.1", "@scope/x@2.0.0"})
	if !errors.Is(err, ErrNodeTarget) || !strings.Contains(err.Error(), "@scope/x@2.0.0 is pinned, but the adapter would load @scope/x@1.0.0 from "+filepath.Join(root, "app", "lib", "node_modules", "@scope/x")) {
		t.Fatalf("another version beside: %v", err)
	}
}
