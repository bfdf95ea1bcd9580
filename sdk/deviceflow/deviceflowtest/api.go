package deviceflowtest

import (
	"net/http"
	"strconv"
	"strings"
)

// apiError is the body of a REST API error, as GitHub sends it.
type apiError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Status           string `json:"status"`
}

// apiUser is the part of GitHub's user object the emulator fills in.
type apiUser struct {
	Login     string `json:"login"`
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	AvatarURL string `json:"avatar_url"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	Type      string `json:"type"`
	SiteAdmin bool   `json:"site_admin"`
	Name      string `json:"name"`
}

// handleUser answers GET /user (on an api. host) and GET /api/v3/user: the
// user an access token belongs to, with its scopes in X-OAuth-Scopes, or 401
// Bad credentials for a token that is unknown, revoked or expired.
func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusNotFound, apiError{Message: "Not Found", DocumentationURL: uriRESTDocs, Status: "404"})
		return
	}
	snap, ok := s.authenticated(w, r, "https://docs.github.com/rest/users/users#get-the-authenticated-user")
	if !ok {
		return
	}

	web, api := s.roots(r)
	h := w.Header()
	h.Set("X-OAuth-Scopes", joinScopes(snap.Scopes, ", "))
	h.Set("X-Accepted-OAuth-Scopes", "")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	writeJSON(w, http.StatusOK, apiUser{
		Login:     snap.Login,
		ID:        snap.UserID,
		NodeID:    "U_emulator" + strconv.FormatInt(snap.UserID, 10),
		AvatarURL: web + "/" + snap.Login + ".png",
		URL:       api + "/users/" + snap.Login,
		HTMLURL:   web + "/" + snap.Login,
		Type:      "User",
		Name:      snap.Login,
	})
}

// authenticated answers the token's state for an API request, or writes
// GitHub's 401 (docs names the endpoint's documentation for a request with
// no credentials) and reports false.
func (s *Server) authenticated(w http.ResponseWriter, r *http.Request, docs string) (Token, bool) {
	tok, present := credentials(r)
	if !present {
		writeJSON(w, http.StatusUnauthorized, apiError{
			Message:          "Requires authentication",
			DocumentationURL: docs,
			Status:           "401",
		})
		return Token{}, false
	}
	s.mu.Lock()
	t, ok := s.byAccess[tok]
	valid := ok && t.valid(s.cfg.Now())
	var snap Token
	if valid {
		snap = t.snapshot()
	}
	s.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusUnauthorized, apiError{Message: "Bad credentials", DocumentationURL: uriRESTDocs, Status: "401"})
		return Token{}, false
	}
	return snap, true
}

// roots answers the web and API roots as the request reached them.
func (s *Server) roots(r *http.Request) (web, api string) {
	web, api = s.baseURL(r), s.baseURL(r)+"/api/v3"
	if isAPIHost(r.Host) {
		api = web
		web = strings.Replace(web, "://"+r.Host, "://"+r.Host[len("api."):], 1)
	}
	return web, api
}

// credentials reads the token from "Authorization: token X" or
// "Authorization: Bearer X", with any case of the scheme.
func credentials(r *http.Request) (string, bool) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok {
		return "", true
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return strings.TrimSpace(tok), true
	}
	return "", true
}
