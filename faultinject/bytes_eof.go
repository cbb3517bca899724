package faultinject

import "io"

// EarlyEOFReader returns a reader whose stream ends after n bytes: the
// read that reaches n returns the bytes up to it, and the reads after it
// return 0, io.EOF, while the peer may still be writing. It is
// io.LimitReader, named for what it does under a codec: at a frame
// boundary the stream ends cleanly, inside a frame it ends torn.
func EarlyEOFReader(r io.Reader, n int64) io.Reader {
	return io.LimitReader(r, n)
}
