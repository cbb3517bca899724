package linearizability

import (
	"os"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
)

func TestDebugSteps(t *testing.T) {
	path := os.Getenv("DEBUG_HISTORY")
	if path == "" {
		t.Skip()
	}
	h, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ss streams
	for _, kh := range partition(h, h.Header.Model, &ss) {
		t0 := time.Now()
		s := newSearcher(kh)
		res := s.run(time.Time{})
		maxOpen := 0
		for _, e := range s.cache.entries {
			maxOpen = max(maxOpen, int(e.openLen))
		}
		t.Logf("mine: %v steps %d cache %d arena %d maxopen %d in %v", res.verdict, res.steps, len(s.cache.entries), len(s.cache.arena), maxOpen, time.Since(t0))
		n := 0
		m := kh.model.porcupine()
		step := m.Step
		m.Step = func(a, b, c any) (bool, any) { n++; return step(a, b, c) }
		t0 = time.Now()
		r := porcupine.CheckOperations(m, kh.ops)
		t.Logf("porcupine: %v steps %d in %v", r, n, time.Since(t0))
	}
}
