package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestLoginTokenStatusLogout(t *testing.T) {
	t.Parallel()
	a := newAccount(t, deviceflowtest.Config{Login: "hubot"})
	r := a.login(t, "--scopes", "repo, read:org")
	a.noToken(t, "login", r)
	if !strings.Contains(r.stderr, "Logged in to "+a.emu.URL()[len("http://"):]+" as hubot") {
		t.Errorf("login did not say who:\n%s", r.stderr)
	}
	issued, _ := a.emu.LastToken()
	if strings.Join(issued.Scopes, " ") != "read:org repo" {
		t.Errorf("scopes asked: %v", issued.Scopes)
	}

	tok := a.run(t, "token", "--scopes", "read:org repo")
	if tok.code != 0 || tok.stdout != issued.AccessToken+"\n" {
		t.Fatalf("token: exit %d, stdout is the issued token: %v\n%s", tok.code, tok.stdout == issued.AccessToken+"\n", tok.stderr)
	}

	st := a.run(t, "status", "--scopes", "repo,read:org")
	a.noToken(t, "status", st)
	for _, want := range []string{"✓ Logged in as hubot", "Scopes: read:org, repo", "gho_********", "never expires", "Store: file " + a.store} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, st.stdout)
		}
	}
	if st.code != 0 {
		t.Errorf("status exit %d", st.code)
	}

	out := a.run(t, "logout", "--scopes", "repo read:org")
	if out.code != 0 || !strings.Contains(out.stderr, "Logged out") {
		t.Errorf("logout: %d %s", out.code, out.stderr)
	}
	after := a.run(t, "token", "--scopes", "repo read:org")
	if after.code != 1 || after.stdout != "" || !strings.Contains(after.stderr, "not logged in") {
		t.Errorf("token after logout: %d %q %q", after.code, after.stdout, after.stderr)
	}
}

func TestTokenWithNothingCachedFailsClearly(t *testing.T) {
	t.Parallel()
	a := newAccount(t, deviceflowtest.Config{})
	r := a.run(t, "token")
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	for _, want := range []string{"not logged in to " + a.emu.URL()[len("http://"):], "Ov23liCLITest", "Run: deviceflow login --base-url " + a.emu.URL()} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("message lacks %q:\n%s", want, r.stderr)
		}
	}
	if st := a.emu.Stats(); st.DeviceCode+st.AccessToken != 0 {
		t.Errorf("token sent requests: %+v", st)
	}
	s := a.run(t, "status")
	if s.code != 1 || !strings.Contains(s.stderr, "Not logged in") {
		t.Errorf("status: %d\n%s", s.code, s.output())
	}
}

// jsonKeys returns the sorted keys of a JSON object.
func jsonKeys(t *testing.T, s string) (map[string]any, []string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not one JSON object: %q", s)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return m, keys
}

func TestJSONOutput(t *testing.T) {
	t.Parallel()
	a := newAccount(t, deviceflowtest.Config{
		Clients:             []deviceflowtest.Client{{ID: "Iv1.cli", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
		AccessTokenLifetime: 2 * time.Hour,
	})
	a.flags = append(a.flags, "--client-id", "Iv1.cli", "--client-type", "github-app")
	r := a.login(t, "--json")
	a.noToken(t, "login --json", r)
	m, keys := jsonKeys(t, r.stdout)
	want := []string{"baseUrl", "clientId", "clientType", "expiresAt", "host", "loggedIn", "login", "refreshTokenExpiresAt", "scopes", "store", "storeLocation"}
	if !reflect.DeepEqual(keys, want) || m["scopes"] != nil || m["clientType"] != "github-app" || m["login"] != deviceflowtest.DefaultLogin {
		t.Errorf("login --json: %s", r.stdout)
	}

	tok := a.run(t, "token", "--json")
	m, keys = jsonKeys(t, tok.stdout)
	issued, _ := a.emu.LastToken()
	if !reflect.DeepEqual(keys, []string{"clientId", "clientType", "expiresAt", "scopes", "token", "tokenType", "type"}) || m["token"] != issued.AccessToken {
		t.Errorf("token --json keys %v", keys)
	}
	if strings.Contains(tok.stdout, issued.RefreshToken) {
		t.Error("token --json printed the refresh token")
	}

	st := a.run(t, "status", "--json")
	a.noToken(t, "status --json", st)
	m, keys = jsonKeys(t, st.stdout)
	if !reflect.DeepEqual(keys, []string{"baseUrl", "clientId", "clientType", "expiresAt", "host", "loggedIn", "login", "refreshTokenExpiresAt", "scopes", "store", "storeLocation", "valid"}) || m["valid"] != true {
		t.Errorf("status --json: %s", st.stdout)
	}

	out := a.run(t, "logout", "--json")
	if m, _ := jsonKeys(t, out.stdout); m["removed"] != true {
		t.Errorf("logout --json: %s", out.stdout)
	}
	none := a.run(t, "token", "--json")
	if m, _ := jsonKeys(t, none.stdout); none.code != 1 || m["error"].(map[string]any)["code"] != "not_found" {
		t.Errorf("token --json without a token: %d %s", none.code, none.stdout)
	}
}

func TestTokenRefreshesAnExpiringToken(t *testing.T) {
	t.Parallel()
	// Tokens that live one minute are always within the refresh margin.
	a := newAccount(t, deviceflowtest.Config{
		Clients:             []deviceflowtest.Client{{ID: "Iv1.cli", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
		AccessTokenLifetime: time.Minute,
	})
	a.flags = append(a.flags, "--client-id", "Iv1.cli", "--client-type", "github-app")
	a.login(t)
	first, _ := a.emu.LastToken()
	r := a.run(t, "token")
	second, _ := a.emu.LastToken()
	if r.code != 0 || second.AccessToken == first.AccessToken || r.stdout != second.AccessToken+"\n" {
		t.Fatalf("token did not print a refreshed token (exit %d): %s", r.code, r.stderr)
	}
	if st := a.emu.Stats(); st.Refreshes != 1 || st.DeviceCode != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestCtrlCDuringLoginLeavesTheStoreAlone(t *testing.T) {
	t.Parallel()
	a := newAccount(t, deviceflowtest.Config{})
	a.login(t)
	dir := filepath.Dir(a.store)
	before := storeFiles(t, dir)

	s := a.start(t, "login", "--no-browser")
	s.code(t)
	polls := a.emu.Stats().AccessToken
	waitFor(t, "a poll", func() bool { return a.emu.Stats().AccessToken > polls })
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := s.wait(t)
	if r.code != 130 {
		t.Fatalf("exit %d after Ctrl-C, want 130:\n%s", r.code, r.output())
	}
	if !strings.Contains(r.stderr, "cancelled") {
		t.Errorf("no word of cancelling:\n%s", r.stderr)
	}
	if after := storeFiles(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("the store changed:\n%v\nnow\n%v", before, after)
	}
}

// storeFiles describes every file under dir, the store's: each one's
// content and modification time, so that a rewrite shows even when the
// content is the same. Lock and lease files are the stores' bookkeeping
// (a login takes a lease on its entry while it runs): only their names
// count.
func storeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".lock") || strings.HasSuffix(p, ".lease") {
			out[p] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = string(b) + "@" + info.ModTime().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCancelOnThePage(t *testing.T) {
	t.Parallel()
	a := newAccount(t, deviceflowtest.Config{})
	s := a.start(t, "login", "--no-browser")
	code, page := s.code(t)
	press(t, page, code, deviceflowtest.ActionCancel)
	r := s.wait(t)
	if r.code != 1 || !strings.Contains(r.stderr, "access_denied") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(a.store); err == nil {
		if b, _ := os.ReadFile(a.store); strings.Contains(string(b), "gho_") {
			t.Error("a token was stored")
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"token"}, 2, "--client-id is required"},
		{[]string{"token", "--client-id", "x", "--client-type", "app"}, 2, "--client-type must be"},
		{[]string{"token", "--client-id", "x", "--store", "shoebox"}, 2, `unknown store "shoebox": --store must be one of keyring, file, encrypted, memory`},
		{[]string{"token", "--client-id", "x", "--store", "s3"}, 2, `unknown store "s3"`},
		{[]string{"token", "--client-id", "x", "--store", "memory", "--base-url", "http://example.com"}, 2, `bad --base-url "http://example.com": http is allowed only for loopback`},
		{[]string{"login", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"status", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"login", "-h"}, 0, "-no-browser"},
	} {
		r := runBinary(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.output(), tc.want) {
			t.Errorf("deviceflow %v: exit %d, want %d with %q:\n%s", tc.args, r.code, tc.code, tc.want, r.output())
		}
	}
}
