package shm_test

import (
	"fmt"

	"github.com/shmlab/shmlab/shm"
)

// The article's worker numbers its calls Date.now() + '-' + counter: the
// master answers each with its uuid as sent (HasUUID, Message.UUID), and
// serves the article's plusOne, remove (a set without a value) and set of
// an object (a set without a key).
func ExampleDecodeFrame_articleStyle() {
	s := shm.NewStore(shm.StoreOptions{})
	from := shm.Identity{Worker: 1, Inc: 1}
	for _, frame := range []string{
		`{"isSharedMemoryMessage":true,"method":"set","id":1,"uuid":"1796645489267-1","value":{"a":1,"b":2}}`,
		`{"isSharedMemoryMessage":true,"method":"plusOne","id":1,"uuid":"1796645489267-2","key":"a"}`,
		`{"isSharedMemoryMessage":true,"method":"set","id":1,"uuid":"1796645489267-3","key":"b"}`,
		`{"isSharedMemoryMessage":true,"method":"get","id":1,"uuid":"1796645489267-4","key":"b","value":null}`,
	} {
		var req, rep shm.Message
		var scratch []byte
		shm.DecodeFrame([]byte(frame), &req, &scratch)
		s.Answer(0, from, &req, &rep)
		fmt.Printf("%s", shm.AppendFrame(nil, &rep))
	}
	// Output:
	// {"isSharedMemoryMessage":true,"uuid":"1796645489267-1","value":"OK"}
	// {"isSharedMemoryMessage":true,"uuid":"1796645489267-2","value":2}
	// {"isSharedMemoryMessage":true,"uuid":"1796645489267-3","value":"OK"}
	// {"isSharedMemoryMessage":true,"uuid":"1796645489267-4"}
}
