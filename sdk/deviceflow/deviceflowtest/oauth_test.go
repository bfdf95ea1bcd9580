package deviceflowtest_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

var (
	userCodeRE   = regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}$`)
	deviceCodeRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

func TestDeviceCodeAnswer(t *testing.T) {
	s := start(t, deviceflowtest.Config{})
	for _, enc := range []encoding{asJSON, asForm, asQuery} {
		for _, jsonAnswer := range []bool{true, false} {
			name := string(enc) + "-request/"
			if jsonAnswer {
				name += "json-answer"
			} else {
				name += "form-answer"
			}
			t.Run(name, func(t *testing.T) {
				a := call(t, nil, s.URL(), "/login/device/code", enc, jsonAnswer, map[string]string{"client_id": "Iv1.any", "scope": "repo read:org"})
				if a.status != http.StatusOK {
					t.Fatalf("status %d: %s", a.status, a.body)
				}
				wantType := "application/x-www-form-urlencoded"
				if jsonAnswer {
					wantType = "application/json"
				}
				if a.ctype != wantType {
					t.Errorf("content type %q, want %q", a.ctype, wantType)
				}
				if !deviceCodeRE.MatchString(a.get("device_code")) {
					t.Errorf("device_code %q", a.get("device_code"))
				}
				if !userCodeRE.MatchString(a.get("user_code")) {
					t.Errorf("user_code %q", a.get("user_code"))
				}
				if got, want := a.get("verification_uri"), s.URL()+"/login/device"; got != want {
					t.Errorf("verification_uri %q, want %q", got, want)
				}
				if a.get("expires_in") != "900" || a.get("interval") != "5" {
					t.Errorf("expires_in %q interval %q, want 900 and 5", a.get("expires_in"), a.get("interval"))
				}
				if jsonAnswer && (!a.numbers["expires_in"] || !a.numbers["interval"]) {
					t.Errorf("expires_in and interval should be JSON numbers: %s", a.body)
				}
				if _, ok := a.fields["verification_uri_complete"]; ok {
					t.Errorf("verification_uri_complete sent by default: %s", a.body)
				}
				if _, err := http.ParseTime(a.header.Get("Date")); err != nil {
					t.Errorf("Date header %q: %v", a.header.Get("Date"), err)
				}
			})
		}
	}
	if got := len(s.Pending()); got != 6 {
		t.Errorf("%d pending codes, want 6", got)
	}
}

func TestDeviceCodeOptions(t *testing.T) {
	s := start(t, deviceflowtest.Config{
		Interval:                50 * time.Millisecond,
		ExpiresIn:               90 * time.Second,
		VerificationURIComplete: true,
	})
	a := deviceCode(t, s, "Iv1.any", "")
	if a.get("interval") != "0.05" || !a.numbers["interval"] {
		t.Errorf("interval %q, want the number 0.05", a.get("interval"))
	}
	if a.get("expires_in") != "90" {
		t.Errorf("expires_in %q, want 90", a.get("expires_in"))
	}
	want := s.URL() + "/login/device?user_code=" + a.get("user_code")
	if got := a.get("verification_uri_complete"); got != want {
		t.Errorf("verification_uri_complete %q, want %q", got, want)
	}
	if got := s.PageURL(a.get("user_code")); got != want {
		t.Errorf("PageURL %q, want %q", got, want)
	}
}

func TestAnswerFormats(t *testing.T) {
	s := start(t, deviceflowtest.Config{})
	req := newRequest(t, s.URL()+"/login/oauth/access_token", asForm, map[string]string{"client_id": "x", "grant_type": "password"})
	req.Header.Set("Accept", "application/xml")
	a := do(t, nil, req)
	if !strings.HasPrefix(a.header.Get("Content-Type"), "application/xml") ||
		!strings.Contains(a.body, "<error>unsupported_grant_type</error>") {
		t.Errorf("XML answer: %s %s", a.header.Get("Content-Type"), a.body)
	}
	// Accept: */* is not a request for JSON: GitHub answers form-encoded.
	req = newRequest(t, s.URL()+"/login/oauth/access_token", asForm, map[string]string{"client_id": "x", "grant_type": "password"})
	req.Header.Set("Accept", "*/*")
	if a := do(t, nil, req); a.ctype != "application/x-www-form-urlencoded" || a.get("error") != "unsupported_grant_type" {
		t.Errorf("*/* answer: %s %s", a.ctype, a.body)
	}
}

func TestDeviceCodeErrors(t *testing.T) {
	clients := []deviceflowtest.Client{
		{ID: "Iv1.app", Type: deviceflowtest.GitHubApp},
		{ID: "Ov23.off", DeviceFlowDisabled: true},
		{ID: "Ov23.secret", Secret: "s3cret"},
	}
	strict := start(t, deviceflowtest.Config{Clients: clients})
	lenient := start(t, deviceflowtest.Config{Clients: clients, DeviceCodeErrorStatus: http.StatusOK})
	tests := []struct {
		name   string
		s      *deviceflowtest.Server
		params map[string]string
		basic  [2]string
		status int
		code   string
	}{
		{"unknown client", strict, map[string]string{"client_id": "nope"}, [2]string{}, 400, "incorrect_client_credentials"},
		{"missing client_id", strict, map[string]string{"scope": "repo"}, [2]string{}, 400, "incorrect_client_credentials"},
		{"device flow disabled", strict, map[string]string{"client_id": "Ov23.off"}, [2]string{}, 400, "device_flow_disabled"},
		{"wrong secret", strict, map[string]string{"client_id": "Ov23.secret", "client_secret": "guess"}, [2]string{}, 400, "incorrect_client_credentials"},
		{"basic auth names another client", strict, map[string]string{"client_id": "Iv1.app"}, [2]string{"Ov23.secret", ""}, 400, "incorrect_client_credentials"},
		{"disabled, answered 200", lenient, map[string]string{"client_id": "Ov23.off"}, [2]string{}, 200, "device_flow_disabled"},
		{"unknown, answered 200", lenient, map[string]string{"client_id": "nope"}, [2]string{}, 200, "incorrect_client_credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, jsonAnswer := range []bool{true, false} {
				req := newRequest(t, tc.s.URL()+"/login/device/code", asForm, tc.params)
				if jsonAnswer {
					req.Header.Set("Accept", "application/json")
				}
				if tc.basic[0] != "" {
					req.SetBasicAuth(tc.basic[0], tc.basic[1])
				}
				wantError(t, do(t, nil, req), tc.status, tc.code)
			}
		})
	}
	// The right secret, a secret sent by Basic authentication, and no
	// secret at all are accepted.
	for _, p := range []map[string]string{
		{"client_id": "Ov23.secret", "client_secret": "s3cret"},
		{"client_id": "Ov23.secret"},
	} {
		if a := call(t, nil, strict.URL(), "/login/device/code", asJSON, true, p); a.status != 200 || a.get("device_code") == "" {
			t.Errorf("%v refused: %s", p, a.body)
		}
	}
	req := newRequest(t, strict.URL()+"/login/device/code", asForm, map[string]string{})
	req.SetBasicAuth("Ov23.secret", "s3cret")
	if a := do(t, nil, req); a.get("device_code") == "" {
		t.Errorf("Basic authentication refused: %s", a.body)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{
		Clients: []deviceflowtest.Client{{ID: "Ov23.a"}, {ID: "Ov23.b"}},
		Now:     clock.Now,
	})
	fresh := func() string { return deviceCode(t, s, "Ov23.a", "repo").get("device_code") }
	tests := []struct {
		name  string
		setup func() map[string]string // the request parameters
		code  string
	}{
		{"unsupported grant", func() map[string]string {
			return map[string]string{"client_id": "Ov23.a", "grant_type": "authorization_code", "code": "x"}
		}, "unsupported_grant_type"},
		{"missing grant", func() map[string]string {
			return map[string]string{"client_id": "Ov23.a", "device_code": fresh()}
		}, "unsupported_grant_type"},
		{"unknown client", func() map[string]string {
			return map[string]string{"client_id": "Ov23.z", "grant_type": deviceGrant, "device_code": fresh()}
		}, "incorrect_client_credentials"},
		{"device code of another client", func() map[string]string {
			return map[string]string{"client_id": "Ov23.b", "grant_type": deviceGrant, "device_code": fresh()}
		}, "incorrect_client_credentials"},
		{"unknown device code", func() map[string]string {
			return map[string]string{"client_id": "Ov23.a", "grant_type": deviceGrant, "device_code": strings.Repeat("0", 40)}
		}, "incorrect_device_code"},
		{"pending", func() map[string]string {
			code := fresh()
			clock.Advance(5 * time.Second)
			return map[string]string{"client_id": "Ov23.a", "grant_type": deviceGrant, "device_code": code}
		}, "authorization_pending"},
		{"cancelled", func() map[string]string {
			code := fresh()
			g, _ := s.LastGrant()
			if err := s.Deny(g.UserCode); err != nil {
				t.Fatal(err)
			}
			clock.Advance(5 * time.Second)
			return map[string]string{"client_id": "Ov23.a", "grant_type": deviceGrant, "device_code": code}
		}, "access_denied"},
		{"expired", func() map[string]string {
			code := fresh()
			clock.Advance(900 * time.Second)
			return map[string]string{"client_id": "Ov23.a", "grant_type": deviceGrant, "device_code": code}
		}, "expired_token"},
		{"cancelled, then expired", func() map[string]string {
			code := fresh()
			g, _ := s.LastGrant()
			_ = s.Deny(g.UserCode)
			clock.Advance(901 * time.Second)
			return map[string]string{"client_id": "Ov23.a", "grant_type": deviceGrant, "device_code": code}
		}, "expired_token"},
		{"approved, then expired unused", func() map[string]string {
			code := fresh()
			g, _ := s.LastGrant()
			_ = s.Approve(g.UserCode)
			clock.Advance(900 * time.Second)
			return map[string]string{"client_id": "Ov23.a", "grant_type": deviceGrant, "device_code": code}
		}, "expired_token"},
		{"already exchanged", func() map[string]string {
			code := fresh()
			g, _ := s.LastGrant()
			_ = s.Approve(g.UserCode)
			clock.Advance(5 * time.Second)
			if tok := poll(t, s, "Ov23.a", code); tok.get("access_token") == "" {
				t.Fatalf("first exchange: %s", tok.body)
			}
			clock.Advance(5 * time.Second)
			return map[string]string{"client_id": "Ov23.a", "grant_type": deviceGrant, "device_code": code}
		}, "incorrect_device_code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.setup()
			for _, enc := range []encoding{asJSON, asForm} {
				for _, jsonAnswer := range []bool{true, false} {
					// Space the polls, so that none is answered slow_down.
					clock.Advance(5 * time.Second)
					a := call(t, nil, s.URL(), "/login/oauth/access_token", enc, jsonAnswer, p)
					wantError(t, a, http.StatusOK, tc.code)
				}
			}
		})
	}
}

func TestSlowDown(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now})
	dc := deviceCode(t, s, "Ov23.a", "")
	code := dc.get("device_code")

	steps := []struct {
		advance  time.Duration
		json     bool
		code     string
		interval string
	}{
		{0, true, "slow_down", "10"},                          // at once after issue: too soon
		{10 * time.Second, true, "authorization_pending", ""}, // the new interval kept
		{9 * time.Second, false, "slow_down", "15"},           // form answer, +5 again
		{14 * time.Second, true, "slow_down", "20"},
		{20 * time.Second, false, "authorization_pending", ""},
		{20 * time.Second, true, "authorization_pending", ""}, // the interval stays 20
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		a := call(t, nil, s.URL(), "/login/oauth/access_token", asForm, st.json, map[string]string{
			"client_id": "Ov23.a", "device_code": code, "grant_type": deviceGrant,
		})
		wantError(t, a, http.StatusOK, st.code)
		if a.get("interval") != st.interval {
			t.Errorf("step %d: interval %q, want %q (%s)", i, a.get("interval"), st.interval, a.body)
		}
		if st.interval != "" && st.json && !a.numbers["interval"] {
			t.Errorf("step %d: interval is not a JSON number: %s", i, a.body)
		}
	}
	g, _ := s.LastGrant()
	if g.Interval != 20*time.Second || g.SlowDowns != 3 || g.Polls != 6 {
		t.Errorf("grant interval %v, slow downs %d, polls %d; want 20s, 3, 6", g.Interval, g.SlowDowns, g.Polls)
	}

	// Approved, but polled too soon: still slow_down, and no token.
	if err := s.Approve(dc.get("user_code")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	wantError(t, poll(t, s, "Ov23.a", code), http.StatusOK, "slow_down")
	clock.Advance(25 * time.Second)
	if a := poll(t, s, "Ov23.a", code); a.get("access_token") == "" {
		t.Fatalf("no token after waiting the interval: %s", a.body)
	}
	if st := s.Stats(); st.SlowDowns != 4 || st.AccessToken != 8 {
		t.Errorf("stats %+v", st)
	}
}

func TestFractionalSlowDown(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now, Interval: 50 * time.Millisecond})
	code := deviceCode(t, s, "Ov23.a", "").get("device_code")
	clock.Advance(10 * time.Millisecond)
	a := poll(t, s, "Ov23.a", code)
	wantError(t, a, http.StatusOK, "slow_down")
	if a.get("interval") != "5.05" {
		t.Errorf("interval %q, want 5.05", a.get("interval"))
	}
}

func TestAutoApprove(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now, AutoApprove: 3})
	code := deviceCode(t, s, "Ov23.a", "").get("device_code")
	clock.Advance(time.Second)
	wantError(t, poll(t, s, "Ov23.a", code), http.StatusOK, "slow_down") // does not count
	for i := 1; i <= 2; i++ {
		clock.Advance(10 * time.Second)
		wantError(t, poll(t, s, "Ov23.a", code), http.StatusOK, "authorization_pending")
	}
	clock.Advance(10 * time.Second)
	if a := poll(t, s, "Ov23.a", code); a.get("access_token") == "" {
		t.Fatalf("third spaced poll: %s", a.body)
	}
}

func TestOAuthAppToken(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now, Login: "hubot", UserID: 42})
	for _, jsonAnswer := range []bool{true, false} {
		dc := deviceCode(t, s, "Ov23.a", "repo read:org,repo")
		if err := s.Approve(strings.ToLower(strings.ReplaceAll(dc.get("user_code"), "-", ""))); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Second)
		a := call(t, nil, s.URL(), "/login/oauth/access_token", asForm, jsonAnswer, map[string]string{
			"client_id": "Ov23.a", "device_code": dc.get("device_code"), "grant_type": deviceGrant,
		})
		tok := a.get("access_token")
		if a.status != 200 || !strings.HasPrefix(tok, "gho_") || len(tok) != 40 {
			t.Fatalf("token answer %d %s", a.status, a.body)
		}
		if a.get("token_type") != "bearer" || a.get("scope") != "read:org,repo" {
			t.Errorf("token_type %q scope %q", a.get("token_type"), a.get("scope"))
		}
		for _, k := range []string{"refresh_token", "expires_in", "refresh_token_expires_in"} {
			if _, ok := a.fields[k]; ok {
				t.Errorf("an OAuth App token answer has %s: %s", k, a.body)
			}
		}
		info, ok := s.LookupToken(tok)
		if !ok || info.Login != "hubot" || info.UserID != 42 || !info.ExpiresAt.IsZero() {
			t.Errorf("LookupToken = %+v, %v", info, ok)
		}
		if last, _ := s.LastToken(); last.AccessToken != tok {
			t.Errorf("LastToken is not the token just issued")
		}
	}
}

func TestGitHubAppTokens(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{
		Now: clock.Now,
		Clients: []deviceflowtest.Client{
			{ID: "Iv1.exp", Type: deviceflowtest.GitHubApp, ExpiringTokens: true, Login: "mona", UserID: 7},
			{ID: "Iv1.other", Type: deviceflowtest.GitHubApp, ExpiringTokens: true},
			{ID: "Iv1.plain", Type: deviceflowtest.GitHubApp},
		},
	})

	plain := approvedFlow(t, s, clock, "Iv1.plain", "repo")
	if !strings.HasPrefix(plain.get("access_token"), "ghu_") || plain.get("scope") != "" || plain.get("refresh_token") != "" {
		t.Errorf("GitHub App without expiry: %s", plain.body)
	}
	if _, ok := plain.fields["scope"]; !ok {
		t.Errorf("scope should be present, empty: %s", plain.body)
	}

	first := approvedFlow(t, s, clock, "Iv1.exp", "repo")
	if !strings.HasPrefix(first.get("access_token"), "ghu_") || !strings.HasPrefix(first.get("refresh_token"), "ghr_") {
		t.Fatalf("expiring token answer: %s", first.body)
	}
	if first.get("expires_in") != "28800" || first.get("refresh_token_expires_in") != "15897600" || first.get("scope") != "" {
		t.Errorf("expiring token answer: %s", first.body)
	}

	// Refresh: a new pair; the old refresh token and access token stop working.
	second := refresh(t, s, "Iv1.exp", first.get("refresh_token"))
	if second.get("access_token") == "" || second.get("access_token") == first.get("access_token") ||
		second.get("refresh_token") == first.get("refresh_token") || second.get("expires_in") != "28800" {
		t.Fatalf("refresh answer: %s", second.body)
	}
	wantError(t, refresh(t, s, "Iv1.exp", first.get("refresh_token")), 200, "bad_refresh_token")
	if a := getUser(t, s, first.get("access_token")); a.status != 401 {
		t.Errorf("the refreshed-away token still works: %d", a.status)
	}
	if a := getUser(t, s, second.get("access_token")); a.status != 200 || a.get("login") != "mona" {
		t.Errorf("the new token: %d %s", a.status, a.body)
	}

	// Form-encoded refresh, without Accept.
	third := call(t, nil, s.URL(), "/login/oauth/access_token", asForm, false, map[string]string{
		"client_id": "Iv1.exp", "refresh_token": second.get("refresh_token"), "grant_type": "refresh_token",
	})
	if third.ctype != "application/x-www-form-urlencoded" || !strings.HasPrefix(third.get("refresh_token"), "ghr_") {
		t.Fatalf("form refresh: %s", third.body)
	}

	for name, p := range map[string]map[string]string{
		"unknown":      {"client_id": "Iv1.exp", "refresh_token": "ghr_unknown"},
		"empty":        {"client_id": "Iv1.exp"},
		"other client": {"client_id": "Iv1.other", "refresh_token": third.get("refresh_token")},
		"oauth app":    {"client_id": "Ov23.x", "refresh_token": third.get("refresh_token")},
	} {
		p["grant_type"] = "refresh_token"
		a := call(t, nil, s.URL(), "/login/oauth/access_token", asJSON, true, p)
		want := "bad_refresh_token"
		if name == "oauth app" {
			want = "incorrect_client_credentials" // not a registered client
		}
		if a.get("error") != want {
			t.Errorf("%s: %s, want %s", name, a.body, want)
		}
	}

	// The access token expires after eight hours; the refresh token still works.
	clock.Advance(8*time.Hour - time.Second)
	if a := getUser(t, s, third.get("access_token")); a.status != 200 {
		t.Errorf("token before expiry: %d", a.status)
	}
	clock.Advance(time.Second)
	if a := getUser(t, s, third.get("access_token")); a.status != 401 || a.get("message") != "Bad credentials" {
		t.Errorf("expired token: %d %s", a.status, a.body)
	}
	fourth := refresh(t, s, "Iv1.exp", third.get("refresh_token"))
	if fourth.get("access_token") == "" {
		t.Fatalf("refresh after access expiry: %s", fourth.body)
	}

	// A refresh token expires after six months.
	clock.Advance(15897600 * time.Second)
	wantError(t, refresh(t, s, "Iv1.exp", fourth.get("refresh_token")), 200, "bad_refresh_token")

	if st := s.Stats(); st.Refreshes != 3 || st.TokensIssued != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	s := start(t, deviceflowtest.Config{})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/login/device/code", 405},
		{http.MethodGet, "/login/oauth/access_token", 405},
		{http.MethodPut, "/login/device", 405},
		{http.MethodGet, "/nowhere", 404},
		{http.MethodGet, "/api/v3/nowhere", 404},
		{http.MethodGet, "/user", 404}, // only on an api. host
	} {
		req, _ := http.NewRequest(tc.method, s.URL()+tc.path, nil)
		if a := do(t, nil, req); a.status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, a.status, tc.status)
		}
	}
	if st := s.Stats(); st.DeviceCode != 1 || st.AccessToken != 1 || st.DevicePage != 1 || st.NotFound != 3 || st.User != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestDateHeaderFollowsClock(t *testing.T) {
	at := time.Date(2030, 6, 1, 12, 30, 0, 0, time.UTC)
	clock := deviceflowtest.NewFakeClock(at)
	s := start(t, deviceflowtest.Config{Now: clock.Now})
	for _, path := range []string{"/login/device/code", "/login/device", "/api/v3/user", "/nowhere"} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
		if got := do(t, nil, req).header.Get("Date"); got != "Sat, 01 Jun 2030 12:30:00 GMT" {
			t.Errorf("%s: Date %q", path, got)
		}
	}
	clock.Advance(time.Hour)
	a := call(t, nil, s.URL(), "/login/device/code", asJSON, true, map[string]string{"client_id": "x"})
	if got := a.header.Get("Date"); got != "Sat, 01 Jun 2030 13:30:00 GMT" {
		t.Errorf("Date %q after an hour", got)
	}
}

func TestPollTolerance(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now, PollTolerance: 100 * time.Millisecond})
	code := deviceCode(t, s, "Ov23.a", "").get("device_code")
	clock.Advance(4900 * time.Millisecond)
	wantError(t, poll(t, s, "Ov23.a", code), http.StatusOK, "authorization_pending")
	clock.Advance(4899 * time.Millisecond)
	wantError(t, poll(t, s, "Ov23.a", code), http.StatusOK, "slow_down")
}
