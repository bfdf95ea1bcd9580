package deviceflowtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestReposAPI(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now, Clients: []deviceflowtest.Client{{ID: "Ov23.a", Login: "hubot", UserID: 7}}})
	tok := approvedFlow(t, s, clock, "Ov23.a", "repo").get("access_token")
	for _, tc := range []struct{ host, path, auth string }{
		{"", "/api/v3/user/repos", "token " + tok},
		{"api.github.com", "/user/repos", "Bearer " + tok},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+tc.path, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		req.Header.Set("Authorization", tc.auth)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var repos []struct {
			Full    string `json:"full_name"`
			Private bool   `json:"private"`
		}
		if res.StatusCode != 200 || json.Unmarshal(body, &repos) != nil || len(repos) != 3 || repos[0].Full != "hubot/hello-world" || !repos[2].Private {
			t.Errorf("%s%s: %d %s", tc.host, tc.path, res.StatusCode, body)
		}
	}
	for _, auth := range []string{"", "token gho_nope"} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v3/user/repos", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if a := do(t, nil, req); a.status != 401 {
			t.Errorf("auth %q: %d, want 401", auth, a.status)
		}
	}
}
