package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func runToken(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	c := &common{}
	// token --login shows the code as login does, but opens no browser: a
	// script that asks for a token should not pop one up.
	ui := &loginUI{term: term, noBrowser: true}
	fs := newFlagSet("token", "Print the stored token on stdout, refreshed first when it is about to expire. Without --login it never signs in", c, getenv, term.stderr)
	var login bool
	fs.BoolVar(&login, "login", false, "sign in first when no usable token is stored (the code on stderr, only the token on stdout)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg := deviceflow.Config{}
	if login {
		cfg.OnVerification, cfg.OnEvent = ui.verification, ui.event
	}
	cl, st, code := c.client(term.stderr, cfg)
	if cl == nil {
		return code
	}
	defer cl.Close()
	var a *deviceflow.Authentication
	if login {
		if a, code = signIn(ctx, term, c, cl, st, ui); a == nil {
			return code
		}
	} else {
		var err error
		if a, err = cl.Token(ctx, deviceflow.WithCachedOnly()); err != nil {
			return notSignedIn(ctx, term, c, err)
		}
	}
	if c.json {
		// The refresh token stays in the store: it is single use, and a
		// script spending it would break the stored sign-in.
		out := map[string]any{
			"type":       a.Type,
			"tokenType":  a.TokenType,
			"clientType": a.ClientType,
			"clientId":   a.ClientID,
			"token":      clean(a.Token),
			"scopes":     cleanAll(a.Scopes),
			"expiresAt":  nullable(jsonTime(a.ExpiresAt)),
		}
		if a.ClientType == "" {
			// A generic server's neutral shape: no GitHub client type.
			delete(out, "clientType")
		}
		return printJSON(term, out)
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
	if c.generic() {
		if c.issuer != "" {
			return " --issuer " + clean(c.issuer)
		}
		return " --device-endpoint " + clean(c.deviceEndpoint) + " --token-endpoint " + clean(c.tokenEndpoint)
	}
	if c.baseURL != "" {
		h += " --base-url " + c.displayBase()
	} else if c.host() != "github.com" {
		h += " --hostname " + c.host()
	}
	return h
}
