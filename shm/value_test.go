package shm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shmlab/shmlab/shm"
)

func TestLiterals(t *testing.T) {
	got := []string{shm.Null.String(), shm.True.String(), shm.False.String()}
	want := []string{"null", "true", "false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("literals mismatch (-want +got):\n%s", diff)
	}
}

func TestIntRoundTrip(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-1, "-1"},
		{1 << 53, "9007199254740992"},
		{1<<53 + 1, "9007199254740993"},
		{math.MaxInt64, "9223372036854775807"},
		{math.MinInt64, "-9223372036854775808"},
	}
	for _, tt := range tests {
		v := shm.Int(tt.n)
		if got := v.String(); got != tt.want {
			t.Errorf("Int(%d) = %s, want %s", tt.n, got, tt.want)
		}
		n, err := v.Int()
		if err != nil || n != tt.n {
			t.Errorf("Int(%d).Int() = %d, %v; want %d, nil", tt.n, n, err, tt.n)
		}
	}
}

func TestValueIntRejects(t *testing.T) {
	for _, text := range []string{
		"1.0", "1e3", "1E3", `"5"`, "null", "true", "false", "[1]", `{"a":1}`, "",
		"9223372036854775808", "-9223372036854775809", "123456789012345678901234567890",
	} {
		if n, err := shm.Value(text).Int(); err == nil {
			t.Errorf("Value(%q).Int() = %d, nil; want an error", text, n)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in   string
		want string // the string that JSON decoding gives back
	}{
		{"", ""},
		{"plain", "plain"},
		{`quote " and backslash \`, `quote " and backslash \`},
		{"line\nbreak\ttab\x00nul\x1f", "line\nbreak\ttab\x00nul\x1f"},
		{"héllo, 世界, 😀", "héllo, 世界, 😀"},
		{"<script>&", "<script>&"},
		{"bad \xff byte", "bad \ufffd byte"},
	}
	for _, tt := range tests {
		v := shm.String(tt.in)
		if !json.Valid(v) {
			t.Errorf("String(%q) = %s, not valid JSON", tt.in, v)
			continue
		}
		var got string
		if err := v.Unmarshal(&got); err != nil {
			t.Errorf("String(%q).Unmarshal: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("String(%q) decodes to %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		in   []byte
		want string
	}{
		{nil, `{"$binary":""}`},
		{[]byte{}, `{"$binary":""}`},
		{[]byte("hi"), `{"$binary":"aGk="}`},
		{[]byte{0}, `{"$binary":"AA=="}`},
		{[]byte{0xff, 0xfe, 0xfd}, `{"$binary":"//79"}`},
		{all, ""},
	}
	for _, tt := range tests {
		v := shm.Binary(tt.in)
		if tt.want != "" && v.String() != tt.want {
			t.Errorf("Binary(%x) = %s, want %s", tt.in, v, tt.want)
		}
		if !json.Valid(v) {
			t.Errorf("Binary(%x) = %s, not valid JSON", tt.in, v)
		}
		got, err := v.Binary()
		if err != nil {
			t.Errorf("Binary(%x).Binary(): %v", tt.in, err)
			continue
		}
		if !bytes.Equal(got, tt.in) {
			t.Errorf("Binary(%x).Binary() = %x", tt.in, got)
		}
	}
}

func TestBinaryRejects(t *testing.T) {
	for _, text := range []string{
		`"aGk="`, `{}`, `{"$binary":null}`, `{"$binary":5}`, `{"$binary":"!!!"}`,
		`{"$binary":"aGk"}`, `null`, `[]`, `not json`,
	} {
		if b, err := shm.Value(text).Binary(); err == nil {
			t.Errorf("Value(%s).Binary() = %x, nil; want an error", text, b)
		}
	}
}

func TestBinaryAcceptsEscapedBase64(t *testing.T) {
	got, err := shm.Value(`{"$binary":"\u0061Gk="}`).Binary()
	if err != nil || string(got) != "hi" {
		t.Errorf("Binary() = %q, %v; want \"hi\", nil", got, err)
	}
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"big int as json.Number", json.Number("123456789012345678901234567890"), "123456789012345678901234567890"},
		{"big.Int", new(big.Int).Lsh(big.NewInt(1), 100), "1267650600228229401496703205376"},
		{"map sorted", map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		{"nil", nil, "null"},
		{"falsy", []any{0, "", false, nil}, `[0,"",false,null]`},
	}
	for _, tt := range tests {
		got, err := shm.Marshal(tt.in)
		if err != nil {
			t.Errorf("%s: Marshal: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.String()); diff != "" {
			t.Errorf("%s: Marshal mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	if _, err := shm.Marshal(math.NaN()); !errors.As(err, new(*json.UnsupportedValueError)) {
		t.Errorf("Marshal(NaN) error = %v, want a wrapped *json.UnsupportedValueError", err)
	}
	if _, err := shm.Marshal(func() {}); !errors.As(err, new(*json.UnsupportedTypeError)) {
		t.Errorf("Marshal(func) error = %v, want a wrapped *json.UnsupportedTypeError", err)
	}
}

func TestUnmarshalKeepsBigIntegers(t *testing.T) {
	const big30 = "123456789012345678901234567890"
	var n json.Number
	if err := shm.Value(big30).Unmarshal(&n); err != nil || n.String() != big30 {
		t.Errorf("Unmarshal into json.Number = %s, %v; want %s", n, err, big30)
	}
	var b big.Int
	if err := shm.Value(big30).Unmarshal(&b); err != nil || b.String() != big30 {
		t.Errorf("Unmarshal into big.Int = %s, %v; want %s", &b, err, big30)
	}
	var x any
	if err := shm.Value(`{"n":` + big30 + `,"s":[9007199254740993]}`).Unmarshal(&x); err != nil {
		t.Fatalf("Unmarshal into any: %v", err)
	}
	want := map[string]any{"n": json.Number(big30), "s": []any{json.Number("9007199254740993")}}
	if diff := cmp.Diff(want, x); diff != "" {
		t.Errorf("Unmarshal into any mismatch (-want +got):\n%s", diff)
	}
	if err := shm.Value(`{"a":`).Unmarshal(&x); err == nil {
		t.Errorf("Unmarshal of truncated JSON succeeded")
	}
}

func TestMarshalUnmarshalRoundTrip(t *testing.T) {
	type rec struct {
		ID   json.Number `json:"id"`
		Name string      `json:"name"`
		Tags []string    `json:"tags"`
		Data []byte      `json:"data"`
	}
	in := rec{ID: "98765432109876543210", Name: "ünï", Tags: []string{"", "0"}, Data: []byte{0, 1, 255}}
	v, err := shm.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var got rec
	if err := v.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1", "1", true},
		{"1", "1.0", false},
		{`"a"`, `"a"`, true},
		{`"a"`, `"\u0061"`, false}, // text comparison, as cas does
		{"null", "null", true},
		{"null", "false", false},
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := shm.Value(tt.a).Equal(shm.Value(tt.b)); got != tt.want {
			t.Errorf("Value(%s).Equal(%s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseValueCompacts(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"1", "1"},
		{" 1 ", "1"},
		{"\t\r\n-0\n", "-0"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"1.5e+300", "1.5e+300"},
		{"1E-2", "1E-2"},
		{`""`, `""`},
		{`" a  b "`, `" a  b "`},
		{`"\u0041\n\/"`, `"\u0041\n\/"`},
		{`"\ud800"`, `"\ud800"`}, // a lone surrogate is valid JSON text in a value
		{"[ 1 , 2 ]", "[1,2]"},
		{"[ ]", "[]"},
		{"{ }", "{}"},
		{"{ \"a\" : [ true , false , null ] ,\n \"b\" : { \"c\" : \" x \" } }", `{"a":[true,false,null],"b":{"c":" x "}}`},
		{`{"$binary":"AAEC"}`, `{"$binary":"AAEC"}`},
		{"\"h\u00e9llo 😀\"", "\"h\u00e9llo 😀\""},
		{strings.Repeat("[", 256) + strings.Repeat("]", 256), strings.Repeat("[", 256) + strings.Repeat("]", 256)},
	}
	for _, tt := range tests {
		got, err := shm.ParseValue([]byte(tt.in))
		if err != nil {
			t.Errorf("ParseValue(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.String()); diff != "" {
			t.Errorf("ParseValue(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseValueRejects(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "unexpected end"},
		{"blank", "  ", "unexpected end"},
		{"two values", "1 2", "trailing data"},
		{"leading zero", "01", "trailing data"},
		{"bare minus", "-", "invalid number"},
		{"plus", "+1", "invalid character"},
		{"dot first", ".5", "invalid character"},
		{"dot last", "1.", "decimal point"},
		{"bare exponent", "1e", "exponent"},
		{"NaN", "NaN", "invalid character"},
		{"Infinity", "Infinity", "invalid character"},
		{"short literal", "nul", "invalid literal"},
		{"capital literal", "True", "invalid character"},
		{"trailing comma array", "[1,]", "invalid character"},
		{"trailing comma object", `{"a":1,}`, "member name"},
		{"missing colon", `{"a" 1}`, "':'"},
		{"missing comma", "[1 2]", "want ','"},
		{"unquoted name", "{a:1}", "member name"},
		{"single quotes", "'a'", "invalid character"},
		{"unterminated string", `"abc`, "unterminated string"},
		{"unterminated array", "[1", "want ','"},
		{"bad escape", `"\x"`, "invalid escape"},
		{"short unicode escape", `"\u12"`, `\u escape`},
		{"non-hex unicode escape", `"\u12g4"`, `\u escape`},
		{"raw newline", "\"a\nb\"", "control character"},
		{"raw tab", "\"a\tb\"", "control character"},
		{"raw NUL", "\"\x00\"", "control character"},
		{"invalid UTF-8", "\"\xff\"", "invalid UTF-8"},
		{"UTF-8 surrogate", "\"\xed\xa0\x80\"", "invalid UTF-8"},
		{"truncated UTF-8", "\"\xe4\xb8\"", "invalid UTF-8"},
		{"too deep", strings.Repeat("[", 257) + strings.Repeat("]", 257), "nesting deeper than 256"},
		{"too deep objects", strings.Repeat(`{"a":`, 257) + "1" + strings.Repeat("}", 257), "nesting deeper than 256"},
		{"BOM", "\ufeff1", "invalid character"},
	}
	for _, tt := range tests {
		got, err := shm.ParseValue([]byte(tt.in))
		if err == nil {
			t.Errorf("%s: ParseValue(%q) = %s, nil; want an error", tt.name, tt.in, got)
			continue
		}
		if !errors.Is(err, shm.ErrBadRequest) || !shm.IsDefinite(err) {
			t.Errorf("%s: ParseValue(%q) error %v, want a definite bad_request", tt.name, tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: ParseValue(%q) error %q, want it to mention %q", tt.name, tt.in, err, tt.msg)
		}
	}
}
