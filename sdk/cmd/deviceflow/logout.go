package main

import (
	"context"
	"fmt"
)

func runLogout(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	c, cl, st, code := open("logout", "Forget the stored token. The token stays valid at GitHub until revoked in your settings (Settings > Applications)", args, term, getenv)
	if cl == nil {
		return code
	}
	defer cl.Close()
	removed, err := cl.Logout(ctx)
	if err != nil {
		return failure(ctx, term, c, err, "")
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
