package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
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
// possibly scoped ("@scope/name"), the version not empty.
func CheckPackage(p string) error {
	at := strings.LastIndexByte(p, '@')
	if at <= 0 {
		return fmt.Errorf("package %q: want name@version (memored@1.1.1)", p)
	}
	name, version := p[:at], p[at+1:]
	switch {
	case version == "":
		return fmt.Errorf("package %q: no version after @ (memored@1.1.1)", p)
	case strings.ContainsAny(p, " \t\n\"'`$\\"):
		return fmt.Errorf("package %q: spaces, quotes and backslashes are not part of a package spec", p)
	case strings.HasPrefix(name, "@") && !strings.Contains(name[1:], "/"):
		return fmt.Errorf("package %q: a scoped name is @scope/name", p)
	case strings.HasPrefix(name, "-") || strings.HasPrefix(name, "."):
		return fmt.Errorf("package %q: a name cannot begin with %q", p, name[:1])
	}
	return nil
}
