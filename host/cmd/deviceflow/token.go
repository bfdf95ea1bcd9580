package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func runToken(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	c, cl, _, code := open("token", "Print the stored token, refreshed first when it is about to expire. It never signs in: run `deviceflow login` for that", args, term, getenv)
	if cl == nil {
		return code
	}
	defer cl.Close()
	a, err := cl.Token(ctx, deviceflow.WithCachedOnly())
	if err != nil {
		return notSignedIn(ctx, term, c, err)
	}
	if c.json {
		// The refresh token stays in the store: it is single use, and a
		// script spending it would break the stored sign-in.
		return printJSON(term, map[string]any{
			"type":       a.Type,
			"tokenType":  a.TokenType,
			"clientType": a.ClientType,
			"clientId":   a.ClientID,
			"token":      clean(a.Token),
			"scopes":     cleanAll(a.Scopes),
			"expiresAt":  nullable(jsonTime(a.ExpiresAt)),
		})
	}
	fmt.Fprintln(term.stdout, clean(a.Token))
	return exitOK
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// notSignedIn explains a failed token lookup: no token means "run login".
func notSignedIn(ctx context.Context, term *terminal, c *common, err error) int {
	if errors.Is(err, deviceflow.ErrNotFound) || errors.Is(err, deviceflow.ErrBadRefreshToken) {
		return failure(ctx, term, c, fmt.Errorf("not logged in to %s with client %s: %w", c.host(), c.clientID, err),
			"Run: deviceflow login"+loginHint(c))
	}
	return failure(ctx, term, c, err, "")
}

// loginHint repeats the flags that choose the account, for the "run
// deviceflow login" advice.
func loginHint(c *common) string {
	h := ""
	if c.baseURL != "" {
		h += " --base-url " + c.displayBase()
	} else if c.host() != "github.com" {
		h += " --hostname " + c.host()
	}
	return h
}
