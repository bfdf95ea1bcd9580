package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func runStatus(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	var c common
	fs := newFlagSet("status", "Show who is signed in, with which scopes, until when, and where the token is kept. It asks GitHub whether the token still works", &c, getenv, term.stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cl, st, code := c.client(term.stderr, deviceflow.Config{})
	if cl == nil {
		return code
	}
	defer cl.Close()

	a, err := cl.Token(ctx, deviceflow.WithCachedOnly())
	if err != nil {
		if bad := unreadableEntry(ctx, &c, err); bad != nil {
			return failure(ctx, term, &c, bad, "")
		}
		if errors.Is(err, deviceflow.ErrNotFound) || errors.Is(err, deviceflow.ErrBadRefreshToken) {
			s := summarize(&c, st, nil)
			if c.json {
				printJSON(term, s)
			} else {
				fmt.Fprintf(term.stderr, "%s\n  ✗ Not logged in (client %s, store: %s).\n  Run: deviceflow login%s\n", c.host(), c.clientID, st, loginHint(&c))
			}
			return exitFailure
		}
		return failure(ctx, term, &c, err, "")
	}
	s := summarize(&c, st, a)
	r, err := cl.Check(ctx)
	if err != nil {
		return failure(ctx, term, &c, err, "")
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
		fmt.Fprintf(w, "  ✗ The stored token no longer works: GitHub refused it. Run: deviceflow login\n")
	}
	fmt.Fprintf(w, "  Client: %s (%s)\n", s.ClientID, s.ClientType)
	if s.ClientType == deviceflow.OAuthApp {
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

// unreadableEntry tells a store entry that is not valid JSON from no entry
// at all. The plugin answers not_found for both (nothing usable is
// cached); when the store does hold something under the sign-in's key and
// it is not JSON, that is a broken store, to be reported as such, naming
// the store, not as "not logged in". It returns nil otherwise.
func unreadableEntry(ctx context.Context, c *common, err error) error {
	if !errors.Is(err, deviceflow.ErrNotFound) || c.opened == nil || c.cacheKey == "" {
		return nil
	}
	v, gerr := c.opened.store.Get(ctx, c.cacheKey)
	if gerr != nil || json.Valid([]byte(v)) {
		return nil
	}
	return &deviceflow.Error{Code: deviceflow.ErrStore.Code, Message: fmt.Sprintf(
		"the store %s holds an entry for this sign-in that is not valid JSON: repair the store, or run deviceflow logout and sign in again", c.opened)}
}
