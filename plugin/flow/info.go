package flow

// ABIVersion is the plugin contract's version (wit/deviceflow.wit). Hosts
// refuse a plugin whose major ABI differs from theirs.
const ABIVersion = "1.0.0"

// Exports and Imports name the plugin's contract symbols.
var (
	Exports = []string{"authenticate", "begin", "poll", "refresh", "check", "logout", "authorize", "info"}
	Imports = []string{"http_request", "sleep", "now", "store_get", "store_set", "store_delete", "emit"}
)

// Info answers the info export.
func Info() []byte {
	return marshal(map[string]any{
		"name":       "deviceflow",
		"version":    Version,
		"abi":        ABIVersion,
		"exports":    Exports,
		"imports":    Imports,
		"errorCodes": Codes,
	})
}
