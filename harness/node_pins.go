package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/shmlab/shmlab/internal/npmcache"
)

// checkPins reports a pinned npm package (name@version) that the adapter
// at adapter would not load from the cache: node looks in node_modules
// folders beside the adapter and above it before NODE_PATH, so a copy
// there of another version would run in place of the pinned one. A copy
// of the pinned version is fine.
func checkPins(adapter string, packages []string) error {
	for _, p := range packages {
		pin, err := npmcache.ParseSpec(p)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNodeTarget, err)
		}
		for dir := filepath.Dir(adapter); ; dir = filepath.Dir(dir) {
			copyDir := filepath.Join(dir, "node_modules", filepath.FromSlash(pin.Name))
			got, err := npmcache.ReadPackage(copyDir)
			if err == nil && got.Version != pin.Version {
				return fmt.Errorf("%w: %s is pinned, but the adapter would load %s@%s from %s (node_modules beside or above the adapter comes before the pinned copy): remove it, or pin that version",
					ErrNodeTarget, p, pin.Name, got.Version, copyDir)
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
