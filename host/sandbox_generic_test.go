package host

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// An issuer whose metadata names endpoints on another origin, as Google's
// does (accounts.google.com names oauth2.googleapis.com): the host starts
// with the issuer's origin alone and allows the other one only once the
// plugin names it in its endpoints event; a host whose allow-list is given
// outright never reaches it.
func TestSandboxDiscoveredOrigins(t *testing.T) {
	t.Parallel()
	idp := startGitHub(t, deviceflowtest.Config{Profile: deviceflowtest.ProfileGeneric, AutoApprove: 1}, nil)
	endpoints := idp.URL + deviceflowtest.DefaultIssuerPath
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"issuer":                        "http://" + r.Host + "/realms/x",
			"device_authorization_endpoint": endpoints + "/device",
			"token_endpoint":                endpoints + "/token",
		})
	}))
	t.Cleanup(meta.Close)
	issuer := meta.URL + "/realms/x"
	in, _ := json.Marshal(map[string]any{"clientId": "cli", "issuer": issuer, "scopes": "openid"})

	var events []string
	h := testHost(t, idp, func(o *Options) {
		o.BaseURL, o.Server = "", flow.Server{Issuer: issuer}
		o.OnEvent = func(_ context.Context, e Event) error { events = append(events, e.Type); return nil }
	})
	if h.allowed[hostOf(idp.URL)] {
		t.Fatal("the endpoints' origin is allowed before discovery")
	}
	out, err := h.Call(context.Background(), "authenticate", in)
	if err != nil {
		t.Fatalf("authenticate: %v (events %v)", err, events)
	}
	var a struct{ TokenType string }
	if json.Unmarshal(out, &a) != nil || a.TokenType != "bearer" || len(events) == 0 || events[0] != "endpoints" {
		t.Errorf("result %s, events %v", out, events)
	}

	strict := testHost(t, idp, func(o *Options) {
		o.BaseURL, o.Server, o.AllowedHosts = "", flow.Server{Issuer: issuer}, []string{hostOf(meta.URL)}
	})
	before := idp.Emu.Stats().DeviceCode
	_, err = strict.Call(context.Background(), "authenticate", in)
	wantCode(t, err, "http_denied")
	if idp.Emu.Stats().DeviceCode != before {
		t.Error("a host with its own allow-list reached the discovered origin")
	}
}

func hostOf(rawURL string) string {
	return rawURL[len("http://"):]
}
