package deviceflow

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Authentication is octokit's authentication object: what Token and Refresh
// return. Scopes is set for OAuth Apps only; RefreshToken, ExpiresAt and
// RefreshTokenExpiresAt for GitHub Apps with expiring tokens.
//
// Its String and GoString methods mask the tokens, so printing an
// Authentication with fmt never reveals them. JSON encoding gives octokit's
// object, tokens included.
type Authentication struct {
	// Type is always "token" and TokenType always "oauth", as in octokit.
	Type      string
	TokenType string
	// ClientType is "oauth-app" or "github-app"; ClientID is the app's id.
	ClientType string
	ClientID   string
	// Token is the access token. Keep it secret.
	Token string
	// Scopes are the scopes GitHub granted (OAuth Apps only; nil otherwise).
	Scopes []string
	// RefreshToken renews an expiring GitHub App token. The client uses it
	// for you; it is single use.
	RefreshToken string
	// ExpiresAt is when Token stops working; zero for a token that does not
	// expire. RefreshTokenExpiresAt likewise for RefreshToken.
	ExpiresAt             time.Time
	RefreshTokenExpiresAt time.Time
	// IDToken is a generic OpenID Connect server's id_token, when it sent
	// one (the scope included openid). Keep it secret too.
	IDToken string
}

// wireAuthentication is the contract's JSON shape (wit: authentication).
type wireAuthentication struct {
	Type                  string    `json:"type"`
	TokenType             string    `json:"tokenType"`
	ClientType            string    `json:"clientType,omitempty"`
	ClientID              string    `json:"clientId"`
	Token                 string    `json:"token"`
	Scopes                *[]string `json:"scopes,omitempty"`
	RefreshToken          string    `json:"refreshToken,omitempty"`
	ExpiresAt             string    `json:"expiresAt,omitempty"`
	RefreshTokenExpiresAt string    `json:"refreshTokenExpiresAt,omitempty"`
	IDToken               string    `json:"idToken,omitempty"`
}

// isoMillis is JavaScript's Date.toISOString form, which octokit uses.
const isoMillis = "2006-01-02T15:04:05.000Z"

// MarshalJSON encodes octokit's object, with expiresAt in toISOString form.
func (a Authentication) MarshalJSON() ([]byte, error) {
	w := wireAuthentication{
		Type: a.Type, TokenType: a.TokenType, ClientType: a.ClientType, ClientID: a.ClientID,
		Token: a.Token, RefreshToken: a.RefreshToken, IDToken: a.IDToken,
		ExpiresAt: formatTime(a.ExpiresAt), RefreshTokenExpiresAt: formatTime(a.RefreshTokenExpiresAt),
	}
	if a.Scopes != nil {
		s := a.Scopes
		w.Scopes = &s
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes octokit's object.
func (a *Authentication) UnmarshalJSON(b []byte) error {
	var w wireAuthentication
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	exp, err := parseTime("expiresAt", w.ExpiresAt)
	if err != nil {
		return err
	}
	rexp, err := parseTime("refreshTokenExpiresAt", w.RefreshTokenExpiresAt)
	if err != nil {
		return err
	}
	*a = Authentication{
		Type: w.Type, TokenType: w.TokenType, ClientType: w.ClientType, ClientID: w.ClientID,
		Token: w.Token, RefreshToken: w.RefreshToken, ExpiresAt: exp, RefreshTokenExpiresAt: rexp,
		IDToken: w.IDToken,
	}
	if w.Scopes != nil {
		a.Scopes = append([]string{}, (*w.Scopes)...)
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(isoMillis)
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("deviceflow: %s %q is not an RFC 3339 time", field, s)
	}
	return t, nil
}

// OAuth2 returns the token as a golang.org/x/oauth2 token: the access token,
// type "bearer" and the expiry. The refresh token stays with the client,
// which refreshes for you.
func (a *Authentication) OAuth2() *oauth2.Token {
	return &oauth2.Token{AccessToken: a.Token, TokenType: "bearer", Expiry: a.ExpiresAt}
}

// String describes the authentication with its tokens masked.
func (a Authentication) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deviceflow.Authentication{clientType: %s, clientId: %s, token: %s", a.ClientType, a.ClientID, Mask(a.Token))
	if a.Scopes != nil {
		fmt.Fprintf(&b, ", scopes: [%s]", strings.Join(a.Scopes, " "))
	}
	if a.RefreshToken != "" {
		fmt.Fprintf(&b, ", refreshToken: %s", Mask(a.RefreshToken))
	}
	if a.IDToken != "" {
		fmt.Fprintf(&b, ", idToken: %s", Mask(a.IDToken))
	}
	if !a.ExpiresAt.IsZero() {
		fmt.Fprintf(&b, ", expiresAt: %s", formatTime(a.ExpiresAt))
	}
	b.WriteString("}")
	return b.String()
}

// GoString masks the tokens for %#v too.
func (a Authentication) GoString() string { return a.String() }

// Mask hides a token for display: GitHub's prefix (gho_, ghu_, ghr_…) stays
// so a person can tell tokens apart, the rest becomes asterisks.
func Mask(token string) string {
	if token == "" {
		return ""
	}
	prefix := ""
	if i := strings.IndexByte(token, '_'); i > 0 && i <= 4 {
		prefix = token[:i+1]
	}
	return prefix + "********"
}
