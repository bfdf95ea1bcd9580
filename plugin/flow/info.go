package flow

import "encoding/json"

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
	out := map[string]any{
		"name":       "deviceflow",
		"version":    Version,
		"abi":        ABIVersion,
		"exports":    Exports,
		"imports":    Imports,
		"errorCodes": Codes,
	}
	var in struct {
		BaseURL  string  `json:"baseUrl"`
		OAuthURL string  `json:"oauthUrl"`
		ClientID *string `json:"clientId"`
		Server
	}
	if len(raw) == 0 || json.Unmarshal(raw, &in) == nil {
		if ep, err := EndpointsFor(&Input{BaseURL: in.BaseURL, OAuthURL: in.OAuthURL, Server: in.Server}); err == nil {
			out["endpoints"] = ep
			if ep.Profile == ProfileGeneric {
				// The sandbox's allow-list for a generic server; with
				// endpoints.discover, the endpoints event adds the rest.
				out["allow"] = ep.Origins()
			}
		} else {
			// Hosts build their sandbox's allow-list from the endpoints; a
			// base URL the engine refuses is refused with its own words.
			out["endpointsError"] = err
		}
	}
	if in.ClientID != nil {
		// An input with a clientId is judged whole, as every export would
		// judge it, so that a command can refuse bad flags before it opens
		// a store or shows anything, without rules of its own.
		if full, err := ParseInput(raw); err != nil {
			out["inputError"] = err
		} else if _, err := full.Configure(); err != nil {
			out["inputError"] = err
		}
	}
	return marshal(out)
}
