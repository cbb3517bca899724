package faultinject

import (
	"io"
	"math/rand/v2"
)

// MaxShort is the longest piece a ShortReader returns or a ShortWriter
// writes at once.
const MaxShort = 32

// ShortReader returns a reader whose reads return at most a random 1 to
// MaxShort bytes each (drawn from seed), as a socket does when frames
// arrive in pieces.
func ShortReader(r io.Reader, seed uint64) io.Reader {
	return &shortReader{r: r, rng: byteRand(seed, "short-read")}
}

type shortReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (s *shortReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return s.r.Read(p)
	}
	return s.r.Read(p[:shortLen(s.rng, len(p))])
}

// shortLen draws a piece length of 1 to min(n, MaxShort).
func shortLen(rng *rand.Rand, n int) int {
	return 1 + rng.IntN(min(n, MaxShort))
}

// SplitReader returns a reader that never returns the bytes on both sides
// of offset at in one read: the read that would cross it stops there, so
// a frame is split at that point however the bytes arrive.
func SplitReader(r io.Reader, at int64) io.Reader {
	return &splitReader{r: r, at: at}
}

type splitReader struct {
	r   io.Reader
	at  int64
	pos int64
}

func (s *splitReader) Read(p []byte) (int, error) {
	if s.pos < s.at && int64(len(p)) > s.at-s.pos {
		p = p[:s.at-s.pos]
	}
	n, err := s.r.Read(p)
	s.pos += int64(n)
	return n, err
}

// ShortWriter returns a writer that passes each write to w in pieces of a
// random 1 to MaxShort bytes (drawn from seed). Like any io.Writer it
// writes all of p or returns an error: w's error, or io.ErrShortWrite if w
// took less than a piece without one.
func ShortWriter(w io.Writer, seed uint64) io.Writer {
	return &shortWriter{w: w, rng: byteRand(seed, "short-write")}
}

type shortWriter struct {
	w   io.Writer
	rng *rand.Rand
}

func (s *shortWriter) Write(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		k := shortLen(s.rng, len(p)-total)
		n, err := s.w.Write(p[total : total+k])
		total += n
		if err != nil {
			return total, err
		}
		if n < k {
			return total, io.ErrShortWrite
		}
	}
	return total, nil
}
