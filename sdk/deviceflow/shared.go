package deviceflow

import (
	"context"
	"sync"
)

// flights runs at most one call at a time per key (one cache entry), and
// lets callers that want the same kind of call share it:
//
//   - concurrent Token calls for one cache entry share one device flow or
//     one refresh, and all get its result;
//   - a call of another kind (Refresh, Logout, Token with WithRefresh) waits
//     for the running one to end, then runs, so two refreshes never spend
//     the same single-use refresh token;
//   - an exclusive call (a Transport's authorize, whose answer depends on
//     its request) is never shared: each waits for its turn.
//
// A shared call runs on a context of its own: it ends when every caller
// waiting for it has given up (their contexts ended), not when the first
// caller does.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	kind    string
	done    chan struct{}
	out     []byte
	err     error
	waiters int
	cancel  context.CancelFunc
}

// exclusive is the kind of call that is never shared.
const exclusive = ""

// do runs fn for key and kind, or joins the running call of the same kind.
func (g *flights) do(ctx context.Context, key, kind string, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, cancelled(err)
		}
		g.mu.Lock()
		if g.m == nil {
			g.m = map[string]*flight{}
		}
		f := g.m[key]
		switch {
		case f == nil:
			f = g.start(ctx, key, kind, fn)
			g.mu.Unlock()
			return g.wait(ctx, f)
		case kind != exclusive && f.kind == kind && f.waiters > 0:
			f.waiters++
			g.mu.Unlock()
			return g.wait(ctx, f)
		}
		g.mu.Unlock()
		// Another kind of call holds the entry, or one that every caller
		// abandoned is winding down: let it finish first.
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, cancelled(ctx.Err())
		}
	}
}

// start launches a shared call; the caller holds g.mu.
func (g *flights) start(ctx context.Context, key, kind string, fn func(context.Context) ([]byte, error)) *flight {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{kind: kind, done: make(chan struct{}), waiters: 1, cancel: cancel}
	g.m[key] = f
	go func() {
		out, err := fn(fctx)
		g.mu.Lock()
		f.out, f.err = out, err
		if g.m[key] == f {
			delete(g.m, key)
		}
		close(f.done)
		g.mu.Unlock()
		cancel()
	}()
	return f
}

// wait blocks until the call ends or the caller's context does. The last
// caller to leave cancels the call.
func (g *flights) wait(ctx context.Context, f *flight) ([]byte, error) {
	select {
	case <-f.done:
		return f.out, f.err
	case <-ctx.Done():
		g.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
		}
		g.mu.Unlock()
		return nil, cancelled(ctx.Err())
	}
}
