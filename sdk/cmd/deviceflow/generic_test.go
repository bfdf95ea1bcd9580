package main_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// login --issuer URL alone: the command signs in to the emulator's generic
// profile (discovery under an issuer path, a client secret from the
// environment), then token, status and logout find the same sign-in.
func TestGenericLoginFromIssuer(t *testing.T) {
	t.Parallel()
	a := newAccount(t, deviceflowtest.Config{
		Profile: deviceflowtest.ProfileGeneric, Login: "keycloak-user",
		Clients: []deviceflowtest.Client{{ID: "cli-generic", Secret: "cli-secret-value"}},
	})
	a.flags = []string{"--issuer", a.emu.IssuerURL(), "--client-id", "cli-generic", "--store", "file", "--store-path", filepath.Join(t.TempDir(), "tokens.json")}
	a.env = map[string]string{"DEVICEFLOW_CLIENT_SECRET": "cli-secret-value"}
	r := a.login(t, "--scopes", "openid profile")
	a.noToken(t, "login", r)
	if strings.Contains(r.output(), "cli-secret-value") {
		t.Errorf("login printed the client secret")
	}
	issued, ok := a.emu.LastToken()
	if !ok {
		t.Fatal("no token issued")
	}
	tok := a.run(t, "token", "--scopes", "profile openid")
	if tok.code != 0 || tok.stdout != issued.AccessToken+"\n" {
		t.Fatalf("token: exit %d\n%s", tok.code, tok.stderr)
	}
	st := a.run(t, "status", "--scopes", "openid,profile")
	a.noToken(t, "status", st)
	if st.code != 0 || !strings.Contains(st.stdout, "keycloak-user") {
		t.Errorf("status: exit %d\n%s", st.code, st.output())
	}
	out := a.run(t, "logout", "--scopes", "openid profile")
	if out.code != 0 {
		t.Errorf("logout: %d %s", out.code, out.stderr)
	}
	if tk, _ := a.emu.LookupToken(issued.AccessToken); !tk.Revoked {
		t.Errorf("logout did not revoke the token")
	}
}
