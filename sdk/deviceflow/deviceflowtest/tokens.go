package deviceflowtest

import (
	"crypto/rand"
	"time"
)

// Token is a snapshot of one access token the emulator issued. It holds the
// token itself, so tests can compare it with what a client stored; it is
// never logged.
type Token struct {
	AccessToken string
	// RefreshToken is empty unless the client has expiring tokens.
	RefreshToken string
	ClientID     string
	ClientType   ClientType
	Login        string
	UserID       int64
	// Scopes are the scopes granted (none for a GitHub App).
	Scopes   []string
	IssuedAt time.Time
	// ExpiresAt is zero for a token that never expires.
	ExpiresAt time.Time
	// RefreshTokenExpiresAt is zero when there is no refresh token.
	RefreshTokenExpiresAt time.Time
	// Revoked is set by Revoke, and when the token's refresh token is used.
	Revoked bool
}

// token is the emulator's record of an access token and its refresh token.
type token struct {
	Token
	refreshUsed bool
}

func (t *token) snapshot() Token {
	c := t.Token
	c.Scopes = append([]string(nil), t.Scopes...)
	return c
}

// valid says whether the access token works at now.
func (t *token) valid(now time.Time) bool {
	return !t.Revoked && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// refreshable says whether the refresh token works at now.
func (t *token) refreshable(now time.Time) bool {
	return t.RefreshToken != "" && !t.refreshUsed && now.Before(t.RefreshTokenExpiresAt)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomToken returns prefix followed by n random base-62 characters.
func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		// The modulo leans slightly towards the first characters, which
		// does not matter for an emulator's tokens.
		b[i] = base62[int(b[i])%len(base62)]
	}
	return prefix + string(b)
}

// issueToken records a new access token (and refresh token, for a GitHub
// App with expiring tokens) for client. The caller holds s.mu.
func (s *Server) issueToken(client Client, scopes []string, now time.Time) *token {
	prefix := "gho_"
	if client.Type == GitHubApp {
		prefix = "ghu_"
		scopes = nil
	}
	t := &token{Token: Token{
		AccessToken: randomToken(prefix, 36),
		ClientID:    client.ID,
		ClientType:  client.Type,
		Login:       client.Login,
		UserID:      client.UserID,
		Scopes:      scopes,
		IssuedAt:    now,
	}}
	refreshPrefix := "ghr_"
	if s.cfg.Profile == ProfileGeneric {
		// Opaque tokens that expire; refresh tokens only for clients
		// with ExpiringTokens (generic.go).
		t.AccessToken = randomToken("at.", 36)
		t.ExpiresAt = now.Add(s.cfg.AccessTokenLifetime)
		refreshPrefix = "rt."
	}
	if client.ExpiringTokens {
		t.ExpiresAt = now.Add(s.cfg.AccessTokenLifetime)
		t.RefreshToken = randomToken(refreshPrefix, 76)
		t.RefreshTokenExpiresAt = now.Add(s.cfg.RefreshTokenLifetime)
		s.byRefresh[t.RefreshToken] = t
	}
	s.tokens = append(s.tokens, t)
	s.byAccess[t.AccessToken] = t
	s.stats.TokensIssued++
	return t
}

// tokenFields is the token endpoint's answer for t, in GitHub's order.
func (s *Server) tokenFields(t *token) []field {
	fs := []field{{"access_token", t.AccessToken}}
	if t.RefreshToken != "" {
		fs = append(fs,
			field{"expires_in", seconds(s.cfg.AccessTokenLifetime)},
			field{"refresh_token", t.RefreshToken},
			field{"refresh_token_expires_in", seconds(s.cfg.RefreshTokenLifetime)},
		)
	}
	return append(fs,
		field{"token_type", "bearer"},
		field{"scope", joinScopes(t.Scopes, ",")},
	)
}

// Revoke makes an access token or a refresh token stop working, as deleting
// an app authorization on GitHub would. Revoking a refresh token also
// revokes its access token. It reports whether the token was known.
func (s *Server) Revoke(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.byAccess[tok]; ok {
		t.Revoked = true
		s.log("token revoked", "client_id", t.ClientID, "login", t.Login)
		return true
	}
	if t, ok := s.byRefresh[tok]; ok {
		t.Revoked = true
		t.refreshUsed = true
		s.log("refresh token revoked", "client_id", t.ClientID, "login", t.Login)
		return true
	}
	return false
}

// LookupToken returns what the emulator knows of an access token.
func (s *Server) LookupToken(accessToken string) (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.byAccess[accessToken]
	if !ok {
		return Token{}, false
	}
	return t.snapshot(), true
}

// LastToken returns the access token issued most recently, by a device-code
// exchange or a refresh.
func (s *Server) LastToken() (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) == 0 {
		return Token{}, false
	}
	return s.tokens[len(s.tokens)-1].snapshot(), true
}

// Tokens returns every access token issued so far, oldest first.
func (s *Server) Tokens() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Token, 0, len(s.tokens))
	for _, t := range s.tokens {
		out = append(out, t.snapshot())
	}
	return out
}
