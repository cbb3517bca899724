package shm_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/shmlab/shmlab/internal/nodetest"
	"github.com/shmlab/shmlab/shm"
)

// TestNodeArticleWorker runs testdata/node/article.js, a worker in the
// article's style (string uuids, callbacks by uuid, plusOne, remove as a
// set without a value, set of an object), against the Go master: every
// call is answered to its uuid, the article's methods do what its library
// does, server.listen() fails at once, and cluster.worker.disconnect()
// ends the worker.
func TestNodeArticleWorker(t *testing.T) {
	run := runNodeScript(t, nodeScript{file: "article.js"}, func(*shm.Master) {})
	burst := make([]string, 100)
	for i := range burst {
		burst[i] = fmt.Sprint(i + 1)
	}
	want := []nodeObs{
		nodeOK(`set key="a" value="x"`, `"OK"`),
		nodeOK(`get key="a"`, `"x"`),
		nodeOK(`plusOne key="hits"`, `1`),
		nodeOK(`plusOne key="hits"`, `2`),
		nodeOK(`set value={"b":1,"c":"two","zero":0,"a":"y"}`, `"OK"`),
		nodeOK(`get key="a"`, `"y"`),
		nodeOK(`get key="c"`, `"two"`),
		nodeOK(`get key="zero"`, `0`),
		nodeOK(`remove key="a"`, `"OK"`),
		{Op: `get key="a"`},
		nodeOK(`remove key="never"`, `"OK"`),
		nodeFail(`plusOne key="c"`, shm.CodeNotInteger, "not an integer"),
		nodeFail(`set value="lonely"`, shm.CodeBadRequest, "set without a key needs an object value"),
		nodeOK(`plusOne key="burst" x100`, "["+strings.Join(burst, ",")+"]"),
		nodeOK(`get key="burst"`, `100`),
		nodeOK(`listen port=0`, `{"code":"ENOTSUP","syscall":"bind"}`),
		nodeOK(`listen port=0 exclusive`, `{"listening":true}`),
	}
	got := run.report
	checkArticleUUIDs(t, got.Results)
	checkNodeReport(t, got, run.worker.ID, false, want)
	checkNodeInternal(t, run.rec.internalMessages(), "online", "queryServer", "exitedAfterDisconnect")
	for key, want := range map[string]string{"hits": "2", "b": "1", "c": `"two"`, "zero": "0", "burst": "100"} {
		if v, ok := run.master.Get(key); !ok || string(v) != want {
			t.Errorf("store: %s = %s (present %v), want %s", key, v, ok, want)
		}
	}
	if v, ok := run.master.Get("a"); ok {
		t.Errorf("store: a = %s after remove, want it absent", v)
	}
}

// articleUUID is the article's uuid: Date.now() + '-' + counter.
var articleUUID = regexp.MustCompile(`^"[0-9]{13,}-[0-9]+"$`)

// checkArticleUUIDs checks that each reply came back to a string uuid of
// the article's form, and that the burst's hundred calls had a hundred.
func checkArticleUUIDs(t *testing.T, results []nodeResult) {
	t.Helper()
	for _, r := range results {
		switch {
		case strings.HasPrefix(r.Op, "listen"):
		case strings.HasSuffix(r.Op, " x100"):
			if string(r.UUID) != `"100 distinct"` {
				t.Errorf("%s: the replies had uuids %s, want 100 distinct", r.Op, r.UUID)
			}
		case !articleUUID.Match(r.UUID):
			t.Errorf("%s: reply with uuid %s, want the article's Date.now()-counter string", r.Op, r.UUID)
		}
	}
}

// TestNodeClusterSharedMemory runs the worker side of the npm package
// cluster-shared-memory@1.1.5 (testdata/node/csm.js) against the Go
// master: its uuid v4 strings come back, get, set and remove work, its
// locks work (twenty get-then-set increments under mutex() at once lose
// none), and the methods the master does not serve (its LRU store) get
// unknown_method, which the package ignores: it resolves them with
// undefined.
func TestNodeClusterSharedMemory(t *testing.T) {
	dir := nodetest.Package(t, "cluster-shared-memory@1.1.5")
	run := runNodeScript(t, nodeScript{file: "csm.js", args: []string{dir}}, func(*shm.Master) {})
	unknown := func(op, method string) nodeObs {
		return nodeFail(op, shm.CodeUnknownMethod, `unknown method "`+method+`"`)
	}
	want := []nodeObs{
		{Op: `set key="a" value={"n":1}`}, // the package resolves a set with nothing
		nodeOK(`get key="a"`, `{"n":1}`),
		{Op: `set key="zero" value=0`},
		nodeOK(`get key="zero"`, `0`),
		{Op: `remove key="a"`}, // nothing either; the master answered true
		{Op: `get key="a"`},
		nodeOK(`getLock key="l"`, `"shmlab-lock-1"`),
		nodeFail(`releaseLock key="l" wrong id`, shm.CodeBadRequest, "does not hold the lock"), // resolved undefined
		nodeOK(`releaseLock key="l"`, `"OK"`),
		unknown(`getLRU key="a"`, "getLRU"),
		nodeOK(`mutex key="ctr" x20`, `20`),
	}
	for _, r := range run.report.Results {
		if !uuidV4.Match(r.UUID) {
			t.Errorf("%s: reply with uuid %s, want the package's uuid v4 string", r.Op, r.UUID)
		}
	}
	checkNodeReport(t, run.report, run.worker.ID, false, want)
	if v, ok := run.master.Get("zero"); !ok || string(v) != "0" {
		t.Errorf("store: zero = %s (present %v), want 0", v, ok)
	}
	if v, ok := run.master.Get("a"); ok {
		t.Errorf("store: a = %s after remove, want it absent", v)
	}
}

var uuidV4 = regexp.MustCompile(`^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$`)
