// Package deviceflow signs people in to GitHub with the OAuth device flow
// (RFC 8628) from Go, the way `gh auth login` does: the program shows a
// short code, the person types it at github.com/login/device, and the
// program receives a token, caches it, and refreshes it when it expires.
//
// The protocol runs in deviceflow's sandboxed WebAssembly plugin, the same
// one the Node and Python packages embed; this package is its Go face.
//
//	c, err := deviceflow.New(deviceflow.Config{
//		ClientID: "Ov23li...", // your OAuth App's client id
//		Scopes:   []string{"repo"},
//		Store:    store,       // where tokens are kept; memory when nil
//		OnVerification: func(ctx context.Context, v deviceflow.Verification) error {
//			fmt.Printf("Open %s and enter %s\n", v.VerificationURI, v.UserCode)
//			return nil
//		},
//	})
//	if err != nil { ... }
//	defer c.Close()
//
//	// A token: cached, refreshed, or from a new device flow.
//	auth, err := c.Token(ctx)
//
//	// An *http.Client whose requests carry the token.
//	res, err := c.Client(ctx).Get("https://api.github.com/user")
//
//	// Or hand it to anything that takes an oauth2.TokenSource.
//	src := c.TokenSource(ctx)
//
// # Behaviour
//
// Token answers the cached token while it is fresh, refreshes a GitHub App
// token that is about to expire, and otherwise runs a device flow, which
// calls Config.OnVerification and waits for the person. Concurrent Token
// calls for the same scopes share one flow or one refresh; other calls on
// the same cache entry (Refresh, Logout, a forced sign-in) take turns, so a
// single-use refresh token is never spent twice. A call stops when its
// context ends; a shared call stops when every caller waiting for it has
// gone.
//
// Failures are *Error values with a Code; test them with errors.Is and the
// Err sentinels (errors.Is(err, deviceflow.ErrAccessDenied)). No error,
// event or printed Authentication ever carries a token.
//
// For tests and demos, the sdk/deviceflow/deviceflowtest package is a local GitHub device
// flow server: set Config.BaseURL to its URL. The examples below run
// against it.
package deviceflow
