package shm_test

import (
	"fmt"

	"github.com/shmlab/shmlab/shm"
)

// A message goes through a codec in memory as it goes through a
// connection: one frame appended to a buffer, decoded from its bytes.
func ExampleCodec() {
	req := shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Seq: 7, Key: []byte(`k"1`), Value: shm.Value(`[1,2]`),
		Has: shm.HasSeq | shm.HasKey | shm.HasValue}
	for _, c := range []shm.Codec{shm.CodecJSON, shm.CodecCompact} {
		frame := c.Append(nil, &req)
		var got shm.Message
		var scratch []byte
		c.Decode(frame, &got, &scratch)
		fmt.Printf("%s, %d bytes: %s %q = %s, uuid %d\n", c, len(frame), got.Method, got.Key, got.Value, got.Seq)
	}
	// Output:
	// json, 82 bytes: set "k\"1" = [1,2], uuid 7
	// compact, 19 bytes: set "k\"1" = [1,2], uuid 7
}
