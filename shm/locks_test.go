package shm

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmlab/shmlab/internal/patience"
)

var lockIDRE = regexp.MustCompile(`^"shmlab-lock-[0-9]+"$`)

// lockReq is a lock method's request as cluster-shared-memory writes it.
func lockReq(method, uuid, key, value string) string {
	return fmt.Sprintf(`{"isSharedMemoryMessage":true,"id":1,"method":%q,"uuid":%q,"key":%q,"value":%s}`, method, uuid, key, value)
}

// lockReply is a reply in one line: its uuid, then its value or error code.
func lockReply(p *rawPeer) string {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(patience.Bound(5 * time.Second)))
	rep, _ := p.reply()
	if rep.Err != nil {
		return string(rep.UUID) + " error:" + rep.Err.Code
	}
	v := string(rep.Value)
	if id := string(rep.UUID); id == `"d1"` || id == `"a5"` { // c's leaving and d's grant race: the id varies
		v = lockIDRE.ReplaceAllString(v, "lock")
	}
	return string(rep.UUID) + " " + v
}

// TestLocks: getLock is answered once the caller holds the lock, callers
// served in order; releaseLock with the holder's id hands it on; a wrong
// id is refused; a connection that ends releases what it holds and drops
// what it waited for.
func TestLocks(t *testing.T) {
	m := NewMaster(MasterOptions{})
	defer m.Close()
	a, b, c, d := dialRaw(t, m, false, 1), dialRaw(t, m, false, 2), dialRaw(t, m, false, 3), dialRaw(t, m, false, 4)
	var got []string
	read := func(p *rawPeer) { got = append(got, lockReply(p)) }
	send := func(p *rawPeer, method, uuid, value string) {
		p.write([]byte(lockReq(method, uuid, "k", value) + "\n"))
	}
	send(a, "getLock", "a1", "null")
	read(a)
	// b, c and d wait in this order; each one's get answered shows that
	// its getLock, sent before on the same connection, is queued.
	for _, p := range []struct {
		p    *rawPeer
		name string
	}{{b, "b"}, {c, "c"}, {d, "d"}} {
		send(p.p, "getLock", p.name+"1", "null")
		send(p.p, "get", p.name+"2", "null")
		read(p.p)
	}
	send(a, "releaseLock", "a3", `"not-the-id"`)
	read(a)
	send(a, "releaseLock", "a4", `"shmlab-lock-1"`)
	read(a)
	read(b)     // granted
	c.c.Close() // c gives up waiting
	send(b, "releaseLock", "b3", `"shmlab-lock-2"`)
	read(b)
	read(d)     // granted: c left (or was granted and dropped it as it ended)
	d.c.Close() // d ends holding the lock
	send(a, "getLock", "a5", "null")
	read(a)
	want := []string{
		`"a1" "shmlab-lock-1"`,
		`"b2" `, `"c2" `, `"d2" `,
		`"a3" error:bad_request`,
		`"a4" "OK"`,
		`"b1" "shmlab-lock-2"`,
		`"b3" "OK"`,
		`"d1" lock`,
		`"a5" lock`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lock replies: mismatch (-want +got):\n%s", diff)
	}
}
