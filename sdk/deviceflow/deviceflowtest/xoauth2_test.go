package deviceflowtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// These tests run golang.org/x/oauth2's own device flow against the
// emulator, so it is checked by a client nobody here wrote. x/oauth2 asks
// for the device code with Accept: application/json, polls without Accept
// (so it reads form-encoded answers, as from GitHub) and reads interval as
// whole seconds, hence an interval of one second. It polls on a fixed
// ticker, so polls drift by the network's latency: PollTolerance absorbs
// that.

func xoauth2Config(s *deviceflowtest.Server, clientID string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID,
		Scopes:   scopes,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: s.URL() + "/login/device/code",
			TokenURL:      s.URL() + "/login/oauth/access_token",
			// Without this, x/oauth2 sends every failed poll twice (Basic
			// authentication, then parameters), and the second one is
			// answered slow_down, as GitHub would.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func TestXOAuth2DeviceFlow(t *testing.T) {
	t.Parallel()
	s := start(t, deviceflowtest.Config{Interval: time.Second, AutoApprove: 2, PollTolerance: 200 * time.Millisecond})
	cfg := xoauth2Config(s, "Ov23.x", "repo", "read:org")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()

	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != s.URL()+"/login/device" || da.Interval != 1 || da.Expiry.IsZero() {
		t.Errorf("device auth %+v", da)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("%v (stats %+v)", err, s.Stats())
	}
	if !strings.HasPrefix(tok.AccessToken, "gho_") || tok.TokenType != "bearer" {
		t.Errorf("token type %q, prefix %q", tok.TokenType, tok.AccessToken[:4])
	}
	if scope, _ := tok.Extra("scope").(string); scope != "read:org,repo" {
		t.Errorf("scope %q", scope)
	}
	if st := s.Stats(); st.AccessToken != 2 || st.SlowDowns != 0 {
		t.Errorf("stats %+v: want two polls, no slow_down", st)
	}
	if a := getUser(t, s, tok.AccessToken); a.status != 200 {
		t.Errorf("x/oauth2's token does not work: %d", a.status)
	}
}

func TestXOAuth2RefreshGitHubApp(t *testing.T) {
	t.Parallel()
	s := start(t, deviceflowtest.Config{
		Interval:      time.Second,
		AutoApprove:   1,
		PollTolerance: 200 * time.Millisecond,
		Clients:       []deviceflowtest.Client{{ID: "Iv1.x", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
	})
	cfg := xoauth2Config(s, "Iv1.x")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()

	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "ghu_") || !strings.HasPrefix(tok.RefreshToken, "ghr_") {
		t.Fatalf("GitHub App token lacks its prefixes")
	}
	if left := time.Until(tok.Expiry); left < 7*time.Hour || left > 8*time.Hour {
		t.Errorf("token expires in %v, want about 8h", left)
	}

	// Make x/oauth2 believe the token expired: its TokenSource refreshes.
	old := *tok
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == old.AccessToken || fresh.RefreshToken == old.RefreshToken {
		t.Errorf("refresh did not rotate the pair")
	}
	if last, _ := s.LastToken(); last.AccessToken != fresh.AccessToken {
		t.Errorf("the emulator did not issue x/oauth2's new token")
	}
	// The used refresh token is spent.
	tok.Expiry = time.Now().Add(-time.Minute)
	tok.AccessToken, tok.RefreshToken = old.AccessToken, old.RefreshToken
	_, err = cfg.TokenSource(ctx, tok).Token()
	var re *oauth2.RetrieveError
	if !asRetrieveError(err, &re) || re.ErrorCode != "bad_refresh_token" {
		t.Errorf("reusing the refresh token: %v", err)
	}
}

func asRetrieveError(err error, target **oauth2.RetrieveError) bool {
	for err != nil {
		if re, ok := err.(*oauth2.RetrieveError); ok {
			*target = re
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// The generic profile through x/oauth2 with HTTP Basic client
// authentication (AuthStyleInHeader) and a client secret: RFC 8628 and
// RFC 6749 as x/oauth2 reads them (400 errors, JSON answers, expires_in,
// an id_token in the extras).
func TestXOAuth2GenericProfile(t *testing.T) {
	t.Parallel()
	s := start(t, deviceflowtest.Config{
		Profile: deviceflowtest.ProfileGeneric, Interval: time.Second, AutoApprove: 2, PollTolerance: 200 * time.Millisecond,
		Clients: []deviceflowtest.Client{{ID: "cli", Secret: "s3cret"}},
	})
	iss := s.IssuerURL()
	cfg := &oauth2.Config{
		ClientID: "cli", ClientSecret: "s3cret", Scopes: []string{"openid", "profile"},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: iss + "/device", TokenURL: iss + "/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURIComplete == "" {
		t.Errorf("device auth %+v: want verification_uri_complete", da)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("%v (stats %+v)", err, s.Stats())
	}
	if tok.Expiry.IsZero() || tok.RefreshToken != "" || tok.Extra("id_token") == nil {
		t.Errorf("token: expiry %v, refresh %q, id_token %v", tok.Expiry, tok.RefreshToken, tok.Extra("id_token"))
	}
}
