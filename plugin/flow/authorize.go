package flow

import (
	"strconv"
	"strings"
)

// withoutCredentials reports whether authorize must answer no credentials
// for a request: the two OAuth endpoints (octokit's hook sends them without
// any), and every URL that could reach anywhere but the configured GitHub's
// own origins, so that a token never travels to another host.
//
// The URL is judged the way WHATWG URL parsing reads it, as browsers, Node,
// fetch and octokit do, not the way Go's net/url does: parsers disagree on
// forms such as "https:evil.example/x" or "/\evil.example", and the reading
// that matters is the one of whoever sends the request. So:
//
//   - leading and trailing C0 controls and spaces are ignored and tabs and
//     newlines anywhere are removed, as the WHATWG parser does;
//   - anything with a scheme is absolute; for http and https the authority
//     follows any run of slashes and backslashes, and the origin must equal
//     an allowed one exactly;
//   - a leading "//", or a backslash where a slash could stand, is a
//     scheme-relative URL to another authority: no credentials;
//   - anything doubtful (user info, percent signs or non-ASCII in the
//     authority, a backslash right after it, which parsers read
//     differently, other schemes) gets no credentials.
//
// What remains is a path (or a path-relative reference) against the API.
func withoutCredentials(c *Config, rawURL string) (bool, *Error) {
	s := whatwgTrim(rawURL)
	if s == "" {
		return false, invalidInput("url", "missing: pass the URL of the request to authorize")
	}
	if strings.HasPrefix(s, "//") || strings.HasPrefix(s, `\`) || strings.HasPrefix(s, `/\`) {
		return true, nil
	}
	scheme, rest, ok := splitScheme(s)
	if !ok {
		// A generic server has no API root a relative reference could
		// resolve against: no credentials.
		return c.generic() || c.isOAuthPath(s), nil
	}
	if scheme != "http" && scheme != "https" {
		return true, nil
	}
	rest = strings.TrimLeft(rest, `/\`)
	end := strings.IndexAny(rest, `/\?#`)
	authority, path := rest, ""
	if end >= 0 {
		authority, path = rest[:end], rest[end:]
	}
	if strings.HasPrefix(path, `\`) {
		// WHATWG ends the authority at a backslash, but other parsers
		// (Python's urllib.parse) read on to a later "@" and another host:
		// doubtful.
		return true, nil
	}
	origin, ok := originOf(scheme, authority)
	if !ok || !c.allowsOrigin(origin) {
		return true, nil
	}
	return c.isOAuthPath(path), nil
}

// whatwgTrim does what the WHATWG URL parser does before it reads a URL:
// strip leading and trailing C0 controls and spaces, remove tabs and
// newlines.
func whatwgTrim(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}

// splitScheme splits "scheme:rest" when s starts with a URL scheme (an ASCII
// letter, then letters, digits, "+", "-" or "."), lower-casing the scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return strings.ToLower(s[:i]), s[i+1:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// originOf builds "scheme://host[:port]" from an authority, with the
// scheme's default port left out. It refuses (ok false) anything doubtful:
// user info, percent-encoding, non-ASCII, an empty host or a bad port.
func originOf(scheme, authority string) (string, bool) {
	if authority == "" || strings.ContainsAny(authority, "@%") {
		return "", false
	}
	for i := 0; i < len(authority); i++ {
		if authority[i] <= 0x20 || authority[i] >= 0x7f {
			return "", false
		}
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		i := strings.Index(host, "]")
		if i < 0 {
			return "", false
		}
		host, port = host[:i+1], strings.TrimPrefix(host[i+1:], ":")
		if host[i+1:] != "" && !strings.HasPrefix(authority[i+1:], ":") {
			return "", false
		}
	} else if i := strings.LastIndex(host, ":"); i >= 0 {
		host, port = host[:i], host[i+1:]
	}
	if host == "" || strings.HasSuffix(host, ".") {
		return "", false
	}
	host = strings.ToLower(host)
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return "", false
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		} else {
			port = strconv.Itoa(n)
		}
	}
	origin := scheme + "://" + host
	if port != "" {
		origin += ":" + port
	}
	return origin, true
}

// allowsOrigin reports whether origin is the configured GitHub's web or API
// origin.
func (c *Config) allowsOrigin(origin string) bool {
	return origin == c.Base || origin == originPart(c.API)
}

// originPart is the scheme://host[:port] prefix of an absolute URL.
func originPart(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
		return u[:i+3+j]
	}
	return u
}

// isOAuthPath reports whether a path (with any query or fragment) names one
// of the two OAuth endpoints, which octokit's hook sends without
// credentials.
func (c *Config) isOAuthPath(p string) bool {
	if c.generic() {
		return c.isGenericOAuthPath(p)
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimRight(strings.ReplaceAll(p, `\`, "/"), "/")
	return p == "/login/device/code" || p == "/login/oauth/access_token"
}
