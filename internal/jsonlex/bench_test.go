package jsonlex

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchTexts are what the lexer reads for its callers: a wire request, a
// history line, an object value, a 64 KiB string value, and a key with
// escapes to decode.
var benchTexts = []struct{ name, text string }{
	{"request", `{"isSharedMemoryMessage":true,"method":"set","id":2,"inc":2,"uuid":1234567,"ack":1234500,"key":"bench-002-0026","value":"vvvvvvvvvvvvvv"}`},
	{"history-line", `{"type":"op","id":1234,"worker":"w3","stream":0,"method":"cas","key":"k7","input":{"old":9007199254741079,"value":"v1234"},"output":{"value":"OK"},"call":1234567,"return":1234890,"status":"ok"}`},
	{"object-value", `{"id":17,"name":"caf\u00e9 \"17\"","tags":["a","b\n",null,true],"score":-12.5e3,"nested":{"x":[1,2,3],"y":{}}}`},
	{"64KiB-string", `"` + strings.Repeat("abcdefghijklmnopqrstuvwxyz", 64<<10/26) + `"`},
}

// BenchmarkValid validates each text whole, as the codec and the reader
// do with a value: the lexer as the history reader uses it, and with
// duplicate names refused as the wire does ("unique"), against
// encoding/json's Valid, which does less (it checks neither UTF-8 nor
// duplicates).
func BenchmarkValid(b *testing.B) {
	for _, bt := range benchTexts {
		text := []byte(bt.text)
		for _, unique := range []bool{false, true} {
			name := bt.name + "/jsonlex"
			if unique {
				name += "-unique"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					l := Lexer{B: text, MaxDepth: 256, Unique: unique}
					if l.Value() != OK || l.I != len(text) {
						b.Fatal("refused")
					}
				}
			})
		}
		b.Run(bt.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if !json.Valid(text) {
					b.Fatal("refused")
				}
			}
		})
	}
}

// BenchmarkUnquote decodes a key with escapes into a reused buffer, as
// the codec and the reader do, against json.Unmarshal into a string.
func BenchmarkUnquote(b *testing.B) {
	text := []byte(`"k\u00e9y-\ud83d\ude00-\"quoted\"-0026"`)
	b.Run("jsonlex", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			end, esc, c := String(text, 0)
			if c != OK || !esc || end != len(text) {
				b.Fatal("refused")
			}
			buf, _, c = Unquote(buf[:0], text[1:end-1])
			if c != OK {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		var s string
		for b.Loop() {
			if err := json.Unmarshal(text, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
