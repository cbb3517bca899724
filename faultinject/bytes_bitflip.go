package faultinject

import (
	"io"
	"math/rand/v2"
)

// BitFlipReader returns a reader that flips one bit, chosen at random, in
// each byte it reads with probability p, drawing from seed. The flips
// depend only on the seed and the bytes' offsets, not on how the reads
// fall.
func BitFlipReader(r io.Reader, seed uint64, p float64) io.Reader {
	return &bitFlipReader{r: r, p: p, rng: byteRand(seed, "bitflip")}
}

type bitFlipReader struct {
	r   io.Reader
	p   float64
	rng *rand.Rand
}

func (b *bitFlipReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	for i := range p[:n] {
		if b.rng.Float64() < b.p {
			p[i] ^= 1 << b.rng.IntN(8)
		}
	}
	return n, err
}

// FlipAtReader returns a reader that XORs the byte at offset with mask
// (1<<3 flips bit 3), as a chosen corruption.
func FlipAtReader(r io.Reader, offset int64, mask byte) io.Reader {
	return &flipAtReader{r: r, at: offset, mask: mask}
}

type flipAtReader struct {
	r    io.Reader
	at   int64
	pos  int64
	mask byte
}

func (f *flipAtReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if i := f.at - f.pos; i >= 0 && i < int64(n) {
		p[i] ^= f.mask
	}
	f.pos += int64(n)
	return n, err
}
