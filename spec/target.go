package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/goccy/go-yaml/ast"
	"github.com/shmlab/shmlab/internal/npmcache"
)

// Kind is the kind of a target.
type Kind string

// The kinds of target.
const (
	// Reference is shmlab's own Go master and Go workers (the zero
	// value: a scenario that names no target runs the reference).
	Reference Kind = ""
	// Node is a Node.js library, driven through its adapter file.
	Node Kind = "node"
)

// Target is the system under test. Its zero value is the reference. A
// runner dispatches on Kind.
type Target struct {
	// Kind is Reference ("") or Node.
	Kind Kind `json:"kind,omitempty"`
	// Node is the Node target (Kind Node); zero otherwise.
	Node NodeTarget `json:"node,omitzero"`
}

// NodeTarget is a Node.js library under test: the adapter file that says
// how to start its master and how a worker calls it (the adapter
// contract: node/README), and the npm packages it needs.
type NodeTarget struct {
	// Adapter is the adapter file as the scenario file names it
	// (relative to the scenario file's folder), shown in tables.
	Adapter string `json:"adapter"`
	// Path is where the adapter is: a path on disk (the scenario
	// file's folder joined with Adapter) when FS is nil, else a path
	// inside FS (slash-separated, as io/fs wants). Read it with
	// ReadAdapter.
	Path string `json:"path"`
	// FS, if not nil, holds the adapter: a bundled scenario's adapter
	// lives in the binary's embedded files. A runner that needs the
	// file on disk writes out what ReadAdapter returns.
	FS fs.FS `json:"-"`
	// Packages are the npm packages the adapter needs, each
	// "name@version" ("memored@1.1.1"; a scoped "@scope/name@1.0.0"
	// too), installed into a cache folder at run time.
	Packages []string `json:"packages,omitempty"`
	// Master is who serves the adapter's Node workers: NodeMaster (the
	// adapter's own master, the default) or ReferenceMaster (the Go
	// reference master, for a client library speaking its wire format).
	Master Master `json:"master,omitempty"`
}

// Master is who serves a Node target's workers.
type Master string

// The masters of a Node target.
const (
	// NodeMaster is the adapter's own master, in a Node primary (the
	// default; "" means it too).
	NodeMaster Master = "node"
	// ReferenceMaster is shmlab's Go reference master.
	ReferenceMaster Master = "reference"
)

// String names the target as tables show it: "reference", or
// "node:ADAPTER" (with "+reference-master" when the Go master serves it).
func (t Target) String() string {
	switch t.Kind {
	case Reference:
		return "reference"
	case Node:
		s := "node:" + t.Node.Adapter
		if t.Node.Master == ReferenceMaster {
			s += "+reference-master"
		}
		return s
	}
	return string(t.Kind)
}

// IsReference reports whether t is the reference.
func (t Target) IsReference() bool { return t.Kind == Reference }

// ReadAdapter returns the adapter file's text, from FS if set, else
// from disk.
func (n *NodeTarget) ReadAdapter() ([]byte, error) {
	if n.Path == "" {
		return nil, errors.New("spec: node target without an adapter")
	}
	if n.FS != nil {
		return fs.ReadFile(n.FS, n.Path)
	}
	return os.ReadFile(n.Path)
}

// MasterOrDefault is n's master, NodeMaster if unset.
func (n *NodeTarget) MasterOrDefault() Master {
	if n.Master == "" {
		return NodeMaster
	}
	return n.Master
}

// Validate reports what is wrong with t: an unknown kind, a Node target
// without an adapter, a package that is not "name@version", an unknown
// master.
func (t *Target) Validate() error {
	switch t.Kind {
	case Reference:
		if t.Node.Adapter != "" || t.Node.Path != "" || len(t.Node.Packages) > 0 {
			return errors.New("target: the reference has no node member")
		}
		return nil
	case Node:
	default:
		return fmt.Errorf("target: unknown kind %q (want reference or node)", t.Kind)
	}
	var errs []error
	if t.Node.Adapter == "" {
		errs = append(errs, errors.New("target.node.adapter is empty: name the adapter file (adapters/mylib.js)"))
	}
	for _, p := range t.Node.Packages {
		if err := CheckPackage(p); err != nil {
			errs = append(errs, err)
		}
	}
	switch t.Node.Master {
	case "", NodeMaster, ReferenceMaster:
	default:
		errs = append(errs, fmt.Errorf("target.node.master %q: want node or reference", t.Node.Master))
	}
	return errors.Join(errs...)
}

// CheckPackage checks an npm package spec: "name@version", the name
// possibly scoped ("@scope/name"), as npmcache.ParseSpec (its one
// parser) reads it.
func CheckPackage(p string) error {
	_, err := npmcache.ParseSpec(p)
	return err
}

// UnmarshalYAML reads a target, strictly: "reference", or a mapping
// {node: {adapter: FILE, packages: [NAME@VERSION, ...], master: node}};
// its errors name the node at fault. The adapter's Path is left for
// Parse to resolve.
func (t *Target) UnmarshalYAML(node ast.Node) error {
	if s, ok := node.(*ast.StringNode); ok {
		if s.Value != "reference" {
			return errAt(node, "target %q: want reference, or node: {adapter: FILE}", s.Value)
		}
		*t = Target{}
		return nil
	}
	pairs, ok := mapping(node)
	if !ok {
		return errAt(node, "target: want reference, or node: {adapter: FILE}")
	}
	var out Target
	for i, p := range pairs {
		name := p.Key.GetToken().Value
		switch {
		case name != string(Node):
			return errAt(p.Key, "unknown target %q (want reference, or node: {adapter: FILE})", name)
		case i > 0:
			return errAt(p.Key, "target: %s given twice", name)
		}
		n, err := decodeNodeTarget(p.Value)
		if err != nil {
			return err
		}
		out = Target{Kind: Node, Node: n}
	}
	*t = out
	return nil
}

// nodeMembers are the members of target.node.
var nodeMembers = []string{"adapter", "packages", "master"}

// decodeNodeTarget reads target.node's mapping.
func decodeNodeTarget(node ast.Node) (NodeTarget, error) {
	var n NodeTarget
	pairs, ok := mapping(node)
	if !ok || len(pairs) == 0 {
		return n, errAt(node, "target.node: want its adapter, and the npm packages it needs: {adapter: adapters/mylib.js, packages: [mylib@1.0.0]}")
	}
	seen := map[string]bool{}
	for _, p := range pairs {
		name := p.Key.GetToken().Value
		switch {
		case !slices.Contains(nodeMembers, name):
			return n, errAt(p.Key, "unknown member %q of target.node (want adapter, packages or master)", name)
		case seen[name]:
			return n, errAt(p.Key, "target.node: %s given twice", name)
		}
		seen[name] = true
		if err := decodeNodeMember(&n, name, p.Value); err != nil {
			return n, err
		}
	}
	if n.Adapter == "" {
		return n, errAt(node, "target.node needs its adapter: the file, relative to the scenario's folder (adapter: adapters/mylib.js)")
	}
	return n, nil
}

// decodeNodeMember reads the member name of target.node, its value v.
func decodeNodeMember(n *NodeTarget, name string, v ast.Node) error {
	switch name {
	case "adapter":
		s, ok := v.(*ast.StringNode)
		if !ok || s.Value == "" {
			return errAt(v, "target.node.adapter: want the adapter file, relative to the scenario's folder (adapters/mylib.js)")
		}
		n.Adapter = s.Value
	case "packages":
		seq, ok := v.(*ast.SequenceNode)
		if !ok {
			return errAt(v, "target.node.packages: want a list of npm packages, each name@version ([memored@1.1.1])")
		}
		for _, e := range seq.Values {
			s, ok := e.(*ast.StringNode)
			if !ok {
				return errAt(e, "target.node.packages: %s is not a package name@version", e.String())
			}
			if err := CheckPackage(s.Value); err != nil {
				return errAt(e, "target.node.packages: %v", err)
			}
			n.Packages = append(n.Packages, s.Value)
		}
	case "master":
		s, ok := v.(*ast.StringNode)
		if !ok || (s.Value != string(NodeMaster) && s.Value != string(ReferenceMaster)) {
			return errAt(v, "target.node.master %s: want node (the adapter's own master) or reference (shmlab's Go master)", v.String())
		}
		n.Master = Master(s.Value)
	}
	return nil
}

// resolve sets the adapter's Path: the scenario file's folder joined
// with Adapter, in fsys if not nil (slash-separated), else on disk; the
// file must be there.
func (n *NodeTarget) resolve(fsys fs.FS, file string) error {
	if fsys == nil {
		n.Path = n.Adapter
		if !filepath.IsAbs(n.Path) {
			n.Path = filepath.Join(filepath.Dir(file), filepath.FromSlash(n.Adapter))
		}
		if _, err := os.Stat(n.Path); err != nil {
			return fmt.Errorf("adapter %s: %w (it is read relative to the scenario file's folder)", n.Adapter, err)
		}
		return nil
	}
	n.FS, n.Path = fsys, path.Join(path.Dir(file), n.Adapter)
	if !fs.ValidPath(n.Path) || path.IsAbs(n.Adapter) {
		return fmt.Errorf("adapter %s: a bundled scenario's adapter lies within the bundled files, relative to its folder", n.Adapter)
	}
	if _, err := fs.Stat(fsys, n.Path); err != nil {
		return fmt.Errorf("adapter %s: %w (a bundled scenario's adapter must be embedded beside it)", n.Adapter, err)
	}
	return nil
}
