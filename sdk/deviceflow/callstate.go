package deviceflow

import (
	"context"
	"sync"
)

// callState follows one plugin call: the first error a callback returned,
// so that a cancelled call can say why.
type callState struct {
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
