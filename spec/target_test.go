package spec

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// TestTargetValidate: the reference and well-formed Node targets pass;
// each flaw is named.
func TestTargetValidate(t *testing.T) {
	node := func(n NodeTarget) Target { return Target{Kind: Node, Node: n} }
	for _, tt := range []struct {
		name string
		t    Target
		want string // in the error; "" for none
	}{
		{"reference", Target{}, ""},
		{"node", node(NodeTarget{Adapter: "a.js", Path: "/x/a.js", Packages: []string{"memored@1.1.1", "@scope/pkg@2.0.0"}}), ""},
		{"reference master", node(NodeTarget{Adapter: "a.js", Master: ReferenceMaster}), ""},
		{"no adapter", node(NodeTarget{}), "adapter is empty"},
		{"no version", node(NodeTarget{Adapter: "a.js", Packages: []string{"x@"}}), `package "x@": no version`},
		{"no at", node(NodeTarget{Adapter: "a.js", Packages: []string{"memored"}}), "want name@version"},
		{"bad scope", node(NodeTarget{Adapter: "a.js", Packages: []string{"@scope@1.0.0"}}), "scoped name"},
		{"bad master", node(NodeTarget{Adapter: "a.js", Master: "python"}), `master "python"`},
		{"unknown kind", Target{Kind: "rust"}, `unknown kind "rust"`},
		{"reference with node", Target{Node: NodeTarget{Adapter: "a.js"}}, "no node member"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.t.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestTargetString: tables name a target by its kind and adapter.
func TestTargetString(t *testing.T) {
	got := []string{
		Target{}.String(),
		Target{Kind: Node, Node: NodeTarget{Adapter: "adapters/memored.js"}}.String(),
		Target{Kind: Node, Node: NodeTarget{Adapter: "client.js", Master: ReferenceMaster}}.String(),
	}
	want := []string{"reference", "node:adapters/memored.js", "node:client.js+reference-master"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}

// TestReadAdapter: an adapter is read from its FS when it has one (a
// bundled scenario's), else from disk.
func TestReadAdapter(t *testing.T) {
	n := NodeTarget{Adapter: "adapters/a.js", Path: "bundled/adapters/a.js",
		FS: fstest.MapFS{"bundled/adapters/a.js": {Data: []byte("module.exports = {};\n")}}}
	got, err := n.ReadAdapter()
	if err != nil || string(got) != "module.exports = {};\n" {
		t.Fatalf("ReadAdapter = %q, %v", got, err)
	}
	n.FS = nil
	if _, err := n.ReadAdapter(); err == nil {
		t.Fatal("ReadAdapter read bundled/adapters/a.js from disk, which has no such file")
	}
}
