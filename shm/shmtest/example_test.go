package shmtest_test

import (
	"fmt"

	"github.com/shmlab/shmlab/linearizability"
	"github.com/shmlab/shmlab/shm"
	"github.com/shmlab/shmlab/shm/shmtest"
)

// A store of two entries at most, driven by three workers: the
// reference passes, a copy that evicts one entry too early does not.
func ExampleDrive() {
	cfg := shmtest.DriveConfig{Workers: 3, Ops: 10, Keys: []string{"a", "b", "c"}, MaxEntries: 2, MaxLatency: 1}
	ref := shmtest.Drive(1, cfg, shmtest.NewReference(shm.StoreOptions{MaxEntries: 2}))
	bad := shmtest.Drive(1, cfg, shmtest.NewCopy(2, 0, shmtest.EvictBelowLimit))
	fmt.Println("reference:", linearizability.Check(ref, linearizability.Options{}).Linearizable)
	r := linearizability.Check(bad, linearizability.Options{})
	fmt.Println("evict-below-limit:", r.Linearizable, "at", r.Keys[0].Ops[0].Describe())
	// Output:
	// reference: ok
	// evict-below-limit: illegal at #6 w1/0 delete("a") -> false
}
