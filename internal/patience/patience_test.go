package patience_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shmlab/shmlab/internal/patience"
)

func TestBound(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want time.Duration
	}{
		{"", 10 * time.Second}, {"3", 3 * time.Second}, {"0.5", 500 * time.Millisecond},
		{"0", 10 * time.Second}, {"-2", 10 * time.Second}, {"NaN", 10 * time.Second}, {"many", 10 * time.Second},
	} {
		t.Run(fmt.Sprintf("%q", tt.env), func(t *testing.T) {
			t.Setenv(patience.EnvFactor, tt.env)
			if got := patience.Bound(time.Second); got != tt.want {
				t.Errorf("Bound(1s) with %s=%q = %v, want %v", patience.EnvFactor, tt.env, got, tt.want)
			}
		})
	}
}
