package flow

import "github.com/tidwall/gjson"

// Authentication is octokit's authentication object: the result of
// authenticate, refresh and a completed poll. Scopes is set for OAuth Apps,
// in the order the server granted them; RefreshToken, ExpiresAt and
// RefreshTokenExpiresAt for tokens that expire (GitHub Apps with expiring
// tokens, and any server's answer that carries expires_in or
// refresh_token).
//
// The store keeps the same object plus the local stamps (see stored).
type Authentication struct {
	Type                  string    `json:"type"`
	TokenType             string    `json:"tokenType"`
	ClientType            string    `json:"clientType,omitempty"`
	ClientID              string    `json:"clientId"`
	Token                 string    `json:"token"`
	Scopes                *[]string `json:"scopes,omitempty"`
	RefreshToken          string    `json:"refreshToken,omitempty"`
	ExpiresAt             string    `json:"expiresAt,omitempty"`
	RefreshTokenExpiresAt string    `json:"refreshTokenExpiresAt,omitempty"`
	// IDToken is an OpenID Connect server's id_token (generic profile):
	// in the result and the store, never in an event.
	IDToken string `json:"idToken,omitempty"`

	// local are the expiry instants by the host's own clock.
	local *localStamps
}

// localStamps are a token's expiry instants measured from the moment the
// host received it, by the host's wall clock (Unix ms; 0: none). ExpiresAt
// follows the server's Date header, as octokit computes it, and that clock
// may be far off; the decision to refresh uses these instead (rule 7).
type localStamps struct {
	ExpiresAt             int64 `json:"expiresAt,omitempty"`
	RefreshTokenExpiresAt int64 `json:"refreshTokenExpiresAt,omitempty"`
}

// RefreshMarginMs is how long before expiresAt a token counts as expiring and
// is refreshed instead of handed out (rule 7).
const RefreshMarginMs = 5 * 60 * 1000

// maxExpiresInMs caps an expires_in: 2^31-1 seconds (68 years). A larger
// value means "practically never" and is clamped, not refused.
const maxExpiresInMs = (1<<31 - 1) * 1000

// clockBase is the instant octokit measures expiry from: the server's Date
// header, whatever it says, when it parses; the host's clock otherwise
// (octokit itself fails there).
func clockBase(resp *Response, now int64) int64 {
	if t, ok := parseHTTPDate(resp.Header("date")); ok {
		return t
	}
	return now
}

// tokenFromResponse builds the authentication object from a successful token
// response at host time now. It fails with invalid_response when the fields
// are malformed.
func tokenFromResponse(c *Config, f fields, resp *Response, now int64) (*Authentication, *Error) {
	tok := f.str("access_token")
	if tok == "" {
		return nil, badResponse(resp, "the token response has no access_token")
	}
	a := &Authentication{Type: "token", TokenType: "oauth", ClientType: c.ClientType, ClientID: c.ClientID, Token: tok}
	if c.generic() {
		genericToken(c, f, a)
	} else if c.ClientType == OAuthApp {
		// GitHub answers the granted scopes, comma-separated (rule 6),
		// reported in its order.
		s := SplitScopes(f.str("scope"))
		a.Scopes = &s
	}
	if !f.has("expires_in") && !f.has("refresh_token") {
		return a, nil
	}
	exp, ok1 := f.lifetime("expires_in")
	rexp, ok2 := f.lifetime("refresh_token_expires_in")
	if !ok1 || !ok2 {
		return nil, badResponse(resp, "the token response has a malformed expires_in or refresh_token_expires_in")
	}
	base := clockBase(resp, now)
	a.RefreshToken = f.str("refresh_token")
	a.local = &localStamps{}
	if exp >= 0 {
		// An expiring token, refreshable or not (RFC 6749 section 5.1).
		a.ExpiresAt = formatTime(base + exp)
		a.local.ExpiresAt = now + exp
	}
	if a.RefreshToken != "" && rexp >= 0 {
		a.RefreshTokenExpiresAt = formatTime(base + rexp)
		a.local.RefreshTokenExpiresAt = now + rexp
	}
	return a, nil
}

// freshness says what a cached authentication is good for at time now.
type freshness int

const (
	fresh       freshness = iota // hand it out
	refreshable                  // expiring, with a live refresh token
	stale                        // neither: a new device flow is needed
)

// freshness judges by the local stamps when the entry has them, by the
// ISO stamps otherwise (entries stored before the local stamps existed).
func (a *Authentication) freshness(now int64) freshness {
	if a.ExpiresAt == "" {
		return fresh
	}
	exp, ok := a.expiry(a.ExpiresAt, func(l *localStamps) int64 { return l.ExpiresAt })
	if ok && now < exp-RefreshMarginMs {
		return fresh
	}
	if a.RefreshToken == "" {
		return stale
	}
	if a.RefreshTokenExpiresAt != "" {
		if rexp, ok := a.expiry(a.RefreshTokenExpiresAt, func(l *localStamps) int64 { return l.RefreshTokenExpiresAt }); ok && now >= rexp {
			return stale
		}
	}
	return refreshable
}

// expiry is one expiry instant: the local stamp when there is one, else the
// ISO stamp parsed.
func (a *Authentication) expiry(iso string, local func(*localStamps) int64) (int64, bool) {
	if a.local != nil {
		if ms := local(a.local); ms != 0 {
			return ms, true
		}
	}
	return parseTime(iso)
}

// authFields are the members of a stored authentication, in
// storedAuthentication's order; localFields those of its local stamps.
var (
	authFields  = []string{"type", "tokenType", "clientType", "clientId", "token", "scopes", "refreshToken", "expiresAt", "refreshTokenExpiresAt", "local", "idToken"}
	localFields = []string{"expiresAt", "refreshTokenExpiresAt"}
)

// decodeCached reads a store value. A value that is not an authentication
// object for this client counts as absent.
func decodeCached(c *Config, value string) *Authentication {
	if !gjson.Valid(value) {
		return nil
	}
	root := gjson.Parse(value)
	if !root.IsObject() {
		return nil
	}
	var a Authentication
	d := decoder{names: authFields}
	d.each(root, func(i int, v gjson.Result) {
		switch i {
		case 0:
			d.str(i, v, &a.Type)
		case 1:
			d.str(i, v, &a.TokenType)
		case 2:
			d.str(i, v, &a.ClientType)
		case 3:
			d.str(i, v, &a.ClientID)
		case 4:
			d.str(i, v, &a.Token)
		case 5:
			if v.Type == gjson.Null {
				a.Scopes = nil
				return
			}
			var list []string
			d.strList(i, v, &list)
			a.Scopes = &list
		case 6:
			d.str(i, v, &a.RefreshToken)
		case 7:
			d.str(i, v, &a.ExpiresAt)
		case 8:
			d.str(i, v, &a.RefreshTokenExpiresAt)
		case 10:
			d.str(i, v, &a.IDToken)
		case 9:
			switch {
			case v.Type == gjson.Null:
				a.local = nil
			case v.IsObject():
				if a.local == nil {
					a.local = &localStamps{}
				}
				ld := decoder{names: localFields}
				ld.each(v, func(j int, w gjson.Result) {
					if j == 0 {
						ld.integer(j, w, &a.local.ExpiresAt)
					} else {
						ld.integer(j, w, &a.local.RefreshTokenExpiresAt)
					}
				})
				if ld.bad != "" {
					d.mismatch(i, "int64")
				}
			default:
				d.mismatch(i, "object")
			}
		}
	})
	if d.bad != "" || a.Token == "" || a.ClientID != c.ClientID || a.ClientType != c.ClientType {
		return nil
	}
	return &a
}

// json is the authentication as octokit shapes it: the result.
func (a *Authentication) json() []byte {
	o := a.fields()
	return o.close()
}

// stored is the value kept in the store: the authentication with its local
// stamps beside it.
func (a *Authentication) stored() []byte {
	o := a.fields()
	if l := a.local; l != nil {
		lo := newObj(nil)
		lo.intOmit("expiresAt", l.ExpiresAt)
		lo.intOmit("refreshTokenExpiresAt", l.RefreshTokenExpiresAt)
		o.raw("local", lo.close())
	}
	return o.close()
}

// fields writes the authentication's members, as encoding/json marshals
// the struct.
func (a *Authentication) fields() obj {
	o := newObj(nil)
	o.str("type", a.Type)
	o.str("tokenType", a.TokenType)
	o.strOmit("clientType", a.ClientType)
	o.str("clientId", a.ClientID)
	o.str("token", a.Token)
	if a.Scopes != nil {
		o.strs("scopes", *a.Scopes)
	}
	o.strOmit("refreshToken", a.RefreshToken)
	o.strOmit("expiresAt", a.ExpiresAt)
	o.strOmit("refreshTokenExpiresAt", a.RefreshTokenExpiresAt)
	o.strOmit("idToken", a.IDToken)
	return o
}
