package host

import "testing"

func TestAllowedHostsGHEC(t *testing.T) {
	for _, base := range []string{"https://acme.ghe.com", "https://api.acme.ghe.com"} {
		got, _, err := allowedHosts(Options{BaseURL: base})
		if err != nil || len(got) != 2 || !got["acme.ghe.com"] || !got["api.acme.ghe.com"] {
			t.Errorf("%s: allowed %v, %v", base, got, err)
		}
	}
}
