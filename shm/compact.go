package shm

import "encoding/binary"

// The compact codec is an optional binary framing for Go-to-Go
// connections, negotiated per connection (see PROTOCOL.md): a master that
// spawns a Go worker offers it in SHMLAB_CODECS, and a worker that accepts
// sends compactHello as its first JSON line, then both sides switch. Keys
// and values are the same bytes as in the JSON form (values are JSON text),
// so everything above the codec is unchanged.
//
// A frame is a 4-byte little-endian payload length, then the payload:
// kind (1 byte), method (1 byte), presence bits (2 bytes, little-endian,
// the Has constants plus compactHasErr), then each present member in this
// order: id (zigzag varint), inc, uuid, ack (uvarints), key (uvarint length
// and bytes), old (uvarint length and JSON text), ttl, delta (zigzag
// varints), value (uvarint length and JSON text), and for an error its code
// and message (uvarint length and bytes each) and definite (1 byte).

// EnvCodecs is set by a master to the codecs it accepts beyond JSON lines.
const EnvCodecs = "SHMLAB_CODECS"

// EnvCodec, set to "json" in a worker's environment, keeps it on JSON lines.
const EnvCodec = "SHMLAB_CODEC"

// CompactHello is the line (without its newline) a worker sends first to
// switch its connection to the compact codec.
const CompactHello = `{"cmd":"SHMLAB_CODEC","codec":"compact"}`

var compactHello = []byte(CompactHello)

const (
	compactHeader = 4
	compactHasErr = 1 << 15
)

// AppendCompact appends m's compact encoding to dst.
func AppendCompact(dst []byte, m *Message) []byte {
	start := len(dst)
	has := m.Has
	if m.Err != nil {
		has |= compactHasErr
	}
	dst = append(dst, 0, 0, 0, 0, byte(m.Kind), byte(m.Method), byte(has), byte(has>>8))
	dst = appendCompactFields(dst, m, has)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-compactHeader))
	return dst
}

func appendCompactFields(dst []byte, m *Message, has uint16) []byte {
	if has&HasWorker != 0 {
		dst = binary.AppendVarint(dst, m.Worker)
	}
	for _, f := range [...]struct {
		bit uint16
		v   uint64
	}{{HasInc, m.Inc}, {HasSeq, m.Seq}, {HasAck, m.Ack}} {
		if has&f.bit != 0 {
			dst = binary.AppendUvarint(dst, f.v)
		}
	}
	dst = appendBytesIf(dst, has&HasKey != 0, m.Key)
	dst = appendBytesIf(dst, has&HasOld != 0, m.Old)
	if has&HasTTL != 0 {
		dst = binary.AppendVarint(dst, m.TTL)
	}
	if has&HasDelta != 0 {
		dst = binary.AppendVarint(dst, m.Delta)
	}
	dst = appendBytesIf(dst, has&HasValue != 0, m.Value)
	if has&compactHasErr != 0 {
		dst = appendBytesIf(dst, true, []byte(m.Err.Code))
		dst = appendBytesIf(dst, true, []byte(m.Err.Message))
		dst = append(dst, b2u(m.Err.Definite))
	}
	return dst
}

func appendBytesIf(dst []byte, present bool, b []byte) []byte {
	if !present {
		return dst
	}
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// compactDecoder reads one payload.
type compactDecoder struct {
	b   []byte
	i   int
	err error
}

func (d *compactDecoder) fail(what string) {
	if d.err == nil {
		d.err = errorf(ErrBadRequest, "compact frame: bad %s at offset %d", what, d.i)
	}
}

func (d *compactDecoder) uvarint(what string) uint64 { return decodeVarint(d, what, binary.Uvarint) }

func (d *compactDecoder) varint(what string) int64 { return decodeVarint(d, what, binary.Varint) }

func decodeVarint[T int64 | uint64](d *compactDecoder, what string, f func([]byte) (T, int)) T {
	v, n := f(d.b[d.i:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.i += n
	return v
}

func (d *compactDecoder) bytes(what string) []byte {
	n := d.uvarint(what)
	if d.err != nil || n > uint64(len(d.b)-d.i) {
		d.fail(what)
		return nil
	}
	b := d.b[d.i : d.i+int(n) : d.i+int(n)]
	d.i += int(n)
	return b
}

// DecodeCompact decodes one compact payload (without its length header)
// into m. Like DecodeFrame it reports problems in m, never returns them:
// values are validated as JSON and keys as UTF-8 by the same rules.
func DecodeCompact(payload []byte, m *Message, scratch *[]byte) {
	*m = Message{}
	if len(payload) < 4 {
		m.Kind, m.Err = KindInvalid, errorf(ErrBadRequest, "compact frame of %d bytes is too short", len(payload))
		return
	}
	kind, meth, has := Kind(payload[0]), Method(payload[1]), binary.LittleEndian.Uint16(payload[2:])
	d := compactDecoder{b: payload, i: 4}
	d.fields(m, has)
	err := d.err
	if err == nil && d.i != len(payload) {
		err = errorf(ErrBadRequest, "compact frame: %d bytes of trailing data", len(payload)-d.i)
	}
	if err == nil {
		err = checkCompact(kind, meth, m, scratch)
	}
	m.Kind, m.Method, m.Has = kind, meth, has&^(compactHasErr|HasUUID) // a uuid as text is JSON lines only
	if kind == KindRequest {
		m.Err = nil // a worker cannot choose its answer
	}
	if err != nil {
		m.Kind, m.Err = KindInvalid, err.(*Error)
	}
}

func (d *compactDecoder) fields(m *Message, has uint16) {
	if has&HasWorker != 0 {
		m.Worker = d.varint("id")
	}
	for _, f := range [...]struct {
		bit  uint16
		dst  *uint64
		name string
	}{{HasInc, &m.Inc, "inc"}, {HasSeq, &m.Seq, "uuid"}, {HasAck, &m.Ack, "ack"}} {
		if has&f.bit != 0 {
			*f.dst = d.uvarint(f.name)
		}
	}
	if has&HasKey != 0 {
		m.Key = d.bytes("key")
	}
	if has&HasOld != 0 {
		m.Old = d.bytes("old")
	}
	if has&HasTTL != 0 {
		m.TTL = d.varint("ttl")
	}
	if has&HasDelta != 0 {
		m.Delta = d.varint("delta")
	}
	if has&HasValue != 0 {
		m.Value = d.bytes("value")
	}
	if has&compactHasErr != 0 {
		m.Err = &Error{Code: string(d.bytes("error code")), Message: string(d.bytes("error message"))}
		if d.i < len(d.b) {
			m.Err.Definite = d.b[d.i] == 1
			d.i++
		} else {
			d.fail("error definite")
		}
	}
}

// checkCompact applies the JSON decoder's rules to a compact message.
func checkCompact(kind Kind, meth Method, m *Message, scratch *[]byte) error {
	if kind != KindRequest && kind != KindReply {
		return errorf(ErrBadRequest, "compact frame: kind %d is neither request nor reply", kind)
	}
	if kind == KindRequest && (meth == MethodNone || int(meth) >= len(methodNames)) {
		return errorf(ErrUnknownMethod, "compact frame: unknown method %d", meth)
	}
	var err error
	if m.Value, err = checkValue(m.Value, scratch); err == nil {
		m.Old, err = checkValue(m.Old, scratch)
	}
	return err
}

// checkValue validates JSON text, compacting it if it has white space.
func checkValue(v Value, scratch *[]byte) (Value, error) {
	if v == nil {
		return nil, nil
	}
	hasWS, err := checkJSON(v)
	if err != nil {
		return nil, err
	}
	if !hasWS {
		return v, nil
	}
	start := len(*scratch)
	*scratch = append(*scratch, compact(v, true)...)
	return (*scratch)[start:], nil
}
