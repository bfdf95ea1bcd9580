package main

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/deviceflow/deviceflow/plugin/flow"
)

// The command trusts nothing a server sends (issue 11 §5): a verification
// page, a user code, an error's text, a login name, scopes, even a token may
// carry terminal escape sequences that set the window title, clear the
// screen or forge lines. Every such string goes through clean before it is
// shown, and a URL through safeURL before it is shown, opened, drawn as a QR
// code or copied.

// clean makes text from a server safe to show on a terminal: C0 controls
// (ESC included), DEL, C1 controls, bytes that are not UTF-8 and the
// invisible bidirectional controls that can make text read backwards are
// removed; line breaks and tabs become spaces, so that a server cannot
// start a line of its own. Everything else is kept as it is.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			// Not UTF-8: a lone 0x9b byte is CSI to an 8-bit terminal.
		case isBreak(r):
			b.WriteByte(' ')
		case isControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isClean(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || isBreak(r) || isControl(r) {
			return false
		}
		i += n
	}
	return true
}

// isBreak reports the controls that separate words or lines: tab, line
// feed, vertical tab, form feed, carriage return, NEL and the Unicode line
// and paragraph separators.
func isBreak(r rune) bool {
	return (r >= '\t' && r <= '\r') || r == 0x85 || r == 0x2028 || r == 0x2029
}

// isControl reports C0 and C1 controls, DEL, and the bidirectional
// formatting characters (LRM, RLM, ALM, the embeddings, overrides and
// isolates).
func isControl(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// errUnsafeURL is why safeURL refuses a URL.
var errUnsafeURL = errors.New("not an https URL (or http on this machine)")

// safeURL returns a URL from a server in the form that may be shown, opened
// and drawn: cleaned, its host name in ASCII (an internationalised name as
// punycode, so that gıthub.com cannot pass for github.com), and only when
// it is https, or http to this machine (127.0.0.0/8, ::1, localhost). A
// URL with a user name in it (https://github.com@evil.example) is refused,
// and so is every other scheme: javascript:, file:, data: and the rest.
func safeURL(raw string) (string, error) {
	u, err := url.Parse(clean(raw))
	if err != nil || u.Opaque != "" || u.Host == "" || u.User != nil {
		return "", errUnsafeURL
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !flow.IsLoopback(u.Hostname()) {
			return "", errUnsafeURL
		}
	default:
		return "", errUnsafeURL
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = asciiHostPort(u.Host)
	return u.String(), nil
}

// asciiHostPort is host[:port] with the host name in ASCII.
func asciiHostPort(hostport string) string {
	if strings.HasPrefix(hostport, "[") {
		return hostport // an IPv6 literal
	}
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i:]
	}
	return asciiHost(host) + port
}

// asciiHost shows a host name in ASCII: each label with a character beyond
// ASCII becomes "xn--" and its punycode (RFC 3492), after lower-casing, as
// browsers show it. Names already in ASCII are returned as they are.
func asciiHost(host string) string {
	host = clean(host)
	if isASCII(host) {
		return host
	}
	// The ideographic full stops that IDNA reads as dots.
	host = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(strings.ToLower(host))
	labels := strings.Split(host, ".")
	for i, l := range labels {
		if !isASCII(l) {
			labels[i] = "xn--" + punycode(l)
		}
	}
	return strings.Join(labels, ".")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// punycode encodes a label as RFC 3492 section 6.3 says, without the
// "xn--" prefix.
func punycode(label string) string {
	const (
		base        = 36
		tmin        = 1
		tmax        = 26
		skew        = 38
		damp        = 700
		initialBias = 72
		initialN    = 128
	)
	adapt := func(delta, points int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := initialN, 0, initialBias
	for h < len(runes) {
		m := int(utf8.MaxRune) + 1
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := k - bias
				if t < tmin {
					t = tmin
				} else if t > tmax {
					t = tmax
				}
				if q < t {
					break
				}
				out = append(out, digit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			out = append(out, digit(q))
			bias = adapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out)
}

// cleanWriter removes control characters from everything written through
// it, line feeds and tabs apart (the command's own layout uses them). It is
// the last line of defence: text from a server is cleaned where it is
// used, and the spinner, which draws with escape sequences of its own,
// writes past it.
type cleanWriter struct{ w io.Writer }

func (c cleanWriter) Write(p []byte) (int, error) {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == '\n', r == '\t':
			return r
		case isBreak(r), isControl(r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(p), ""))
	if _, err := io.WriteString(c.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
