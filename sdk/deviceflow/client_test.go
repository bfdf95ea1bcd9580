package deviceflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestTokenSignsInThenUsesTheCache(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{})
	p := &person{action: deviceflowtest.ActionAuthorize}
	store := deviceflow.NewMemoryStore()
	c := newClient(t, emu, p, deviceflow.Config{Scopes: []string{"repo", "read:org"}, Store: store})
	ctx := timeout(t)

	a, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	issued, _ := emu.LastToken()
	if a.Token != issued.AccessToken || a.Type != "token" || a.TokenType != "oauth" || a.ClientType != deviceflow.OAuthApp {
		t.Errorf("authentication %v does not match the issued token", a)
	}
	if fmt.Sprint(a.Scopes) != "[read:org repo]" || !a.ExpiresAt.IsZero() {
		t.Errorf("scopes %v, expiresAt %v", a.Scopes, a.ExpiresAt)
	}
	if len(store.Snapshot()) != 1 {
		t.Errorf("store holds %d entries, want 1", len(store.Snapshot()))
	}

	// Same scopes in another spelling: the cached token, no new flow.
	again, err := c.Token(ctx, deviceflow.WithScopes("read:org,repo"))
	if err != nil || again.Token != a.Token {
		t.Fatalf("second call: %v, %v", again, err)
	}
	if n := p.codes(t); n != 1 {
		t.Errorf("%d codes shown, want 1", n)
	}
	if st := emu.Stats(); st.DeviceCode != 1 {
		t.Errorf("%d device codes requested, want 1", st.DeviceCode)
	}

	// WithRefresh runs a new flow.
	fresh, err := c.Token(ctx, deviceflow.WithRefresh())
	if err != nil || fresh.Token == a.Token {
		t.Fatalf("WithRefresh: same token or %v", err)
	}
}

func TestConcurrentTokenCallsShareOneFlow(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{})
	p := &person{action: deviceflowtest.ActionAuthorize}
	c := newClient(t, emu, p, deviceflow.Config{})
	ctx := timeout(t)

	const n = 8
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := c.Token(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = a.Token
		}()
	}
	wg.Wait()
	for _, tok := range tokens[1:] {
		if tok != tokens[0] {
			t.Fatal("callers got different tokens")
		}
	}
	if n := p.codes(t); n != 1 {
		t.Errorf("%d codes shown, want 1", n)
	}
	if st := emu.Stats(); st.DeviceCode != 1 || st.TokensIssued != 1 {
		t.Errorf("stats %+v: want one device code and one token", st)
	}
}

// A GitHub App whose tokens live one minute: every cached token is inside
// the plugin's five-minute refresh margin, so each Token call refreshes.
func githubAppEmulator(t *testing.T) *deviceflowtest.Server {
	return startEmulator(t, deviceflowtest.Config{
		Clients:             []deviceflowtest.Client{{ID: "Iv1.expiring", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
		AccessTokenLifetime: time.Minute,
	})
}

func TestConcurrentRefreshesCollapseIntoOne(t *testing.T) {
	t.Parallel()
	emu := githubAppEmulator(t)
	p := &person{action: deviceflowtest.ActionAuthorize}
	c := newClient(t, emu, p, deviceflow.Config{ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp})
	ctx := timeout(t)
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Scopes != nil || first.RefreshToken == "" || first.ExpiresAt.IsZero() {
		t.Fatalf("GitHub App authentication %v", first)
	}

	const n = 8
	var wg sync.WaitGroup
	results := make([]*deviceflow.Authentication, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half ask for a refresh outright: they wait their turn and
			// refresh the pair the others stored, never a spent one.
			var err error
			if i%2 == 0 {
				results[i], err = c.Token(ctx)
			} else {
				results[i], err = c.Refresh(ctx)
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := emu.Stats()
	if st.Refreshes < 1 || st.Refreshes > n {
		t.Errorf("%d refreshes", st.Refreshes)
	}
	if st.DeviceCode != 1 {
		t.Errorf("%d device codes: a refresh failed and fell back to a new flow", st.DeviceCode)
	}
	final, err := c.Token(ctx, deviceflow.WithCachedOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := emu.LookupToken(final.Token); !ok || final.Token == first.Token {
		t.Errorf("the cached token is not one the emulator issued after the first")
	}
	if n := p.codes(t); n != 1 {
		t.Errorf("%d codes shown, want 1", n)
	}
}

func TestConcurrentTokenCallsShareOneRefresh(t *testing.T) {
	t.Parallel()
	// Tokens live an hour, so the refreshed pair is fresh for every later
	// caller, however the callers' starts fall; the first pair is made to
	// expire in a minute by its stored local stamp.
	emu := startEmulator(t, deviceflowtest.Config{
		Clients:             []deviceflowtest.Client{{ID: "Iv1.expiring", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
		AccessTokenLifetime: time.Hour,
	})
	p := &person{action: deviceflowtest.ActionAuthorize}
	store := deviceflow.NewMemoryStore()
	c := newClient(t, emu, p, deviceflow.Config{ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp, Store: store})
	ctx := timeout(t)
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	p.codes(t)
	for k, v := range store.Snapshot() {
		var entry map[string]any
		if err := json.Unmarshal([]byte(v), &entry); err != nil {
			t.Fatal(err)
		}
		entry["local"] = map[string]any{"expiresAt": time.Now().Add(time.Minute).UnixMilli()}
		b, _ := json.Marshal(entry)
		store.Set(ctx, k, string(b))
	}
	var events []string
	var mu sync.Mutex
	c2 := newClient(t, emu, nil, deviceflow.Config{
		ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp, Store: store,
		OnEvent: func(_ context.Context, e deviceflow.Event) error {
			mu.Lock()
			events = append(events, e.Type)
			mu.Unlock()
			return nil
		},
	})
	const n = 8
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := c2.Token(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = a.Token
		}()
	}
	wg.Wait()
	for _, tok := range tokens[1:] {
		if tok != tokens[0] {
			t.Fatal("callers got different tokens")
		}
	}
	if st := emu.Stats(); st.Refreshes != 1 {
		t.Errorf("%d refreshes, want 1", st.Refreshes)
	}
	if fmt.Sprint(events) != "[refreshed]" {
		t.Errorf("events %v", events)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{Clients: []deviceflowtest.Client{
		{ID: "Ov23.known"},
		{ID: "Ov23.disabled", DeviceFlowDisabled: true},
	}})
	ctx := timeout(t)
	cases := []struct {
		name   string
		cfg    deviceflow.Config
		action string
		want   error
	}{
		{"cancel on the page", deviceflow.Config{ClientID: "Ov23.known"}, deviceflowtest.ActionCancel, deviceflow.ErrAccessDenied},
		{"unknown client", deviceflow.Config{ClientID: "Ov23.unknown"}, "", deviceflow.ErrIncorrectClientCredentials},
		{"device flow disabled", deviceflow.Config{ClientID: "Ov23.disabled"}, "", deviceflow.ErrUnsupported},
		{"bad client type", deviceflow.Config{ClientID: "Ov23.known", ClientType: "app"}, "", deviceflow.ErrInvalidInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p *person
			if tc.action != "" {
				p = &person{action: tc.action}
			}
			c := newClient(t, emu, p, tc.cfg)
			_, err := c.Token(ctx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var e *deviceflow.Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Errorf("no message: %#v", err)
			}
		})
	}
}

// TestPreload: a program that preloads the plugin and then asks for a
// cached token gets the typed answer, the plugin loaded once.
func TestPreload(t *testing.T) {
	deviceflow.Preload()
	c, err := deviceflow.New(deviceflow.Config{ClientID: "Ov23liPreload"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Token(context.Background(), deviceflow.WithCachedOnly()); !errors.Is(err, deviceflow.ErrNotFound) {
		t.Fatalf("Token with nothing cached after Preload: %v, want ErrNotFound", err)
	}
}
