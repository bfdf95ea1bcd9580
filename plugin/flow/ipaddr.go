package flow

import "strings"

// The engine reads IP addresses by hand, as net/netip's ParseAddr reads
// them, so that the plugin does not link net/netip (and through it the
// unique and weak packages). FuzzParseIPAsNetip holds it to ParseAddr.

// ipAddr is an IP address: its sixteen bytes (an IPv4 address as
// ::ffff:a.b.c.d) and whether it was written as IPv4.
type ipAddr struct {
	b  [16]byte
	v4 bool
}

// parseIP reads an IPv4 address in dotted decimal or an IPv6 address with
// an optional zone, accepting exactly what net/netip.ParseAddr accepts.
// The first '.', ':' or '%' decides which form is read.
func parseIP(s string) (ip ipAddr, ok bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			var v4 [4]byte
			if v4, ok = parseIPv4(s); !ok {
				return ip, false
			}
			ip.b[10], ip.b[11] = 0xff, 0xff
			copy(ip.b[12:], v4[:])
			ip.v4 = true
			return ip, true
		case ':':
			return parseIPv6(s)
		case '%':
			// A zone without an address.
			return ip, false
		}
	}
	return ip, false
}

// parseIPv4 reads four decimal fields of 0 to 255, without leading zeros.
func parseIPv4(s string) (b [4]byte, ok bool) {
	for n := 0; n < 4; n++ {
		field := s
		if n < 3 {
			var found bool
			if field, s, found = strings.Cut(s, "."); !found {
				return b, false
			}
		}
		if len(field) == 0 || len(field) > 3 || (len(field) > 1 && field[0] == '0') {
			return b, false
		}
		v := 0
		for i := 0; i < len(field); i++ {
			if field[i] < '0' || field[i] > '9' {
				return b, false
			}
			v = v*10 + int(field[i]-'0')
		}
		if v > 255 {
			return b, false
		}
		b[n] = byte(v)
	}
	return b, true
}

// parseIPv6 reads an IPv6 address (RFC 4291 section 2.2): eight groups of
// one to four hexadecimal digits separated by colons, one "::" standing for
// at least one group of zeros, the last two groups optionally written as an
// IPv4 address, and then an optional non-empty zone after '%'.
func parseIPv6(s string) (ip ipAddr, ok bool) {
	if i := strings.IndexByte(s, '%'); i >= 0 {
		if i == len(s)-1 {
			return ip, false
		}
		s = s[:i]
	}
	head, tail, ellipsis := strings.Cut(s, "::")
	var groups [2][]string
	for n, part := range []string{head, tail} {
		if part != "" {
			groups[n] = strings.Split(part, ":")
		}
	}
	// Only the address's last group may be an IPv4 address, for two
	// groups: after "::" that is the tail's last; an address that ends with
	// "::" has none.
	lastPart := 0
	if ellipsis {
		lastPart = 1
	}
	var words [2][]uint16
	for n, gs := range groups {
		for k, g := range gs {
			if strings.IndexByte(g, '.') < 0 {
				w, ok := hexGroup(g)
				if !ok {
					return ip, false
				}
				words[n] = append(words[n], w)
				continue
			}
			if n != lastPart || k != len(gs)-1 {
				return ip, false
			}
			v4, ok := parseIPv4(g)
			if !ok {
				return ip, false
			}
			words[n] = append(words[n], uint16(v4[0])<<8|uint16(v4[1]), uint16(v4[2])<<8|uint16(v4[3]))
		}
	}
	count := len(words[0]) + len(words[1])
	if ellipsis && count > 7 || !ellipsis && count != 8 {
		return ip, false
	}
	for i, w := range words[0] {
		ip.b[2*i], ip.b[2*i+1] = byte(w>>8), byte(w)
	}
	for i, w := range words[1] {
		at := 16 - 2*len(words[1]) + 2*i
		ip.b[at], ip.b[at+1] = byte(w>>8), byte(w)
	}
	return ip, true
}

// hexGroup reads one to four hexadecimal digits.
func hexGroup(g string) (uint16, bool) {
	if len(g) == 0 || len(g) > 4 {
		return 0, false
	}
	var w uint16
	for i := 0; i < len(g); i++ {
		if !isHex(g[i]) {
			return 0, false
		}
		w = w<<4 | uint16(unhex(g[i]))
	}
	return w, true
}

// isLoopback reports whether ip is a loopback address: 127.0.0.0/8
// (RFC 1122 section 3.2.1.3), also as an IPv4-mapped IPv6 address, or ::1
// (RFC 4291 section 2.5.3).
func (ip ipAddr) isLoopback() bool {
	var zero [10]byte
	if [10]byte(ip.b[:10]) != zero {
		return false
	}
	if ip.b[10] == 0xff && ip.b[11] == 0xff {
		return ip.b[12] == 127
	}
	return ip.b[10] == 0 && ip.b[11] == 0 && ip.b[12] == 0 && ip.b[13] == 0 && ip.b[14] == 0 && ip.b[15] == 1
}
