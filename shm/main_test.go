package shm_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/shmlab/shmlab/shm"
)

func TestMain(m *testing.M) {
	shm.Main()
	os.Exit(m.Run())
}

func init() {
	shm.Handle("counter", func(ctx context.Context, c *shm.Client, args []string) error {
		for i := 0; i < 100; i++ {
			if _, err := c.Add(ctx, "n", 1); err != nil {
				return fmt.Errorf("add %d: %w", i, err)
			}
		}
		return nil
	})
}

func TestSmokeCounter(t *testing.T) {
	m := shm.NewMaster(shm.MasterOptions{})
	defer m.Close()
	ws, err := m.Fork(3, shm.WorkerSpec{Name: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if err := w.Wait(); err != nil {
			t.Fatalf("worker %d: %v", w.ID, err)
		}
	}
	rep := m.Apply(&shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Key: []byte("n"), Has: shm.HasKey | shm.HasSeq})
	if got := string(rep.Value); got != "300" {
		t.Fatalf("n = %s, want 300 (%v)", got, rep.Err)
	}
}
