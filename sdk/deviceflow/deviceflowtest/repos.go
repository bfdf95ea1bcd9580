package deviceflowtest

import "net/http"

// apiRepo is the part of GitHub's repository object the emulator fills in.
type apiRepo struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Private  bool   `json:"private"`
	HTMLURL  string `json:"html_url"`
	URL      string `json:"url"`
}

// emulatorRepos names the repositories every emulated user owns.
var emulatorRepos = []struct {
	name    string
	private bool
}{{"hello-world", false}, {"dotfiles", false}, {"notes", true}}

// handleRepos answers GET /user/repos (on an api. host) and GET
// /api/v3/user/repos: a fixed list of repositories the token's user owns,
// for examples that list them, or 401 as GET /user does.
func (s *Server) handleRepos(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusNotFound, apiError{Message: "Not Found", DocumentationURL: uriRESTDocs, Status: "404"})
		return
	}
	snap, ok := s.authenticated(w, r, "https://docs.github.com/rest/repos/repos#list-repositories-for-the-authenticated-user")
	if !ok {
		return
	}
	web, api := s.roots(r)
	out := make([]apiRepo, 0, len(emulatorRepos))
	for i, repo := range emulatorRepos {
		full := snap.Login + "/" + repo.name
		out = append(out, apiRepo{
			ID:       snap.UserID*100 + int64(i+1),
			Name:     repo.name,
			FullName: full,
			Private:  repo.private,
			HTMLURL:  web + "/" + full,
			URL:      api + "/repos/" + full,
		})
	}
	w.Header().Set("X-OAuth-Scopes", joinScopes(snap.Scopes, ", "))
	writeJSON(w, http.StatusOK, out)
}
