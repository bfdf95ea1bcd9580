package flow

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// The Go host's halves of the records, held to encoding/json, which the
// host used before.

// FuzzParseRequestAsEncodingJSON: ParseRequest reads what encoding/json
// reads into a Request, and fails where it fails.
func FuzzParseRequestAsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"method":"POST","url":"https://github.com/login/oauth/access_token","headers":{"accept":"application/json","user-agent":"deviceflow/0.1.0"},"body":"{\"a\":\"b\"}","timeoutMs":30000}`,
		`{"METHOD":"GET","Url":"u","headers":null}`, `{"headers":{"a":null,"a":"b"}}`, `{"headers":{"a":1}}`, `{"headers":[]}`,
		`{"timeoutMs":1.5}`, `{"timeoutMs":1e3}`, `{"timeoutMs":-7}`, `{"body":null,"body":"x"}`, `{"url":"\ud800"}`, `[]`, `null`, `nope`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want Request
		werr := json.Unmarshal([]byte(s), &want)
		got, ok := ParseRequest([]byte(s))
		if ok != (werr == nil) {
			t.Fatalf("%q: ParseRequest ok %v, encoding/json error %v", s, ok, werr)
		}
		if ok && !reflect.DeepEqual(*got, want) {
			t.Fatalf("%q: got %+v, want %+v", s, *got, want)
		}
	})
}

// FuzzAppendResponseAsEncodingJSON: AppendResponse writes byte for byte
// what encoding/json writes for a Response.
func FuzzAppendResponseAsEncodingJSON(f *testing.F) {
	f.Add(200, "content-type", "application/json; charset=utf-8", `{"error":"authorization_pending"}`, "", "", uint8(1))
	f.Add(0, "", "", "", "network", "the connection <failed> & \u2028", uint8(2))
	f.Add(-1, "B", "\xff", "\x00", "", "", uint8(3))
	f.Fuzz(func(t *testing.T, status int, key, val, body, kind, msg string, shape uint8) {
		r := &Response{Status: status, Body: body}
		switch shape % 4 {
		case 1:
			r.Headers = map[string]string{key: val, "date": val + "x", "a" + key: ""}
		case 2:
			r.Headers = map[string]string{}
		case 3:
			r.Headers = map[string]string{key: val}
		}
		if shape&4 != 0 || kind != "" {
			r.Error = &HTTPError{Kind: kind, Message: msg}
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendResponse([]byte("x"), r); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("%+v: got %s, want %s", r, got, want)
		}
	})
}

// FuzzEventTypeAsEncodingJSON: EventType reads the type encoding/json
// reads into a struct with only that field.
func FuzzEventTypeAsEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"attempt":1,"interval":5,"remainingMs":899000,"type":"polling"}`, `{"type":"endpoints","Type":"x"}`, `{"TYPE":"a"}`, `{"type":5}`, `{"type":null}`, `{"type":"a","type":7}`, `[]`, `null`, `{`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var head struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal([]byte(s), &head)
		if got := EventType([]byte(s)); got != head.Type {
			t.Fatalf("%q: EventType %q, encoding/json %q", s, got, head.Type)
		}
	})
}
