package flow

import (
	"encoding/base64"
	"strings"
	"unicode"
)

// Profiles: the rules the engine follows for one server.
//
// GitHub (the default) keeps every GitHub rule of DESIGN.md. The generic
// profile follows RFC 8628 and RFC 6749 for any other authorization server
// (Google, Microsoft Entra ID, Okta, Keycloak, Auth0, Dex, ...): endpoints
// from an issuer's discovery document (discovery.go) or configured,
// form-encoded requests, errors as HTTP 400 bodies, HTTP Basic client
// authentication when a client secret is configured, bearer tokens, the
// id_token kept, RFC 7009 revocation on logout and check against the
// userinfo endpoint.
const (
	ProfileGitHub  = ""
	ProfileGeneric = "generic"
)

// Server is the part of an Input that names a generic server: an issuer
// (its endpoints discovered), the endpoints themselves, or both (configured
// endpoints win over discovered ones).
type Server struct {
	Issuer             string `json:"issuer,omitempty"`
	DeviceEndpoint     string `json:"deviceEndpoint,omitempty"`
	TokenEndpoint      string `json:"tokenEndpoint,omitempty"`
	UserinfoEndpoint   string `json:"userinfoEndpoint,omitempty"`
	RevocationEndpoint string `json:"revocationEndpoint,omitempty"`
}

// named reports whether the input names a generic server at all.
func (s Server) named() bool {
	return strings.TrimSpace(s.Issuer+s.DeviceEndpoint+s.TokenEndpoint+s.UserinfoEndpoint+s.RevocationEndpoint) != ""
}

// GenericEndpoints are a generic server's endpoints, as configured or
// discovered. Discover is true while the device and token endpoints are
// still to be read from the issuer's discovery document.
type GenericEndpoints struct {
	Profile    string `json:"profile,omitempty"`
	Issuer     string `json:"issuer,omitempty"`
	Device     string `json:"deviceEndpoint,omitempty"`
	Token      string `json:"tokenEndpoint,omitempty"`
	Userinfo   string `json:"userinfoEndpoint,omitempty"`
	Revocation string `json:"revocationEndpoint,omitempty"`
	Discover   bool   `json:"discover,omitempty"`
	// Discovered is true once the endpoints came from discovery: a flow
	// resumed elsewhere names their origins to its host again.
	Discovered bool `json:"discovered,omitempty"`
	// PostSecret sends the client secret in the body (RFC 6749
	// section 2.3.1's client_secret_post), for servers whose discovery
	// document offers no client_secret_basic.
	PostSecret bool `json:"postSecret,omitempty"`
}

// configureGeneric validates the generic profile's input: an issuer, or
// the device and token endpoints, or both; no GitHub client type; form
// bodies unless json is asked for.
func (in *Input) configureGeneric(c *Config) (*Config, *Error) {
	if strings.TrimSpace(in.BaseURL) != "" {
		return nil, invalidInput("baseUrl", "a GitHub base URL and an issuer or endpoints exclude each other: pass one")
	}
	if strings.TrimSpace(in.OAuthURL) != "" {
		return nil, invalidInput("oauthUrl", "a relay is for GitHub's OAuth endpoints: with an issuer or endpoints, name the server's own (a generic server that sends CORS headers needs none)")
	}
	if c.ClientType != "" {
		return nil, invalidInput("clientType", "GitHub's client types apply to GitHub only: leave clientType out with an issuer or endpoints")
	}
	if strings.IndexFunc(in.ClientSecret, unicode.IsControl) >= 0 {
		return nil, invalidInput("clientSecret", "contains a control character")
	}
	c.ClientSecret = in.ClientSecret
	scopes, err := parseScopes(in.Scopes)
	if err != nil {
		return nil, err
	}
	c.Scopes = scopes
	c.Requested = requestedScopes(in.Scopes)
	switch in.Encoding {
	case "", "form":
		c.Encoding = "form"
	case "json":
		c.Encoding = "json"
	default:
		return nil, invalidInput("encoding", "unknown encoding "+quote(clip(in.Encoding, 20))+": use \"form\" or \"json\"")
	}
	g := GenericEndpoints{Profile: ProfileGeneric}
	s := in.Server
	if g.Issuer, err = serverURL("issuer", s.Issuer, false); err != nil {
		return nil, err
	}
	g.Issuer = strings.TrimRight(g.Issuer, "/")
	fields := []struct {
		name string
		raw  string
		out  *string
	}{
		{"deviceEndpoint", s.DeviceEndpoint, &g.Device},
		{"tokenEndpoint", s.TokenEndpoint, &g.Token},
		{"userinfoEndpoint", s.UserinfoEndpoint, &g.Userinfo},
		{"revocationEndpoint", s.RevocationEndpoint, &g.Revocation},
	}
	for _, f := range fields {
		if *f.out, err = serverURL(f.name, f.raw, true); err != nil {
			return nil, err
		}
	}
	switch {
	case g.Device != "" && g.Token != "":
	case g.Issuer == "" && g.Device == "":
		return nil, invalidInput("deviceEndpoint", "missing: pass an issuer (its endpoints are discovered) or the device and token endpoints")
	case g.Issuer == "":
		return nil, invalidInput("tokenEndpoint", "missing: pass an issuer (its endpoints are discovered) or the device and token endpoints")
	default:
		g.Discover = true
	}
	c.Endpoints = Endpoints{GenericEndpoints: g}
	c.settle()
	return c, nil
}

// settle derives Base (the origin credentials may go to, and the cache
// key's server) and API (the userinfo origin) from the generic endpoints.
func (c *Config) settle() {
	g := &c.GenericEndpoints
	switch {
	case g.Issuer != "":
		c.Base = originPart(g.Issuer)
	default:
		c.Base = originPart(g.Token)
	}
	c.API = c.Base
	if g.Userinfo != "" {
		c.API = originPart(g.Userinfo)
	}
}

// serverURL checks one configured URL: absolute, https (http only for
// loopback hosts), no credentials or fragment; a query only for endpoints.
func serverURL(field, raw string, query bool) (string, *Error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return "", invalidInput(field, "contains a control character")
	}
	u, ok := splitURL(raw)
	if !ok {
		return "", invalidInput(field, "not an absolute URL: use https://HOST/PATH")
	}
	if u.userinfo || u.fragment || (!query && u.rawQuery != "") {
		if query {
			return "", invalidInput(field, "must not carry credentials or a fragment")
		}
		return "", invalidInput(field, "must not carry credentials, a query or a fragment")
	}
	hostname, _ := splitHostPort(u.host)
	switch u.scheme {
	case "https":
	case "http":
		if !IsLoopback(hostname) {
			return "", invalidInput(field, "http is allowed only for loopback hosts (127.0.0.1, ::1, localhost): use https")
		}
	default:
		return "", invalidInput(field, "scheme "+quote(clip(u.scheme, 10))+" is not allowed: use https")
	}
	if _, ok := originOf(u.scheme, u.host); !ok {
		return "", invalidInput(field, "the host or port is not valid")
	}
	// As net/url's URL.String writes it, scheme and host lower-cased.
	out := u.scheme + "://" + strings.ToLower(u.host) + u.escapedPath()
	if u.forceQuery || u.rawQuery != "" {
		out += "?" + u.rawQuery
	}
	return out, nil
}

// genericCacheKey names a generic server's store entry: the issuer (or the
// token endpoint), "generic", the client id and the sorted scope set.
func (c *Config) genericCacheKey() string {
	server := c.Issuer
	if server == "" {
		server = c.Token
	}
	return "deviceflow:v1:" + server + "|generic|" + c.ClientID + "|" + strings.Join(c.Scopes, ",")
}

// Origins are the origins the plugin may send requests to: the sandbox's
// allow-list, decided here for every host. While discovery is pending it
// is the issuer's origin alone; the endpoints event names the rest.
func (e Endpoints) Origins() []string {
	var all []string
	if e.Profile != ProfileGeneric {
		all = []string{e.Base, originPart(e.API), originPart(e.OAuth)}
	} else {
		all = []string{originPart(e.Issuer), originPart(e.Device), originPart(e.Token), originPart(e.Userinfo), originPart(e.Revocation)}
	}
	out := []string{}
	for _, o := range all {
		if o == "" {
			continue
		}
		dup := false
		for _, x := range out {
			dup = dup || x == o
		}
		if !dup {
			out = append(out, o)
		}
	}
	return out
}

// EndpointsFor derives the endpoints of an input without judging the rest
// of it (no client id needed): what info answers and what a host's sandbox
// allows (Origins). GitHub's come from the base URL (rule 9); a generic
// server's from the issuer or the configured endpoints.
func EndpointsFor(in *Input) (Endpoints, *Error) {
	if !in.Server.named() {
		ep, err := DeriveEndpoints(in.BaseURL)
		if err != nil {
			return ep, err
		}
		return withOAuth(ep, in.OAuthURL)
	}
	probe := *in
	probe.Scopes = nil
	probe.Encoding = ""
	c, err := probe.configureGeneric(&Config{ClientID: "probe", ClientType: in.ClientType})
	if err != nil {
		return Endpoints{}, err
	}
	return c.Endpoints, nil
}

// generic reports whether the configuration follows the generic profile.
func (c *Config) generic() bool { return c.Profile == ProfileGeneric }

// clientAuth adds the client's authentication to a request for a generic
// server with a client secret: HTTP Basic over the form-encoded id and
// secret (RFC 6749 section 2.3.1), or the secret in the body when the
// server offers only that.
func (c *Config) clientAuth(req *Request, params []param) []param {
	if !c.generic() || c.ClientSecret == "" {
		return params
	}
	if c.PostSecret {
		return append(params, param{"client_secret", c.ClientSecret})
	}
	req.Headers["authorization"] = "Basic " + c.basicCredentials()
	return params
}

// secrets are the configuration's own secrets, masked like tokens.
func (c *Config) secrets() []string {
	if c.ClientSecret == "" {
		return nil
	}
	return []string{c.ClientSecret, string(appendQueryEscape(nil, c.ClientSecret)), c.basicCredentials()}
}

// basicCredentials are the Basic scheme's credentials, RFC 6749 section
// 2.3.1: "The client identifier is encoded using the
// "application/x-www-form-urlencoded" encoding algorithm per Appendix B,
// and the encoded value is used as the username; the client password is
// encoded using the same algorithm and used as the password." RFC 7617
// joins them with a colon and writes them in base64.
func (c *Config) basicCredentials() string {
	b := appendQueryEscape(nil, c.ClientID)
	b = append(b, ':')
	b = appendQueryEscape(b, c.ClientSecret)
	return base64.StdEncoding.EncodeToString(b)
}

// genericError adapts an error for a generic server: RFC 6749's codes take
// the engine's names where they mean the same, and GitHub's advice is left
// out.
func (c *Config) genericError(e *Error) *Error {
	if !c.generic() || e == nil {
		return e
	}
	switch e.OAuthError {
	case "invalid_client":
		e.Code = CodeIncorrectClientCredentials
		e.Message = strings.TrimSuffix(e.Message, ".") + ". Check the client id and client secret."
	case "unauthorized_client":
		e.Code = CodeUnsupported
	}
	e.Message = strings.ReplaceAll(e.Message, "GitHub answered", "the server answered")
	e.Message = strings.ReplaceAll(e.Message, ". "+enableAdvice, ". Allow the device authorization grant for this client in the server's settings.")
	e.Message = strings.ReplaceAll(e.Message, "the server did not answer as GitHub does", "the server did not answer as RFC 8628 describes")
	e.Message = strings.ReplaceAll(e.Message, "Check the client id: it must be the OAuth App's or GitHub App's client id.", "Check the client id and client secret.")
	return e
}

// authScheme is the authorization scheme of requests authorize signs:
// GitHub's "token", RFC 6750's "Bearer" elsewhere.
func (c *Config) authScheme() string {
	if c.generic() {
		return "Bearer "
	}
	return "token "
}

// isGenericOAuthPath reports whether a path at an allowed origin is one of
// a generic server's OAuth endpoints, which get no credentials.
func (c *Config) isGenericOAuthPath(p string) bool {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimRight(strings.ReplaceAll(p, `\`, "/"), "/")
	for _, e := range []string{c.Device, c.Token, c.Revocation} {
		if e == "" {
			continue
		}
		ep := strings.TrimPrefix(e, originPart(e))
		if i := strings.IndexAny(ep, "?#"); i >= 0 {
			ep = ep[:i]
		}
		if strings.EqualFold(strings.TrimRight(ep, "/"), p) {
			return true
		}
	}
	return false
}

// genericToken shapes a generic server's token answer: the token type as
// the server names it (bearer), the scopes granted (RFC 6749 section 5.1:
// absent means those requested) and the id_token.
func genericToken(c *Config, f fields, a *Authentication) {
	a.TokenType = strings.ToLower(f.str("token_type"))
	if a.TokenType == "" {
		a.TokenType = "bearer"
	}
	var s []string
	if f.has("scope") {
		s = SplitScopes(f.str("scope"))
	} else if c.Requested != nil {
		s = append([]string{}, c.Requested...)
	} else {
		s = append([]string{}, c.Scopes...)
	}
	a.Scopes = &s
	a.IDToken = f.str("id_token")
}

// phRevoking awaits the RFC 7009 revocation response.
const phRevoking phase = "revoking"

// afterLogout ends logout once the entry is removed: on a generic server
// that offers revocation (RFC 7009), the removed token is revoked too (its
// refresh token when it has one, which revokes the access token with it);
// the answer says whether the server took it.
func (m *Machine) afterLogout() Effect {
	a := m.revoke
	if !m.Config.generic() || m.Config.Revocation == "" || a == nil {
		return m.out(done([]byte(`{"removed":true}`)))
	}
	m.remember(a.Token, a.RefreshToken, a.IDToken)
	token, hint := a.Token, "access_token"
	if a.RefreshToken != "" {
		token, hint = a.RefreshToken, "refresh_token"
	}
	form := m.Config
	form.Encoding = "form"
	req := oauthPost(&form, m.Config.Revocation,
		param{"client_id", m.Config.ClientID},
		param{"token", token},
		param{"token_type_hint", hint})
	return m.batch(phRevoking, Effect{Kind: EffectRequest, Request: req})
}

// onRevoked reports the revocation: the entry is gone either way.
func (m *Machine) onRevoked(ev Event) Effect {
	if ev.Response != nil && ev.Response.Error == nil && ev.Response.Status == 200 {
		return m.out(done([]byte(`{"removed":true,"revoked":true}`)))
	}
	return m.out(done([]byte(`{"removed":true,"revoked":false}`)))
}

// checkUserinfo asks a generic server's userinfo endpoint (OpenID Connect
// Core section 5.3) about the token.
func (m *Machine) checkUserinfo() Effect {
	if m.Config.Userinfo == "" {
		return m.fail(errorf(CodeUnsupported, "the server names no userinfo endpoint, so check cannot ask it about the token: pass userinfoEndpoint"))
	}
	req := &Request{
		Method: "GET",
		URL:    m.Config.Userinfo,
		Headers: map[string]string{
			"accept":        "application/json",
			"authorization": "Bearer " + m.token,
			"user-agent":    UserAgent,
		},
		TimeoutMs: RequestTimeoutMs,
	}
	return m.batch(phChecking, Effect{Kind: EffectRequest, Request: req})
}

// onUserinfo reads the userinfo answer: 200 is a valid token and whom it
// names (preferred_username, else email, else sub); 401 an invalid one.
func (m *Machine) onUserinfo(resp *Response) Effect {
	switch resp.Status {
	case 401, 403:
		return m.out(done([]byte(`{"valid":false}`)))
	case 200:
	default:
		if e := serverTrouble(resp); e != nil {
			return m.fail(e)
		}
		return m.fail(badResponse(resp, "the userinfo request failed"))
	}
	f, ok := parseJSONFields(resp.Body)
	if !ok || f.str("sub") == "" {
		return m.fail(badResponse(resp, "the userinfo answer names no sub"))
	}
	login := f.str("preferred_username")
	if login == "" {
		login = f.str("email")
	}
	if login == "" {
		login = f.str("sub")
	}
	o := newObj(nil)
	o.str("login", login)
	o.str("sub", f.str("sub"))
	o.bool("valid", true)
	return m.out(done(o.close()))
}

// write adds the endpoints' fields to o, as encoding/json marshals them
// (empty ones left out), for info's endpoints and a flow's state alike.
func (g GenericEndpoints) write(o *obj) {
	o.strOmit("profile", g.Profile)
	o.strOmit("issuer", g.Issuer)
	o.strOmit("deviceEndpoint", g.Device)
	o.strOmit("tokenEndpoint", g.Token)
	o.strOmit("userinfoEndpoint", g.Userinfo)
	o.strOmit("revocationEndpoint", g.Revocation)
	if g.Discover {
		o.bool("discover", true)
	}
	if g.Discovered {
		o.bool("discovered", true)
	}
	if g.PostSecret {
		o.bool("postSecret", true)
	}
}
