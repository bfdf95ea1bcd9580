package flow

import "github.com/tidwall/gjson"

// ABIVersion is the plugin contract's version (wit/deviceflow.wit). Hosts
// refuse a plugin whose major ABI differs from theirs.
const ABIVersion = "2.0.0"

// Exports and Imports name the plugin's contract symbols.
var (
	Exports = []string{"authenticate", "begin", "poll", "refresh", "check", "logout", "authorize", "info"}
	Imports = []string{"http_request", "sleep", "now", "monotonic", "store_get", "store_swap", "store_lock", "store_unlock", "emit"}
)

// Info answers the info export. When the input names a baseUrl (or is
// empty), the answer also carries the endpoints derived from it (rule 9), so
// hosts need not derive them again: {"endpoints": {"base", "api"}}, or
// {"endpointsError": {"code": "invalid_input", "message"}} when the engine
// refuses the base URL. An input that names a clientId is also judged whole,
// as the other exports judge it: {"inputError": {...}} when it is refused.
func Info(raw []byte) []byte {
	var (
		baseURL, oauthURL string
		server            Server
		clientID          *string
	)
	decoded := len(raw) == 0
	if gjson.ValidBytes(raw) {
		root := gjson.ParseBytes(raw)
		switch {
		case root.Type == gjson.Null:
			decoded = true
		case root.IsObject():
			// As encoding/json decoded it: the fields of the right type are
			// read even when another's type is wrong.
			d := decoder{names: []string{"baseUrl", "oauthUrl", "clientId", "issuer", "deviceEndpoint", "tokenEndpoint", "userinfoEndpoint", "revocationEndpoint"}}
			d.each(root, func(i int, v gjson.Result) {
				switch i {
				case 0:
					d.str(i, v, &baseURL)
					return
				case 1:
					d.str(i, v, &oauthURL)
					return
				case 3:
					d.str(i, v, &server.Issuer)
					return
				case 4:
					d.str(i, v, &server.DeviceEndpoint)
					return
				case 5:
					d.str(i, v, &server.TokenEndpoint)
					return
				case 6:
					d.str(i, v, &server.UserinfoEndpoint)
					return
				case 7:
					d.str(i, v, &server.RevocationEndpoint)
					return
				}
				if v.Type == gjson.Null {
					clientID = nil
					return
				}
				// encoding/json allocated the pointer before it found a
				// value of the wrong type.
				var s string
				d.str(i, v, &s)
				clientID = &s
			})
			decoded = d.bad == ""
		}
	}
	o := newObj(make([]byte, 0, 1024))
	o.str("abi", ABIVersion)
	if decoded {
		if ep, err := EndpointsFor(&Input{BaseURL: baseURL, OAuthURL: oauthURL, Server: server}); err == nil {
			if ep.Profile == ProfileGeneric {
				// The sandbox's allow-list for a generic server; with
				// endpoints.discover, the endpoints event adds the rest.
				o.strs("allow", ep.Origins())
			}
			o.raw("endpoints", ep.json())
		} else {
			// Hosts build their sandbox's allow-list from the endpoints; a
			// base URL the engine refuses is refused with its own words.
			o.raw("endpointsError", err.JSON())
		}
	}
	codes := make([]string, len(Codes))
	for i, c := range Codes {
		codes[i] = string(c)
	}
	o.strs("errorCodes", codes)
	o.strs("exports", Exports)
	o.strs("imports", Imports)
	if clientID != nil {
		// An input with a clientId is judged whole, as every export would
		// judge it, so that a command can refuse bad flags before it opens
		// a store or shows anything, without rules of its own.
		if full, err := ParseInput(raw); err != nil {
			o.raw("inputError", err.JSON())
		} else if _, err := full.Configure(); err != nil {
			o.raw("inputError", err.JSON())
		}
	}
	o.str("name", "deviceflow")
	// The response headers the engine reads: a host passes these and may
	// drop the rest.
	o.strs("responseHeaders", responseHeaders)
	o.str("version", Version)
	return o.close()
}

// json writes the endpoints as encoding/json marshals them.
func (e Endpoints) json() []byte {
	o := newObj(nil)
	o.str("base", e.Base)
	o.str("api", e.API)
	o.strOmit("oauth", e.OAuth)
	e.GenericEndpoints.write(&o)
	return o.close()
}
