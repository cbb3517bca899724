package shm_test

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/shm"
)

// TestRawFrameSent: a KindOther message with Raw goes out as that frame,
// verbatim, between the encoded messages sent with it, on JSON lines; a
// compact connection, on which it would be no frame, leaves it out.
func TestRawFrameSent(t *testing.T) {
	for _, compact := range []bool{false, true} {
		a, b := net.Pipe()
		c := shm.NewStreamConn(a, shm.StreamOptions{Compact: compact})
		get := shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Seq: 1, Key: []byte("k"), Has: shm.HasSeq | shm.HasKey}
		done := make(chan error, 1)
		go func() {
			done <- c.Send([]shm.Message{{Kind: shm.KindOther, Raw: []byte(`null`)}, get, {Kind: shm.KindOther, Raw: []byte(`[1,2]`)}})
			c.Close()
		}()
		var lines []string
		sc := bufio.NewScanner(b)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if all := strings.Join(lines, "\n"); compact {
			if strings.Contains(all, "null") || strings.Contains(all, "[1,2]") || !strings.Contains(all, "k") {
				t.Errorf("compact: %q: want the get's frame, and no raw frame", all)
			}
			continue
		}
		want := []string{`null`, `{"isSharedMemoryMessage":true,"method":"get","uuid":1,"key":"k"}`, `[1,2]`}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Errorf("frames mismatch (-want +got):\n%s", diff)
		}
	}
}
