package deviceflow

import (
	"context"

	"golang.org/x/oauth2"
)

// TokenSource returns an oauth2.TokenSource backed by the client: each
// Token call answers the cached token (the store is read each time, so a
// Logout or a refresh elsewhere is seen), refreshes it near expiry, or runs
// a device flow, with ctx. Wrap it in oauth2.ReuseTokenSource to skip even
// the store read between calls.
func (c *Client) TokenSource(ctx context.Context, opts ...Option) oauth2.TokenSource {
	return &tokenSource{ctx: ctx, c: c, opts: opts}
}

type tokenSource struct {
	ctx  context.Context
	c    *Client
	opts []Option
}

func (s *tokenSource) Token() (*oauth2.Token, error) {
	a, err := s.c.Token(s.ctx, s.opts...)
	if err != nil {
		return nil, err
	}
	return a.OAuth2(), nil
}
