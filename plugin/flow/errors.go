package flow

import "strconv"

// Code names a class of failure. Codes travel in the plugin's error JSON and
// every host maps them to a typed error.
type Code string

// The error codes. CodeAuthorizationPending and CodeSlowDown are internal:
// the engine handles them and never returns them.
const (
	CodeAuthorizationPending       Code = "authorization_pending"
	CodeSlowDown                   Code = "slow_down"
	CodeExpiredToken               Code = "expired_token"
	CodeAccessDenied               Code = "access_denied"
	CodeDeviceFlowDisabled         Code = "device_flow_disabled"
	CodeUnsupported                Code = "unsupported"
	CodeIncorrectClientCredentials Code = "incorrect_client_credentials"
	CodeIncorrectDeviceCode        Code = "incorrect_device_code"
	CodeUnsupportedGrantType       Code = "unsupported_grant_type"
	CodeBadRefreshToken            Code = "bad_refresh_token"
	CodeOAuthError                 Code = "oauth_error"
	CodeNotFound                   Code = "not_found"
	CodeCancelled                  Code = "cancelled"
	CodeNetwork                    Code = "network"
	CodeHTTPDenied                 Code = "http_denied"
	CodeStore                      Code = "store"
	CodeInvalidInput               Code = "invalid_input"
	CodeInvalidResponse            Code = "invalid_response"
)

// Codes lists every code an export can answer with, in the contract's order.
var Codes = []Code{
	CodeAuthorizationPending, CodeSlowDown, CodeExpiredToken, CodeAccessDenied,
	CodeDeviceFlowDisabled, CodeUnsupported, CodeIncorrectClientCredentials,
	CodeIncorrectDeviceCode, CodeUnsupportedGrantType, CodeBadRefreshToken,
	CodeOAuthError, CodeNotFound, CodeCancelled, CodeNetwork, CodeHTTPDenied,
	CodeStore, CodeInvalidInput, CodeInvalidResponse,
}

// Error is a failure as it leaves the plugin. Message is written for a
// person: it says what happened and what to do. Error, Description and URI
// carry the server's own OAuth error fields when there were any. Status is
// the HTTP status of the response that caused it, when there was one.
//
// No field ever holds a token.
type Error struct {
	Code        Code   `json:"code"`
	Message     string `json:"message"`
	OAuthError  string `json:"error,omitempty"`
	Description string `json:"description,omitempty"`
	URI         string `json:"uri,omitempty"`
	Status      int    `json:"status,omitempty"`
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// JSON encodes the error as the plugin's error payload.
func (e *Error) JSON() []byte { return e.appendJSON(nil) }

// appendJSON writes the error as encoding/json would marshal it.
func (e *Error) appendJSON(b []byte) []byte {
	o := newObj(b)
	o.str("code", string(e.Code))
	o.str("message", e.Message)
	o.strOmit("error", e.OAuthError)
	o.strOmit("description", e.Description)
	o.strOmit("uri", e.URI)
	o.intOmit("status", int64(e.Status))
	return o.close()
}

func errorf(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// invalidInput names the offending field, as rule 11 asks.
func invalidInput(field, message string) *Error {
	return &Error{Code: CodeInvalidInput, Message: "invalid input: " + field + ": " + message}
}

// quote is a string in Go's double-quoted form, as fmt's %q writes it.
func quote(s string) string { return strconv.Quote(s) }

// knownOAuthCodes are the server error codes that keep their own name as the
// error code. Every other server error becomes CodeOAuthError, including
// authorization_pending and slow_down outside polling (where the engine
// handles them before it builds an error): those two codes are internal and
// never leave the engine.
var knownOAuthCodes = map[string]Code{
	"expired_token":                CodeExpiredToken,
	"access_denied":                CodeAccessDenied,
	"device_flow_disabled":         CodeUnsupported,
	"incorrect_client_credentials": CodeIncorrectClientCredentials,
	"incorrect_device_code":        CodeIncorrectDeviceCode,
	"unsupported_grant_type":       CodeUnsupportedGrantType,
	"bad_refresh_token":            CodeBadRefreshToken,
}

// advice is added to the octokit-style message of some codes.
var advice = map[Code]string{
	CodeExpiredToken:               "The code was not entered in time: run the flow again for a new code.",
	CodeAccessDenied:               "The request was cancelled in the browser: run the flow again to retry.",
	CodeIncorrectClientCredentials: "Check the client id: it must be the OAuth App's or GitHub App's client id.",
	CodeIncorrectDeviceCode:        "The device code is not known to the server: start a new flow.",
	CodeBadRefreshToken:            "The refresh token is expired, revoked or already used: sign in again.",
}

// enableAdvice tells how to turn the device flow on (rule 5).
const enableAdvice = "The device flow is not enabled for this app: open the app's settings on GitHub " +
	"(Settings > Developer settings > OAuth Apps or GitHub Apps > your app), tick \"Enable Device Flow\" and save."

// oauthError builds the error for a server answer carrying `error`. The
// message follows octokit's form "<error_description> (<error>, <error_uri>)".
func oauthError(f fields, status int) *Error {
	name := f.str("error")
	desc := f.str("error_description")
	uri := f.str("error_uri")
	code, ok := knownOAuthCodes[name]
	if !ok {
		code = CodeOAuthError
	}
	lead := desc
	if lead == "" {
		lead = "GitHub answered " + name
	}
	msg := lead + " (" + name
	if uri != "" {
		msg += ", " + uri
	}
	msg += ")"
	if name == "device_flow_disabled" {
		msg += ". " + enableAdvice
	} else if a, ok := advice[code]; ok {
		msg += ". " + a
	}
	return &Error{Code: code, Message: msg, OAuthError: name, Description: desc, URI: uri, Status: status}
}
