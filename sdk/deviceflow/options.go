package deviceflow

// Option changes one call.
type Option func(*callOptions)

type callOptions struct {
	scopes     []string
	scopesSet  bool
	refresh    bool
	cachedOnly bool
}

// WithScopes asks for these OAuth App scopes instead of Config.Scopes. Each
// scope set has its own cached token.
func WithScopes(scopes ...string) Option {
	return func(o *callOptions) {
		o.scopes = append([]string{}, scopes...)
		o.scopesSet = true
	}
}

// WithRefresh skips the cached token and runs a new device flow, as
// `gh auth login` does.
func WithRefresh() Option { return func(o *callOptions) { o.refresh = true } }

// WithCachedOnly never starts a device flow: Token answers the cached token,
// refreshed when it is about to expire, or fails with ErrNotFound. For
// commands that must not prompt, such as `deviceflow token`.
func WithCachedOnly() Option { return func(o *callOptions) { o.cachedOnly = true } }
