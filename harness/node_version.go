package harness

import (
	"os/exec"
	"strings"
	"sync"
)

// NodeVersion returns what `node --version` prints for the node binary a
// Node target runs ($SHMLAB_NODE, else node on PATH), once per process;
// "" when there is none.
func NodeVersion() string {
	nodeVersionOnce.Do(func() {
		bin, err := nodeCommand()
		if err != nil {
			return
		}
		out, err := exec.Command(bin, "--version").Output()
		if err == nil {
			nodeVersion = strings.TrimSpace(string(out))
		}
	})
	return nodeVersion
}

var (
	nodeVersionOnce sync.Once
	nodeVersion     string
)
