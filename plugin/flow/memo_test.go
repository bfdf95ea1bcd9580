package flow

import (
	"reflect"
	"testing"
)

// TestInputRemembered: an input read again gives what parsing it gives;
// inputs naming a token, a client secret or a state are never remembered;
// an input that fails is not remembered either.
func TestInputRemembered(t *testing.T) {
	lastInput.Store(nil)
	const good = `{"clientId":"Ov23li","scopes":["repo","gist"],"baseUrl":"https://ghe.example.com","interactive":false,"refresh":true,"url":"https://ghe.example.com/api/v3/user"}`
	in0, cfg0, err := configureInput([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p := lastInput.Load(); p == nil || p.raw != good {
		t.Fatalf("remembered %+v, want the input just configured", p)
	}
	for range 2 {
		in, cfg, err := configureInput([]byte(good))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg, cfg0) || *in.Interactive != *in0.Interactive || in.Refresh != in0.Refresh || in.URL != in0.URL {
			t.Fatalf("read again: %+v %+v, first %+v %+v", in, cfg, in0, cfg0)
		}
		// The caller's copy is its own.
		cfg.ClientID, cfg.Base = "changed", "changed"
		*in.Interactive = true
	}
	for _, other := range []string{
		`{"clientId":"Ov23li","token":"gho_secret"}`,
		`{"clientId":"Ov23li","issuer":"https://id.example.com","clientSecret":"s3cret"}`,
		`{"clientId":"Ov23li","state":{"v":2}}`,
		`{"clientId":"Ov23li","clientType":"bogus"}`,
	} {
		_, _, _ = configureInput([]byte(other))
		if p := lastInput.Load(); p == nil || p.raw != good {
			t.Errorf("input %s: remembered %+v, want the good one still", other, p)
		}
	}
	in, cfg, err := configureInput([]byte(good))
	if err != nil || cfg.ClientID != "Ov23li" || cfg.Base != "https://ghe.example.com" || *in.Interactive {
		t.Fatalf("after the callers' changes: %+v %+v %v", in, cfg, err)
	}
	// Different bytes are read anew, even when they mean the same.
	if _, cfg, err := configureInput([]byte(` {"clientId":"Ov23li"}`)); err != nil || cfg.Base != "https://github.com" {
		t.Fatalf("another input: %+v %v", cfg, err)
	}
}

// TestEntryRemembered: a store value read again decodes as it did, for the
// same client only; the caller may change what it gets.
func TestEntryRemembered(t *testing.T) {
	lastEntry.Store(nil)
	c := &Config{ClientID: "Ov23li", ClientType: OAuthApp}
	const v = `{"type":"token","tokenType":"oauth","clientType":"oauth-app","clientId":"Ov23li","token":"gho_1","scopes":["repo"]}`
	a0 := decodeEntry(c, v)
	if a0 == nil || a0.Token != "gho_1" {
		t.Fatalf("decoded %+v", a0)
	}
	a0.Token = "changed"
	if a := decodeEntry(c, v); a == nil || a.Token != "gho_1" || !reflect.DeepEqual(a.Scopes, &[]string{"repo"}) {
		t.Fatalf("read again: %+v", a)
	}
	// Another client's value is no entry, remembered or not.
	for range 2 {
		if a := decodeEntry(&Config{ClientID: "Iv1.other", ClientType: GitHubApp}, v); a != nil {
			t.Fatalf("another client's entry: %+v", a)
		}
	}
	if a := decodeEntry(c, v); a == nil || a.Token != "gho_1" {
		t.Fatalf("back to the first client: %+v", a)
	}
	if a := decodeEntry(c, `{"token":"gho_2"}`); a != nil {
		t.Fatalf("not an authentication: %+v", a)
	}
}

// TestErrorBodyRemembered: an error body read again gives its fields; a
// body with a credential is never remembered.
func TestErrorBodyRemembered(t *testing.T) {
	lastErrorBody.Store(nil)
	const pending = `{"error":"authorization_pending","error_description":"The authorization request is still pending."}`
	for range 2 {
		f, ok := parseJSONFields(pending)
		if !ok || f.str("error") != "authorization_pending" {
			t.Fatalf("pending: %v %v", f, ok)
		}
		if p := lastErrorBody.Load(); p == nil || p.body != pending {
			t.Fatalf("remembered %+v", p)
		}
	}
	for _, secret := range []string{
		`{"access_token":"gho_x","token_type":"bearer","scope":"repo"}`,
		`{"error":"odd","access_token":"gho_x"}`,
		`{"error":"odd","device_code":"dc"}`,
		`{"error":`,
	} {
		f, ok := parseJSONFields(secret)
		want, wantOK := readJSONFields(secret)
		if ok != wantOK || !reflect.DeepEqual(f, want) {
			t.Errorf("%s: %v %v, want %v %v", secret, f, ok, want, wantOK)
		}
		if p := lastErrorBody.Load(); p == nil || p.body != pending {
			t.Errorf("%s: remembered %+v, want the pending body still", secret, p)
		}
	}
	const slow = `{"error":"slow_down","interval":10}`
	if f, ok := parseJSONFields(slow); !ok || f.str("interval") != "10" {
		t.Fatalf("slow_down: %v %v", f, ok)
	}
	if p := lastErrorBody.Load(); p == nil || p.body != slow {
		t.Fatalf("remembered %+v, want slow_down's", p)
	}
}
