package shm

// Kind says what a decoded frame is.
type Kind uint8

// The kinds of frame.
const (
	KindInvalid  Kind = iota // not a usable frame; Err says why
	KindRequest              // a shared-memory request (has "method")
	KindReply                // a shared-memory reply (no "method")
	KindInternal             // a Node-internal message ("cmd" begins with NODE_)
	KindOther                // a JSON object that is not a shared-memory message
)

// Method is a store operation.
type Method uint8

// The store's operations.
const (
	MethodNone Method = iota
	MethodGet
	MethodSet
	MethodDelete
	MethodCAS
	MethodAdd
	MethodLen
	MethodKeys
	// The locks of cluster-shared-memory, served by a Master (not by a
	// Store alone, nor by the Go client): see locks.go.
	MethodGetLock
	MethodReleaseLock
)

var methodNames = [...]string{"", "get", "set", "delete", "cas", "add", "len", "keys", "getLock", "releaseLock"}

func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return "method(?)"
}

// Mutates reports whether the method can change the store.
func (m Method) Mutates() bool {
	return m == MethodSet || m == MethodDelete || m == MethodCAS || m == MethodAdd
}

// ParseMethod returns the method with the given wire name.
func ParseMethod(name string) (Method, bool) {
	return methodOf([]byte(name))
}

// wireMethod returns the method a request's "method" names: the methods'
// own names, and the aliases of the Node libraries the master serves:
// "plusOne" (the article's) is an add of 1, "remove"
// (cluster-shared-memory's) is a delete.
func wireMethod(name []byte) (Method, bool) {
	if m, ok := methodOf(name); ok {
		return m, true
	}
	switch string(name) {
	case "plusOne":
		return MethodAdd, true
	case "remove":
		return MethodDelete, true
	}
	return MethodNone, false
}

func methodOf(name []byte) (Method, bool) {
	for i, n := range methodNames {
		if i > 0 && n == string(name) {
			return Method(i), true
		}
	}
	return MethodNone, false
}

// Field presence bits in Message.Has.
const (
	HasSeq    uint16 = 1 << iota // "uuid"
	HasWorker                    // "id"
	HasInc                       // "inc"
	HasKey                       // "key"
	HasValue                     // "value"
	HasOld                       // "old"
	HasTTL                       // "ttl"
	HasDelta                     // "delta"
	HasAck                       // "ack"
	// HasUUID marks a "uuid" that is not an integer from 0 to 2^64-1 (a
	// string, a negative, fractional or larger number, true, false or
	// null): its JSON text is in UUID, echoed in the reply as it came, and
	// the request is not deduplicated. JSON lines only; HasSeq and HasUUID
	// are never both set.
	HasUUID
)

// Message is one frame, request or reply. Byte slices in a Message returned
// by DecodeFrame or Conn.Recv point into a buffer that the next Recv reuses.
type Message struct {
	Kind   Kind
	Has    uint16 // which optional members are present (the Has constants)
	Method Method
	Worker int64  // "id": the worker id the sender claims (informational)
	Inc    uint64 // "inc": the sender's incarnation (informational)
	Seq    uint64 // "uuid": the request id, echoed in the reply
	UUID   Value  // "uuid" of any other JSON scalar, as its text (HasUUID)
	Ack    uint64 // "ack": every request id below it is answered or abandoned
	Key    []byte // "key", decoded
	Value  Value  // "value": raw JSON
	Old    Value  // "old": the expected value of a cas; absent means "expect missing"
	TTL    int64  // "ttl": time to live in milliseconds (set)
	Delta  int64  // "delta": increment (add); absent means 1
	Err    *Error // "error" in a reply; the decode error for KindInvalid
	Raw    []byte // the whole frame, for KindInternal and KindOther; a KindOther message with Raw is sent as it (JSON lines only)
}

// Request is a convenience constructor for a request message, for code
// that drives a Store or a Conn directly (a Client numbers its requests
// itself, overwriting seq).
func Request(method Method, seq uint64, key string) Message {
	m := Message{Kind: KindRequest, Method: method, Seq: seq, Has: HasSeq}
	if key != "" || method.needsKey() {
		m.Key, m.Has = []byte(key), m.Has|HasKey
	}
	return m
}

func (m Method) needsKey() bool { return m != MethodLen && m != MethodKeys }
