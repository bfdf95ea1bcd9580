package flow

import (
	"strconv"
	"strings"
	"unicode"
)

// A relay for the OAuth endpoints (host/relay, `deviceflow relay`): pages
// cannot read GitHub's OAuth answers (no CORS headers there), so a browser
// app sends the two OAuth POSTs to a relay and calls the API directly. The
// input's oauthUrl names the relay; baseUrl still names the GitHub, which
// gives the API root, the cache key and the origins authorize sends
// credentials to. The relay is never one of those: a token never goes there.

// deriveOAuth validates oauthUrl: an absolute https URL (http only for
// loopback hosts), without credentials, query or fragment; a path is kept
// (a relay mounted under a prefix), without its trailing slashes.
func deriveOAuth(raw string) (string, *Error) {
	raw = strings.TrimSpace(raw)
	if strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return "", invalidInput("oauthUrl", "contains a control character")
	}
	u, problem := parseBaseURL(raw)
	switch {
	case problem == urlNotAbsolute:
		return "", invalidInput("oauthUrl", "not an absolute URL: pass the relay's URL, such as https://relay.example.com")
	case problem == urlExtras || u.forceQuery:
		return "", invalidInput("oauthUrl", "must not carry credentials, a query or a fragment")
	}
	hostname, port := splitHostPort(u.host)
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", invalidInput("oauthUrl", "port "+quote(clip(port, 10))+" is not a port number (1 to 65535)")
		}
	}
	switch u.scheme {
	case "https":
	case "http":
		if !IsLoopback(hostname) {
			return "", invalidInput("oauthUrl", "http is allowed only for loopback hosts (127.0.0.1, ::1, localhost): use https")
		}
	default:
		return "", invalidInput("oauthUrl", "scheme "+quote(clip(u.scheme, 10))+" is not allowed: use https")
	}
	if !plainPath(u.rawPath) {
		return "", invalidInput("oauthUrl", "the path must be plain (no escapes or backslashes)")
	}
	return u.scheme + "://" + strings.ToLower(u.host) + strings.TrimRight(u.rawPath, "/"), nil
}

// withOAuth sets the OAuth root of endpoints derived from baseUrl when the
// input names a relay.
func withOAuth(ep Endpoints, oauthURL string) (Endpoints, *Error) {
	if strings.TrimSpace(oauthURL) == "" {
		return ep, nil
	}
	root, err := deriveOAuth(oauthURL)
	if err != nil {
		return Endpoints{}, err
	}
	ep.OAuth = root
	return ep, nil
}

// oauthRoot is where the OAuth endpoints are: the relay, or the web origin.
func (e Endpoints) oauthRoot() string {
	if e.OAuth != "" {
		return e.OAuth
	}
	return e.Base
}
