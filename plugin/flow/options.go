package flow

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Client types, as octokit names them.
const (
	OAuthApp  = "oauth-app"
	GitHubApp = "github-app"
)

// DefaultBaseURL is github.com's web origin, home of the OAuth endpoints.
const DefaultBaseURL = "https://github.com"

// Input is what a caller passes to every export. Scopes may be a JSON list
// or one string; see Scopes.
type Input struct {
	ClientID   string `json:"clientId"`
	ClientType string `json:"clientType,omitempty"`
	// Scopes is the raw JSON value given: a list of strings or one string.
	Scopes  []byte `json:"scopes,omitempty"`
	BaseURL string `json:"baseUrl,omitempty"`
	// OAuthURL names a relay for the two OAuth POSTs (relay.go).
	OAuthURL string `json:"oauthUrl,omitempty"`
	Refresh  bool   `json:"refresh,omitempty"`
	// Interactive false forbids a new device flow: authenticate and
	// authorize answer not_found when nothing usable is cached.
	Interactive *bool `json:"interactive,omitempty"`
	// Encoding selects the request body encoding: "json" (GitHub, the
	// default) or "form" (other RFC 8628 servers).
	Encoding string `json:"encoding,omitempty"`
	// Server names an RFC 8628 server other than GitHub (profile.go):
	// issuer, deviceEndpoint, tokenEndpoint, userinfoEndpoint,
	// revocationEndpoint. Any of them selects the generic profile.
	Server
	// ClientSecret authenticates a confidential client (RFC 6749 section
	// 2.3.1, HTTP Basic) on a generic server. Never logged, never in an
	// event, never in a flow state.
	ClientSecret string `json:"clientSecret,omitempty"`

	// Token is check's optional token to test instead of the cached one.
	Token string `json:"token,omitempty"`
	// Method and URL are authorize's request to authenticate.
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"`
	// State is poll's flow state, as begin or the previous poll answered it
	// (raw JSON).
	State []byte `json:"state,omitempty"`

	// state is State parsed.
	state gjson.Result
}

// inputFields are the members of an export's input, in Input's order.
var inputFields = []string{"clientId", "clientType", "scopes", "baseUrl", "oauthUrl", "refresh", "interactive", "encoding", "token", "method", "url", "state",
	"issuer", "deviceEndpoint", "tokenEndpoint", "userinfoEndpoint", "revocationEndpoint", "clientSecret"}

// Config is an Input validated and normalised: everything the engine needs
// to talk to one server as one client.
type Config struct {
	ClientID   string `json:"clientId"`
	ClientType string `json:"clientType"`
	// Scopes is the sorted, de-duplicated set: what cache keys use.
	Scopes []string `json:"scopes"`
	// Requested is the same set in the order the caller gave it: what the
	// device authorization request sends, as octokit sends it.
	Requested []string `json:"requested,omitempty"`
	Encoding  string   `json:"encoding"`
	Endpoints
	// ClientSecret is the generic profile's client secret: it never
	// travels in a flow state (poll's input names it again).
	ClientSecret string `json:"-"`
}

// Endpoints are the URLs derived from a base URL (rule 9).
type Endpoints struct {
	// Base is the web origin: https://github.com or https://HOST.
	Base string `json:"base"`
	// API is the REST API root: https://api.github.com or https://HOST/api/v3.
	API string `json:"api"`
	// OAuth, when set, is a relay's root that the OAuth endpoints are sent
	// to instead of Base (the input's oauthUrl, relay.go).
	OAuth string `json:"oauth,omitempty"`
	// The generic profile's endpoints (profile.go), configured or
	// discovered; all empty for GitHub.
	GenericEndpoints
}

// DeviceCodeURL is RFC 8628 section 3.1's device authorization endpoint.
func (e Endpoints) DeviceCodeURL() string {
	if e.Profile == ProfileGeneric {
		return e.Device
	}
	return e.oauthRoot() + "/login/device/code"
}

// TokenURL is the token endpoint (RFC 8628 section 3.4).
func (e Endpoints) TokenURL() string {
	if e.Profile == ProfileGeneric {
		return e.Token
	}
	return e.oauthRoot() + "/login/oauth/access_token"
}

// UserURL is the API's authenticated-user endpoint used by check (the
// userinfo endpoint on a generic server).
func (e Endpoints) UserURL() string {
	if e.Profile == ProfileGeneric {
		return e.Userinfo
	}
	return e.API + "/user"
}

// ParseInput decodes an export's JSON input, as encoding/json would into
// Input, except that State is a slice of raw rather than a copy.
func ParseInput(raw []byte) (*Input, *Error) {
	var in Input
	if isBlank(raw) {
		return nil, invalidInput("input", "empty: pass a JSON object with at least clientId")
	}
	if !gjson.ValidBytes(raw) {
		return nil, invalidInput("input", "not a JSON object: malformed JSON")
	}
	root := gjson.ParseBytes(raw)
	switch {
	case root.Type == gjson.Null:
		return &in, nil
	case !root.IsObject():
		return nil, invalidInput("input", "not a JSON object: it is a JSON "+jsonKind(root))
	}
	d := decoder{names: inputFields}
	d.each(root, func(i int, v gjson.Result) {
		switch i {
		case 0:
			d.str(i, v, &in.ClientID)
		case 1:
			d.str(i, v, &in.ClientType)
		case 2:
			in.Scopes = []byte(v.Raw)
		case 3:
			d.str(i, v, &in.BaseURL)
		case 4:
			d.str(i, v, &in.OAuthURL)
		case 5:
			d.boolean(i, v, &in.Refresh)
		case 6:
			d.boolPtr(i, v, &in.Interactive)
		case 7:
			d.str(i, v, &in.Encoding)
		case 8:
			d.str(i, v, &in.Token)
		case 9:
			d.str(i, v, &in.Method)
		case 10:
			d.str(i, v, &in.URL)
		case 11:
			// The member's own bytes in raw: gjson counts Index from
			// the start of the text it parsed, a copy of raw.
			end := v.Index + len(v.Raw)
			in.State, in.state = raw[v.Index:end:end], v
		case 12:
			d.str(i, v, &in.Issuer)
		case 13:
			d.str(i, v, &in.DeviceEndpoint)
		case 14:
			d.str(i, v, &in.TokenEndpoint)
		case 15:
			d.str(i, v, &in.UserinfoEndpoint)
		case 16:
			d.str(i, v, &in.RevocationEndpoint)
		case 17:
			d.str(i, v, &in.ClientSecret)
		}
	})
	if d.bad != "" {
		return nil, invalidInput("input", "not a JSON object: field "+d.bad+" must be "+d.want)
	}
	return &in, nil
}

// isBlank reports whether raw holds nothing but white space, as
// strings.TrimSpace sees it, without copying raw into a string.
func isBlank(raw []byte) bool {
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			return len(strings.TrimSpace(string(raw))) == 0
		}
		if !asciiSpace[c] {
			return false
		}
	}
	return true
}

// asciiSpace marks the ASCII bytes unicode.IsSpace (and so
// strings.TrimSpace) treats as white space.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// Configure validates an Input (rule 11) and derives endpoints, scopes and the
// encoding profile.
func (in *Input) Configure() (*Config, *Error) {
	c := &Config{ClientID: strings.TrimSpace(in.ClientID), ClientType: in.ClientType}
	if c.ClientID == "" {
		return nil, invalidInput("clientId", "missing: pass the OAuth App's or GitHub App's client id")
	}
	if strings.IndexFunc(in.ClientID, unicode.IsControl) >= 0 {
		return nil, invalidInput("clientId", "contains a control character: pass the client id exactly as GitHub shows it")
	}
	if strings.ContainsAny(c.ClientID, " \t\r\n/?#&=") {
		return nil, invalidInput("clientId", "contains characters a client id never has")
	}
	if in.Server.named() {
		return in.configureGeneric(c)
	}
	if in.ClientSecret != "" {
		return nil, invalidInput("clientSecret", "GitHub's device flow takes no client secret: pass it only with an issuer or endpoints")
	}
	switch c.ClientType {
	case "":
		c.ClientType = OAuthApp
	case OAuthApp, GitHubApp:
	default:
		return nil, invalidInput("clientType", "unknown client type "+quote(clip(c.ClientType, 40))+": use \""+OAuthApp+"\" or \""+GitHubApp+"\"")
	}
	scopes, err := parseScopes(in.Scopes)
	if err != nil {
		return nil, err
	}
	if c.ClientType == OAuthApp {
		c.Scopes = scopes
		c.Requested = requestedScopes(in.Scopes)
	} else {
		// GitHub Apps have no scopes: permissions come from the app (rule 1).
		c.Scopes = []string{}
	}
	switch in.Encoding {
	case "", "json":
		c.Encoding = "json"
	case "form":
		c.Encoding = "form"
	default:
		return nil, invalidInput("encoding", "unknown encoding "+quote(clip(in.Encoding, 20))+": use \"json\" or \"form\"")
	}
	ep, err := DeriveEndpoints(in.BaseURL)
	if err != nil {
		return nil, err
	}
	if ep, err = withOAuth(ep, in.OAuthURL); err != nil {
		return nil, err
	}
	c.Endpoints = ep
	return c, nil
}

// scopeList reads a JSON list of strings or one string (rule 6); ok is
// false for anything else. Absent and null are no scopes.
func scopeList(raw []byte) (list []string, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if !gjson.ValidBytes(raw) {
		return nil, false
	}
	v := gjson.ParseBytes(raw)
	switch {
	case v.Type == gjson.String:
		return []string{jsonString(v)}, true
	case v.IsArray():
		return stringArray(v)
	}
	return nil, false
}

// parseScopes accepts a JSON list of strings or one string (rule 6).
func parseScopes(raw []byte) ([]string, *Error) {
	list, ok := scopeList(raw)
	if !ok {
		return nil, invalidInput("scopes", "must be a list of strings or one string")
	}
	return NormalizeScopes(list), nil
}

// requestedScopes is the scope list in the caller's order, split and
// de-duplicated (parseScopes has checked its type).
func requestedScopes(raw []byte) []string {
	list, ok := scopeList(raw)
	if !ok || len(raw) == 0 {
		return nil
	}
	return SplitScopes(strings.Join(list, ","))
}

// NormalizeScopes splits every entry on commas and white space, drops empty
// parts and duplicates, and sorts what remains (rule 6).
func NormalizeScopes(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		for _, part := range strings.FieldsFunc(s, isScopeSeparator) {
			if !seen[part] {
				seen[part] = true
				out = append(out, part)
			}
		}
	}
	slices.Sort(out)
	return out
}

// SplitScopes splits a server's scope list on commas and white space and
// drops empty parts and duplicates, keeping the server's order: what results
// report. Cache keys use NormalizeScopes' sorted set instead.
func SplitScopes(s string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, part := range strings.FieldsFunc(s, isScopeSeparator) {
		if !seen[part] {
			seen[part] = true
			out = append(out, part)
		}
	}
	return out
}

func isScopeSeparator(r rune) bool {
	return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
}

// DeriveEndpoints maps a base URL to the OAuth and API roots (rule 9):
// github.com (or api.github.com) → github.com and api.github.com;
// [api.]SUBDOMAIN.ghe.com → SUBDOMAIN.ghe.com and api.SUBDOMAIN.ghe.com;
// any other host → https://HOST and https://HOST/api/v3, with a trailing
// /api/v3 understood. Only https is allowed, except for loopback hosts.
func DeriveEndpoints(base string) (Endpoints, *Error) {
	base = strings.TrimSpace(base)
	if base == "" {
		base = DefaultBaseURL
	}
	u, problem := parseBaseURL(base)
	scheme, host, upath := u.scheme, u.host, u.path
	switch problem {
	case urlNotAbsolute:
		return Endpoints{}, invalidInput("baseUrl", "not an absolute URL: use https://github.com or https://HOST for GitHub Enterprise Server")
	case urlExtras:
		return Endpoints{}, invalidInput("baseUrl", "must not carry credentials, a query or a fragment")
	}
	hostname, port := splitHostPort(host)
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Endpoints{}, invalidInput("baseUrl", "port "+quote(clip(port, 10))+" is not a port number (1 to 65535)")
		}
	}
	if strings.IndexFunc(base, unicode.IsControl) >= 0 {
		return Endpoints{}, invalidInput("baseUrl", "contains a control character")
	}
	host = strings.ToLower(host)
	switch scheme {
	case "https":
	case "http":
		if !IsLoopback(hostname) {
			return Endpoints{}, invalidInput("baseUrl", "http is allowed only for loopback hosts (127.0.0.1, ::1, localhost): use https")
		}
	default:
		return Endpoints{}, invalidInput("baseUrl", "scheme "+quote(clip(scheme, 10))+" is not allowed: use https")
	}
	path := strings.TrimRight(upath, "/")
	path = strings.TrimSuffix(path, "/api/v3")
	if path != "" {
		return Endpoints{}, invalidInput("baseUrl", "unexpected path "+quote(clip(path, 40))+": use https://HOST or https://HOST/api/v3")
	}
	if host == "github.com" || host == "api.github.com" {
		return Endpoints{Base: "https://github.com", API: "https://api.github.com"}, nil
	}
	if strings.HasSuffix(host, ".ghe.com") && scheme == "https" {
		// GitHub Enterprise Cloud with data residency: the web at
		// SUBDOMAIN.ghe.com, the API at api.SUBDOMAIN.ghe.com.
		web := strings.TrimPrefix(host, "api.")
		return Endpoints{Base: "https://" + web, API: "https://api." + web}, nil
	}
	origin := scheme + "://" + host
	return Endpoints{Base: origin, API: origin + "/api/v3"}, nil
}

// IsLoopback reports whether host names this machine: localhost or a
// loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, ok := parseIP(strings.Trim(host, "[]"))
	return ok && ip.isLoopback()
}

// CacheKey names the store entry for this configuration (rule 6): base URL,
// client type, client id and the sorted, de-duplicated scope set.
func (c *Config) CacheKey() string {
	if c.Profile == ProfileGeneric {
		return c.genericCacheKey()
	}
	return "deviceflow:v1:" + c.Base + "|" + c.ClientType + "|" + c.ClientID + "|" + strings.Join(c.Scopes, ",")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
