package host

import (
	"encoding/json"
	"errors"
)

// Code is a plugin error code, as in wit/deviceflow.wit.
type Code string

// Sentinel errors, one per code a caller may want to test with errors.Is.
var (
	ErrExpiredToken               = &Error{Code: "expired_token"}
	ErrAccessDenied               = &Error{Code: "access_denied"}
	ErrUnsupported                = &Error{Code: "unsupported"}
	ErrIncorrectClientCredentials = &Error{Code: "incorrect_client_credentials"}
	ErrIncorrectDeviceCode        = &Error{Code: "incorrect_device_code"}
	ErrUnsupportedGrantType       = &Error{Code: "unsupported_grant_type"}
	ErrBadRefreshToken            = &Error{Code: "bad_refresh_token"}
	ErrOAuth                      = &Error{Code: "oauth_error"}
	ErrNotFound                   = &Error{Code: "not_found"}
	ErrCancelled                  = &Error{Code: "cancelled"}
	ErrNetwork                    = &Error{Code: "network"}
	ErrHTTPDenied                 = &Error{Code: "http_denied"}
	ErrStore                      = &Error{Code: "store"}
	ErrInvalidInput               = &Error{Code: "invalid_input"}
	ErrInvalidResponse            = &Error{Code: "invalid_response"}
	// ErrPlugin is a failure of the plugin itself: a trap, a memory limit, a
	// malformed answer. The instance is discarded and the next call gets a
	// fresh one.
	ErrPlugin = &Error{Code: "plugin"}
)

// Error is a failure reported by the plugin: its code, a message for a
// person, and the server's OAuth error fields when there were any. It never
// holds a token.
type Error struct {
	Code        Code   `json:"code"`
	Message     string `json:"message"`
	OAuthError  string `json:"error,omitempty"`
	Description string `json:"description,omitempty"`
	URI         string `json:"uri,omitempty"`
	Status      int    `json:"status,omitempty"`
	// Cause is the Go error behind a host-side failure, such as a cancelled
	// context.
	Cause error `json:"-"`
}

// Error returns the message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "deviceflow: " + string(e.Code)
	}
	return e.Message
}

// Is matches another *Error with the same code, so that
// errors.Is(err, host.ErrAccessDenied) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the Go error behind a host-side failure.
func (e *Error) Unwrap() error { return e.Cause }

// parsePluginError decodes the plugin's error JSON. ok is false when the
// message is not the contract's error JSON (a trap, for instance).
func parsePluginError(msg string) (*Error, bool) {
	var e Error
	if err := json.Unmarshal([]byte(msg), &e); err != nil || e.Code == "" {
		return nil, false
	}
	return &e, true
}

// pluginFailure wraps a failure of the plugin machinery.
func pluginFailure(what string, cause error) *Error {
	msg := what
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &Error{Code: ErrPlugin.Code, Message: "deviceflow plugin: " + msg, Cause: cause}
}

// IsCode reports whether err is a deviceflow error with code c.
func IsCode(err error, c Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}
