package npmcache_test

import (
	"fmt"
	"os"

	"github.com/shmlab/shmlab/internal/npmcache"
)

// Each package@version gets a folder of its own in the cache folder.
func ExampleCache_Install() {
	os.Setenv(npmcache.EnvDir, "/var/cache/shmlab-npm")
	c, err := npmcache.Default()
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Dir)
	// dir, err := c.Install(ctx, "cluster-shared-memory@1.1.5")
	// dir is /var/cache/shmlab-npm/cluster-shared-memory@1.1.5; node
	// resolves require('cluster-shared-memory') from dir/node_modules.

	// Output: /var/cache/shmlab-npm
}
