package deviceflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// The generic profile end to end: from an issuer URL alone (an issuer with
// a path), the plugin discovers the endpoints, signs in with a client
// secret, keeps the id_token, checks the token at the userinfo endpoint
// and revokes it on logout.
func TestGenericProfileFromIssuerAlone(t *testing.T) {
	srv := startEmulator(t, deviceflowtest.Config{
		Profile:     deviceflowtest.ProfileGeneric,
		AutoApprove: 1,
		Clients:     []deviceflowtest.Client{{ID: "cli", Secret: "s3cr3t-value"}},
	})
	var events []string
	c, err := deviceflow.New(deviceflow.Config{
		Issuer:         srv.IssuerURL(),
		ClientID:       "cli",
		ClientSecret:   "s3cr3t-value",
		Scopes:         []string{"openid", "profile"},
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil },
		OnEvent: func(_ context.Context, e deviceflow.Event) error {
			events = append(events, string(e.JSON))
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	a, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.TokenType != "bearer" || a.ClientType != "" || a.IDToken == "" || a.ExpiresAt.IsZero() || a.RefreshToken != "" {
		t.Errorf("authentication %+v: want a bearer token with an id_token, an expiry and no refresh token", a)
	}
	if strings.Join(a.Scopes, " ") != "openid profile" {
		t.Errorf("scopes %v: want those requested (the server sent none)", a.Scopes)
	}
	raw, _ := json.Marshal(a)
	if strings.Contains(string(raw), "clientType") {
		t.Errorf("neutral shape carries a client type: %s", raw)
	}
	for _, e := range events {
		for _, secret := range []string{a.Token, a.IDToken, "s3cr3t-value"} {
			if strings.Contains(e, secret) {
				t.Errorf("event %s carries a secret", e)
			}
		}
	}
	again, err := c.Token(ctx)
	if err != nil || again.Token != a.Token {
		t.Fatalf("second Token: %v, %v: want the cached token", again, err)
	}
	chk, err := c.Check(ctx)
	if err != nil || !chk.Valid || chk.Login != deviceflowtest.DefaultLogin || chk.Sub == "" {
		t.Fatalf("Check: %+v, %v", chk, err)
	}
	removed, err := c.Logout(ctx)
	if err != nil || !removed {
		t.Fatalf("Logout: %v, %v", removed, err)
	}
	if tok, ok := srv.LookupToken(a.Token); !ok || !tok.Revoked {
		t.Errorf("the token was not revoked at the server: %+v", tok)
	}
	if st := srv.Stats(); st.DeviceCode != 1 {
		t.Errorf("%d device codes, want 1", st.DeviceCode)
	}
}

// A wrong client secret is incorrect_client_credentials, in the server's
// words and never with the secret.
func TestGenericProfileWrongSecret(t *testing.T) {
	srv := startEmulator(t, deviceflowtest.Config{
		Profile: deviceflowtest.ProfileGeneric,
		Clients: []deviceflowtest.Client{{ID: "cli", Secret: "right-secret"}},
	})
	c, err := deviceflow.New(deviceflow.Config{Issuer: srv.IssuerURL(), ClientID: "cli", ClientSecret: "wrong-secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Token(context.Background())
	if !errors.Is(err, deviceflow.ErrIncorrectClientCredentials) || strings.Contains(err.Error(), "wrong-secret-1") {
		t.Fatalf("err = %v", err)
	}
}

// Explicit endpoints, RFC 8414 discovery's absence notwithstanding, and
// refresh tokens rotated by the server.
func TestGenericProfileEndpointsAndRefresh(t *testing.T) {
	srv := startEmulator(t, deviceflowtest.Config{
		Profile:     deviceflowtest.ProfileGeneric,
		AutoApprove: 1,
		Clients:     []deviceflowtest.Client{{ID: "cli", ExpiringTokens: true}},
	})
	iss := srv.IssuerURL()
	c, err := deviceflow.New(deviceflow.Config{
		DeviceEndpoint: iss + "/device", TokenEndpoint: iss + "/token",
		ClientID:       "cli",
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	a, err := c.Token(ctx)
	if err != nil || a.RefreshToken == "" {
		t.Fatalf("Token: %v, %v", a, err)
	}
	b, err := c.Refresh(ctx)
	if err != nil || b.Token == a.Token || b.RefreshToken == "" || b.RefreshToken == a.RefreshToken {
		t.Fatalf("Refresh: %v, %v: want a new, rotated pair", b, err)
	}
	if _, err := c.Check(ctx); !errors.Is(err, deviceflow.ErrUnsupported) {
		t.Fatalf("Check without a userinfo endpoint: %v, want unsupported", err)
	}
}
