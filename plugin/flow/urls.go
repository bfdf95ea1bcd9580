package flow

import (
	"slices"
	"strings"
)

// The engine reads base URLs and form bodies, and writes form bodies, as
// Go's net/url does, without linking net/url (which links fmt and
// reflect). Native tests fuzz each function against net/url.

// urlProblem says why a base URL is refused.
type urlProblem int

const (
	urlOK          urlProblem = iota
	urlNotAbsolute            // no scheme and host, or malformed
	urlExtras                 // user info, a query or a fragment
)

// absURL is an absolute URL as net/url.Parse reads it: the scheme
// (lower-cased), the host (unescaped, with any port), the path unescaped
// and as written, and whether it ends with an empty query ("?").
type absURL struct {
	scheme, host, path, rawPath string
	forceQuery                  bool
}

// urlParts is an absolute URL split as net/url.Parse splits it: the parts
// absURL keeps, the query as written, whether the authority holds user
// info, and whether the (unescaped) fragment is non-empty.
type urlParts struct {
	absURL
	rawQuery string
	userinfo bool
	fragment bool
}

// splitURL splits an absolute URL as net/url.Parse does. ok is false for a
// URL that Parse refuses or that has no host. A URL with user info stops
// there: it is refused whatever its host.
func splitURL(s string) (u urlParts, ok bool) {
	rest, frag, _ := strings.Cut(s, "#")
	for i := 0; i < len(rest); i++ {
		if rest[i] < ' ' || rest[i] == 0x7f {
			return u, false
		}
	}
	scheme, rest, ok := urlScheme(rest)
	if !ok || scheme == "" {
		return u, false
	}
	u.scheme = strings.ToLower(scheme)
	if strings.HasSuffix(rest, "?") && strings.Count(rest, "?") == 1 {
		rest, u.forceQuery = rest[:len(rest)-1], true
	} else {
		rest, u.rawQuery, _ = strings.Cut(rest, "?")
	}
	if !strings.HasPrefix(rest, "//") {
		// Opaque, or no host.
		return u, false
	}
	authority, rest := rest[2:], ""
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		authority, rest = authority[:i], authority[i:]
	}
	if strings.Contains(authority, "@") {
		u.userinfo = true
		return u, true
	}
	if u.host, ok = urlHost(u.scheme, authority); !ok || u.host == "" {
		return u, false
	}
	u.rawPath = rest
	if u.path, ok = urlUnescape(rest, escPath); !ok {
		return u, false
	}
	f, ok := urlUnescape(frag, escPath)
	if !ok {
		return u, false
	}
	u.fragment = f != ""
	return u, true
}

// parseBaseURL reads an absolute URL as net/url.Parse does. A URL that
// Parse refuses, or that has no host, is urlNotAbsolute; one with user
// info, a non-empty query or a non-empty fragment is urlExtras.
func parseBaseURL(s string) (absURL, urlProblem) {
	u, ok := splitURL(s)
	switch {
	case !ok:
		return u.absURL, urlNotAbsolute
	case u.userinfo || u.rawQuery != "" || u.fragment:
		return u.absURL, urlExtras
	}
	return u.absURL, urlOK
}

// escapedPath is the path as net/url's URL.EscapedPath writes it: as
// written when that is a valid encoding, otherwise the unescaped path
// escaped again.
func (u absURL) escapedPath() string {
	valid := true
	for i := 0; i < len(u.rawPath) && valid; i++ {
		valid = writtenPathByte(u.rawPath[i]) || u.rawPath[i] == '%'
	}
	if valid {
		return u.rawPath
	}
	const upperHex = "0123456789ABCDEF"
	b := make([]byte, 0, len(u.path)+8)
	for i := 0; i < len(u.path); i++ {
		if c := u.path[i]; escapedPathByte(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	return string(b)
}

// escapedPathByte reports whether net/url's escape leaves c as it is in a
// path.
func escapedPathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~$&+,/:;=@", c) >= 0
}

// writtenPathByte reports whether a path as written may hold c for
// net/url's URL.EscapedPath to keep it as written: what escape leaves, and
// the sub-delimiters and brackets it would escape but accepts.
func writtenPathByte(c byte) bool {
	return escapedPathByte(c) || strings.IndexByte("!'()*[]", c) >= 0
}

// plainPath reports whether a path as written is what net/url's
// URL.EscapedPath answers for it without a percent sign or a backslash:
// every byte one that a path holds unescaped.
func plainPath(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if !writtenPathByte(raw[i]) {
			return false
		}
	}
	return true
}

// urlScheme splits off a leading "scheme:"; ok is false for a URL that
// starts with a colon.
func urlScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.':
			if i == 0 {
				return "", s, true
			}
		case c == ':':
			if i == 0 {
				return "", "", false
			}
			return s[:i], s[i+1:], true
		default:
			return "", s, true
		}
	}
	return "", s, true
}

// urlHost checks and unescapes a host with an optional port, as net/url's
// parseHost does (colons other than the port's are refused for http and
// https, IP literals must be IPv6).
func urlHost(scheme, host string) (string, bool) {
	if i := strings.LastIndex(host, "["); i > 0 {
		return "", false
	} else if i == 0 {
		end := strings.LastIndex(host, "]")
		if end < 0 {
			return "", false
		}
		colonPort := host[end+1:]
		if !validOptionalPort(colonPort) {
			return "", false
		}
		name := host[1:end]
		var unescaped string
		if z := strings.Index(name, "%25"); z >= 0 {
			h, ok1 := urlUnescape(name[:z], escHost)
			zone, ok2 := urlUnescape(name[z:], escZone)
			if !ok1 || !ok2 {
				return "", false
			}
			unescaped = h + zone
		} else {
			var ok bool
			if unescaped, ok = urlUnescape(name, escHost); !ok {
				return "", false
			}
		}
		if addr, ok := parseIP(unescaped); !ok || addr.v4 {
			return "", false
		}
		return "[" + unescaped + "]" + colonPort, true
	} else if i := strings.Index(host, ":"); i >= 0 {
		last := strings.LastIndex(host, ":")
		if last != i && (scheme == "http" || scheme == "https") {
			return "", false
		}
		if !validOptionalPort(host[last:]) {
			return "", false
		}
	}
	return urlUnescape(host, escHost)
}

// splitHostPort splits a parsed host into its name (without IPv6
// brackets) and port, as net/url's URL.Hostname and URL.Port do.
func splitHostPort(hostPort string) (host, port string) {
	host = hostPort
	if colon := strings.LastIndexByte(host, ':'); colon >= 0 && validOptionalPort(host[colon:]) {
		host, port = host[:colon], host[colon+1:]
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return host, port
}

func validOptionalPort(port string) bool {
	if port == "" {
		return true
	}
	if port[0] != ':' {
		return false
	}
	for i := 1; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// escMode is the part of a URL being unescaped.
type escMode int

const (
	escPath  escMode = iota // a path or fragment: any well-formed escape
	escHost                 // a host: only escapes of non-ASCII bytes (and %25)
	escZone                 // an IPv6 zone: escapes of bytes a host may hold
	escQuery                // a query component: "+" is a space
)

// hostByte reports whether a host may hold c unescaped.
func hostByte(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte(`!"$&'()*+,-.:;<=>[]_~`, c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// urlUnescape decodes %XX escapes (and, in a query, "+"), refusing what
// net/url's unescape refuses.
func urlUnescape(s string, mode escMode) (string, bool) {
	n, plus := 0, false
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '%':
			n++
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			if mode == escHost && unhex(s[i+1]) < 8 && s[i:i+3] != "%25" {
				return "", false
			}
			if mode == escZone {
				v := unhex(s[i+1])<<4 | unhex(s[i+2])
				if s[i:i+3] != "%25" && v != ' ' && !hostByte(v) {
					return "", false
				}
			}
			i += 3
		case c == '+':
			plus = plus || mode == escQuery
			i++
		default:
			if (mode == escHost || mode == escZone) && c < 0x80 && !hostByte(c) {
				return "", false
			}
			i++
		}
	}
	if n == 0 && !plus {
		return s, true
	}
	b := make([]byte, 0, len(s)-2*n)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && mode == escQuery:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// maxFormParams is net/url's default limit on the parameters of a query.
const maxFormParams = 10000

// parseForm reads an application/x-www-form-urlencoded body as net/url's
// ParseQuery does, keeping the first value of each name; ok is false when
// ParseQuery would answer an error.
func parseForm(body string) (map[string]string, bool) {
	if strings.Count(body, "&")+1 > maxFormParams {
		return nil, false
	}
	f := map[string]string{}
	ok := true
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if strings.Contains(pair, ";") {
			ok = false
			continue
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok1 := urlUnescape(k, escQuery)
		v, ok2 := urlUnescape(v, escQuery)
		if !ok1 || !ok2 {
			ok = false
			continue
		}
		if _, seen := f[k]; !seen {
			f[k] = v
		}
	}
	return f, ok
}

// formEncode writes params as net/url's Values.Encode does: sorted by
// name, each escaped as a query component.
func formEncode(params []param) string {
	var b []byte
	for _, p := range sortedParams(params) {
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = appendQueryEscape(b, p.name)
		b = append(b, '=')
		b = appendQueryEscape(b, p.value)
	}
	return string(b)
}

// sortedParams is params sorted by name, as net/url's Values.Encode and
// encoding/json's map encoding order them: params itself when it is in
// order already, else a sorted copy. Callers only read it.
func sortedParams(params []param) []param {
	if slices.IsSortedFunc(params, func(a, b param) int { return strings.Compare(a.name, b.name) }) {
		return params
	}
	sorted := append([]param(nil), params...)
	slices.SortStableFunc(sorted, func(a, b param) int { return strings.Compare(a.name, b.name) })
	return sorted
}

// appendQueryEscape escapes s as net/url's QueryEscape does: unreserved
// bytes as they are, space as "+", everything else as %XX.
func appendQueryEscape(b []byte, s string) []byte {
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	return b
}
