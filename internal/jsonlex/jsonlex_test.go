package jsonlex

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValue: what Value accepts, and for what it refuses the code and the
// offset at fault.
func TestValue(t *testing.T) {
	type result struct {
		Code   Code
		At     int
		Spaced bool
	}
	for _, tt := range []struct {
		name, text string
		unique     bool
		want       result
	}{
		{"object", `{"a":[1,-2.5e3,"x\n",true,null],"b":{}}`, false, result{OK, 39, false}},
		{"spaced", `[ 1 ]`, false, result{OK, 5, true}},
		{"lone surrogate kept", `"\ud800"`, false, result{OK, 8, false}},
		{"end", ``, false, result{End, 0, false}},
		{"not a value", `}`, false, result{NotValue, 0, false}},
		{"bad literal", `nul`, false, result{BadLiteral, 0, false}},
		{"minus alone", `-x`, false, result{BadNumber, 1, false}},
		{"no fraction", `1.e`, false, result{NoFraction, 2, false}},
		{"no exponent", `1e+`, false, result{NoExponent, 3, false}},
		{"leading zero stops", `01`, false, result{OK, 1, false}},
		{"leading zero in array", `[01]`, false, result{NoComma, 2, false}},
		{"unterminated", `"abc`, false, result{Unterminated, 4, false}},
		{"control", "\"a\x01\"", false, result{Control, 2, false}},
		{"bad UTF-8", "\"a\xff\"", false, result{BadUTF8, 2, false}},
		{"bad escape", `"a\x"`, false, result{BadEscape, 2, false}},
		{"bad u escape", `"a\u12"`, false, result{BadUEscape, 2, false}},
		{"escaped quote then end", `"a\"`, false, result{Unterminated, 4, false}},
		{"long string with escapes", `"` + strings.Repeat(`ab\"\n`, 40) + `"`, false, result{OK, 242, false}},
		{"too deep", strings.Repeat("[", 4) + strings.Repeat("]", 4), false, result{TooDeep, 3, false}},
		{"deep enough", strings.Repeat("[", 3) + strings.Repeat("]", 3), false, result{OK, 6, false}},
		{"duplicate", `{"a":1,"\u0061":2}`, true, result{Duplicate, 16, false}},
		{"duplicate allowed", `{"a":1,"a":2}`, false, result{OK, 13, false}},
		{"lone surrogates named twice", `{"\ud800":1,"\uD800":2}`, true, result{Duplicate, 21, false}},
		{"no name", `{1:2}`, false, result{NoName, 1, false}},
		{"trailing comma", `{"a":1,}`, false, result{NoName, 7, false}},
		{"no colon", `{"a" 1}`, false, result{NoColon, 5, true}},
		{"no comma", `[1 2]`, false, result{NoComma, 3, true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := Lexer{B: []byte(tt.text), MaxDepth: 3, Unique: tt.unique}
			c := l.Value()
			if diff := cmp.Diff(tt.want, result{c, l.I, l.Spaced}); diff != "" {
				t.Errorf("Value(%s) mismatch (-want +got):\n%s", tt.text, diff)
			}
			if c == Duplicate && (l.Dup >= len(tt.text) || tt.text[l.Dup] != '"' || l.Dup < strings.LastIndex(tt.text[:l.I], ",")) {
				t.Errorf("Value(%s): Dup at %d, not the second name's quote", tt.text, l.Dup)
			}
		})
	}
}

// TestUnquote: escapes decoded, pairs joined, a lone surrogate refused
// at its offset; MemberName keeps it, as itself.
func TestUnquote(t *testing.T) {
	for _, tt := range []struct {
		content, want string
		at            int
		code          Code
	}{
		{`plain`, "plain", 0, OK},
		{`a\n\t\"\\\/\b\f\r`, "a\n\t\"\\/\b\f\r", 0, OK},
		{`caf\u00e9 \ud83d\ude00`, "café 😀", 0, OK},
		{`x\ud800`, "x", 1, LoneSurrogate},
		{`\udc00\ud800`, "", 0, LoneSurrogate},
		{`ok \ud83d\u0041`, "ok ", 3, LoneSurrogate},
	} {
		got, at, c := Unquote(nil, []byte(tt.content))
		if string(got) != tt.want || at != tt.at || c != tt.code {
			t.Errorf("Unquote(%s) = %q, %d, %d; want %q, %d, %d", tt.content, got, at, c, tt.want, tt.at, tt.code)
		}
	}
	if got, want := string(MemberName([]byte(`a\ud800b`), true)), "a\xed\xa0\x80b"; got != want {
		t.Errorf("MemberName kept %q, want %q", got, want)
	}
	if r := Surrogate([]byte(`\uD800`)); r != 0xd800 {
		t.Errorf("Surrogate = %#x, want 0xd800", r)
	}
}

// TestCompact: white space between tokens goes, strings stay as written.
func TestCompact(t *testing.T) {
	text := "{ \"a b\" : [ 1 ,\t\"\\\" x \" ] ,\n\"c\":null }"
	if got, want := string(Compact(nil, []byte(text))), `{"a b":[1,"\" x "],"c":null}`; got != want {
		t.Errorf("Compact = %s, want %s", got, want)
	}
}
