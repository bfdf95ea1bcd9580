package flow

import (
	"strings"
	"testing"
)

func TestDeriveEndpoints(t *testing.T) {
	tests := []struct {
		base, oauth, api, err string
	}{
		{"", "https://github.com", "https://api.github.com", ""},
		{"https://github.com/", "https://github.com", "https://api.github.com", ""},
		{"https://api.github.com", "https://github.com", "https://api.github.com", ""},
		{"https://GHE.example.com", "https://ghe.example.com", "https://ghe.example.com/api/v3", ""},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com", "https://ghe.example.com/api/v3", ""},
		{"https://api.acme.ghe.com", "https://acme.ghe.com", "https://api.acme.ghe.com", ""},
		{"https://acme.ghe.com/", "https://acme.ghe.com", "https://api.acme.ghe.com", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v3", ""},
		{"http://localhost:1", "http://localhost:1", "http://localhost:1/api/v3", ""},
		{"http://[::1]:9", "http://[::1]:9", "http://[::1]:9/api/v3", ""},
		{"http://ghe.example.com", "", "", "baseUrl: http is allowed only for loopback"},
		{"ftp://github.com", "", "", "baseUrl: scheme"},
		{"github.com", "", "", "baseUrl: not an absolute URL"},
		{"https://ghe.example.com/other", "", "", "baseUrl: unexpected path"},
		{"https://user:pw@ghe.example.com", "", "", "baseUrl: must not carry credentials"},
	}
	for _, tt := range tests {
		ep, err := DeriveEndpoints(tt.base)
		if tt.err != "" {
			if err == nil || err.Code != CodeInvalidInput || !strings.Contains(err.Message, tt.err) {
				t.Errorf("%q: error %v, want invalid_input containing %q", tt.base, err, tt.err)
			}
			continue
		}
		if err != nil || ep.Base != tt.oauth || ep.API != tt.api {
			t.Errorf("%q: got %+v, %v; want %s and %s", tt.base, ep, err, tt.oauth, tt.api)
		}
	}
}

func TestNormalizeScopes(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"repo, read:org"}, "read:org repo"},
		{[]string{"repo", "repo", " gist\tuser "}, "gist repo user"},
		{[]string{",,, ,"}, ""},
		{[]string{"b,a", "c a"}, "a b c"},
	}
	for _, tt := range tests {
		if got := strings.Join(NormalizeScopes(tt.in), " "); got != tt.want {
			t.Errorf("NormalizeScopes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConfigureNamesTheField(t *testing.T) {
	tests := []struct{ input, field string }{
		{`{}`, "clientId"},
		{`{"clientId":"  "}`, "clientId"},
		{`{"clientId":"a b"}`, "clientId"},
		{`{"clientId":"x","clientType":"app"}`, "clientType"},
		{`{"clientId":"x","scopes":5}`, "scopes"},
		{`{"clientId":"x","encoding":"xml"}`, "encoding"},
		{`{"clientId":"x","baseUrl":"http://example.com"}`, "baseUrl"},
	}
	for _, tt := range tests {
		in, err := ParseInput([]byte(tt.input))
		if err == nil {
			_, err = in.Configure()
		}
		if err == nil || err.Code != CodeInvalidInput || !strings.Contains(err.Message, tt.field+":") {
			t.Errorf("%s: error %v, want invalid_input naming %s", tt.input, err, tt.field)
		}
	}
	for _, bad := range []string{``, `nope`, `[1]`, `{"clientId":`} {
		if _, err := ParseInput([]byte(bad)); err == nil || err.Code != CodeInvalidInput {
			t.Errorf("%q: error %v, want invalid_input", bad, err)
		}
	}
}

func TestCacheKeyIgnoresScopeOrderAndGitHubAppScopes(t *testing.T) {
	key := func(input string) string {
		in, _ := ParseInput([]byte(input))
		c, err := in.Configure()
		if err != nil {
			t.Fatal(err)
		}
		return c.CacheKey()
	}
	a := key(`{"clientId":"x","scopes":"repo,gist"}`)
	b := key(`{"clientId":"x","scopes":["gist","repo","repo"]}`)
	if a != b || a != "deviceflow:v1:https://github.com|oauth-app|x|gist,repo" {
		t.Errorf("keys %q and %q", a, b)
	}
	if k := key(`{"clientId":"x","clientType":"github-app","scopes":"repo"}`); k != "deviceflow:v1:https://github.com|github-app|x|" {
		t.Errorf("GitHub App key %q", k)
	}
	if key(`{"clientId":"x","baseUrl":"https://ghe.example.com/api/v3"}`) != key(`{"clientId":"x","baseUrl":"https://ghe.example.com"}`) {
		t.Error("GHES keys differ by /api/v3")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"token gho_16C7e42F292c6912E7710c838347Ae178B4a here", "token [redacted] here"},
		{"ghr_abcd1234,ghu_xyz12345", "[redacted],[redacted]"},
		{"github_pat_11ABCDEFG_abcdef", "[redacted]"},
		{"my_gho_abcdef", "my_gho_abcdef"},
		{"gho_ab", "gho_ab"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOAuthErrorMessage(t *testing.T) {
	e := oauthError(fields{{"error", "some_error"}, {"error_description", "Something went wrong"}, {"error_uri", "https://docs.example/e"}}, 200)
	if e.Code != CodeOAuthError || e.Message != "Something went wrong (some_error, https://docs.example/e)" {
		t.Errorf("got %s %q", e.Code, e.Message)
	}
	e = oauthError(fields{{"error", "device_flow_disabled"}, {"error_description", "Device Flow must be explicitly enabled for this App"}}, 400)
	if e.Code != CodeUnsupported || !strings.Contains(e.Message, "Enable Device Flow") || e.Status != 400 {
		t.Errorf("got %s %q", e.Code, e.Message)
	}
}

func TestWithoutCredentials(t *testing.T) {
	in, _ := ParseInput([]byte(`{"clientId":"x","baseUrl":"https://ghe.example.com"}`))
	c, _ := in.Configure()
	tests := []struct {
		url  string
		skip bool
	}{
		{"/user", false},
		{"https://ghe.example.com/api/v3/user", false},
		{"https://ghe.example.com/login/device/code", true},
		{"/login/oauth/access_token", true},
		{"https://evil.example/collect", true},
		{"https://ghe.example.com.evil.example/api/v3/user", true},
		{"http://ghe.example.com/api/v3/user", true},
		// WHATWG URL parsing (browsers, Node, octokit) reads these as
		// absolute URLs to another host, or as doubtful ones.
		{"https:evil.example/x", true},
		{"https:/evil.example/x", true},
		{"http:evil.example/x", true},
		{`https:\\evil.example/x`, true},
		{"https:///evil.example/x", true},
		{`\\evil.example\x`, true},
		{`/\evil.example/x`, true},
		{"//evil.example/x", true},
		{" \t//evil.example/x", true},
		{"/\t/evil.example/x", true},
		{"javascript:alert(1)", true},
		{"file:///etc/passwd", true},
		{"HTTPS://EVIL.EXAMPLE/x", true},
		{"https://ghe.example.com@evil.example/x", true},
		{"https://ghe.example.com:443@evil.example/x", true},
		{"https://evil%2Eexample/x", true},
		{"https://ghe.example.com./api/v3/user", true},
		{"https://ghe.example.com:99999/api/v3/user", true},
		// And these still reach the configured GitHub.
		{"HTTPS://GHE.EXAMPLE.COM/api/v3/user", false},
		{"https://ghe.example.com:443/api/v3/user", false},
		{"https:ghe.example.com/api/v3/user", false},
		{"https:\\ghe.example.com/api/v3/user", false},
		{"https:\\ghe.example.com\\api/v3/user", true},
		{`https://ghe.example.com\@evil.example/x`, true},
		{"https://ghe.example.com\\login\\device\\code", true},
		{"user/repos", false},
		{"/user?per_page=1", false},
	}
	for _, tt := range tests {
		skip, err := withoutCredentials(c, tt.url)
		if err != nil || skip != tt.skip {
			t.Errorf("%s: skip %v (%v), want %v", tt.url, skip, err, tt.skip)
		}
	}
}

// TestIsBlank: isBlank agrees with strings.TrimSpace.
func TestIsBlank(t *testing.T) {
	for _, s := range []string{"", " ", " \t\r\n\v\f", "\u0085", "\u00a0 ", " {}", "x", " \xff", "\u2028", "\u3000x", " \u200b"} {
		if got, want := isBlank([]byte(s)), strings.TrimSpace(s) == ""; got != want {
			t.Errorf("isBlank(%q) = %v, want %v", s, got, want)
		}
	}
	for c := range 256 {
		s := " " + string([]byte{byte(c)}) + "\t"
		if got, want := isBlank([]byte(s)), strings.TrimSpace(s) == ""; got != want {
			t.Errorf("isBlank(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFieldsRepeated: a name given twice has its last value, as a map
// filled in order had, and null leaves a value as it was.
func TestFieldsRepeated(t *testing.T) {
	f, ok := parseJSONFields(`{"error":"a","interval":5,"error":"b","error_uri":"x","error_uri":null,"interval":7.5}`)
	if !ok || f.str("error") != "b" || f.str("error_uri") != "x" || f.str("interval") != "7.5" || f.has("scope") || !f.has("error_uri") {
		t.Errorf("fields %v, ok %v", f, ok)
	}
	if names, _ := ParseFields("application/json", `{"b":1,"a":2,"b":3}`); strings.Join(names, ",") != "a,b" {
		t.Errorf("names %v, want a,b", names)
	}
}
