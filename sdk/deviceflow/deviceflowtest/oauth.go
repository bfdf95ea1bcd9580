package deviceflowtest

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// handleDeviceCode answers POST /login/device/code: a new device code and
// user code for the client, or why there is none.
func (s *Server) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	v, consistent := params(r)
	client, known := s.cfg.lookupClient(v.Get("client_id"))
	if !consistent || !known || !secretMatches(client, v) {
		s.log("device code refused", "reason", errIncorrectClient.code, "client_id", v.Get("client_id"))
		writeOAuth(w, r, s.cfg.DeviceCodeErrorStatus, errIncorrectClient.fields())
		return
	}
	if client.DeviceFlowDisabled {
		s.log("device code refused", "reason", errDeviceFlowDisabled.code, "client_id", client.ID)
		writeOAuth(w, r, s.cfg.DeviceCodeErrorStatus, errDeviceFlowDisabled.fields())
		return
	}
	var scopes []string
	if client.Type == OAuthApp {
		scopes = parseScopes(v.Get("scope"))
	}

	s.mu.Lock()
	g := s.issueGrant(client, scopes, s.cfg.Now())
	snap := g.snapshot(g.IssuedAt)
	s.mu.Unlock()
	s.log("device code issued", "user_code", snap.UserCode, "client_id", client.ID, "scope", joinScopes(scopes, " "))

	page := s.baseURL(r) + "/login/device"
	fs := []field{
		{"device_code", snap.DeviceCode},
		{"user_code", snap.UserCode},
		{"verification_uri", page},
	}
	if s.cfg.VerificationURIComplete {
		fs = append(fs, field{"verification_uri_complete", page + "?user_code=" + url.QueryEscape(snap.UserCode)})
	}
	fs = append(fs,
		field{"expires_in", seconds(s.cfg.ExpiresIn)},
		field{"interval", seconds(snap.Interval)},
	)
	writeOAuth(w, r, http.StatusOK, fs)
}

// handleAccessToken answers POST /login/oauth/access_token for the
// device-code and refresh-token grants. Every answer, errors included, is
// HTTP 200, as GitHub's.
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	v, consistent := params(r)
	client, known := s.cfg.lookupClient(v.Get("client_id"))
	var fs []field
	switch {
	case !consistent || !known || !secretMatches(client, v):
		fs = errIncorrectClient.fields()
	case v.Get("grant_type") == grantDeviceCode:
		fs = s.exchangeDeviceCode(client, v.Get("device_code"))
	case v.Get("grant_type") == grantRefresh:
		fs = s.refresh(client, v.Get("refresh_token"))
	default:
		fs = errUnsupportedGrant.fields()
	}
	writeOAuth(w, r, http.StatusOK, fs)
}

// exchangeDeviceCode is one poll of the device-code grant.
func (s *Server) exchangeDeviceCode(client Client, deviceCode string) []field {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	g, ok := s.byDevice[deviceCode]
	if !ok {
		return errIncorrectDevice.fields()
	}
	if g.ClientID != client.ID {
		return errIncorrectClient.fields()
	}
	g.Polls++
	switch g.status(now) {
	case StatusUsed:
		return errIncorrectDevice.fields()
	case StatusExpired:
		return errExpiredToken.fields()
	case StatusDenied:
		return errAccessDenied.fields()
	}

	// Polled sooner than the interval allows: the interval grows by five
	// seconds for this code, for good.
	if now.Sub(g.lastPoll)+s.cfg.PollTolerance < g.Interval {
		g.lastPoll = now
		g.Interval += 5 * time.Second
		g.SlowDowns++
		s.stats.SlowDowns++
		s.log("slow_down", "user_code", g.UserCode, "client_id", g.ClientID, "interval", g.Interval.String())
		return errSlowDown.fields(field{"interval", seconds(g.Interval)})
	}
	g.lastPoll = now
	g.spaced++

	if g.Status == StatusPending && s.cfg.AutoApprove > 0 && g.spaced >= s.cfg.AutoApprove {
		g.Status = StatusApproved
		s.log("device code approved automatically", "user_code", g.UserCode, "client_id", g.ClientID)
	}
	if g.Status != StatusApproved {
		return errPending.fields()
	}
	g.Status = StatusUsed
	t := s.issueToken(g.client, g.Scopes, now)
	s.log("token issued", "user_code", g.UserCode, "client_id", g.ClientID, "login", t.Login, "scope", joinScopes(t.Scopes, " "))
	return s.tokenFields(t)
}

// refresh is the refresh-token grant: a new token pair for a refresh token
// that has not been used, has not expired and belongs to this client.
func (s *Server) refresh(client Client, refreshToken string) []field {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	old, ok := s.byRefresh[refreshToken]
	if !ok || !old.refreshable(now) || old.ClientID != client.ID {
		s.log("refresh refused", "reason", errBadRefreshToken.code, "client_id", client.ID)
		return errBadRefreshToken.fields()
	}
	old.refreshUsed = true
	old.Revoked = true
	client.Login, client.UserID = old.Login, old.UserID
	t := s.issueToken(client, old.Scopes, now)
	s.stats.Refreshes++
	s.log("token refreshed", "client_id", client.ID, "login", t.Login)
	return s.tokenFields(t)
}

// secretMatches says whether the request's client_secret, if it sent one,
// is the client's. The device flow needs no secret, so none is fine.
func secretMatches(c Client, v url.Values) bool {
	got := v.Get("client_secret")
	return got == "" || c.Secret == "" || got == c.Secret
}

// parseScopes splits a scope parameter on spaces and commas, and returns
// the scopes sorted without duplicates.
func parseScopes(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, sc := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	sort.Strings(out)
	return out
}

// joinScopes joins scopes with sep: "," in token answers, ", " in the
// X-OAuth-Scopes header.
func joinScopes(scopes []string, sep string) string {
	return strings.Join(scopes, sep)
}
