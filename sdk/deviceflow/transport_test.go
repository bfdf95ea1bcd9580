package deviceflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestClientAuthenticatesAPIRequests(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{})
	p := &person{action: deviceflowtest.ActionAuthorize}
	c := newClient(t, emu, p, deviceflow.Config{Scopes: []string{"repo"}})
	ctx := timeout(t)

	// Concurrent first requests share one sign-in.
	hc := c.Client(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := hc.Get(emu.APIURL() + "/user")
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var u struct{ Login string }
			json.NewDecoder(res.Body).Decode(&u)
			if res.StatusCode != 200 || u.Login != deviceflowtest.DefaultLogin || res.Header.Get("X-OAuth-Scopes") != "repo" {
				t.Errorf("GET /user: %d %q %q", res.StatusCode, u.Login, res.Header.Get("X-OAuth-Scopes"))
			}
		}()
	}
	wg.Wait()
	if n := p.codes(t); n != 1 {
		t.Errorf("%d codes shown, want 1", n)
	}
}

func TestTransportSendsNoCredentialsToOAuthEndpoints(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{AutoApprove: 1})
	c := newClient(t, emu, &person{action: deviceflowtest.ActionAuthorize}, deviceflow.Config{})
	ctx := timeout(t)
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	// The requests go to the configured GitHub (the emulator's origin); a
	// recording transport stands in for the network.
	var mu sync.Mutex
	got := map[string]string{}
	record := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		got[r.Method+" "+r.URL.Host+r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: r}, nil
	})
	hc := &http.Client{Transport: &deviceflow.Transport{Client: c, Base: record}}
	origin := strings.TrimPrefix(emu.URL(), "http://")
	for _, u := range []struct{ method, url string }{
		{"POST", emu.URL() + "/login/oauth/access_token"},
		{"POST", emu.URL() + "/login/device/code"},
		{"GET", emu.URL() + "/api/v3/user"},
		{"GET", emu.URL() + "/api/v3/repos/o/r"},
		{"GET", "https://collector.example/upload"},
	} {
		req, _ := http.NewRequestWithContext(ctx, u.method, u.url, strings.NewReader(""))
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if req.Header.Get("Authorization") != "" {
			t.Error("the caller's request was changed")
		}
	}
	tok, _ := emu.LastToken()
	want := map[string]string{
		"POST " + origin + "/login/oauth/access_token": "",
		"POST " + origin + "/login/device/code":        "",
		"GET " + origin + "/api/v3/user":               "token " + tok.AccessToken,
		"GET " + origin + "/api/v3/repos/o/r":          "token " + tok.AccessToken,
		"GET collector.example/upload":                 "", // another host never gets the token
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: authorization %q, want %q", k, deviceflow.Mask(got[k]), deviceflow.Mask(v))
		}
	}
}

func TestTokenSourceFeedsOAuth2(t *testing.T) {
	t.Parallel()
	emu := githubAppEmulator(t)
	c := newClient(t, emu, &person{action: deviceflowtest.ActionAuthorize}, deviceflow.Config{ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp})
	ctx := timeout(t)
	src := c.TokenSource(ctx)
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "ghu_") || tok.RefreshToken != "" || tok.Expiry.IsZero() || tok.Type() != "Bearer" {
		t.Errorf("oauth2 token: type %q, expiry %v, refresh token given: %v", tok.Type(), tok.Expiry, tok.RefreshToken != "")
	}
	res, err := oauth2.NewClient(ctx, src).Get(emu.APIURL() + "/user")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /user with oauth2's client: %d", res.StatusCode)
	}
}

func TestCheckAndLogout(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{AutoApprove: 1, Login: "hubot"})
	c := newClient(t, emu, &person{action: deviceflowtest.ActionAuthorize}, deviceflow.Config{Scopes: []string{"gist"}})
	ctx := timeout(t)
	if _, err := c.Check(ctx); err == nil || !strings.Contains(err.Error(), "sign in") {
		t.Errorf("check before sign-in: %v", err)
	}
	a, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Check(ctx)
	if err != nil || !r.Valid || r.Login != "hubot" || strings.Join(r.Scopes, ",") != "gist" {
		t.Fatalf("check: %+v %v", r, err)
	}
	emu.Revoke(a.Token)
	if r, err := c.Check(ctx); err != nil || r.Valid {
		t.Errorf("check of a revoked token: %+v %v", r, err)
	}
	removed, err := c.Logout(ctx)
	if err != nil || !removed {
		t.Fatalf("logout: %v %v", removed, err)
	}
	if removed, err := c.Logout(ctx); err != nil || removed {
		t.Errorf("second logout: %v %v", removed, err)
	}
}

func TestAPIURL(t *testing.T) {
	for base, want := range map[string]string{
		"":                                "https://api.github.com",
		"https://github.com":              "https://api.github.com",
		"https://ghe.example.com":         "https://ghe.example.com/api/v3",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/api/v3",
		"http://127.0.0.1:8080":           "http://127.0.0.1:8080/api/v3",
		"http://example.com":              "",
	} {
		c, err := deviceflow.New(deviceflow.Config{ClientID: "x", BaseURL: base})
		if err != nil {
			if want != "" {
				t.Errorf("%q: %v", base, err)
			}
			continue
		}
		if got := c.APIURL(); got != want {
			t.Errorf("APIURL(%q) = %q, want %q", base, got, want)
		}
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestConcurrentRequestsRefreshOnce(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{
		Clients:             []deviceflowtest.Client{{ID: "Iv1.expiring", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
		AccessTokenLifetime: 25 * time.Hour,
	})
	store := deviceflow.NewMemoryStore()
	p := &person{action: deviceflowtest.ActionAuthorize}
	c := newClient(t, emu, p, deviceflow.Config{ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp, Store: store})
	ctx := timeout(t)
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	// A day later by this client's clock the token is two minutes from
	// expiry. The server's Date is then too far off to trust, so the
	// refreshed token counts from this clock and is fresh at once.
	later := newClient(t, emu, nil, deviceflow.Config{
		ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp, Store: store,
		Clock: func() time.Time { return time.Now().Add(24*time.Hour + 58*time.Minute) },
		OnVerification: func(context.Context, deviceflow.Verification) error {
			return errors.New("a refresh was lost: the transport started a device flow")
		},
	})
	hc := later.Client(ctx)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", emu.APIURL()+"/user", nil)
			res, err := hc.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("GET /user: %d", res.StatusCode)
			}
		}()
	}
	wg.Wait()
	if st := emu.Stats(); st.Refreshes != 1 || st.DeviceCode != 1 {
		t.Errorf("%d refreshes, %d device codes: want 1 and 1", st.Refreshes, st.DeviceCode)
	}
	p.codes(t)
}
