package scheduler

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestPollInputAsEncodingJSON: the input poll gets is what encoding/json
// wrote before (the client config's members, then the state).
func TestPollInputAsEncodingJSON(t *testing.T) {
	state := json.RawMessage(`{"v":1,"deviceCode":"3584d835","intervalMs":5000,"verification":{"user_code":"WDJB-MJHT"}}`)
	for _, c := range []ClientConfig{
		{ClientID: "Ov23li\"<x>\u2028"},
		{ClientID: "Iv1.abc", ClientType: "github-app", BaseURL: "https://ghe.example.com"},
		{ClientID: "Ov23li", Scopes: []string{"repo", "read:org"}},
	} {
		client, _ := json.Marshal(c)
		for _, st := range []json.RawMessage{state, nil} {
			want, _ := json.Marshal(struct {
				ClientConfig
				State json.RawMessage `json:"state,omitempty"`
			}{c, st})
			if got := pollInput(client, st); string(got) != string(want) {
				t.Errorf("pollInput = %s, want %s", got, want)
			}
		}
	}
}

// TestParseStepAsEncodingJSON: begin's and poll's answers read as
// encoding/json read them; malformed ones and members of the wrong type
// are refused.
func TestParseStepAsEncodingJSON(t *testing.T) {
	for _, out := range []string{
		`{"status":"pending","state":{"v":1,"n":[1,2]},"nextPollAt":1764759953000,"expiresAt":1764760848000,"interval":5,"verification":{"user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":899}}`,
		`{"status":"pending","state":{"v":1},"nextPollAt":1764759953000,"interval":10.5}`,
		`{"status":"complete","authentication":{"type":"token","tokenType":"oauth","clientType":"oauth-app","clientId":"Ov23li","token":"gho_x","scopes":["repo"]}}`,
		`{"status":"complete","authentication":null,"extra":[1,{"a":"b"}]}`,
		`{}`,
	} {
		var want stepAnswer
		if err := json.Unmarshal([]byte(out), &want); err != nil {
			t.Fatal(err)
		}
		got, ok := parseStep([]byte(out))
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("parseStep(%s) = %+v, %v; want %+v", out, got, ok, want)
		}
	}
	for _, out := range []string{
		``, `nope`, `[]`, `"pending"`, `{"status":"pending"`, `{"status":5}`, `{"nextPollAt":1.5}`, `{"nextPollAt":"1"}`,
		`{"interval":"5"}`, `{"authentication":{"token":5}}`, `{"authentication":[]}`, `{"nextPollAt":99999999999999999999}`,
	} {
		if a, ok := parseStep([]byte(out)); ok {
			t.Errorf("parseStep(%s) accepted: %+v", out, a)
		}
		var a stepAnswer
		if json.Unmarshal([]byte(out), &a) == nil {
			t.Errorf("encoding/json accepts %s: the case does not belong here", out)
		}
	}
}

// BenchmarkPollInputAndAnswer is the scheduler's own JSON work per poll.
func BenchmarkPollInputAndAnswer(b *testing.B) {
	c := ClientConfig{ClientID: "Ov23liBench", Scopes: []string{"repo"}, BaseURL: "http://127.0.0.1:8080"}
	state := json.RawMessage(`{"v":2,"op":"authenticate","deviceCode":"3584d83530557fdd1f46af8289938c8ef79f9dc5","userCode":"WDJB-MJHT","intervalMs":5000,"deadline":1764760848000,"nextPollAt":1764759953000,"failures":0,"verification":{"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":899,"interval":5}}`)
	out := []byte(`{"status":"pending","state":` + string(state) + `,"nextPollAt":1764759958000,"expiresAt":1764760848000,"interval":5}`)
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in, _ := json.Marshal(struct {
				ClientConfig
				State json.RawMessage `json:"state,omitempty"`
			}{c, state})
			var a stepAnswer
			_ = json.Unmarshal(out, &a)
			_ = in
		}
	})
	client, _ := json.Marshal(c)
	b.Run("scheduler", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = pollInput(client, state)
			_, _ = parseStep(out)
		}
	})
}
