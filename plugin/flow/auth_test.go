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
		{"Mon, 01 Jan 1990 00:00:00 GMT", now}, // far off: not sane
		{"Sat, 03 Jan 2026 00:00:01 GMT", now}, // more than a day ahead
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
