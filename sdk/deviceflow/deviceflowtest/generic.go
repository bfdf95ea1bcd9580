package deviceflowtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The generic profile: an RFC 8628 authorization server in the manner of
// Keycloak, Okta or Dex, rather than GitHub. Everything lives under an
// issuer with a path (Config.IssuerPath, "/realms/emulator" by default):
//
//	GET  /realms/emulator/.well-known/openid-configuration   OpenID Connect Discovery
//	GET  /.well-known/oauth-authorization-server/realms/emulator   RFC 8414
//	POST /realms/emulator/device      device authorization (RFC 8628 3.1)
//	POST /realms/emulator/token       device_code and refresh_token grants
//	GET  /realms/emulator/userinfo    OpenID Connect userinfo
//	POST /realms/emulator/revoke      RFC 7009 revocation
//
// Requests are form-encoded (JSON is read too); every answer is JSON;
// errors are RFC 6749 section 5.2's, as HTTP 400 (401 for invalid_client).
// A client's Secret, when set, must be presented (HTTP Basic or
// client_secret in the body) to the token and revocation endpoints; the
// device authorization endpoint takes a request without it, as Google's. Access tokens expire after
// AccessTokenLifetime; only clients with ExpiringTokens get refresh
// tokens, rotated on every refresh. The scope is left out of token answers
// (RFC 6749 section 5.1: it is the one requested); an id_token is added
// when the scope includes openid.

// ProfileGeneric selects the generic profile (Config.Profile).
const ProfileGeneric = "generic"

// DefaultIssuerPath is the generic profile's issuer path.
const DefaultIssuerPath = "/realms/emulator"

// IssuerURL is the generic profile's issuer: URL() + the issuer path.
func (s *Server) IssuerURL() string { return s.URL() + s.cfg.IssuerPath }

// routeGeneric serves the generic profile's endpoints; it reports false for
// a path that is not one of them (the device page is shared).
func (s *Server) routeGeneric(w http.ResponseWriter, r *http.Request, path string) bool {
	iss := s.cfg.IssuerPath
	switch path {
	case iss + "/.well-known/openid-configuration":
		if s.cfg.NoOpenIDConfiguration {
			http.NotFound(w, r)
			return true
		}
		s.handleMetadata(w, r)
	case "/.well-known/oauth-authorization-server" + iss:
		s.handleMetadata(w, r)
	case iss + "/device":
		s.count(func(st *Stats) { st.DeviceCode++ })
		if allow(w, r, http.MethodPost) {
			s.handleGenericDevice(w, r)
		}
	case iss + "/token":
		s.count(func(st *Stats) { st.AccessToken++ })
		if allow(w, r, http.MethodPost) {
			s.handleGenericToken(w, r)
		}
	case iss + "/userinfo":
		s.count(func(st *Stats) { st.User++ })
		s.handleUserinfo(w, r)
	case iss + "/revoke":
		if allow(w, r, http.MethodPost) {
			s.handleRevoke(w, r)
		}
	default:
		return false
	}
	return true
}

// handleMetadata answers the discovery document (both places).
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	iss := s.baseURL(r) + s.cfg.IssuerPath
	w.Header().Set("Cache-Control", "max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"device_authorization_endpoint":         iss + "/device",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"revocation_endpoint":                   iss + "/revoke",
		"grant_types_supported":                 []string{grantDeviceCode, grantRefresh},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"none"},
	})
}

// rfcError is an RFC 6749 section 5.2 error answer.
func rfcError(w http.ResponseWriter, code, description string) {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="emulator"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// genericClient authenticates a request's client: known, and holding its
// secret when it has one. The device authorization endpoint, as Google's,
// takes a request without the secret (secretOptional); a secret presented
// must be the right one everywhere.
func (s *Server) genericClient(v url.Values, consistent, secretOptional bool) (Client, bool) {
	client, known := s.cfg.lookupClient(v.Get("client_id"))
	if !consistent || !known {
		return Client{}, false
	}
	got := v.Get("client_secret")
	if client.Secret != "" && got != client.Secret && !(secretOptional && got == "") {
		return Client{}, false
	}
	return client, true
}

// handleGenericDevice is RFC 8628 section 3.1's device authorization.
func (s *Server) handleGenericDevice(w http.ResponseWriter, r *http.Request) {
	v, consistent := params(r)
	client, ok := s.genericClient(v, consistent, true)
	if !ok {
		s.log("device code refused", "reason", "invalid_client", "client_id", v.Get("client_id"))
		rfcError(w, "invalid_client", "Client authentication failed.")
		return
	}
	if client.DeviceFlowDisabled {
		rfcError(w, "unauthorized_client", "The client is not allowed to use the device authorization grant.")
		return
	}
	scopes := strings.Fields(v.Get("scope"))
	s.mu.Lock()
	g := s.issueGrant(client, scopes, s.cfg.Now())
	snap := g.snapshot(g.IssuedAt)
	s.mu.Unlock()
	s.log("device code issued", "user_code", snap.UserCode, "client_id", client.ID, "scope", strings.Join(scopes, " "))
	page := s.baseURL(r) + "/login/device"
	out := map[string]any{
		"device_code":               snap.DeviceCode,
		"user_code":                 snap.UserCode,
		"verification_uri":          page,
		"verification_uri_complete": page + "?user_code=" + url.QueryEscape(snap.UserCode),
		"expires_in":                seconds(s.cfg.ExpiresIn),
		"interval":                  seconds(snap.Interval),
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// handleGenericToken answers the device_code and refresh_token grants.
func (s *Server) handleGenericToken(w http.ResponseWriter, r *http.Request) {
	v, consistent := params(r)
	client, ok := s.genericClient(v, consistent, false)
	if !ok {
		rfcError(w, "invalid_client", "Client authentication failed.")
		return
	}
	var fs []field
	switch v.Get("grant_type") {
	case grantDeviceCode:
		fs = s.exchangeDeviceCode(client, v.Get("device_code"))
	case grantRefresh:
		fs = s.refresh(client, v.Get("refresh_token"))
	default:
		rfcError(w, "unsupported_grant_type", "The grant type is not supported.")
		return
	}
	if len(fs) > 0 && fs[0].key == "error" {
		code := fs[0].value.(string)
		switch code {
		case "incorrect_device_code", "bad_refresh_token":
			code = "invalid_grant"
		case "incorrect_client_credentials":
			code = "invalid_client"
		}
		desc := ""
		if len(fs) > 1 {
			desc, _ = fs[1].value.(string)
		}
		if code == "slow_down" {
			// The new interval is the client's to work out (RFC 8628 3.5).
			desc = "Polling too fast."
		}
		rfcError(w, code, desc)
		return
	}
	s.mu.Lock()
	t := s.byAccess[fs[0].value.(string)].snapshot()
	s.mu.Unlock()
	out := map[string]any{
		"access_token": t.AccessToken,
		"token_type":   "Bearer",
		"expires_in":   seconds(s.cfg.AccessTokenLifetime),
	}
	if t.RefreshToken != "" {
		out["refresh_token"] = t.RefreshToken
		out["refresh_expires_in"] = seconds(s.cfg.RefreshTokenLifetime)
	}
	for _, sc := range t.Scopes {
		if sc == "openid" {
			out["id_token"] = s.idToken(r, t)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// idToken is an unsigned ("alg":"none") OpenID Connect ID token for t: an
// emulator's, for clients that keep it, not for verification.
func (s *Server) idToken(r *http.Request, t Token) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss":                s.baseURL(r) + s.cfg.IssuerPath,
		"sub":                strconv.FormatInt(t.UserID, 10),
		"aud":                t.ClientID,
		"iat":                t.IssuedAt.Unix(),
		"exp":                t.IssuedAt.Add(time.Hour).Unix(),
		"preferred_username": t.Login,
	})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "."
}

// handleUserinfo answers OpenID Connect's userinfo for a bearer token.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := credentials(r)
	s.mu.Lock()
	t, ok := s.byAccess[tok]
	valid := ok && t.valid(s.cfg.Now())
	var snap Token
	if valid {
		snap = t.snapshot()
	}
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "The access token is invalid or expired."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub":                strconv.FormatInt(snap.UserID, 10),
		"preferred_username": snap.Login,
		"name":               snap.Login,
	})
}

// handleRevoke is RFC 7009's revocation: 200 whether or not the token was
// known, invalid_client for a client that fails authentication.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	v, consistent := params(r)
	if _, ok := s.genericClient(v, consistent, false); !ok {
		rfcError(w, "invalid_client", "Client authentication failed.")
		return
	}
	s.Revoke(v.Get("token"))
	w.WriteHeader(http.StatusOK)
}
