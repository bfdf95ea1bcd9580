package flow

import (
	"encoding/json"
	"time"
)

// Authentication is octokit's authentication object: the result of
// authenticate, refresh and a completed poll, and the value kept in the
// store. Scopes is set for OAuth Apps only; RefreshToken, ExpiresAt and
// RefreshTokenExpiresAt for GitHub Apps with expiring tokens.
type Authentication struct {
	Type                  string    `json:"type"`
	TokenType             string    `json:"tokenType"`
	ClientType            string    `json:"clientType"`
	ClientID              string    `json:"clientId"`
	Token                 string    `json:"token"`
	Scopes                *[]string `json:"scopes,omitempty"`
	RefreshToken          string    `json:"refreshToken,omitempty"`
	ExpiresAt             string    `json:"expiresAt,omitempty"`
	RefreshTokenExpiresAt string    `json:"refreshTokenExpiresAt,omitempty"`
}

// RefreshMarginMs is how long before expiresAt a token counts as expiring and
// is refreshed instead of handed out (rule 7).
const RefreshMarginMs = 5 * 60 * 1000

// maxDateSkewMs bounds how far a server Date header may stand from the host's
// clock to be believed (rule 7).
const maxDateSkewMs = 24 * 60 * 60 * 1000

// isoMillis is the timestamp form of JavaScript's Date.toISOString, which
// octokit uses for expiresAt.
const isoMillis = "2006-01-02T15:04:05.000Z"

func formatTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(isoMillis) }

func parseTime(s string) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// clockBase picks the instant expiry is measured from (rule 7): the server's
// Date header when it parses and lies within a day of the host's clock,
// otherwise the host's clock.
func clockBase(resp *Response, now int64) int64 {
	d := resp.Header("date")
	if d == "" {
		return now
	}
	t, ok := parseHTTPDate(d)
	if !ok {
		return now
	}
	ms := t.UnixMilli()
	if ms-now > maxDateSkewMs || now-ms > maxDateSkewMs {
		return now
	}
	return ms
}

// tokenFromResponse builds the authentication object from a successful token
// response. It fails with invalid_response when the fields are malformed.
func tokenFromResponse(c *Config, f fields, resp *Response, now int64) (*Authentication, *Error) {
	tok := f.str("access_token")
	if tok == "" {
		return nil, badResponse(resp, "the token response has no access_token")
	}
	a := &Authentication{Type: "token", TokenType: "oauth", ClientType: c.ClientType, ClientID: c.ClientID, Token: tok}
	if c.ClientType == OAuthApp {
		// GitHub answers the granted scopes, comma-separated (rule 6).
		s := NormalizeScopes([]string{f.str("scope")})
		a.Scopes = &s
		return a, nil
	}
	if !f.has("expires_in") && !f.has("refresh_token") {
		return a, nil
	}
	base := clockBase(resp, now)
	exp, ok1 := f.seconds("expires_in", -1)
	rexp, ok2 := f.seconds("refresh_token_expires_in", -1)
	if !ok1 || !ok2 || exp < 0 || f.str("refresh_token") == "" {
		return nil, badResponse(resp, "the expiring token response lacks a valid expires_in or refresh_token")
	}
	a.RefreshToken = f.str("refresh_token")
	a.ExpiresAt = formatTime(base + exp)
	if rexp >= 0 {
		a.RefreshTokenExpiresAt = formatTime(base + rexp)
	}
	return a, nil
}

// freshness says what a cached authentication is good for at time now.
type freshness int

const (
	fresh       freshness = iota // hand it out
	refreshable                  // expiring, with a live refresh token
	stale                        // neither: a new device flow is needed
)

func (a *Authentication) freshness(now int64) freshness {
	if a.ExpiresAt == "" {
		return fresh
	}
	exp, ok := parseTime(a.ExpiresAt)
	if ok && now < exp-RefreshMarginMs {
		return fresh
	}
	if a.RefreshToken == "" {
		return stale
	}
	if a.RefreshTokenExpiresAt != "" {
		if rexp, ok := parseTime(a.RefreshTokenExpiresAt); ok && now >= rexp {
			return stale
		}
	}
	return refreshable
}

// decodeCached reads a store value. A value that is not an authentication
// object for this client counts as absent.
func decodeCached(c *Config, value string) *Authentication {
	var a Authentication
	if err := json.Unmarshal([]byte(value), &a); err != nil {
		return nil
	}
	if a.Token == "" || a.ClientID != c.ClientID || a.ClientType != c.ClientType {
		return nil
	}
	return &a
}

func (a *Authentication) json() []byte {
	b, _ := json.Marshal(a)
	return b
}

// httpDateLayouts are the three date forms HTTP/1.1 allows (RFC 9110
// section 5.6.7), preferred form first.
var httpDateLayouts = []string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
}

func parseHTTPDate(s string) (time.Time, bool) {
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
