//go:build !race

package shm_test

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/shmlab/shmlab/shm"
)

// TestNoRaceProcessDefaultByteBound: one worker writes 320 MiB of
// distinct keys into a master with StoreOptions{} (in this process); the
// store holds no more than its default bound, the writes past it are
// refused, and the master's memory stays flat: its heap in use and its
// RSS grow by less than three times the bound, far below what was
// written.
//
// It is built without the race detector only (make test runs it in a
// pass of its own): the detector's shadow memory multiplies RSS, so the
// figure this test is about cannot be read under it, and pushing 320 MiB
// through its instrumented copies costs minutes on a busy machine.
func TestNoRaceProcessDefaultByteBound(t *testing.T) {
	const mib = 1 << 20
	const written = 320 // MiB
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	runtime.GC()
	debug.FreeOSMemory()
	rssBefore := hurtRSS(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse
	stopHeap := procHeapPeak()
	rssPeak := rssBefore
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			rssPeak = max(rssPeak, hurtRSS(t))
			select {
			case <-quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	w, out, stderr := procSpawn(t, m, shm.WorkerSpec{Name: "test-hurt-writer", Args: []string{"hurt-big", strconv.Itoa(written)}})
	err := procWait(t, w, 120*time.Second)
	close(quit)
	<-done
	heapPeak := stopHeap()
	if err != nil {
		t.Fatalf("writer exited: %v\nstderr:\n%s", err, stderr)
	}
	var stored, refused int
	fmt.Sscan(out.String(), &stored, &refused)
	keys := procKeysCount(m)
	t.Logf("wrote %d MiB: %d stored, %d refused; %d keys; RSS %d MiB before, peak %d MiB; heap in use %d MiB before, peak %d MiB",
		written, stored, refused, keys, rssBefore/mib, rssPeak/mib, heapBefore/mib, heapPeak/mib)
	if stored+refused != written || refused == 0 {
		t.Errorf("writer printed %q, want %d writes, some refused", out, written)
	}
	if bound := int64(3 * shm.DefaultMaxBytes); int64(heapPeak)-int64(heapBefore) > bound {
		t.Errorf("heap in use grew by %d MiB, want under %d MiB", (int64(heapPeak)-int64(heapBefore))/mib, bound/mib)
	}
	if bound := int64(3 * shm.DefaultMaxBytes); rssPeak-rssBefore > bound {
		t.Errorf("RSS grew by %d MiB, want under %d MiB", (rssPeak-rssBefore)/mib, bound/mib)
	}
}
