package shm

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendFrame appends m's JSON-lines encoding, newline included, to dst.
// Requests carry method, key and arguments; replies carry value or error.
// m.Value and m.Old must be compact JSON (as ParseValue returns); m.Key may
// be any bytes, and invalid UTF-8 in it is written as U+FFFD.
//
// A Node-internal or foreign message (KindInternal, KindOther) is written
// as its Raw text, which must be one JSON object without a newline: the
// master's answers to Node's cluster messages.
func AppendFrame(dst []byte, m *Message) []byte {
	switch {
	case m.Kind == KindRequest:
		dst = appendRequest(append(dst, `{"isSharedMemoryMessage":true`...), m)
	case m.Kind < KindInternal:
		dst = appendReply(append(dst, `{"isSharedMemoryMessage":true`...), m)
	default:
		return append(append(dst, m.Raw...), '\n')
	}
	return append(dst, '}', '\n')
}

func appendRequest(dst []byte, m *Message) []byte {
	dst = append(dst, `,"method":"`...)
	dst = append(dst, m.Method.String()...)
	dst = append(dst, '"')
	dst = appendIntMember(dst, m.Has&HasWorker != 0, `,"id":`, m.Worker)
	if m.Has&HasInc != 0 {
		dst = strconv.AppendUint(append(dst, `,"inc":`...), m.Inc, 10)
	}
	if m.Has&HasSeq != 0 {
		dst = strconv.AppendUint(append(dst, `,"uuid":`...), m.Seq, 10)
	} else if m.Has&HasUUID != 0 {
		dst = append(append(dst, `,"uuid":`...), m.UUID...)
	}
	if m.Has&HasAck != 0 {
		dst = strconv.AppendUint(append(dst, `,"ack":`...), m.Ack, 10)
	}
	if m.Has&HasKey != 0 {
		dst = AppendString(append(dst, `,"key":`...), m.Key)
	}
	dst = appendValueMember(dst, m.Has&HasOld != 0, `,"old":`, m.Old)
	dst = appendIntMember(dst, m.Has&HasTTL != 0, `,"ttl":`, m.TTL)
	dst = appendIntMember(dst, m.Has&HasDelta != 0, `,"delta":`, m.Delta)
	return appendValueMember(dst, m.Has&HasValue != 0, `,"value":`, m.Value)
}

func appendReply(dst []byte, m *Message) []byte {
	if m.Has&HasSeq != 0 {
		dst = strconv.AppendUint(append(dst, `,"uuid":`...), m.Seq, 10)
	} else if m.Has&HasUUID != 0 {
		dst = append(append(dst, `,"uuid":`...), m.UUID...)
	}
	if m.Err != nil {
		return appendError(dst, m.Err)
	}
	return appendValueMember(dst, m.Has&HasValue != 0, `,"value":`, m.Value)
}

func appendIntMember(dst []byte, present bool, name string, n int64) []byte {
	if !present {
		return dst
	}
	return strconv.AppendInt(append(dst, name...), n, 10)
}

func appendValueMember(dst []byte, present bool, name string, v Value) []byte {
	if !present {
		return dst
	}
	return append(append(dst, name...), v...)
}

func appendError(dst []byte, e *Error) []byte {
	dst = append(dst, `,"error":{"code":`...)
	dst = AppendString(dst, []byte(e.Code))
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, []byte(e.Message))
	if e.Definite {
		return append(dst, `,"definite":true}`...)
	}
	return append(dst, `,"definite":false}`...)
}

// AppendString appends s as a JSON string. Bytes that are not valid UTF-8
// become U+FFFD, so the output is always valid JSON.
func AppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		i += appendSpecial(&dst, s[i:])
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendSpecial writes the escape or multi-byte rune at the start of s and
// returns how many bytes of s it used.
func appendSpecial(dst *[]byte, s []byte) int {
	switch c := s[0]; {
	case c == '"' || c == '\\':
		*dst = append(*dst, '\\', c)
	case c == '\n':
		*dst = append(*dst, '\\', 'n')
	case c == '\t':
		*dst = append(*dst, '\\', 't')
	case c < 0x20:
		*dst = append(*dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	default:
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			*dst = append(*dst, "\ufffd"...)
			return 1
		}
		*dst = append(*dst, s[:n]...)
		return n
	}
	return 1
}
