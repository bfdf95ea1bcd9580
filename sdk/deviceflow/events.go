package deviceflow

import (
	"encoding/json"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// Verification is what to show the person: the code to type and where to
// type it. The fields are the server's own, as octokit hands them to
// onVerification.
type Verification struct {
	// UserCode is the code the person types, such as "WDJB-MJHT".
	UserCode string
	// VerificationURI is the page where they type it.
	VerificationURI string
	// VerificationURIComplete is the page with the code filled in, when the
	// server sends one (GitHub does not).
	VerificationURIComplete string
	// ExpiresIn is how long the code lives; Interval how often the client
	// polls.
	ExpiresIn time.Duration
	Interval  time.Duration
	// DeviceCode is the secret the client polls with. Do not show it.
	DeviceCode string
}

// URL is the best page to open: VerificationURIComplete when the server
// sent one, VerificationURI otherwise.
func (v Verification) URL() string {
	if v.VerificationURIComplete != "" {
		return v.VerificationURIComplete
	}
	return v.VerificationURI
}

// Event is something the plugin reports while it works. Type says which;
// only the fields of that type are set. An event never carries an access or
// refresh token.
type Event struct {
	// Type is "verification", "polling", "slow_down", "backoff",
	// "waiting" (another process holds this sign-in's lease: it is
	// refreshing the token or waiting for its own device code to be
	// approved, and this call waits for it) or "refreshed".
	Type string
	// Verification is set for "verification".
	Verification *Verification
	// Attempt counts polls, from 1 ("polling").
	Attempt int
	// Interval is the polling interval ("polling", "slow_down").
	Interval time.Duration
	// Remaining is the time left before the code expires ("polling").
	Remaining time.Duration
	// Wait is how long the client waits after a failure ("backoff") or at
	// most for another holder of the lease ("waiting"); Reason says why
	// ("network", "timeout", "http" or "invalid_response" for a backoff,
	// "lease" for a wait) and Status is the HTTP status.
	Wait   time.Duration
	Reason string
	Status int
	// ExpiresAt is the refreshed token's expiry ("refreshed").
	ExpiresAt time.Time
	// JSON is the event exactly as the plugin emitted it.
	JSON json.RawMessage
}

// wireEvent holds every field any event has (wit: event).
type wireEvent struct {
	Type                    string  `json:"type"`
	DeviceCode              string  `json:"device_code"`
	UserCode                string  `json:"user_code"`
	VerificationURI         string  `json:"verification_uri"`
	VerificationURIComplete string  `json:"verification_uri_complete"`
	ExpiresIn               float64 `json:"expires_in"`
	Interval                float64 `json:"interval"`
	Attempt                 int     `json:"attempt"`
	RemainingMs             int64   `json:"remainingMs"`
	WaitMs                  int64   `json:"waitMs"`
	Reason                  string  `json:"reason"`
	Status                  int     `json:"status"`
	ExpiresAt               string  `json:"expiresAt"`
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// decodeEvent turns the host's event into an Event. Fields that do not
// parse are left zero: an event is information, never a failure.
func decodeEvent(e host.Event) Event {
	var w wireEvent
	_ = json.Unmarshal(e.JSON, &w)
	ev := Event{Type: e.Type, JSON: e.JSON}
	switch e.Type {
	case "verification":
		ev.Verification = &Verification{
			UserCode:                w.UserCode,
			VerificationURI:         w.VerificationURI,
			VerificationURIComplete: w.VerificationURIComplete,
			ExpiresIn:               seconds(w.ExpiresIn),
			Interval:                seconds(w.Interval),
			DeviceCode:              w.DeviceCode,
		}
		ev.Interval = seconds(w.Interval)
	case "polling":
		ev.Attempt = w.Attempt
		ev.Interval = seconds(w.Interval)
		ev.Remaining = time.Duration(w.RemainingMs) * time.Millisecond
	case "slow_down":
		ev.Interval = seconds(w.Interval)
	case "backoff", "waiting":
		ev.Wait = time.Duration(w.WaitMs) * time.Millisecond
		ev.Reason = w.Reason
		ev.Status = w.Status
	case "refreshed":
		ev.ExpiresAt, _ = parseTime("expiresAt", w.ExpiresAt)
	}
	return ev
}
