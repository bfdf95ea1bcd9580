package deviceflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// The step API, as an event loop uses it: Begin answers at once with the
// code to show; Poll never sleeps and answers pending until the person has
// approved, then the token, stored as Token would store it. The Pending
// survives a round trip through JSON, as a platform saving it would.
func TestBeginPoll(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{AutoApprove: 3})
	store := deviceflow.NewMemoryStore()
	c := newClient(t, emu, nil, deviceflow.Config{Store: store, Scopes: []string{"repo"},
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil }})
	ctx := timeout(t)
	p, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Verification == nil || p.Verification.UserCode == "" || p.NextPollAt.IsZero() || !p.ExpiresAt.After(p.NextPollAt) {
		t.Fatalf("begin answered %+v", p)
	}
	polls := 0
	for {
		time.Sleep(time.Until(p.NextPollAt))
		saved, _ := json.Marshal(p.State)
		next, a, err := c.Poll(ctx, &deviceflow.Pending{State: saved})
		polls++
		if err != nil {
			t.Fatal(err)
		}
		if a != nil {
			if a.Token == "" {
				t.Fatalf("complete without a token: %+v", a)
			}
			cached, err := c.Token(ctx, deviceflow.WithCachedOnly())
			if err != nil || cached.Token != a.Token {
				t.Fatalf("the token was not stored: %v, %v", cached, err)
			}
			break
		}
		if polls > 10 {
			t.Fatal("never completed")
		}
		p = next
	}
	if _, _, err := c.Poll(ctx, nil); !errors.Is(err, deviceflow.ErrInvalidInput) {
		t.Errorf("Poll(nil): %v, want ErrInvalidInput", err)
	}
}

// Encoding "form" sends application/x-www-form-urlencoded bodies, for other
// RFC 8628 servers; the emulator reads both.
func TestEncodingForm(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{AutoApprove: 1})
	c := newClient(t, emu, nil, deviceflow.Config{Encoding: "form",
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil }})
	if a, err := c.Token(timeout(t)); err != nil || a.Token == "" {
		t.Fatalf("got %+v, %v", a, err)
	}
	bad := newClient(t, emu, nil, deviceflow.Config{Encoding: "xml"})
	if _, err := bad.Token(timeout(t)); !errors.Is(err, deviceflow.ErrInvalidInput) {
		t.Errorf("encoding xml: %v, want ErrInvalidInput", err)
	}
}
