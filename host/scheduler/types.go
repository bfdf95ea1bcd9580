package scheduler

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// Errors the scheduler returns; test them with errors.Is. Failures of a
// flow itself (expired_token, access_denied, a sandbox refusal) are the
// plugin's *host.Error, as the host returns them.
var (
	// ErrNotFound: no flow has this id (it never existed, or its record
	// was removed ResultTTL after it ended).
	ErrNotFound = errors.New("scheduler: no such flow")
	// ErrFinished: Cancel was asked for a flow that has already ended.
	ErrFinished = errors.New("scheduler: the flow has already ended")
	// ErrClosed: the scheduler has stopped (its Run returned).
	ErrClosed = errors.New("scheduler: stopped")
	// ErrRunning: Run was called on a scheduler that is running.
	ErrRunning = errors.New("scheduler: already running")
	// ErrInvalid: a bad argument or Config; the message names it.
	ErrInvalid = errors.New("scheduler: invalid argument")
	// ErrConflict: a store record kept changing under the scheduler's
	// compare-and-swap (another program rewrites its keys).
	ErrConflict = errors.New("scheduler: the store kept changing under a write")
)

// ClientConfig names the app a flow signs in to, as the plugin's input
// does (wit: options).
type ClientConfig struct {
	// ClientID is the app's client id (required).
	ClientID string `json:"clientId"`
	// ClientType is "oauth-app" (the default) or "github-app".
	ClientType string `json:"clientType,omitempty"`
	// Scopes are the OAuth App's scopes (none for a GitHub App).
	Scopes []string `json:"scopes,omitempty"`
	// BaseURL is the GitHub to sign in to: the scheduler's Host.BaseURL
	// when empty (https://github.com when that is empty too). Its host must
	// be one the scheduler's host.Options allow.
	BaseURL string `json:"baseUrl,omitempty"`
}

// State is where a flow is.
type State string

// The states of a flow. Every state but Pending is final.
const (
	// Pending: waiting for the person; the scheduler polls it.
	Pending State = "pending"
	// Complete: approved; the Authentication holds the token.
	Complete State = "complete"
	// Failed: denied, expired or otherwise ended; Err says why.
	Failed State = "failed"
	// Cancelled: Cancel stopped it.
	Cancelled State = "cancelled"
)

// Verification is what to show the person: the code and the page. (The
// device code, a secret, is not in it.)
type Verification struct {
	// UserCode is the code the person types, such as "WDJB-MJHT".
	UserCode string `json:"userCode"`
	// VerificationURI is the page where they type it;
	// VerificationURIComplete, when the server sends one, the page with the
	// code filled in.
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete,omitempty"`
	// ExpiresIn is how long the code lives from the moment it was issued.
	ExpiresIn time.Duration `json:"expiresIn"`
}

// URL is the best page to open: VerificationURIComplete when the server
// sent one, VerificationURI otherwise.
func (v Verification) URL() string {
	if v.VerificationURIComplete != "" {
		return v.VerificationURIComplete
	}
	return v.VerificationURI
}

// Authentication is the token a flow ended with, in the contract's shape
// (the octokit authentication object). Keep it secret.
type Authentication struct {
	// Type is "token" and TokenType "oauth", as in octokit.
	Type      string `json:"type"`
	TokenType string `json:"tokenType"`
	// ClientType is "oauth-app" or "github-app"; ClientID the app's id.
	ClientType string `json:"clientType"`
	ClientID   string `json:"clientId"`
	// Token is the access token.
	Token string `json:"token"`
	// Scopes are the scopes granted (OAuth Apps).
	Scopes []string `json:"scopes,omitempty"`
	// RefreshToken renews an expiring GitHub App token (single use).
	RefreshToken string `json:"refreshToken,omitempty"`
	// ExpiresAt and RefreshTokenExpiresAt are RFC 3339 times, empty when
	// the token does not expire.
	ExpiresAt             string `json:"expiresAt,omitempty"`
	RefreshTokenExpiresAt string `json:"refreshTokenExpiresAt,omitempty"`
}

// Status is a flow as the shared store holds it.
type Status struct {
	ID     string
	Tenant string
	State  State
	// Verification is what the person is shown.
	Verification Verification
	// NextPollAt is when the flow is polled next (Pending); ExpiresAt when
	// its device code expires; Interval the polling interval in force.
	NextPollAt, ExpiresAt time.Time
	Interval              time.Duration
	// Owner is the node that holds the flow's lease; Polls counts the polls
	// sent so far.
	Owner string
	Polls int
	// Authentication is the token (Complete only).
	Authentication *Authentication
	// Err is why the flow failed (Failed only).
	Err *host.Error
	// Updated is when the record was last written.
	Updated time.Time
}

// Result is a flow's end, as OnResult receives it.
type Result struct {
	ID     string
	Tenant string
	// State is Complete, Failed or Cancelled.
	State State
	// Authentication is the token (Complete only).
	Authentication *Authentication
	// Err is the plugin's error (Failed only): a *host.Error whose code
	// says why (expired_token, access_denied, …).
	Err error
}

// record is a flow as the store keeps it (PREFIX:flow:ID).
type record struct {
	V      int          `json:"v"`
	ID     string       `json:"id"`
	Tenant string       `json:"tenant"`
	Client ClientConfig `json:"client"`
	// Owner holds the lease until Lease (Unix ms).
	Owner string `json:"owner"`
	Lease int64  `json:"lease"`
	State State  `json:"status"`
	// Flow is the plugin's state (pending only).
	Flow         json.RawMessage `json:"state,omitempty"`
	Next         int64           `json:"next,omitempty"`
	Expires      int64           `json:"expires,omitempty"`
	IntervalMs   int64           `json:"intervalMs,omitempty"`
	Verification Verification    `json:"verification"`
	Polls        int             `json:"polls,omitempty"`
	Created      int64           `json:"created"`
	Updated      int64           `json:"updated"`
	Auth         *Authentication `json:"auth,omitempty"`
	Err          *host.Error     `json:"error,omitempty"`
}

const recordVersion = 1

func (r *record) status() *Status {
	st := &Status{
		ID: r.ID, Tenant: r.Tenant, State: r.State, Verification: r.Verification,
		Interval: time.Duration(r.IntervalMs) * time.Millisecond,
		Owner:    r.Owner, Polls: r.Polls, Authentication: r.Auth, Err: r.Err,
		Updated: time.UnixMilli(r.Updated),
	}
	if r.Next > 0 {
		st.NextPollAt = time.UnixMilli(r.Next)
	}
	if r.Expires > 0 {
		st.ExpiresAt = time.UnixMilli(r.Expires)
	}
	return st
}

func (r *record) result() Result {
	res := Result{ID: r.ID, Tenant: r.Tenant, State: r.State, Authentication: r.Auth}
	if r.Err != nil {
		res.Err = r.Err
	}
	return res
}

func (r *record) encode() string {
	b, _ := json.Marshal(r)
	return string(b)
}

func decodeRecord(key, v string) (*record, error) {
	var r record
	if err := json.Unmarshal([]byte(v), &r); err != nil || r.V != recordVersion || r.ID == "" {
		return nil, &host.Error{Code: host.ErrStore.Code, Message: "scheduler: the store entry " + key + " is not a flow record of this version"}
	}
	return &r, nil
}

// stepAnswer is begin's and poll's answer (wit: step).
type stepAnswer struct {
	Status         string          `json:"status"`
	State          json.RawMessage `json:"state"`
	NextPollAt     int64           `json:"nextPollAt"`
	ExpiresAt      int64           `json:"expiresAt"`
	Interval       float64         `json:"interval"`
	Verification   json.RawMessage `json:"verification"`
	Authentication *Authentication `json:"authentication"`
}

// wireVerification is the server's verification object as the plugin
// passes it on (it carries the device code, which the scheduler drops).
type wireVerification struct {
	UserCode                string  `json:"user_code"`
	VerificationURI         string  `json:"verification_uri"`
	VerificationURIComplete string  `json:"verification_uri_complete"`
	ExpiresIn               float64 `json:"expires_in"`
}

func (w wireVerification) public() Verification {
	return Verification{
		UserCode: w.UserCode, VerificationURI: w.VerificationURI, VerificationURIComplete: w.VerificationURIComplete,
		ExpiresIn: time.Duration(w.ExpiresIn * float64(time.Second)),
	}
}
