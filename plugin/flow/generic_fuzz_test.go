package flow_test

import (
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

// genericHost answers a generic server's requests: the metadata document,
// the device authorization endpoint and the token endpoint.
type genericHost struct {
	scriptHost
	discovery *flow.Response
}

func (h *genericHost) HTTP(req *flow.Request) *flow.Response {
	switch {
	case strings.Contains(req.URL, "/.well-known/"):
		return h.discovery
	case strings.HasSuffix(req.URL, "/device"):
		return h.device
	}
	return h.poll
}

// FuzzGenericAnswers runs a device flow against a generic server from its
// issuer, with arbitrary metadata, device and token answers: the engine must
// end cleanly and never put the client secret or the token it was given
// into an event or error.
func FuzzGenericAnswers(f *testing.F) {
	meta := `{"issuer":"https://idp.example.com/r","device_authorization_endpoint":"https://idp.example.com/r/device","token_endpoint":"https://idp.example.com/r/token"}`
	f.Add(200, meta, 200, `{"device_code":"d","user_code":"U","verification_uri":"https://idp.example.com/r/device"}`, 200, `{"access_token":"at.FuzzSecret12345","id_token":"id.FuzzSecret12345","expires_in":60}`)
	f.Add(200, meta, 400, `{"error":"invalid_client","error_description":"FuzzClientSecret99 leaked"}`, 200, ``)
	f.Add(200, meta, 200, `{"device_code":"d","user_code":"U","verification_url":"u"}`, 400, `{"error":"slow_down"}`)
	f.Add(404, `nope`, 200, ``, 200, ``)
	f.Add(200, `{"issuer":"https://evil.example/r"}`, 200, ``, 200, ``)
	f.Add(200, `{"issuer":"https://idp.example.com/r","device_authorization_endpoint":"http://idp.example.com/d","token_endpoint":"x"}`, 200, ``, 200, ``)
	f.Fuzz(func(t *testing.T, s0 int, b0 string, s1 int, b1 string, s2 int, b2 string) {
		ct := map[string]string{"content-type": "application/json"}
		h := &genericHost{
			scriptHost: scriptHost{
				device: &flow.Response{Status: s1, Headers: ct, Body: b1},
				poll:   &flow.Response{Status: s2, Headers: ct, Body: b2},
			},
			discovery: &flow.Response{Status: s0, Headers: ct, Body: b0},
		}
		in := `{"clientId":"cli","issuer":"https://idp.example.com/r","clientSecret":"FuzzClientSecret99","scopes":"openid"}`
		out, err := driver.Run(flow.OpAuthenticate, []byte(in), h)
		checkEnd(t, &h.scriptHost, out, err, "at.FuzzSecret12345", "id.FuzzSecret12345", "FuzzClientSecret99")
	})
}
