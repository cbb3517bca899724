package edn

import (
	"strings"
	"testing"
)

// show writes v back as a short text that says its kinds.
func show(v *Value) string {
	var b strings.Builder
	if v.Tag != "" {
		b.WriteString("#" + v.Tag + " ")
	}
	switch v.Kind {
	case Nil:
		b.WriteString("nil")
	case Bool:
		if v.Bool {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Int:
		b.WriteString("i" + v.Text)
	case Float:
		b.WriteString("f" + v.Text)
	case String:
		b.WriteString("s" + v.Text)
	case Keyword:
		b.WriteString(":" + v.Text)
	case Symbol:
		b.WriteString("y" + v.Text)
	case Char:
		b.WriteString("c" + v.Text)
	default:
		b.WriteString(map[Kind]string{Vector: "[", List: "(", Set: "#{", Map: "{"}[v.Kind])
		for i := range v.Items {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(show(&v.Items[i]))
		}
		b.WriteString(map[Kind]string{Vector: "]", List: ")", Set: "}", Map: "}"}[v.Kind])
	}
	return b.String()
}

func TestNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{:a 1, :b [nil true false]}`, `{:a i1 :b [nil true false]}`},
		{`-7N +3 1.5M 2e3 1/2`, `i-7|i3|f1.5|f2e3|f1/2`},
		{`"a\n\"\u00e9" \x \newline \u0041`, "sa\n\"é|cx|c\n|cA"},
		{`#{1} (a b) #inst "2020" #_ 9 x`, `#{i1}|(ya yb)|#inst s2020|yx`},
		{"; comment\n:k/w ,,, #_#_ 1 2 3", `:k/w|i3`},
		{`#jepsen.history.Op{:type :ok}`, `#jepsen.history.Op {:type :ok}`},
	} {
		r := NewReader([]byte(tc.in), 1)
		var got []string
		for {
			v, err := r.Next()
			if err == ErrEnd {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.in, err)
			}
			got = append(got, show(&v))
		}
		if g := strings.Join(got, "|"); g != tc.want {
			t.Errorf("%s: got %s; want %s", tc.in, g, tc.want)
		}
	}
}

func TestNextErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"[1 2", "1:1: a vector begun here is not closed"},
		{"\n  {:a}", "2:3: a map with a key but no value"},
		{`"abc`, `1:1: the string begun here is not closed`},
		{`"\q"`, `1:1: a bad escape \q in a string`},
		{")", `1:1: ')' closes nothing`},
		{"#_", "1:3: the text ends after #_"},
		{"# x", "1:1: a # that begins no set nor tagged value"},
		{`\bogus`, `1:1: a bad character \bogus`},
		{"1.2.3", `1:1: "1.2.3" is not an EDN value`},
		{strings.Repeat("[", 2000), "1:1002: values nested deeper than 1000"},
		{strings.Repeat("#_", 100000), "1:200001: the text ends after #_"},
	} {
		_, err := NewReader([]byte(tc.in), 1).Next()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%.20q: error %v; want %s", tc.in, err, tc.want)
		}
	}
}

func TestPlaces(t *testing.T) {
	r := NewReader([]byte("{:a 1}\n  {:b\n [2]}"), 5)
	r.Next()
	v, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	x, _ := v.Get("b")
	if v.Line != 6 || v.Col != 3 || x.Line != 7 || x.Col != 2 || string(x.Src) != "[2]" {
		t.Errorf("map at %d:%d, its [2] at %d:%d (%s); want 6:3, 7:2", v.Line, v.Col, x.Line, x.Col, x.Src)
	}
}
