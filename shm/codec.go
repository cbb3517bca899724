package shm

import (
	"bytes"
	"encoding/binary"
)

// Codec is a wire codec: how a connection frames its messages. A stream
// connection (NewStreamConn) speaks one of them, and so does anything
// that carries messages as bytes without a stream (the simulator): the
// same functions, so that a bug in either codec shows in both.
type Codec uint8

// The codecs.
const (
	// CodecJSON is JSON lines: AppendFrame and DecodeFrame, a newline
	// after each frame.
	CodecJSON Codec = iota
	// CodecCompact is the compact binary framing: AppendCompact and
	// DecodeCompact, a 4-byte length before each frame.
	CodecCompact
)

// String returns "json" or "compact".
func (c Codec) String() string {
	if c == CodecCompact {
		return "compact"
	}
	return "json"
}

// Append appends m's frame to dst, as a connection of codec c writes it:
// a JSON line with its newline, or a compact frame with its length.
func (c Codec) Append(dst []byte, m *Message) []byte {
	if c == CodecCompact {
		return AppendCompact(dst, m)
	}
	return AppendFrame(dst, m)
}

// Decode decodes one whole frame, as Append writes it, into m, as a
// connection of codec c reads it: problems are reported in m, never
// returned (DecodeFrame, DecodeCompact). Slices in m point into frame or
// into *scratch, to which decoded keys and compacted values are
// appended (never more bytes than frame has).
func (c Codec) Decode(frame []byte, m *Message, scratch *[]byte) {
	if c == CodecCompact {
		if len(frame) < compactHeader || int(binary.LittleEndian.Uint32(frame)) != len(frame)-compactHeader {
			*m = Message{Kind: KindInvalid, Err: errorf(ErrBadRequest, "compact frame of %d bytes does not match its length", len(frame))}
			return
		}
		DecodeCompact(frame[compactHeader:], m, scratch)
		return
	}
	DecodeFrame(bytes.TrimSuffix(frame, newline), m, scratch)
}

var newline = []byte{'\n'}

// ConnCodec returns the codec that c, a stream connection (as
// NewStreamConn returns it), speaks now: a master's connection speaks
// JSON lines until its worker's first line switches it to compact. ok is
// false if c is not a stream connection.
func ConnCodec(c Conn) (codec Codec, ok bool) {
	sc, ok := c.(*streamConn)
	if !ok {
		return CodecJSON, false
	}
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	return sc.codec(), true
}
