package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkPins reports a pinned npm package (name@version) that the adapter
// at adapter would not load from the cache: node looks in node_modules
// folders beside the adapter and above it before NODE_PATH, so a copy
// there of another version would run in place of the pinned one. A copy
// of the pinned version is fine.
func checkPins(adapter string, packages []string) error {
	for _, p := range packages {
		name, version := splitPin(p)
		for dir := filepath.Dir(adapter); ; dir = filepath.Dir(dir) {
			got, err := installedVersion(filepath.Join(dir, "node_modules", name))
			if err == nil && got != version {
				return fmt.Errorf("%w: %s is pinned, but the adapter would load %s@%s from %s (node_modules beside or above the adapter comes before the pinned copy): remove it, or pin that version",
					ErrNodeTarget, p, name, got, filepath.Join(dir, "node_modules", name))
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: %s: %w", ErrNodeTarget, p, err)
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return nil
}

// splitPin splits name@version ("@scope/name@1.2.3" too).
func splitPin(p string) (name, version string) {
	i := strings.LastIndex(p, "@")
	if i <= 0 {
		return p, ""
	}
	return p[:i], p[i+1:]
}

// installedVersion is the version in dir/package.json.
func installedVersion(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	var pj struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, "package.json"), err)
	}
	return pj.Version, nil
}
