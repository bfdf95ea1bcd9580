package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func runStatus(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	c, cl, st, code := open("status", "Show who is signed in, with which scopes, until when, and where the token is kept. It asks GitHub whether the token still works", args, term, getenv)
	if cl == nil {
		return code
	}
	defer cl.Close()

	// A damaged entry is the plugin's store error, reported as such.
	a, err := cl.Token(ctx, deviceflow.WithCachedOnly())
	if err != nil {
		if errors.Is(err, deviceflow.ErrNotFound) || errors.Is(err, deviceflow.ErrBadRefreshToken) {
			s := summarize(c, st, nil)
			if c.json {
				printJSON(term, s)
			} else {
				fmt.Fprintf(term.stderr, "%s\n  ✗ Not logged in (client %s, store: %s).\n  Run: deviceflow login%s\n", c.host(), c.clientID, st, loginHint(c))
			}
			return exitFailure
		}
		return failure(ctx, term, c, err, "")
	}
	s := summarize(c, st, a)
	r, err := cl.Check(ctx)
	if err != nil {
		return failure(ctx, term, c, err, "")
	}
	s.Valid = &r.Valid
	s.Login = clean(r.Login)
	if len(r.Scopes) > 0 || a.ClientType == deviceflow.OAuthApp {
		s.Scopes = cleanAll(r.Scopes)
	}
	if c.json {
		printJSON(term, s)
	} else {
		printStatus(term, s, a, st)
	}
	if !r.Valid {
		return exitFailure
	}
	return exitOK
}

func printStatus(term *terminal, s *summary, a *deviceflow.Authentication, st *openedStore) {
	w := term.stdout
	fmt.Fprintln(w, s.Host)
	if *s.Valid {
		fmt.Fprintf(w, "  ✓ Logged in as %s\n", s.Login)
	} else {
		refused := "GitHub"
		if s.ClientType == "" {
			refused = "the server"
		}
		fmt.Fprintf(w, "  ✗ The stored token no longer works: %s refused it. Run: deviceflow login\n", refused)
	}
	if s.ClientType == "" {
		// A generic server: no GitHub client type.
		fmt.Fprintf(w, "  Client: %s\n", s.ClientID)
	} else {
		fmt.Fprintf(w, "  Client: %s (%s)\n", s.ClientID, s.ClientType)
	}
	if s.ClientType == deviceflow.OAuthApp || s.ClientType == "" {
		scopes := "none"
		if len(s.Scopes) > 0 {
			scopes = strings.Join(s.Scopes, ", ")
		}
		fmt.Fprintf(w, "  Scopes: %s\n", scopes)
	}
	exp := "never expires"
	if s.ExpiresAt != "" {
		exp = "expires " + s.ExpiresAt
	}
	fmt.Fprintf(w, "  Token: %s (%s)\n", clean(deviceflow.Mask(a.Token)), exp)
	if s.RefreshTokenExpiresAt != "" {
		fmt.Fprintf(w, "  Refresh token expires %s\n", s.RefreshTokenExpiresAt)
	}
	fmt.Fprintf(w, "  Store: %s\n", st)
}

// cleanAll cleans each of a list of strings from the server.
func cleanAll(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = clean(s)
	}
	return out
}
