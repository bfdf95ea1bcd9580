package flow

import (
	"encoding/json"
	"strings"
	"testing"
)

func configure(t *testing.T, raw string) (*Config, *Error) {
	t.Helper()
	in, err := ParseInput([]byte(raw))
	if err != nil {
		t.Fatalf("ParseInput(%s): %v", raw, err)
	}
	return in.Configure()
}

func TestOAuthURLSendsTheOAuthPOSTsToTheRelay(t *testing.T) {
	direct, err := configure(t, `{"clientId":"Iv1.x","clientType":"github-app"}`)
	if err != nil {
		t.Fatal(err)
	}
	c, err := configure(t, `{"clientId":"Iv1.x","clientType":"github-app","oauthUrl":"https://Relay.Example.com/gh/"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.DeviceCodeURL(); got != "https://relay.example.com/gh/login/device/code" {
		t.Errorf("DeviceCodeURL %s", got)
	}
	if got := c.TokenURL(); got != "https://relay.example.com/gh/login/oauth/access_token" {
		t.Errorf("TokenURL %s", got)
	}
	if c.UserURL() != "https://api.github.com/user" || c.Base != "https://github.com" {
		t.Errorf("the API and the web origin stay GitHub's: %+v", c.Endpoints)
	}
	if c.CacheKey() != direct.CacheKey() {
		t.Errorf("cache key %s, want %s (a relay does not change whose token it is)", c.CacheKey(), direct.CacheKey())
	}
	// The relay never gets credentials; the API does.
	for url, want := range map[string]bool{
		"https://relay.example.com/gh/user":                  true,
		"https://relay.example.com/gh/login/device/code":     true,
		"https://api.github.com/user":                        false,
		"https://github.com/login/oauth/access_token":        true,
		"http://127.0.0.1:8787/login/oauth/access_token":     true,
		"https://relay.example.com/gh/login/oauth/authorize": true,
	} {
		got, err := withoutCredentials(c, url)
		if err != nil || got != want {
			t.Errorf("withoutCredentials(%s) = %v %v, want %v", url, got, err, want)
		}
	}
	loop, err := configure(t, `{"clientId":"Ov23.x","baseUrl":"http://127.0.0.1:9000","oauthUrl":"http://localhost:8787"}`)
	if err != nil || loop.DeviceCodeURL() != "http://localhost:8787/login/device/code" || loop.UserURL() != "http://127.0.0.1:9000/api/v3/user" {
		t.Errorf("loopback relay: %+v %v", loop, err)
	}
}

func TestOAuthURLRefusals(t *testing.T) {
	for _, bad := range []string{
		"relay.example.com", "ftp://relay.example.com", "http://relay.example.com",
		"https://user:pw@relay.example.com", "https://relay.example.com/?q=1", "https://relay.example.com/#f",
		"https://relay.example.com:99999", "https://relay.example.com/a%2Fb", "https://relay.example.com/\x00",
	} {
		raw, _ := json.Marshal(map[string]string{"clientId": "Ov23.x", "oauthUrl": bad})
		_, err := configure(t, string(raw))
		if err == nil || err.Code != CodeInvalidInput || !strings.Contains(err.Message, "oauthUrl") {
			t.Errorf("oauthUrl %q: %v, want invalid_input naming oauthUrl", bad, err)
		}
	}
	if c, err := configure(t, `{"clientId":"Ov23.x","oauthUrl":"  "}`); err != nil || c.OAuth != "" {
		t.Errorf("blank oauthUrl: %+v %v", c, err)
	}
}

func TestInfoNamesTheRelay(t *testing.T) {
	var out struct {
		Endpoints      Endpoints `json:"endpoints"`
		EndpointsError *Error    `json:"endpointsError"`
	}
	if err := json.Unmarshal(Info([]byte(`{"oauthUrl":"https://relay.example.com"}`)), &out); err != nil {
		t.Fatal(err)
	}
	want := Endpoints{Base: "https://github.com", API: "https://api.github.com", OAuth: "https://relay.example.com"}
	if out.Endpoints != want {
		t.Errorf("endpoints %+v, want %+v", out.Endpoints, want)
	}
	out.Endpoints = Endpoints{}
	if err := json.Unmarshal(Info([]byte(`{"oauthUrl":"http://relay.example.com"}`)), &out); err != nil {
		t.Fatal(err)
	}
	if out.EndpointsError == nil || !strings.Contains(out.EndpointsError.Message, "oauthUrl") {
		t.Errorf("endpointsError %+v", out.EndpointsError)
	}
}
