package flow

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestDiscoveryURLsKeepTheIssuerPath(t *testing.T) {
	got := discoveryURLs("https://idp.example.com/realms/acme")
	want := [2]string{
		"https://idp.example.com/realms/acme/.well-known/openid-configuration",
		"https://idp.example.com/.well-known/oauth-authorization-server/realms/acme",
	}
	if got != want {
		t.Errorf("discoveryURLs = %q, want %q", got, want)
	}
	if got := discoveryURLs("https://accounts.google.com"); got[1] != "https://accounts.google.com/.well-known/oauth-authorization-server" {
		t.Errorf("an issuer without a path: %q", got[1])
	}
}

func TestGenericConfigure(t *testing.T) {
	in := &Input{ClientID: "cli", Server: Server{Issuer: "https://IDP.example.com/realms/acme/"}, ClientSecret: "s3:cr/et"}
	c, err := in.Configure()
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://idp.example.com/realms/acme" || !c.Discover || c.Encoding != "form" || c.ClientType != "" {
		t.Errorf("config %+v", c)
	}
	if k := c.CacheKey(); k != "deviceflow:v1:https://idp.example.com/realms/acme|generic|cli|" {
		t.Errorf("cache key %q", k)
	}
	if o := c.Origins(); strings.Join(o, " ") != "https://idp.example.com" {
		t.Errorf("origins while discovery is pending: %v", o)
	}
	// RFC 6749 section 2.3.1: id and secret form-encoded, then Basic.
	req := oauthPost(c, "https://idp.example.com/token", param{"client_id", "cli"})
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(req.Headers["authorization"], "Basic "))
	if string(raw) != "cli:s3%3Acr%2Fet" {
		t.Errorf("basic credentials %q", raw)
	}
	for _, s := range c.secrets() {
		if strings.Contains(req.Body, s) {
			t.Errorf("the body carries the secret: %q", req.Body)
		}
	}
}

func TestGenericStateNeverCarriesTheSecret(t *testing.T) {
	in := &Input{ClientID: "cli", Server: Server{DeviceEndpoint: "https://idp.example.com/device", TokenEndpoint: "https://idp.example.com/token"}, ClientSecret: "top-secret-value"}
	c, err := in.Configure()
	if err != nil {
		t.Fatal(err)
	}
	m := &Machine{Config: *c, Phase: phWaiting, Awaiting: EffectSleep, DeviceCode: "dc", IntervalMs: 5000, DeadlineMs: 1}
	if s := string(m.Suspend()); strings.Contains(s, "top-secret-value") {
		t.Errorf("state carries the client secret: %s", s)
	}
}
