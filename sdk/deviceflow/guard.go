package deviceflow

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
)

// callState follows one plugin call: whether it may use the network, and
// what the callbacks said.
type callState struct {
	// offline forbids requests; blocked records that one was refused.
	offline bool
	blocked atomic.Bool

	mu  sync.Mutex
	err error
}

func (s *callState) setCallbackErr(err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *callState) callbackErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

type stateKey struct{}

func withState(ctx context.Context, s *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, s)
}

func stateOf(ctx context.Context) *callState {
	s, _ := ctx.Value(stateKey{}).(*callState)
	return s
}

// errOffline is what an offline call ends with when the plugin wanted the
// network (to refresh, or to start a device flow).
var errOffline = errors.New("deviceflow: the call needs the network")

// guardedClient wraps the plugin's HTTP client so that offline calls
// cannot reach the network. The host sends every plugin request with the
// call's context, which carries the callState.
func guardedClient(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = guard{base: base}
	return &cp
}

type guard struct{ base http.RoundTripper }

func (g guard) RoundTrip(r *http.Request) (*http.Response, error) {
	if s := stateOf(r.Context()); s != nil && s.offline {
		s.blocked.Store(true)
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errOffline
	}
	return g.base.RoundTrip(r)
}
