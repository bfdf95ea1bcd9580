package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

// summary describes a stored sign-in for login --json and status --json.
// It never holds a token.
type summary struct {
	Host       string `json:"host"`
	BaseURL    string `json:"baseUrl"`
	ClientID   string `json:"clientId"`
	ClientType string `json:"clientType,omitempty"`
	LoggedIn   bool   `json:"loggedIn"`
	// Valid is GitHub's opinion of the token (status only).
	Valid *bool  `json:"valid,omitempty"`
	Login string `json:"login,omitempty"`
	// Scopes is a list for an OAuth App (possibly empty), null for a
	// GitHub App.
	Scopes                []string `json:"scopes"`
	ExpiresAt             string   `json:"expiresAt,omitempty"`
	RefreshTokenExpiresAt string   `json:"refreshTokenExpiresAt,omitempty"`
	Store                 string   `json:"store"`
	StoreLocation         string   `json:"storeLocation,omitempty"`
}

func summarize(c *common, st *openedStore, a *deviceflow.Authentication) *summary {
	s := &summary{
		Host: c.host(), BaseURL: c.displayBase(), ClientID: c.clientID, ClientType: c.clientType,
		Store: st.kind, StoreLocation: st.path,
	}
	if a != nil {
		s.LoggedIn = true
		s.Scopes = cleanAll(a.Scopes)
		s.ExpiresAt = jsonTime(a.ExpiresAt)
		s.RefreshTokenExpiresAt = jsonTime(a.RefreshTokenExpiresAt)
	}
	return s
}

func printJSON(term *terminal, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return say(term.stderr, err, exitFailure)
	}
	fmt.Fprintf(term.stdout, "%s\n", b)
	return exitOK
}

// failure reports a failed call and picks the exit code: 130 when the
// person pressed Ctrl-C, 2 when the plugin found the flags wrong
// (invalid_input), 1 otherwise. A store error names the store. With --json
// the error also goes to stdout as {"error": {"code", "message"}}.
func failure(ctx context.Context, term *terminal, c *common, err error, after string) int {
	code := exitFailure
	var e *deviceflow.Error
	msg := message(err)
	errCode := "error"
	if errors.As(err, &e) {
		errCode = string(e.Code)
	}
	switch {
	case errors.Is(err, deviceflow.ErrCancelled) && ctx.Err() != nil:
		code, msg, errCode = exitInterrupted, "cancelled", "cancelled"
	case errors.Is(err, deviceflow.ErrInvalidInput):
		code = exitUsage
		if c != nil {
			msg = c.usageText(msg)
		}
	case errors.Is(err, deviceflow.ErrStore) && c != nil && c.opened != nil && !c.opened.namedIn(msg):
		msg += " (store: " + c.opened.String() + ")"
	}
	fmt.Fprintf(term.stderr, "deviceflow: %s\n", msg)
	if after != "" {
		fmt.Fprintln(term.stderr, after)
	}
	if c != nil && c.json {
		printJSON(term, map[string]any{"error": map[string]string{"code": errCode, "message": msg}})
	}
	return code
}

// message is an error's text as the command shows it: cleaned of control
// characters (it may quote the server), and without the "deviceflow: "
// that errors from the host package start with, since the command puts its
// own name in front (never "deviceflow: deviceflow: ...").
func message(err error) string {
	m := clean(err.Error())
	for {
		rest, ok := strings.CutPrefix(m, "deviceflow: ")
		if !ok {
			break
		}
		m = rest
	}
	if rest, ok := strings.CutPrefix(m, "deviceflow plugin: "); ok {
		m = "the plugin failed: " + rest
	}
	// A host error quoted inside the plugin's ("the token store failed:
	// deviceflow: the store file ...").
	return strings.ReplaceAll(m, ": deviceflow: ", ": ")
}

// say prints an error as "deviceflow: message" and returns code.
func say(w io.Writer, err error, code int) int {
	fmt.Fprintf(w, "deviceflow: %s\n", message(err))
	return code
}

// jsonTime renders a time as octokit does (toISOString), "" when zero.
func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
