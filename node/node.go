// Package node carries shmlab's Node.js package (the JavaScript files in
// this folder) inside the shmlab binary, writes it out to a cache folder
// when a run needs it, and reads the journals its processes write.
//
// The JavaScript side is documented in README.md: the adapter a user
// writes, the primary runner, the worker driver, the recorder and the
// fault shim.
package node

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

//go:embed package.json index.js lib adapters template
var files embed.FS

// Template returns the commented adapter template that `shmlab
// init-adapter` writes.
func Template() []byte {
	b, err := files.ReadFile("template/adapter.js")
	if err != nil {
		panic(err) // embedded
	}
	return b
}

// layout numbers the way Install lays the package out (beside it,
// node_modules/shmlab); it is part of Hash.
const layout = 2

// Hash names the embedded files' content: a hex SHA-256 of every file's
// path and bytes, in path order.
func Hash() string {
	h := sha256.New()
	var paths []string
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	fmt.Fprintf(h, "layout %d\x00", layout)
	for _, p := range paths {
		b, _ := files.ReadFile(p)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CacheRoot is the folder the package is written under: $SHMLAB_CACHE,
// else $XDG_CACHE_HOME/shmlab (os.UserCacheDir), else a folder in the
// temporary directory.
func CacheRoot() string {
	if d := os.Getenv("SHMLAB_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "shmlab")
	}
	return filepath.Join(os.TempDir(), "shmlab-cache")
}

// Install writes the package into root once per content hash, and
// returns the package's folder (ROOT/node-HASH/shmlab-node), which holds
// lib/primary.js and lib/worker.js. A folder already there is used as
// it is; a new one is written beside it and renamed into place, so that
// concurrent runs never see half a package.
func Install(root string) (string, error) {
	dir := filepath.Join(root, "node-"+Hash()[:16])
	pkg := filepath.Join(dir, "shmlab-node")
	if _, err := os.Stat(filepath.Join(pkg, "lib", "primary.js")); err == nil {
		return pkg, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("node: install: %w", err)
	}
	tmp, err := os.MkdirTemp(root, ".node-")
	if err != nil {
		return "", fmt.Errorf("node: install: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := writeFiles(filepath.Join(tmp, "shmlab-node")); err != nil {
		return "", fmt.Errorf("node: install: %w", err)
	}
	// require('shmlab/...') finds the package through Modules.
	if err := os.Mkdir(filepath.Join(tmp, "node_modules"), 0o755); err != nil {
		return "", fmt.Errorf("node: install: %w", err)
	}
	if err := os.Symlink(filepath.Join("..", "shmlab-node"), filepath.Join(tmp, "node_modules", "shmlab")); err != nil {
		return "", fmt.Errorf("node: install: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(filepath.Join(pkg, "lib", "primary.js")); serr != nil {
			return "", fmt.Errorf("node: install: %w", err)
		}
	}
	return pkg, nil
}

// Modules returns the node_modules folder beside the package folder pkg
// (Install's), in which require('shmlab') finds the package: an adapter
// may require('shmlab/adapters/reference') with it in NODE_PATH.
func Modules(pkg string) string { return filepath.Join(filepath.Dir(pkg), "node_modules") }

// writeFiles writes every embedded file under dir.
func writeFiles(dir string) error {
	return fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
}
