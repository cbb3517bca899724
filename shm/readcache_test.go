package shm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/shm"
)

// TestReadCacheKeepsValuesOnly: under BugReadCache a worker's get that
// found nothing asks the master again next time, and one that found a
// value is answered from the cache ever after, however another worker
// writes (a stale read across workers, while the key stays present).
func TestReadCacheKeepsValuesOnly(t *testing.T) {
	st := shm.NewStore(shm.StoreOptions{})
	reader := shm.NewCalls(shm.CallsOptions{Identity: shm.Identity{Worker: 1}, Bugs: shm.BugReadCache})
	writer := shm.Identity{Worker: 2}
	seq := uint64(0)
	set := func(v string) {
		seq++
		req := shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Key: []byte("k"), Value: shm.Value(v),
			Worker: writer.Worker, Seq: seq, Has: shm.HasSeq | shm.HasWorker | shm.HasInc | shm.HasKey | shm.HasValue}
		if rep := st.Apply(0, writer, &req); rep.Err != nil {
			t.Fatal(rep.Err)
		}
	}
	get := func() string {
		req := shm.Message{Method: shm.MethodGet, Key: []byte("k"), Has: shm.HasKey}
		var rep shm.Message
		if _, local := reader.Start(&req, 0, 1, &rep); !local {
			rep = st.Apply(0, shm.Identity{Worker: 1}, &req)
			if _, ok := reader.Finish(&rep); !ok {
				t.Fatal("the master's reply answers no call")
			}
		}
		if rep.Has&shm.HasValue == 0 {
			return "absent"
		}
		return string(rep.Value)
	}
	var got []string
	got = append(got, get()) // absent, not kept
	set("1")
	got = append(got, get()) // asks again: 1, kept
	set("2")
	got = append(got, get()) // from the cache: stale
	if diff := cmp.Diff([]string{"absent", "1", "1"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
