package jsonlex

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLexer holds the lexer to encoding/json on any text: a whole value
// is accepted exactly when json.Valid accepts it (on valid UTF-8, which
// encoding/json does not check), with the same compact form; a string is
// decoded as json.Unmarshal decodes it, except that a lone surrogate is
// refused (where encoding/json puts U+FFFD); a refusal's offset is inside
// the text; Unique refuses only what it must.
func FuzzLexer(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\n",true,null],"b":{}}`, `"\ud83d\ude00 é"`, `"\ud800"`, `{"a":1,"\u0061":2}`,
		` [ 0 , 1e+2 ] `, `01`, `"\u12"`, "\"\xff\"", `{"a" 1}`, `[1,]`, `nul`, `-`, `1.`, `1e`, strings.Repeat("[", 300)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		l := Lexer{B: text, MaxDepth: 10000}
		l.WS()
		c := l.Value()
		l.WS()
		ok := c == OK && l.I == len(text)
		if l.I < 0 || l.I > len(text) {
			t.Fatalf("%q: offset %d outside the text", text, l.I)
		}
		if utf8.Valid(text) && ok != json.Valid(text) {
			t.Fatalf("%q: lexer %v (code %d at %d), encoding/json %v", text, ok, c, l.I, json.Valid(text))
		}
		if !ok {
			return
		}
		if !json.Valid(text) {
			t.Fatalf("%q: the lexer accepts what encoding/json refuses", text)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, text); err != nil {
			t.Fatal(err)
		}
		if got := Compact(nil, bytes.TrimSpace(text)); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%q: Compact gives %q, encoding/json %q", text, got, want.Bytes())
		}
		u := Lexer{B: text, MaxDepth: 10000, Unique: true}
		u.WS()
		if uc := u.Value(); uc != OK && uc != Duplicate {
			t.Fatalf("%q: with Unique, code %d, not OK or Duplicate", text, uc)
		}
		checkString(t, bytes.TrimSpace(text))
	})
}

// checkString compares Unquote with json.Unmarshal if text is a string.
func checkString(t *testing.T, text []byte) {
	if len(text) == 0 || text[0] != '"' {
		return
	}
	var want string
	if err := json.Unmarshal(text, &want); err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	got, at, c := Unquote(nil, text[1:len(text)-1])
	switch {
	case c == LoneSurrogate:
		if r := Surrogate(text[1+at:]); r < 0xd800 || r > 0xdfff || !strings.ContainsRune(want, utf8.RuneError) {
			t.Fatalf("%q: lone surrogate %#x at %d, encoding/json decodes %q", text, r, at, want)
		}
	case c != OK:
		t.Fatalf("%q: Unquote code %d", text, c)
	case string(got) != want:
		t.Fatalf("%q: Unquote gives %q, encoding/json %q", text, got, want)
	}
}
