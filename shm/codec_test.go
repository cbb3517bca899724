package shm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/shmlab/shmlab/shm"
)

// msgOpts compare Messages: empty and nil slices are alike (presence is in
// Has), and an Error's unexported cause is ignored.
var msgOpts = cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(shm.Error{})}

const sm = `{"isSharedMemoryMessage":true,`

func decode(frame string) shm.Message {
	var m shm.Message
	var scratch []byte
	shm.DecodeFrame([]byte(frame), &m, &scratch)
	return m
}

func TestDecodeRequests(t *testing.T) {
	const reqAll = shm.HasSeq | shm.HasWorker | shm.HasKey
	tests := []struct {
		name  string
		frame string
		want  shm.Message
	}{
		{"get", sm + `"method":"get","id":1,"uuid":7,"key":"a"}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Has: reqAll, Worker: 1, Seq: 7, Key: []byte("a")}},
		{"set with every member", sm + `"method":"set","id":-3,"inc":9,"uuid":18446744073709551615,"ack":5,"key":"k","value":{"a":[1,2]},"ttl":1000}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Has: reqAll | shm.HasInc | shm.HasAck | shm.HasValue | shm.HasTTL,
				Worker: -3, Inc: 9, Seq: math.MaxUint64, Ack: 5, Key: []byte("k"), Value: shm.Value(`{"a":[1,2]}`), TTL: 1000}},
		{"delete", sm + `"method":"delete","uuid":0,"key":"k"}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodDelete, Has: shm.HasSeq | shm.HasKey, Key: []byte("k")}},
		{"cas with old", sm + `"method":"cas","uuid":3,"key":"k","old":"a","value":"b"}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodCAS, Has: shm.HasSeq | shm.HasKey | shm.HasOld | shm.HasValue,
				Seq: 3, Key: []byte("k"), Old: shm.Value(`"a"`), Value: shm.Value(`"b"`)}},
		{"cas without old", sm + `"method":"cas","uuid":3,"key":"k","value":1}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodCAS, Has: shm.HasSeq | shm.HasKey | shm.HasValue,
				Seq: 3, Key: []byte("k"), Value: shm.Value(`1`)}},
		{"cas with old null", sm + `"method":"cas","uuid":3,"key":"k","old":null,"value":1}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodCAS, Has: shm.HasSeq | shm.HasKey | shm.HasOld | shm.HasValue,
				Seq: 3, Key: []byte("k"), Old: shm.Null, Value: shm.Value(`1`)}},
		{"add with delta", sm + `"method":"add","uuid":4,"key":"n","delta":-9223372036854775808}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodAdd, Has: shm.HasSeq | shm.HasKey | shm.HasDelta,
				Seq: 4, Key: []byte("n"), Delta: math.MinInt64}},
		{"add without delta", sm + `"method":"add","uuid":4,"key":"n"}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodAdd, Has: shm.HasSeq | shm.HasKey, Seq: 4, Key: []byte("n")}},
		{"len", sm + `"method":"len","uuid":5}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodLen, Has: shm.HasSeq, Seq: 5}},
		{"keys", sm + `"method":"keys","uuid":6}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodKeys, Has: shm.HasSeq, Seq: 6}},
		{"members in any order, with whitespace",
			" { \"key\" : \"k\" ,\t\"uuid\" : 12 , \"method\" : \"get\" , \"isSharedMemoryMessage\" : true } \r",
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Has: shm.HasSeq | shm.HasKey, Seq: 12, Key: []byte("k")}},
		{"unknown members skipped", sm + `"extra":{"a":[1,{"b":null}],"key":5},"method":"get","uuid":1,"key":"k","z":"\ud800"}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Has: shm.HasSeq | shm.HasKey, Seq: 1, Key: []byte("k")}},
		{"uuid of 19 digits", sm + `"method":"len","uuid":1234567890123456789}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodLen, Has: shm.HasSeq, Seq: 1234567890123456789}},
		{"uuid of 20 digits", sm + `"method":"len","uuid":12345678901234567890}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodLen, Has: shm.HasSeq, Seq: 12345678901234567890}},
		{"uuid 0 before brace", sm + `"method":"len","uuid":0}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodLen, Has: shm.HasSeq}},
		{"uuid followed by space", sm + `"method":"len","uuid":42 }`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodLen, Has: shm.HasSeq, Seq: 42}},
		{"int64 bounds", sm + `"method":"add","id":9223372036854775807,"uuid":1,"key":"n","delta":9223372036854775807,"ttl":-0}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodAdd, Has: shm.HasSeq | shm.HasWorker | shm.HasKey | shm.HasDelta | shm.HasTTL,
				Worker: math.MaxInt64, Seq: 1, Key: []byte("n"), Delta: math.MaxInt64}},
		{"ttl -1 is an integer (validated by the store)", sm + `"method":"set","uuid":1,"key":"k","value":1,"ttl":-1}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet, Has: shm.HasSeq | shm.HasKey | shm.HasValue | shm.HasTTL,
				Seq: 1, Key: []byte("k"), Value: shm.Value("1"), TTL: -1}},
		{"method with escape", sm + `"method":"g\u0065t","uuid":1,"key":"k"}`,
			shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Has: shm.HasSeq | shm.HasKey, Seq: 1, Key: []byte("k")}},
	}
	for _, tt := range tests {
		got := decode(tt.frame)
		if got.Err != nil {
			t.Errorf("%s: DecodeFrame(%s) error: %v", tt.name, tt.frame, got.Err)
		}
		if diff := cmp.Diff(tt.want, got, msgOpts); diff != "" {
			t.Errorf("%s: DecodeFrame(%s) mismatch (-want +got):\n%s", tt.name, tt.frame, diff)
		}
	}
}

func TestDecodeKeyEscapes(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"plain", `"a"`, "a"},
		{"empty", `""`, ""},
		{"proto", `"__proto__"`, "__proto__"},
		{"zero", `"0"`, "0"},
		{"unicode escape", `"\u0041"`, "A"},
		{"lower and upper hex", `"\u00e9\u00E9"`, "éé"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"surrogate pair upper", `"\uD83D\uDE00!"`, "😀!"},
		{"short escapes", `"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{"NUL escape", `"\u0000"`, "\x00"},
		{"raw UTF-8", `"héllo 世界"`, "héllo 世界"},
		{"raw and escaped mixed", `"é\u00e9é"`, "ééé"},
		{"long plain", `"` + strings.Repeat("x", 100) + `"`, strings.Repeat("x", 100)},
		{"long with escape at end", `"` + strings.Repeat("x", 100) + `\n"`, strings.Repeat("x", 100) + "\n"},
		{"BMP max", `"\uffff"`, "\uffff"},
		{"U+2028", `"\u2028"`, "\u2028"},
	}
	for _, tt := range tests {
		frame := sm + `"method":"get","uuid":1,"key":` + tt.key + `}`
		got := decode(frame)
		if got.Kind != shm.KindRequest || got.Err != nil {
			t.Errorf("%s: DecodeFrame(%s) = kind %d, err %v; want a request", tt.name, frame, got.Kind, got.Err)
			continue
		}
		if diff := cmp.Diff(tt.want, string(got.Key)); diff != "" {
			t.Errorf("%s: key mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestDecodeLoneSurrogates: a string that must become UTF-8 (a key, a
// method, an error code) with a lone UTF-16 surrogate is refused with
// bad_request, either as a broken frame or as a bad request that keeps its
// uuid for the reply.
func TestDecodeLoneSurrogates(t *testing.T) {
	var frames []string
	for _, key := range []string{
		`"\ud800"`, `"\udc00"`, `"\uDBFF"`, `"\ud800x"`, `"\ud800\u0041"`, `"\ud800\ud800"`,
		`"\ude00\ud83d"`, `"a\ud83d"`, `"\ud83d\n"`,
	} {
		frames = append(frames, sm+`"method":"set","uuid":1,"key":`+key+`,"value":1}`)
	}
	frames = append(frames,
		sm+`"method":"\ud800","uuid":1,"key":"k"}`,
		sm+`"uuid":1,"error":{"code":"\ud800","message":"m"}}`,
	)
	for _, frame := range frames {
		got := decode(frame)
		if got.Err == nil || got.Err.Code != shm.CodeBadRequest || !got.Err.Definite {
			t.Errorf("DecodeFrame(%s) = kind %d, err %v, key %q; want a definite bad_request", frame, got.Kind, got.Err, got.Key)
			continue
		}
		if got.Kind != shm.KindInvalid && got.Kind != shm.KindRequest && got.Kind != shm.KindReply {
			t.Errorf("DecodeFrame(%s) kind = %d, want KindInvalid, KindRequest or KindReply", frame, got.Kind)
		}
		if got.Kind != shm.KindInvalid && (got.Seq != 1 || got.Has&shm.HasSeq == 0) {
			t.Errorf("DecodeFrame(%s) kept uuid %d (has %v), want 1", frame, got.Seq, got.Has&shm.HasSeq != 0)
		}
		if !strings.Contains(got.Err.Message, "surrogate") {
			t.Errorf("DecodeFrame(%s) error %q, want it to mention the surrogate", frame, got.Err.Message)
		}
	}
}

func TestDecodeValuesByteExact(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"big integer", "123456789012345678901234567890", "123456789012345678901234567890"},
		{"negative big integer", "-123456789012345678901234567890", "-123456789012345678901234567890"},
		{"2^53+1", "9007199254740993", "9007199254740993"},
		{"zero", "0", "0"},
		{"minus zero", "-0", "-0"},
		{"float", "1.50", "1.50"},
		{"exponent", "1E+400", "1E+400"},
		{"empty string", `""`, `""`},
		{"false", "false", "false"},
		{"true", "true", "true"},
		{"null", "null", "null"},
		{"escaped string kept escaped", `"\u0041\/\n"`, `"\u0041\/\n"`},
		{"lone surrogate in a value is kept", `"\ud800"`, `"\ud800"`},
		{"nested", `{"a":[1,{"b":[[],{}]}],"c":null}`, `{"a":[1,{"b":[[],{}]}],"c":null}`},
		{"binary", `{"$binary":"AAEC/w=="}`, `{"$binary":"AAEC/w=="}`},
		{"whitespace compacted", "[ 1 ,\t{ \"a\" : 2 } ]", `[1,{"a":2}]`},
		{"whitespace in strings kept", `{ "a b" : " c " }`, `{"a b":" c "}`},
		{"newline whitespace", "[\n1\r\n]", "[1]"},
		{"256 deep", strings.Repeat("[", 256) + strings.Repeat("]", 256), strings.Repeat("[", 256) + strings.Repeat("]", 256)},
	}
	for _, tt := range tests {
		for _, member := range []string{"value", "old"} {
			frame := sm + `"method":"cas","uuid":1,"key":"k","` + member + `":  ` + tt.text + `  ,"ttl":5}`
			got := decode(frame)
			if got.Kind != shm.KindRequest || got.Err != nil {
				t.Errorf("%s: DecodeFrame(%s) = kind %d, err %v; want a request", tt.name, frame, got.Kind, got.Err)
				continue
			}
			v := got.Value
			if member == "old" {
				v = got.Old
			}
			if diff := cmp.Diff(tt.want, string(v)); diff != "" {
				t.Errorf("%s: %s mismatch (-want +got):\n%s", tt.name, member, diff)
			}
			if got.TTL != 5 {
				t.Errorf("%s: ttl after the %s = %d, want 5", tt.name, member, got.TTL)
			}
		}
	}
}

// TestDecodeValueAndOldWithWhitespace checks that compacting two values in
// one frame keeps both intact (they share the scratch buffer).
func TestDecodeValueAndOldWithWhitespace(t *testing.T) {
	var m shm.Message
	scratch := make([]byte, 0, 4) // small, so appends move it
	frame := sm + `"method":"cas","uuid":1,"key":"\u006b","old":[ 1, 2 ],"value":{ "x" : [ 3 ] }}`
	shm.DecodeFrame([]byte(frame), &m, &scratch)
	got := []string{string(m.Key), string(m.Old), string(m.Value)}
	want := []string{"k", "[1,2]", `{"x":[3]}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key, old, value mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeReplies(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  shm.Message
	}{
		{"value", sm + `"uuid":3,"value":"OK"}`,
			shm.Message{Kind: shm.KindReply, Has: shm.HasSeq | shm.HasValue, Seq: 3, Value: shm.Value(`"OK"`)}},
		{"missing", sm + `"uuid":3}`,
			shm.Message{Kind: shm.KindReply, Has: shm.HasSeq, Seq: 3}},
		{"null value", sm + `"uuid":3,"value":null}`,
			shm.Message{Kind: shm.KindReply, Has: shm.HasSeq | shm.HasValue, Seq: 3, Value: shm.Null}},
		{"error", sm + `"uuid":3,"error":{"code":"overflow","message":"x \"y\" \u00e9","definite":true}}`,
			shm.Message{Kind: shm.KindReply, Has: shm.HasSeq, Seq: 3,
				Err: &shm.Error{Code: "overflow", Message: `x "y" é`, Definite: true}}},
		{"indefinite error with extra members", sm + `"uuid":3,"error":{"x":[1],"definite":false,"message":"m","code":"timeout","y":{}}}`,
			shm.Message{Kind: shm.KindReply, Has: shm.HasSeq, Seq: 3,
				Err: &shm.Error{Code: "timeout", Message: "m"}}},
		{"error with wrong-typed fields", sm + `"uuid":3,"error":{"code":5,"message":null,"definite":"yes"}}`,
			shm.Message{Kind: shm.KindReply, Has: shm.HasSeq, Seq: 3, Err: &shm.Error{}}},
		{"error not an object", sm + `"uuid":3,"error":"boom"}`,
			shm.Message{Kind: shm.KindReply, Has: shm.HasSeq, Seq: 3, Err: &shm.Error{Code: shm.CodeWrongType, Definite: true}}},
		{"no uuid", `{"isSharedMemoryMessage":true}`,
			shm.Message{Kind: shm.KindReply}},
	}
	for _, tt := range tests {
		got := decode(tt.frame)
		if tt.want.Err != nil && got.Err != nil && tt.want.Err.Code == shm.CodeWrongType {
			got.Err.Message = "" // checked elsewhere
		}
		if diff := cmp.Diff(tt.want, got, msgOpts); diff != "" {
			t.Errorf("%s: DecodeFrame(%s) mismatch (-want +got):\n%s", tt.name, tt.frame, diff)
		}
	}
}

func TestDecodeInternalAndOther(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		kind  shm.Kind
	}{
		{"cluster online", `{"cmd":"NODE_CLUSTER","act":"online","seq":0}`, shm.KindInternal},
		{"handle ack", `{"cmd":"NODE_HANDLE_ACK"}`, shm.KindInternal},
		{"internal with the flag and a method", sm + `"cmd":"NODE_CLUSTER","method":"get","uuid":1}`, shm.KindInternal},
		{"internal with wrong types", `{"cmd":"NODE_X","uuid":"bad","key":5}`, shm.KindInternal},
		{"escaped cmd", `{"cmd":"NODE_\u0058"}`, shm.KindInternal},
		{"cmd without NODE_", `{"cmd":"NODEX"}`, shm.KindOther},
		{"lowercase node_", `{"cmd":"node_x"}`, shm.KindOther},
		{"cmd not a string", `{"cmd":5}`, shm.KindOther},
		{"empty object", `{}`, shm.KindOther},
		{"empty object with space", ` { } `, shm.KindOther},
		{"foreign", `{"hello":"world","n":[1,2]}`, shm.KindOther},
		{"flag false", `{"isSharedMemoryMessage":false,"method":"get","uuid":1,"key":"k"}`, shm.KindOther},
		{"flag a string, no method", `{"isSharedMemoryMessage":"true","uuid":1}`, shm.KindOther},
		{"flag 1, no method", `{"isSharedMemoryMessage":1}`, shm.KindOther},
		{"flag null", `{"isSharedMemoryMessage":null}`, shm.KindOther},
		{"no flag, wrong types", `{"method":5,"uuid":"x"}`, shm.KindOther},
	}
	for _, tt := range tests {
		got := decode(tt.frame)
		want := shm.Message{Kind: tt.kind, Raw: []byte(tt.frame)}
		if diff := cmp.Diff(want, got, msgOpts, cmpopts.IgnoreFields(shm.Message{}, "Has", "Seq", "UUID", "Method", "Key")); diff != "" {
			t.Errorf("%s: DecodeFrame(%s) mismatch (-want +got):\n%s", tt.name, tt.frame, diff)
		}
	}
}

func TestDecodeInvalid(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, frame, msg string
	}{
		{"empty frame", "", "empty frame"},
		{"blank frame", " \t\r", "empty frame"},
		{"null frame", "null", "null"},
		{"null frame with space", " null ", "null"},
		{"array frame", "[]", "not a JSON object"},
		{"array of objects", `[{"isSharedMemoryMessage":true}]`, "not a JSON object"},
		{"number frame", "1", "not a JSON object"},
		{"string frame", `"get"`, "not a JSON object"},
		{"true frame", "true", "not a JSON object"},
		{"broken non-object", "[1,", "offset"},
		{"truncated after brace", "{", "member name"},
		{"truncated name", `{"a`, "unterminated string"},
		{"truncated after colon", `{"a":`, "unexpected end"},
		{"truncated after comma", `{"a":1,`, "member name"},
		{"truncated request", sm + `"method":"get","uuid":1,"key":"k"`, "want ','"},
		{"truncated value", sm + `"method":"set","uuid":1,"key":"k","value":[1,`, "unexpected end"},
		{"truncated number member", sm + `"uuid":`, "unexpected end"},
		{"trailing garbage", `{} x`, "trailing data"},
		{"two objects", `{}{}`, "trailing data"},
		{"extra brace", sm + `"uuid":1}}`, "trailing data"},
		{"trailing comma", sm + `"uuid":1,}`, "member name"},
		{"missing colon", `{"uuid" 1}`, "':'"},
		{"missing comma", `{"uuid":1 "key":"k"}`, "want ','"},
		{"unquoted name", `{uuid:1}`, "member name"},
		{"single quotes", `{'uuid':1}`, "member name"},
		{"bad escape in key", sm + `"method":"get","uuid":1,"key":"\x"}`, "invalid escape"},
		{"short unicode escape in key", sm + `"method":"get","uuid":1,"key":"\u12"}`, `\u escape`},
		{"bad escape in name", `{"k\q":1}`, "invalid escape"},
		{"bad escape in value", sm + `"method":"set","uuid":1,"key":"k","value":"\a"}`, "invalid escape"},
		{"bad escape in error", sm + `"uuid":1,"error":{"code":"\z"}}`, "invalid escape"},
		{"control char in key", sm + "\"method\":\"get\",\"uuid\":1,\"key\":\"a\x01b\"}", "control character"},
		{"raw tab in value", sm + "\"method\":\"set\",\"uuid\":1,\"key\":\"k\",\"value\":\"\t\"}", "control character"},
		{"raw newline in long key", sm + "\"method\":\"get\",\"uuid\":1,\"key\":\"" + strings.Repeat("a", 40) + "\nb\"}", "control character"},
		{"control char in name", "{\"a\x00\":1}", "control character"},
		{"invalid UTF-8 in key", sm + "\"method\":\"get\",\"uuid\":1,\"key\":\"\xff\"}", "invalid UTF-8"},
		{"invalid UTF-8 in value", sm + "\"method\":\"set\",\"uuid\":1,\"key\":\"k\",\"value\":\"a\xc3\"}", "invalid UTF-8"},
		{"invalid UTF-8 in name", "{\"\xfe\":1}", "invalid UTF-8"},
		{"invalid UTF-8 outside strings", "{\xff}", "member name"},
		{"UTF-8 encoded surrogate", sm + "\"method\":\"get\",\"uuid\":1,\"key\":\"\xed\xa0\x80\"}", "invalid UTF-8"},
		{"deep value", sm + `"method":"set","uuid":1,"key":"k","value":` + deep(257) + `}`, "nesting deeper than 256"},
		{"deep unknown member", `{"x":` + deep(300) + `}`, "nesting deeper than 256"},
		{"deep non-object frame", deep(1000), "nesting deeper than 256"},
		{"leading zero", sm + `"uuid":01}`, "want ','"},
		{"bare minus", sm + `"uuid":-}`, "invalid number"},
		{"dot number", sm + `"method":"set","uuid":1,"key":"k","value":.5}`, "invalid character"},
		{"plus number", sm + `"method":"set","uuid":1,"key":"k","value":+1}`, "invalid character"},
		{"NaN", sm + `"method":"set","uuid":1,"key":"k","value":NaN}`, "invalid character"},
		{"Infinity", sm + `"method":"set","uuid":1,"key":"k","value":Infinity}`, "invalid character"},
		{"undefined", sm + `"method":"set","uuid":1,"key":"k","value":undefined}`, "invalid character"},
		{"short literal", sm + `"method":"set","uuid":1,"key":"k","value":nul}`, "invalid literal"},
		{"flag short literal", `{"isSharedMemoryMessage":tru}`, "invalid literal"},
		{"NUL frame", "\x00", ""},
		{"duplicate key", sm + `"method":"get","uuid":1,"key":"a","key":"b"}`, `duplicate member "key"`},
		{"duplicate uuid", sm + `"method":"get","uuid":1,"uuid":2,"key":"a"}`, `duplicate member "uuid"`},
		{"duplicate value", sm + `"method":"set","uuid":1,"key":"a","value":1,"value":2}`, `duplicate member "value"`},
		{"duplicate old", sm + `"method":"cas","uuid":1,"key":"a","old":1,"old":2,"value":3}`, `duplicate member "old"`},
		{"duplicate method", sm + `"method":"get","method":"set","uuid":1,"key":"a"}`, `duplicate member "method"`},
		{"duplicate flag", sm + `"isSharedMemoryMessage":true,"method":"get","uuid":1,"key":"a"}`, `duplicate member "isSharedMemoryMessage"`},
		{"duplicate flag, second false", sm + `"isSharedMemoryMessage":false,"method":"get","uuid":1,"key":"a"}`, "duplicate member"},
		{"duplicate cmd", `{"cmd":"NODE_A","cmd":"NODE_B"}`, `duplicate member "cmd"`},
		{"duplicate ttl", sm + `"method":"set","uuid":1,"key":"a","value":1,"ttl":1,"ttl":2}`, `duplicate member "ttl"`},
		{"duplicate delta", sm + `"method":"add","uuid":1,"key":"a","delta":1,"delta":2}`, `duplicate member "delta"`},
		{"duplicate id", sm + `"method":"len","id":1,"id":2,"uuid":1}`, `duplicate member "id"`},
		{"duplicate inc", sm + `"method":"len","inc":1,"inc":2,"uuid":1}`, `duplicate member "inc"`},
		{"duplicate ack", sm + `"method":"len","ack":1,"ack":2,"uuid":1}`, `duplicate member "ack"`},
		{"duplicate error", sm + `"uuid":1,"error":{},"error":{}}`, `duplicate member "error"`},
		{"duplicate wrong-typed key", sm + `"method":"get","uuid":1,"key":5,"key":"a"}`, `duplicate member "key"`},
		{"duplicate wrong-typed method", sm + `"method":5,"method":"get","uuid":1}`, `duplicate member "method"`},
	}
	for _, tt := range tests {
		got := decode(tt.frame)
		if got.Kind != shm.KindInvalid {
			t.Errorf("%s: DecodeFrame(%q) kind = %d, want KindInvalid", tt.name, tt.frame, got.Kind)
			continue
		}
		if got.Err == nil || got.Err.Code != shm.CodeBadRequest || !got.Err.Definite {
			t.Errorf("%s: DecodeFrame(%q) error = %#v, want a definite bad_request", tt.name, tt.frame, got.Err)
			continue
		}
		if !strings.Contains(got.Err.Message, tt.msg) {
			t.Errorf("%s: DecodeFrame(%q) error %q, want it to mention %q", tt.name, tt.frame, got.Err.Message, tt.msg)
		}
		if got.Raw != nil {
			t.Errorf("%s: DecodeFrame(%q) Raw = %q, want nil for an invalid frame", tt.name, tt.frame, got.Raw)
		}
	}
}

func TestDecodeWrongTypes(t *testing.T) {
	tests := []struct {
		name, members, mention string
	}{
		{"key number", `"method":"get","uuid":7,"key":5`, "key"},
		{"key null", `"method":"get","uuid":7,"key":null`, "key"},
		{"key object", `"method":"get","uuid":7,"key":{"a":1}`, "key"},
		{"key array", `"method":"get","uuid":7,"key":["a"]`, "key"},
		{"method number", `"method":5,"uuid":7,"key":"k"`, "method"},
		{"method null", `"method":null,"uuid":7,"key":"k"`, "method"},
		{"ttl string", `"method":"set","uuid":7,"key":"k","value":1,"ttl":"1000"`, "ttl"},
		{"ttl fraction", `"method":"set","uuid":7,"key":"k","value":1,"ttl":1.5`, "ttl"},
		{"ttl exponent", `"method":"set","uuid":7,"key":"k","value":1,"ttl":1e3`, "ttl"},
		{"ttl beyond int64", `"method":"set","uuid":7,"key":"k","value":1,"ttl":9223372036854775808`, "ttl"},
		{"delta string", `"method":"add","uuid":7,"key":"k","delta":"1"`, "delta"},
		{"delta beyond int64", `"method":"add","uuid":7,"key":"k","delta":-9223372036854775809`, "delta"},
		{"delta true", `"method":"add","uuid":7,"key":"k","delta":true`, "delta"},
		{"id string", `"method":"get","id":"w1","uuid":7,"key":"k"`, "id"},
		{"inc negative", `"method":"get","inc":-1,"uuid":7,"key":"k"`, "inc"},
		{"ack negative", `"method":"get","ack":-1,"uuid":7,"key":"k"`, "ack"},
		{"ack string", `"method":"get","ack":"3","uuid":7,"key":"k"`, "ack"},
		{"first problem wins", `"method":"set","uuid":7,"key":5,"value":1,"ttl":"x"`, "key"},
	}
	for _, tt := range tests {
		frame := sm + tt.members + "}"
		got := decode(frame)
		if got.Kind != shm.KindRequest {
			t.Errorf("%s: DecodeFrame(%s) kind = %d, want KindRequest", tt.name, frame, got.Kind)
			continue
		}
		if got.Err == nil || got.Err.Code != shm.CodeWrongType || !got.Err.Definite {
			t.Errorf("%s: DecodeFrame(%s) error = %v, want a definite wrong_type", tt.name, frame, got.Err)
			continue
		}
		if !strings.HasPrefix(got.Err.Message, tt.mention) {
			t.Errorf("%s: error %q, want it to name %q", tt.name, got.Err.Message, tt.mention)
		}
		if got.Has&shm.HasSeq == 0 || got.Seq != 7 {
			t.Errorf("%s: uuid = %d (has %v), want 7 so the reply can name it", tt.name, got.Seq, got.Has&shm.HasSeq != 0)
		}
	}
}

// TestDecodeFlagWrongType: a request whose isSharedMemoryMessage is neither
// true nor false is answered with wrong_type rather than ignored.
func TestDecodeFlagWrongType(t *testing.T) {
	for _, flag := range []string{`"true"`, `1`, `null`, `{}`} {
		frame := `{"isSharedMemoryMessage":` + flag + `,"method":"get","uuid":7,"key":"k"}`
		got := decode(frame)
		if got.Kind != shm.KindRequest || got.Err == nil || got.Err.Code != shm.CodeWrongType || got.Seq != 7 {
			t.Errorf("DecodeFrame(%s) = kind %d, uuid %d, err %v; want KindRequest uuid 7 with wrong_type", frame, got.Kind, got.Seq, got.Err)
			continue
		}
		if !strings.Contains(got.Err.Message, "isSharedMemoryMessage") {
			t.Errorf("DecodeFrame(%s) error %q, want it to name isSharedMemoryMessage", frame, got.Err.Message)
		}
	}
}

// TestDecodeRequestWithErrorMember: an "error" member belongs in replies.
// In a request it must not become the request's error, or the master would
// answer with whatever error the worker chose to send.
func TestDecodeRequestWithErrorMember(t *testing.T) {
	for _, e := range []string{
		`{"code":"x","message":"y","definite":false}`,
		`{}`,
		`{"code":"timeout"}`,
	} {
		frame := sm + `"method":"get","uuid":1,"key":"k","error":` + e + `}`
		got := decode(frame)
		if got.Err != nil && got.Err.Code != shm.CodeBadRequest && got.Err.Code != shm.CodeWrongType {
			t.Errorf("DecodeFrame(%s) error = %+v, want none or the decoder's own bad_request", frame, *got.Err)
		}
	}
}

// TestDecodeUUIDScalar: a uuid that is an integer from 0 to 2^64-1 is
// Seq; any other JSON scalar is kept as its text in UUID, exactly as it
// came; an object or an array is a wrong type and no uuid at all.
func TestDecodeUUIDScalar(t *testing.T) {
	for _, tt := range []struct {
		uuid string
		seq  bool // an integer uuid, in Seq
		code string
	}{
		{uuid: `0`, seq: true}, {uuid: `18446744073709551615`, seq: true},
		{uuid: `"x"`}, {uuid: `"1796645489267-1"`}, {uuid: `"7"`}, {uuid: `""`}, {uuid: `"a\u0041\ud800\""`},
		{uuid: `-1`}, {uuid: `-0`}, {uuid: `1.5`}, {uuid: `1e2`}, {uuid: `1.0`}, {uuid: `18446744073709551616`},
		{uuid: `null`}, {uuid: `true`}, {uuid: `false`},
		{uuid: `[]`, code: shm.CodeWrongType}, {uuid: `{"a":1}`, code: shm.CodeWrongType},
		{uuid: `"` + strings.Repeat("x", shm.MaxUUIDBytes-1) + `"`, code: shm.CodeBadRequest},
	} {
		frame := sm + `"method":"get","uuid":` + tt.uuid + `,"key":"k"}`
		got := decode(frame)
		switch {
		case got.Kind != shm.KindRequest:
			t.Errorf("DecodeFrame(%s) = kind %d, want a request", frame, got.Kind)
		case tt.code != "":
			if got.Err == nil || got.Err.Code != tt.code || got.Has&(shm.HasSeq|shm.HasUUID) != 0 {
				t.Errorf("DecodeFrame(%s) = err %v, has %#x; want %s and no uuid", frame, got.Err, got.Has, tt.code)
			}
		case got.Err != nil:
			t.Errorf("DecodeFrame(%s) = err %v, want none", frame, got.Err)
		case tt.seq && (got.Has&(shm.HasSeq|shm.HasUUID) != shm.HasSeq || strconv.FormatUint(got.Seq, 10) != tt.uuid):
			t.Errorf("DecodeFrame(%s) = seq %d, has %#x; want seq %s", frame, got.Seq, got.Has, tt.uuid)
		case !tt.seq && (got.Has&(shm.HasSeq|shm.HasUUID) != shm.HasUUID || string(got.UUID) != tt.uuid):
			t.Errorf("DecodeFrame(%s) = uuid %s, has %#x; want the text %s", frame, got.UUID, got.Has, tt.uuid)
		}
	}
}

// TestUUIDEchoedExactly: the reply to a request whose uuid is any other
// JSON scalar carries that uuid as it was written, in values and in
// errors, and such a request is never deduplicated: a resent add with a
// string uuid adds again, one with an integer uuid does not.
func TestUUIDEchoedExactly(t *testing.T) {
	s := shm.NewStore(shm.StoreOptions{})
	w := shm.Identity{Worker: 1, Inc: 1}
	for _, tt := range []struct{ frame, want string }{
		{sm + `"method":"set","uuid":"1796645489267-1","key":"a","value":1}`, `{"isSharedMemoryMessage":true,"uuid":"1796645489267-1","value":"OK"}`},
		{sm + `"method":"get","uuid":-2.50e+3,"key":"a"}`, `{"isSharedMemoryMessage":true,"uuid":-2.50e+3,"value":1}`},
		{sm + `"method":"get","uuid":"\u0041\ud800","key":"none"}`, `{"isSharedMemoryMessage":true,"uuid":"\u0041\ud800"}`},
		{sm + `"method":"frob","uuid":"e1","key":"a"}`, `{"isSharedMemoryMessage":true,"uuid":"e1","error":{"code":"unknown_method",`},
		{sm + `"method":"add","uuid":"e2","key":"a","delta":"x"}`, `{"isSharedMemoryMessage":true,"uuid":"e2","error":{"code":"wrong_type",`},
		{sm + `"method":"add","uuid":"twice","key":"n"}`, `{"isSharedMemoryMessage":true,"uuid":"twice","value":1}`},
		{sm + `"method":"add","uuid":"twice","key":"n"}`, `{"isSharedMemoryMessage":true,"uuid":"twice","value":2}`},
		{sm + `"method":"add","uuid":7,"key":"n"}`, `{"isSharedMemoryMessage":true,"uuid":7,"value":3}`},
		{sm + `"method":"add","uuid":7,"key":"n"}`, `{"isSharedMemoryMessage":true,"uuid":7,"value":3}`},
		{sm + `"method":"add","uuid":null,"key":"n"}`, `{"isSharedMemoryMessage":true,"uuid":null,"value":4}`},
		{sm + `"uuid":"no method"}`, `{"isSharedMemoryMessage":true,"uuid":"no method","error":{"code":"bad_request",`},
		{sm + `"method":"get","uuid":"torn","key":}`, `{"isSharedMemoryMessage":true,"uuid":"torn","error":{"code":"bad_request",`},
	} {
		req := decode(tt.frame)
		var rep shm.Message
		s.Answer(0, w, &req, &rep)
		if got := string(shm.AppendFrame(nil, &rep)); !strings.HasPrefix(got, tt.want) {
			t.Errorf("reply to %s = %s, want %s", tt.frame, got, tt.want)
		}
	}
	if st := s.Stats(); st.Duplicates != 1 {
		t.Errorf("%d duplicates answered from memory, want 1 (the integer uuid's)", st.Duplicates)
	}
}

// TestMalformedUUIDReplyNamesNoUUID checks that the error reply to a request
// whose uuid is not a usable id does not name a uuid the worker never sent:
// "uuid":0 would be delivered to whatever call the worker has pending as 0.
func TestMalformedUUIDReplyNamesNoUUID(t *testing.T) {
	for _, uuid := range []string{`[]`, `{"n":1}`, `"` + strings.Repeat("x", shm.MaxUUIDBytes) + `"`} {
		frame := sm + `"method":"set","uuid":` + uuid + `,"key":"k","value":1}`
		req := decode(frame)
		rep := shm.NewStore(shm.StoreOptions{}).Apply(0, shm.Identity{}, &req)
		out := string(shm.AppendFrame(nil, &rep))
		if rep.Err == nil || (rep.Err.Code != shm.CodeWrongType && rep.Err.Code != shm.CodeBadRequest) {
			t.Errorf("reply to %s = %s, want a wrong_type or bad_request error", frame, out)
		}
		if rep.Has&(shm.HasSeq|shm.HasUUID) != 0 {
			t.Errorf("reply to %s = %s, want no uuid member (the request had no usable uuid)", frame, out)
		}
	}
}

func TestDecodeUnknownMethod(t *testing.T) {
	for _, method := range []string{"put", "GET", "", "get ", "setx", "method(?)", "NODE_CLUSTER"} {
		frame := sm + `"method":` + strconv.Quote(method) + `,"uuid":9,"key":"k"}`
		got := decode(frame)
		if got.Kind != shm.KindRequest || got.Err == nil || got.Err.Code != shm.CodeUnknownMethod || !got.Err.Definite {
			t.Errorf("DecodeFrame(%s) = kind %d, err %v; want KindRequest with a definite unknown_method", frame, got.Kind, got.Err)
			continue
		}
		if got.Seq != 9 {
			t.Errorf("DecodeFrame(%s) uuid = %d, want 9", frame, got.Seq)
		}
	}
}

// TestNilMessageErrIs: Message.Err is a *Error, and callers pass it to
// errors.Is as it is; a nil one must simply not match.
func TestNilMessageErrIs(t *testing.T) {
	m := decode(sm + `"uuid":1,"value":1}`)
	if m.Err != nil {
		t.Fatalf("DecodeFrame: %v", m.Err)
	}
	var matched bool
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("errors.Is(nil *shm.Error, shm.ErrExpired) panicked: %v", r)
			}
		}()
		matched = errors.Is(m.Err, shm.ErrExpired)
	}()
	if matched {
		t.Errorf("errors.Is(nil *shm.Error, shm.ErrExpired) = true, want false")
	}
}

func TestDecodeResetsMessage(t *testing.T) {
	var m shm.Message
	var scratch []byte
	shm.DecodeFrame([]byte(sm+`"method":"set","uuid":1,"key":"k","value":1,"ttl":5}`), &m, &scratch)
	shm.DecodeFrame([]byte(sm+`"method":"len","uuid":2}`), &m, &scratch)
	want := shm.Message{Kind: shm.KindRequest, Method: shm.MethodLen, Has: shm.HasSeq, Seq: 2}
	if diff := cmp.Diff(want, m, msgOpts); diff != "" {
		t.Errorf("second decode mismatch (-want +got):\n%s", diff)
	}
}

func TestAppendFrameGolden(t *testing.T) {
	tests := []struct {
		name string
		m    shm.Message
		want string
	}{
		{"get", shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Has: shm.HasWorker | shm.HasSeq | shm.HasKey, Worker: 1, Seq: 7, Key: []byte("a")},
			sm + `"method":"get","id":1,"uuid":7,"key":"a"}` + "\n"},
		{"set with every member", shm.Message{Kind: shm.KindRequest, Method: shm.MethodSet,
			Has:    shm.HasWorker | shm.HasInc | shm.HasSeq | shm.HasAck | shm.HasKey | shm.HasValue | shm.HasTTL,
			Worker: -2, Inc: 3, Seq: math.MaxUint64, Ack: 4, Key: []byte("k\"\n"), Value: shm.Value(`[1,"x"]`), TTL: 100},
			sm + `"method":"set","id":-2,"inc":3,"uuid":18446744073709551615,"ack":4,"key":"k\"\n","ttl":100,"value":[1,"x"]}` + "\n"},
		{"cas", shm.Message{Kind: shm.KindRequest, Method: shm.MethodCAS, Has: shm.HasSeq | shm.HasKey | shm.HasOld | shm.HasValue,
			Seq: 1, Key: []byte(""), Old: shm.False, Value: shm.Value(`""`)},
			sm + `"method":"cas","uuid":1,"key":"","old":false,"value":""}` + "\n"},
		{"add", shm.Message{Kind: shm.KindRequest, Method: shm.MethodAdd, Has: shm.HasSeq | shm.HasKey | shm.HasDelta,
			Seq: 1, Key: []byte("n"), Delta: math.MinInt64},
			sm + `"method":"add","uuid":1,"key":"n","delta":-9223372036854775808}` + "\n"},
		{"keys ignores absent members", shm.Message{Kind: shm.KindRequest, Method: shm.MethodKeys, Has: shm.HasSeq, Seq: 2, Key: []byte("x"), TTL: 9},
			sm + `"method":"keys","uuid":2}` + "\n"},
		{"reply value", shm.Message{Kind: shm.KindReply, Has: shm.HasSeq | shm.HasValue, Seq: 7, Value: shm.Value(`"OK"`)},
			sm + `"uuid":7,"value":"OK"}` + "\n"},
		{"reply missing", shm.Message{Kind: shm.KindReply, Has: shm.HasSeq, Seq: 7},
			sm + `"uuid":7}` + "\n"},
		{"reply bare", shm.Message{Kind: shm.KindReply},
			`{"isSharedMemoryMessage":true}` + "\n"},
		{"reply error wins over value", shm.Message{Kind: shm.KindReply, Has: shm.HasSeq | shm.HasValue, Seq: 7, Value: shm.True,
			Err: &shm.Error{Code: "overflow", Message: "a \"b\"\n", Definite: true}},
			sm + `"uuid":7,"error":{"code":"overflow","message":"a \"b\"\n","definite":true}}` + "\n"},
		{"reply indefinite error", shm.Message{Kind: shm.KindReply, Has: shm.HasSeq, Seq: 7, Err: &shm.Error{Code: "expired"}},
			sm + `"uuid":7,"error":{"code":"expired","message":"","definite":false}}` + "\n"},
		{"invalid UTF-8 key", shm.Message{Kind: shm.KindRequest, Method: shm.MethodGet, Has: shm.HasSeq | shm.HasKey, Seq: 1, Key: []byte("a\xffb")},
			sm + `"method":"get","uuid":1,"key":"a` + "\ufffd" + `b"}` + "\n"},
	}
	for _, tt := range tests {
		got := string(shm.AppendFrame([]byte("prefix:"), &tt.m))
		if diff := cmp.Diff("prefix:"+tt.want, got); diff != "" {
			t.Errorf("%s: AppendFrame mismatch (-want +got):\n%s", tt.name, diff)
		}
		if !json.Valid([]byte(strings.TrimPrefix(got, "prefix:"))) {
			t.Errorf("%s: AppendFrame wrote invalid JSON: %s", tt.name, got)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"abc", `"abc"`},
		{`"`, `"\""`},
		{`\`, `"\\"`},
		{"\n\t", `"\n\t"`},
		{"\r\b\f", `"\u000d\u0008\u000c"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"\x7f", "\"\x7f\""},
		{"/", `"/"`},
		{"<&>", `"<&>"`},
		{"é世😀", `"é世😀"`},
		{"\u2028", "\"\u2028\""},
		{"\ufffd", "\"\ufffd\""},
		{"\xff", "\"\ufffd\""},
		{"a\xc3", "\"a\ufffd\""},
		{"\xed\xa0\x80", "\"\ufffd\ufffd\ufffd\""},
		{"\xf0\x9f\x98", "\"\ufffd\ufffd\ufffd\""},
	}
	for _, tt := range tests {
		got := string(shm.AppendString([]byte("x"), []byte(tt.in)))
		if diff := cmp.Diff("x"+tt.want, got); diff != "" {
			t.Errorf("AppendString(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestAppendStringProperty: any bytes make valid JSON that decodes to the
// bytes with each invalid byte replaced by U+FFFD.
func TestAppendStringProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s []byte
		if rapid.Bool().Draw(t, "utf8") {
			s = []byte(rapid.String().Draw(t, "s"))
		} else {
			s = rapid.SliceOf(rapid.Byte()).Draw(t, "s")
		}
		out := shm.AppendString(nil, s)
		if !json.Valid(out) {
			t.Fatalf("AppendString(%q) = %s, not valid JSON", s, out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, out, err)
		}
		if want := string([]rune(string(s))); got != want {
			t.Fatalf("AppendString(%q) decodes to %q, want %q", s, got, want)
		}
		if utf8.Valid(s) && got != string(s) {
			t.Fatalf("AppendString(%q) decodes to %q", s, got)
		}
	})
}

// jsonValue draws compact JSON text, including integers beyond 2^53,
// escapes, lone surrogates and nesting.
func jsonValue(depth int) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		max := 8
		if depth <= 0 {
			max = 5
		}
		switch rapid.IntRange(0, max).Draw(t, "type") {
		case 0:
			return rapid.SampledFrom([]string{"null", "true", "false", "0", "-0", `""`}).Draw(t, "literal")
		case 1:
			return strconv.FormatInt(rapid.Int64().Draw(t, "int"), 10)
		case 2:
			return rapid.StringMatching(`-?[1-9][0-9]{15,40}`).Draw(t, "bigint")
		case 3:
			return rapid.StringMatching(`-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,5})?([eE][+-]?[0-9]{1,3})?`).Draw(t, "number")
		case 4:
			b, _ := json.Marshal(rapid.String().Draw(t, "string"))
			return string(b)
		case 5:
			return rapid.SampledFrom([]string{`"\u0041"`, `"\ud800"`, `"\/\b\f\n\r\t\"\\"`, `{"$binary":"AAEC"}`}).Draw(t, "escaped")
		case 6, 7:
			elems := rapid.SliceOfN(jsonValue(depth-1), 0, 3).Draw(t, "elems")
			return "[" + strings.Join(elems, ",") + "]"
		}
		// Distinct names, as they read back: a value with a duplicate
		// member is refused.
		names := rapid.SliceOfNDistinct(rapid.String().Filter(utf8.ValidString), 0, 3, rapid.ID[string]).Draw(t, "names")
		parts := make([]string, len(names))
		for i, name := range names {
			k, _ := json.Marshal(name)
			parts[i] = string(k) + ":" + jsonValue(depth-1).Draw(t, "member")
		}
		return "{" + strings.Join(parts, ",") + "}"
	})
}

func drawRequest(t *rapid.T) shm.Message {
	m := shm.Message{Kind: shm.KindRequest, Method: shm.Method(rapid.IntRange(1, 7).Draw(t, "method"))}
	bits := []uint16{shm.HasSeq, shm.HasWorker, shm.HasInc, shm.HasKey, shm.HasValue, shm.HasOld, shm.HasTTL, shm.HasDelta, shm.HasAck}
	for _, b := range bits {
		if rapid.Bool().Draw(t, "has") {
			m.Has |= b
		}
	}
	if m.Has&shm.HasSeq != 0 {
		m.Seq = rapid.Uint64().Draw(t, "uuid")
	}
	if m.Has&shm.HasWorker != 0 {
		m.Worker = rapid.Int64().Draw(t, "id")
	}
	if m.Has&shm.HasInc != 0 {
		m.Inc = rapid.Uint64().Draw(t, "inc")
	}
	if m.Has&shm.HasAck != 0 {
		m.Ack = rapid.Uint64().Draw(t, "ack")
	}
	if m.Has&shm.HasKey != 0 {
		m.Key = []byte(rapid.OneOf(rapid.String(), rapid.SampledFrom([]string{"", "0", "__proto__", "\x00\n\"\\"})).Draw(t, "key"))
	}
	if m.Has&shm.HasValue != 0 {
		m.Value = shm.Value(jsonValue(3).Draw(t, "value"))
	}
	if m.Has&shm.HasOld != 0 {
		m.Old = shm.Value(jsonValue(3).Draw(t, "old"))
	}
	if m.Has&shm.HasTTL != 0 {
		m.TTL = rapid.Int64().Draw(t, "ttl")
	}
	if m.Has&shm.HasDelta != 0 {
		m.Delta = rapid.Int64().Draw(t, "delta")
	}
	return m
}

func drawReply(t *rapid.T) shm.Message {
	m := shm.Message{Kind: shm.KindReply}
	if rapid.Bool().Draw(t, "has uuid") {
		m.Has, m.Seq = shm.HasSeq, rapid.Uint64().Draw(t, "uuid")
	}
	switch rapid.IntRange(0, 2).Draw(t, "outcome") {
	case 1:
		m.Has |= shm.HasValue
		m.Value = shm.Value(jsonValue(3).Draw(t, "value"))
	case 2:
		m.Err = &shm.Error{
			Code:     rapid.OneOf(rapid.SampledFrom([]string{shm.CodeOverflow, shm.CodeExpired, ""}), rapid.String()).Draw(t, "code"),
			Message:  rapid.String().Draw(t, "message"),
			Definite: rapid.Bool().Draw(t, "definite"),
		}
	}
	return m
}

// TestFrameRoundTripProperty: any request or reply survives AppendFrame
// then DecodeFrame.
func TestFrameRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var want shm.Message
		if rapid.Bool().Draw(t, "request") {
			want = drawRequest(t)
		} else {
			want = drawReply(t)
		}
		frame := shm.AppendFrame(nil, &want)
		if !bytes.HasSuffix(frame, []byte("\n")) || bytes.Count(frame, []byte("\n")) != 1 {
			t.Fatalf("AppendFrame wrote %q, want one line ending in a newline", frame)
		}
		frame = frame[:len(frame)-1]
		if !json.Valid(frame) {
			t.Fatalf("AppendFrame wrote invalid JSON: %s", frame)
		}
		var got shm.Message
		var scratch []byte
		shm.DecodeFrame(frame, &got, &scratch)
		if diff := cmp.Diff(want, got, msgOpts); diff != "" {
			t.Fatalf("round trip of %s mismatch (-want +got):\n%s", frame, diff)
		}
	})
}

// rwc joins a reader and a writer into an io.ReadWriteCloser.
type rwc struct {
	io.Reader
	io.Writer
}

func (rwc) Close() error { return nil }

// TestStreamConnFinalDataWithEOF: an io.Reader may return its last bytes
// together with io.EOF (io.Reader's contract allows it); complete frames in
// them must still be delivered, and the stream then ends cleanly.
func TestStreamConnFinalDataWithEOF(t *testing.T) {
	input := sm + `"method":"len","uuid":1}` + "\n" + sm + `"method":"len","uuid":2}` + "\n"
	for name, r := range map[string]io.Reader{
		"data with EOF":           iotest.DataErrReader(strings.NewReader(input)),
		"one byte, data with EOF": iotest.DataErrReader(iotest.OneByteReader(strings.NewReader(input))),
		"plain":                   strings.NewReader(input),
	} {
		c := shm.NewStreamConn(rwc{r, io.Discard}, shm.StreamOptions{})
		var seqs []uint64
		var err error
		for range 10 {
			ms := make([]shm.Message, 4)
			var n int
			n, err = c.Recv(ms)
			for _, m := range ms[:n] {
				seqs = append(seqs, m.Seq)
			}
			if err != nil {
				break
			}
		}
		if diff := cmp.Diff([]uint64{1, 2}, seqs); diff != "" {
			t.Errorf("%s: uuids received mismatch (-want +got):\n%s", name, diff)
		}
		if err != io.EOF {
			t.Errorf("%s: Recv error at the end = %v, want io.EOF", name, err)
		}
	}
}
