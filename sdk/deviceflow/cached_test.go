package deviceflow_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestCachedOnlyNeverStartsAFlow(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{})
	c := newClient(t, emu, nil, deviceflow.Config{OnVerification: func(context.Context, deviceflow.Verification) error {
		t.Error("a code was shown")
		return nil
	}})
	_, err := c.Token(timeout(t), deviceflow.WithCachedOnly())
	if !errors.Is(err, deviceflow.ErrNotFound) || !strings.Contains(err.Error(), "sign in") {
		t.Fatalf("got %v, want not_found telling to sign in", err)
	}
	if st := emu.Stats(); st.DeviceCode+st.AccessToken != 0 {
		t.Errorf("requests were sent: %+v", st)
	}
	// "A new flow, but never prompt": the engine answers not_found, as in
	// every language; no request is sent.
	if _, err := c.Token(context.Background(), deviceflow.WithCachedOnly(), deviceflow.WithRefresh()); !errors.Is(err, deviceflow.ErrNotFound) {
		t.Errorf("WithCachedOnly and WithRefresh: %v, want not_found", err)
	}
	if st := emu.Stats(); st.DeviceCode+st.AccessToken != 0 {
		t.Errorf("requests were sent: %+v", st)
	}
}

func TestCachedOnlyAnswersAndRefreshes(t *testing.T) {
	t.Parallel()
	emu := githubAppEmulator(t)
	p := &person{action: deviceflowtest.ActionAuthorize}
	c := newClient(t, emu, p, deviceflow.Config{ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp})
	ctx := timeout(t)
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The token expires within the refresh margin: cached-only refreshes.
	second, err := c.Token(ctx, deviceflow.WithCachedOnly())
	if err != nil {
		t.Fatal(err)
	}
	if second.Token == first.Token || emu.Stats().Refreshes != 1 {
		t.Errorf("no refresh (stats %+v)", emu.Stats())
	}

	// A spent refresh token: the entry is dropped and cached-only says so
	// instead of signing in. The contract (interactive: false) answers
	// not_found; bad_refresh_token says the same more precisely.
	last, _ := emu.LastToken()
	emu.Revoke(last.RefreshToken)
	before := emu.Stats().AccessToken
	_, err = c.Token(ctx, deviceflow.WithCachedOnly())
	if !errors.Is(err, deviceflow.ErrBadRefreshToken) && !errors.Is(err, deviceflow.ErrNotFound) {
		t.Fatalf("revoked refresh token: %v", err)
	}
	if st := emu.Stats(); st.AccessToken != before+1 {
		t.Errorf("the revoked refresh token was not tried: %+v", st)
	}
	_, err = c.Token(ctx, deviceflow.WithCachedOnly())
	if !errors.Is(err, deviceflow.ErrNotFound) {
		t.Fatalf("after the entry was dropped: %v", err)
	}
	if n := p.codes(t); n != 1 || emu.Stats().DeviceCode != 1 {
		t.Errorf("cached-only started a flow")
	}
}

func TestOAuthAppTokenIsCachedForever(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{AutoApprove: 1})
	c := newClient(t, emu, nil, deviceflow.Config{
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil },
	})
	ctx := timeout(t)
	a, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Token(ctx, deviceflow.WithCachedOnly())
	if err != nil || b.Token != a.Token {
		t.Fatalf("cached-only: %v", err)
	}
	if st := emu.Stats(); st.AccessToken != 1 {
		t.Errorf("cached-only sent requests: %+v", st)
	}
}
