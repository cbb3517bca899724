package bench

import (
	"bytes"
	"encoding/binary"
)

// frameCounter counts the complete frames in a byte stream fed in chunks,
// for either framing, without decoding them: the floor's only parsing.
type frameCounter struct {
	compact bool
	skip    bool    // a JSON line (the codec hello) comes first
	hdr     [4]byte // a compact header split across chunks
	nhdr    int
	need    int // payload bytes still to come for the current frame
}

func (f *frameCounter) feed(b []byte) int {
	if f.skip {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return 0
		}
		f.skip, b = false, b[i+1:]
	}
	if !f.compact {
		return bytes.Count(b, []byte{'\n'})
	}
	return f.feedCompact(b)
}

func (f *frameCounter) feedCompact(b []byte) int {
	frames := 0
	for len(b) > 0 {
		if f.need > 0 {
			k := min(f.need, len(b))
			f.need -= k
			b = b[k:]
			if f.need == 0 {
				frames++
			}
			continue
		}
		k := copy(f.hdr[f.nhdr:], b)
		f.nhdr += k
		b = b[k:]
		if f.nhdr == 4 {
			f.nhdr, f.need = 0, int(binary.LittleEndian.Uint32(f.hdr[:]))
			if f.need == 0 {
				frames++
			}
		}
	}
	return frames
}
