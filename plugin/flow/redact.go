package flow

import "strings"

// tokenPrefixes are GitHub's token prefixes: personal (ghp_), OAuth (gho_),
// user-to-server (ghu_), server-to-server (ghs_) and refresh (ghr_) tokens.
var tokenPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}

// redact masks anything shaped like a GitHub token in text that leaves the
// engine as an event or an error (rule 10). The engine never puts a token
// there itself; this guards against a server that echoes one back.
func redact(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		n := tokenAt(s, i)
		if n == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString("[redacted]")
		i += n
	}
	return b.String()
}

// minSecretLen is the shortest known secret redactSecrets masks: shorter
// strings would mangle ordinary words and cannot be real tokens.
const minSecretLen = 8

// redactSecrets masks every occurrence of the given secrets, whatever their
// shape: older GitHub Enterprise Server and other RFC 8628 servers issue
// tokens without GitHub's prefixes (rule 10).
func redactSecrets(s string, secrets []string) string {
	for _, x := range secrets {
		if len(x) >= minSecretLen && strings.Contains(s, x) {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}

// tokenAt answers the length of a token starting at s[i], or 0.
func tokenAt(s string, i int) int {
	if i > 0 && isTokenByte(s[i-1]) {
		return 0
	}
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(s[i:], p) {
			j := i + len(p)
			for j < len(s) && isTokenByte(s[j]) {
				j++
			}
			if j-i-len(p) >= 4 {
				return j - i
			}
		}
	}
	return 0
}

func isTokenByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
