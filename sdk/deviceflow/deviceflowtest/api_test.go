package deviceflowtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestUserAPI(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{
		Now: clock.Now,
		Clients: []deviceflowtest.Client{
			{ID: "Ov23.a", Login: "hubot", UserID: 99},
			{ID: "Iv1.b", Type: deviceflowtest.GitHubApp},
		},
	})
	oauth := approvedFlow(t, s, clock, "Ov23.a", "repo read:org").get("access_token")
	app := approvedFlow(t, s, clock, "Iv1.b", "").get("access_token")
	revoked := approvedFlow(t, s, clock, "Ov23.a", "gist").get("access_token")
	if !s.Revoke(revoked) || s.Revoke("gho_never_issued") {
		t.Fatal("Revoke reports wrongly")
	}

	tests := []struct {
		name, host, path, auth string
		status                 int
		login, scopes, message string
	}{
		{"GHES path, token scheme", "", "/api/v3/user", "token " + oauth, 200, "hubot", "read:org, repo", ""},
		{"GHES path, Bearer scheme", "", "/api/v3/user", "Bearer " + oauth, 200, "hubot", "read:org, repo", ""},
		{"api host", "api.github.com", "/user", "token " + oauth, 200, "hubot", "read:org, repo", ""},
		{"api host with port, bearer lower case", "api.localhost:1234", "/user", "bearer " + oauth, 200, "hubot", "read:org, repo", ""},
		{"GitHub App token", "", "/api/v3/user", "token " + app, 200, "octocat", "", ""},
		{"no credentials", "", "/api/v3/user", "", 401, "", "", "Requires authentication"},
		{"unknown token", "", "/api/v3/user", "token gho_nope", 401, "", "", "Bad credentials"},
		{"revoked token", "api.github.com", "/user", "token " + revoked, 401, "", "", "Bad credentials"},
		{"unknown scheme", "", "/api/v3/user", "Basic Zm9vOmJhcg==", 401, "", "", "Bad credentials"},
		{"api host, other path", "api.github.com", "/login/device/code", "token " + oauth, 404, "", "", "Not Found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL()+tc.path, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			a := do(t, nil, req)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			if tc.status == 200 {
				if a.get("login") != tc.login || !a.numbers["id"] {
					t.Errorf("user %s", a.body)
				}
				if got := a.header.Get("X-OAuth-Scopes"); got != tc.scopes {
					t.Errorf("X-OAuth-Scopes %q, want %q", got, tc.scopes)
				}
				if _, ok := a.header["X-Accepted-Oauth-Scopes"]; !ok {
					t.Errorf("no X-Accepted-OAuth-Scopes header")
				}
				return
			}
			if a.get("message") != tc.message {
				t.Errorf("message %q, want %q", a.get("message"), tc.message)
			}
			if !strings.HasPrefix(a.get("documentation_url"), "https://docs.github.com/rest") {
				t.Errorf("documentation_url %q", a.get("documentation_url"))
			}
		})
	}
	if a := getUser(t, s, oauth); a.get("id") != "99" {
		t.Errorf("id %q, want 99", a.get("id"))
	}
}

// TestClientReachesGitHubHosts uses github.com's real URLs through the
// emulator's client, which sends every host to the emulator.
func TestClientReachesGitHubHosts(t *testing.T) {
	s := start(t, deviceflowtest.Config{AutoApprove: 1, Interval: time.Millisecond})
	c := s.Client()
	dc := call(t, c, "http://github.com", "/login/device/code", asForm, true, map[string]string{"client_id": "Ov23.a", "scope": "repo"})
	if dc.get("verification_uri") != "http://github.com/login/device" {
		t.Errorf("verification_uri %q", dc.get("verification_uri"))
	}
	time.Sleep(2 * time.Millisecond)
	tok := call(t, c, "http://github.com", "/login/oauth/access_token", asForm, true, map[string]string{
		"client_id": "Ov23.a", "device_code": dc.get("device_code"), "grant_type": deviceGrant,
	})
	req, _ := http.NewRequest(http.MethodGet, "http://api.github.com/user", nil)
	req.Header.Set("Authorization", "Bearer "+tok.get("access_token"))
	if a := do(t, c, req); a.status != 200 || a.header.Get("X-OAuth-Scopes") != "repo" {
		t.Errorf("api.github.com/user: %d %s", a.status, a.body)
	}
}

func TestCORS(t *testing.T) {
	s := start(t, deviceflowtest.Config{CORS: true})
	for _, path := range []string{"/login/device/code", "/login/oauth/access_token", "/api/v3/user"} {
		req, _ := http.NewRequest(http.MethodOptions, s.URL()+path, nil)
		req.Header.Set("Origin", "http://127.0.0.1:9999")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, accept")
		a := do(t, nil, req)
		h := a.header
		if a.status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "content-type") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "accept") {
			t.Errorf("%s preflight: %d %v", path, a.status, h)
		}
	}
	req := newRequest(t, s.URL()+"/login/device/code", asJSON, map[string]string{"client_id": "x"})
	req.Header.Set("Origin", "http://127.0.0.1:9999")
	a := do(t, nil, req)
	if a.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(a.header.Get("Access-Control-Expose-Headers"), "X-OAuth-Scopes") {
		t.Errorf("answer headers %v", a.header)
	}
	if st := s.Stats(); st.Preflight != 3 || st.DeviceCode != 1 {
		t.Errorf("stats %+v", st)
	}

	// Off by default, as on GitHub.
	plain := start(t, deviceflowtest.Config{})
	a = do(t, nil, newRequest(t, plain.URL()+"/login/device/code", asJSON, map[string]string{"client_id": "x"}))
	if a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS header without Config.CORS")
	}
}

func TestTLS(t *testing.T) {
	s := start(t, deviceflowtest.Config{TLS: true, TLSHosts: []string{"ghe.example.test"}})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	cert := s.Certificate()
	if cert == nil || len(s.CertPEM()) == 0 || s.CertPool() == nil {
		t.Fatal("no certificate")
	}
	for _, host := range []string{"127.0.0.1", "localhost", "github.com", "api.github.com", "ghe.example.test"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("certificate does not cover %s: %v", host, err)
		}
	}

	// A client that does not trust the certificate fails.
	_, err := http.Post(s.URL()+"/login/device/code", "application/json", strings.NewReader(`{"client_id":"x"}`))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("untrusting client: %v", err)
	}

	// The emulator's client trusts it, on its URL and on github.com's.
	c := s.Client()
	a := call(t, c, s.URL(), "/login/device/code", asJSON, true, map[string]string{"client_id": "x"})
	if a.get("verification_uri") != s.URL()+"/login/device" {
		t.Errorf("verification_uri %q", a.get("verification_uri"))
	}
	a = call(t, c, "https://github.com", "/login/device/code", asJSON, true, map[string]string{"client_id": "x"})
	if a.get("verification_uri") != "https://github.com/login/device" {
		t.Errorf("verification_uri %q", a.get("verification_uri"))
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
	if a := do(t, c, req); a.status != http.StatusUnauthorized || a.get("message") != "Requires authentication" {
		t.Errorf("api.github.com over TLS: %d %s", a.status, a.body)
	}

	// A plain client given the pool works too.
	pooled := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool()}}}
	if a := call(t, pooled, s.URL(), "/login/device/code", asForm, false, map[string]string{"client_id": "x"}); a.get("user_code") == "" {
		t.Errorf("pooled client: %s", a.body)
	}
}
