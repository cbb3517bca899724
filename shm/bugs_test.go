package shm_test

import (
	"strings"
	"testing"

	"github.com/shmlab/shmlab/shm"
)

// TestParseBugs: a variant is none or reference alone, or bug names
// joined by +, each once; anything else is an error that names the part
// at fault.
func TestParseBugs(t *testing.T) {
	for _, tt := range []struct {
		text string
		want shm.Bugs
	}{
		{"none", 0},
		{"reference", 0},
		{"no-dedup", shm.BugNoDedup},
		{"no-dedup+wrap-ids", shm.BugNoDedup | shm.BugWrapIDs},
		{"wrap-ids+no-dedup", shm.BugNoDedup | shm.BugWrapIDs},
	} {
		got, err := shm.ParseBugs(tt.text)
		if err != nil || got != tt.want {
			t.Errorf("ParseBugs(%q) = %v, %v; want %v", tt.text, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ text, want string }{
		{"", "empty"},
		{"no-dedup+", `bug 2 of 2 is empty`},
		{"+no-dedup", `bug 1 of 2 is empty`},
		{"no-dedup++wrap-ids", `bug 2 of 3 is empty`},
		{"no-dedup+no-dedup", `no-dedup is named twice`},
		{"none+no-dedup", `none means no bug: it stands alone`},
		{"no-dedup+reference", `reference means no bug: it stands alone`},
		{"none+none", `none means no bug: it stands alone`},
		{"no-dedup+nope", `unknown bug "nope"`},
		{"No-Dedup", `unknown bug "No-Dedup"`},
	} {
		_, err := shm.ParseBugs(tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseBugs(%q): error %v, want one saying %q", tt.text, err, tt.want)
		}
	}
}

// TestBugsTextRoundTrip: every set of bugs reads back from its name, the
// empty set as none; UnmarshalText is as strict as ParseBugs.
func TestBugsTextRoundTrip(t *testing.T) {
	for b := range shm.Bugs(1 << len(shm.BugNames())) {
		text, err := b.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got shm.Bugs
		if err := got.UnmarshalText(text); err != nil || got != b {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, got, err, b)
		}
	}
	var b shm.Bugs
	if err := b.UnmarshalText([]byte("no-dedup+")); err == nil || !strings.Contains(err.Error(), `shm: bugs "no-dedup+"`) {
		t.Errorf("UnmarshalText(no-dedup+): error %v", err)
	}
}
