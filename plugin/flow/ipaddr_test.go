package flow

import (
	"net/netip"
	"testing"
)

// FuzzParseIPAsNetip: an address is accepted exactly when net/netip's
// ParseAddr accepts it, with the same bytes, the same IPv4 form and the
// same loopback answer.
func FuzzParseIPAsNetip(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "127.255.255.254", "128.0.0.1", "0.0.0.0", "1.2.3", "1.2.3.4.", "01.2.3.4", "1.2.3.256", "1.2.3.4%e",
		"::1", "::", "::%eth0", "::1%", "::1%%", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4",
		"::1.2.3.4", "1.2.3.4::", "1:1.2.3.4::", "1::2::3", ":::1", ":1::2", "1:", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::",
		"1::2:3:4:5:6:7", "1::2:3:4:5:6:7:8", "fe80::1%en0", "12345::", "0000:0:0:0:0:0:0:1", "a.2.3.4", "::a.2.3.4", "%", "", "localhost", "::FFFF:1.2.3.4",
		"::1:2:3:4:5:1.2.3.4", "1::1.2.3.4", "1:2::3:1.2.3.4%z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := netip.ParseAddr(s)
		got, ok := parseIP(s)
		if ok != (err == nil) {
			t.Fatalf("%q: parseIP ok %v, ParseAddr error %v", s, ok, err)
		}
		if !ok {
			return
		}
		if got.b != want.As16() || got.v4 != want.Is4() || got.isLoopback() != want.IsLoopback() {
			t.Fatalf("%q: got %x v4 %v loopback %v; netip %x v4 %v loopback %v", s, got.b, got.v4, got.isLoopback(), want.As16(), want.Is4(), want.IsLoopback())
		}
	})
}
