package pretty

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestPrettyLayout(t *testing.T) {
	in := `{"b":[1,2,3],"a":{"x":"y","e":{}},"c":[],"d":[{"k":1}]}`
	want := `{
  "b": [1, 2, 3],
  "a": {
    "x": "y",
    "e": {}
  },
  "c": [],
  "d": [
    {
      "k": 1
    }
  ]
}
`
	if got := string(Pretty([]byte(in))); got != want {
		t.Fatalf("Pretty:\n%s\nwant:\n%s", got, want)
	}
	sorted := string(PrettyOptions([]byte(`{"b":1,"\u0061":2,"c":[1,2]}`), &Options{Width: 4, Prefix: "> ", Indent: "\t", SortKeys: true}))
	wantSorted := "> {\n> \t\"\\u0061\": 2,\n> \t\"b\": 1,\n> \t\"c\": [\n> \t\t1,\n> \t\t2\n> \t]\n> }\n"
	if sorted != wantSorted {
		t.Fatalf("PrettyOptions:\n%q\nwant:\n%q", sorted, wantSorted)
	}
	if got := string(Ugly([]byte(" { \"a b\" : [ 1 , \"x \\\" y\" ] }\n"))); got != `{"a b":[1,"x \" y"]}` {
		t.Fatalf("Ugly: %q", got)
	}
}

// FuzzPretty: for JSON, Pretty writes JSON with the same values (the same
// compact form when keys keep their order) and Ugly writes the compact
// form; for anything else neither panics.
func FuzzPretty(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00"}`, `[]`, `"x"`, ` 1 `, `{"b":1,"a":2,"a":3}`, `[[[[]]]]`, `{"a`, `]`, `{1:2}`, `["\\",true,false]`} {
		f.Add([]byte(s), false, 80)
		f.Add([]byte(s), true, 0)
	}
	f.Fuzz(func(t *testing.T, in []byte, sortKeys bool, width int) {
		out := PrettyOptions(in, &Options{Width: width, Indent: " ", SortKeys: sortKeys})
		ugly := Ugly(in)
		if !json.Valid(in) {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q: Pretty wrote %q, not JSON", in, out)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, in); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ugly, compact.Bytes()) {
			t.Fatalf("%q: Ugly %q, want %q", in, ugly, compact.Bytes())
		}
		if !sortKeys {
			if got := Ugly(out); !bytes.Equal(got, compact.Bytes()) {
				t.Fatalf("%q: Pretty's compact form %q, want %q", in, got, compact.Bytes())
			}
			return
		}
		if a, b := decodeAny(in), decodeAny(out); !reflect.DeepEqual(a, b) {
			t.Fatalf("%q: Pretty with sorted keys wrote %q, another value", in, out)
		}
	})
}

// decodeAny decodes JSON with its numbers as written.
func decodeAny(b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return err.Error()
	}
	return v
}
