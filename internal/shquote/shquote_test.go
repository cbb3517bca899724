package shquote_test

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/internal/shquote"
)

// TestQuoteRoundTrip: sh, given the quoted words, sees the words as they
// were, one argument each, and runs nothing in them.
func TestQuoteRoundTrip(t *testing.T) {
	words := []string{"plain", "a/b-c_d.yaml", "", "o $(id)", "`id`", "it's", "'", "''", "a\nb", "$HOME", "*", "-n", "~x", "a;b|c&d", "\\", "é ü"}
	out, err := exec.Command("sh", "-c", "printf '%s\\0' "+shquote.Join(words...)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	start := 0
	for i, b := range out {
		if b == 0 {
			got = append(got, string(out[start:i]))
			start = i + 1
		}
	}
	if diff := cmp.Diff(words, got); diff != "" {
		t.Errorf("words through sh mismatch (-want +got):\n%s", diff)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"a/b.yaml": "a/b.yaml", "o $(id)": `'o $(id)'`, "it's": `'it'\''s'`, "": "''"} {
		if got := shquote.Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func ExampleJoin() {
	fmt.Println(shquote.Join("shmlab", "run", "--seed", "3", "o $(id)/scenario.yaml"))
	// Output: shmlab run --seed 3 'o $(id)/scenario.yaml'
}
