package flow

import "testing"

func TestClockBase(t *testing.T) {
	now := int64(1767225600000) // 2026-01-01T00:00:00Z
	tests := []struct {
		date string
		want int64
	}{
		{"", now},
		{"Thu, 01 Jan 2026 00:00:07 GMT", now + 7000},
		{"Thursday, 01-Jan-26 00:00:07 GMT", now + 7000},
		{"Thu Jan  1 00:00:07 2026", now + 7000},
		{"Wed, 31 Dec 2025 23:00:00 GMT", now - 3600000},
		// octokit takes the server's Date whatever it says; the refresh
		// decision uses the local stamps instead.
		{"Mon, 01 Jan 1990 00:00:00 GMT", 631152000000},
		{"Sat, 03 Jan 2026 00:00:01 GMT", now + 2*86400000 + 1000},
		// RFC 9110 section 5.6.7's forms with a one-digit day.
		{"Thu, 1 Jan 1970 00:00:00 GMT", 0},
		{"Thursday, 1-Jan-70 00:00:00 GMT", 0},
		{"Thu Jan 1 00:00:07 2026", now + 7000},
		{"yesterday", now},
	}
	for _, tt := range tests {
		r := &Response{Headers: map[string]string{"date": tt.date}}
		if got := clockBase(r, now); got != tt.want {
			t.Errorf("Date %q: base %d, want %d", tt.date, got, tt.want)
		}
	}
}

func TestFreshness(t *testing.T) {
	now := int64(1767225600000)
	tests := []struct {
		name string
		a    Authentication
		want freshness
	}{
		{"never expires", Authentication{Token: "t"}, fresh},
		{"an hour left", Authentication{Token: "t", ExpiresAt: formatTime(now + 3600000), RefreshToken: "r"}, fresh},
		{"four minutes left", Authentication{Token: "t", ExpiresAt: formatTime(now + 240000), RefreshToken: "r"}, refreshable},
		{"expired, live refresh", Authentication{Token: "t", ExpiresAt: formatTime(now - 1), RefreshToken: "r", RefreshTokenExpiresAt: formatTime(now + 1000)}, refreshable},
		{"expired, dead refresh", Authentication{Token: "t", ExpiresAt: formatTime(now - 1), RefreshToken: "r", RefreshTokenExpiresAt: formatTime(now)}, stale},
		{"expired, no refresh", Authentication{Token: "t", ExpiresAt: formatTime(now - 1)}, stale},
		// The server's clock was a year behind: the ISO stamp is long past,
		// but by the host's clock the token has hours left.
		{"server clock off, local stamps fresh", Authentication{Token: "t", ExpiresAt: formatTime(now - 365*86400000), RefreshToken: "r",
			local: &localStamps{ExpiresAt: now + 3600000}}, fresh},
		{"server clock ahead, local stamps expiring", Authentication{Token: "t", ExpiresAt: formatTime(now + 365*86400000), RefreshToken: "r",
			local: &localStamps{ExpiresAt: now + 60000}}, refreshable},
		{"garbled expiry", Authentication{Token: "t", ExpiresAt: "soon", RefreshToken: "r"}, refreshable},
	}
	for _, tt := range tests {
		if got := tt.a.freshness(now); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestFormatTimeMatchesJavaScript(t *testing.T) {
	// new Date(1767254400000).toISOString() === "2026-01-01T08:00:00.000Z"
	if got := formatTime(1767254400000); got != "2026-01-01T08:00:00.000Z" {
		t.Errorf("got %s", got)
	}
}
