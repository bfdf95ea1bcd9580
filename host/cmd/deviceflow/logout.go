package main

import (
	"context"
	"fmt"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func runLogout(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	var c common
	fs := newFlagSet("logout", "Forget the stored token. The token stays valid at GitHub until revoked in your settings (Settings > Applications)", &c, getenv, term.stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cl, st, code := c.client(term.stderr, deviceflow.Config{})
	if cl == nil {
		return code
	}
	defer cl.Close()
	removed, err := cl.Logout(ctx)
	if err != nil {
		return failure(ctx, term, &c, err, "")
	}
	if c.json {
		return printJSON(term, map[string]any{"host": c.host(), "removed": removed})
	}
	if removed {
		fmt.Fprintf(term.stderr, "✓ Logged out of %s: the token was removed from: %s\n", c.host(), st)
	} else {
		fmt.Fprintf(term.stderr, "Not logged in to %s (client %s, store: %s): nothing to remove\n", c.host(), c.clientID, st)
	}
	return exitOK
}
