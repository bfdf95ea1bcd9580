package deviceflowtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// GrantStatus is where a device code stands.
type GrantStatus string

// The states of a device code.
const (
	// StatusPending waits for the person (or Approve, or AutoApprove).
	StatusPending GrantStatus = "pending"
	// StatusApproved is authorized; the next well-spaced poll gets a token.
	StatusApproved GrantStatus = "approved"
	// StatusDenied was cancelled by the person or by Deny.
	StatusDenied GrantStatus = "denied"
	// StatusUsed has been exchanged for a token.
	StatusUsed GrantStatus = "used"
	// StatusExpired outlived its expires_in without being used.
	StatusExpired GrantStatus = "expired"
)

// Errors returned by Approve and Deny.
var (
	// ErrUnknownCode means no device code has that user code.
	ErrUnknownCode = errors.New("emulator: user code not recognised")
	// ErrCodeExpired means the user code's device code has expired.
	ErrCodeExpired = errors.New("emulator: user code has expired")
	// ErrAlreadyDecided means the code was already approved, cancelled or used.
	ErrAlreadyDecided = errors.New("emulator: user code was already approved, cancelled or used")
)

// Grant is a snapshot of one device code and what happened to it. It holds
// the device code itself, so tests can poll with it; it is never logged.
type Grant struct {
	DeviceCode string
	UserCode   string
	ClientID   string
	ClientType ClientType
	// Scopes are the scopes requested (none for a GitHub App).
	Scopes []string
	// Interval is the code's current polling interval, slow_down included.
	Interval  time.Duration
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Polls counts every poll of the code; SlowDowns those answered slow_down.
	Polls     int
	SlowDowns int
	Status    GrantStatus
}

// grant is the emulator's record of a device code.
type grant struct {
	Grant
	client   Client
	lastPoll time.Time // when the code was last polled, or issued
	spaced   int       // polls that were not answered slow_down
}

// snapshot copies the grant for a caller, with its status as of now.
func (g *grant) snapshot(now time.Time) Grant {
	c := g.Grant
	c.Scopes = append([]string(nil), g.Scopes...)
	c.Status = g.status(now)
	return c
}

// status is the grant's status as of now: pending and denied codes become
// expired once their time is up.
func (g *grant) status(now time.Time) GrantStatus {
	if (g.Status == StatusPending || g.Status == StatusDenied || g.Status == StatusApproved) && !now.Before(g.ExpiresAt) {
		return StatusExpired
	}
	return g.Status
}

// userCodeAlphabet has no vowels, so codes spell no words, and no 0, 1, O
// or I, which people confuse.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"

// newUserCode returns a fresh code of the form XXXX-XXXX.
func newUserCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// newDeviceCode returns 40 hexadecimal characters, like GitHub's.
func newDeviceCode() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// normalizeUserCode turns what a person typed into the canonical XXXX-XXXX,
// accepting any case, spaces and a missing dash. It returns "" for text that
// cannot be a user code.
func normalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	c := b.String()
	if len(c) != 8 {
		return ""
	}
	return c[:4] + "-" + c[4:]
}

// issueGrant records a new device code for client. The caller holds s.mu.
func (s *Server) issueGrant(client Client, scopes []string, now time.Time) *grant {
	userCode := newUserCode()
	for {
		old, taken := s.byUser[userCode]
		if !taken || old.status(now) != StatusPending {
			break
		}
		userCode = newUserCode()
	}
	g := &grant{
		Grant: Grant{
			DeviceCode: newDeviceCode(),
			UserCode:   userCode,
			ClientID:   client.ID,
			ClientType: client.Type,
			Scopes:     scopes,
			Interval:   s.cfg.Interval,
			IssuedAt:   now,
			ExpiresAt:  now.Add(s.cfg.ExpiresIn),
			Status:     StatusPending,
		},
		client:   client,
		lastPoll: now,
	}
	s.grants = append(s.grants, g)
	s.byDevice[g.DeviceCode] = g
	s.byUser[g.UserCode] = g
	return g
}

// decide approves or denies the code a person typed.
func (s *Server) decide(userCode string, approve bool) error {
	code := normalizeUserCode(userCode)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.byUser[code]
	if !ok {
		return ErrUnknownCode
	}
	switch g.status(s.cfg.Now()) {
	case StatusExpired:
		return ErrCodeExpired
	case StatusPending:
	default:
		return ErrAlreadyDecided
	}
	if approve {
		g.Status = StatusApproved
		s.log("device code approved", "user_code", g.UserCode, "client_id", g.ClientID)
	} else {
		g.Status = StatusDenied
		s.log("device code denied", "user_code", g.UserCode, "client_id", g.ClientID)
	}
	return nil
}

// Approve authorizes the device code with this user code, as the person
// pressing Authorize would. The code may be typed in any case, with or
// without its dash.
func (s *Server) Approve(userCode string) error { return s.decide(userCode, true) }

// Deny cancels the device code with this user code, as the person pressing
// Cancel would: its polls answer access_denied from then on.
func (s *Server) Deny(userCode string) error { return s.decide(userCode, false) }

// Grants returns every device code issued so far, oldest first.
func (s *Server) Grants() []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	out := make([]Grant, 0, len(s.grants))
	for _, g := range s.grants {
		out = append(out, g.snapshot(now))
	}
	return out
}

// Pending returns the device codes that wait for a person, oldest first.
func (s *Server) Pending() []Grant {
	var out []Grant
	for _, g := range s.Grants() {
		if g.Status == StatusPending {
			out = append(out, g)
		}
	}
	return out
}

// PendingUserCodes returns the user codes of the codes in Pending.
func (s *Server) PendingUserCodes() []string {
	var out []string
	for _, g := range s.Pending() {
		out = append(out, g.UserCode)
	}
	return out
}

// LastGrant returns the device code issued most recently.
func (s *Server) LastGrant() (Grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.grants) == 0 {
		return Grant{}, false
	}
	return s.grants[len(s.grants)-1].snapshot(s.cfg.Now()), true
}
