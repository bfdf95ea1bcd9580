package deviceflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestOnVerificationErrorCancels(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{})
	refused := errors.New("the user closed the dialog")
	c := newClient(t, emu, nil, deviceflow.Config{
		OnVerification: func(context.Context, deviceflow.Verification) error { return refused },
	})
	_, err := c.Token(timeout(t))
	if !errors.Is(err, deviceflow.ErrCancelled) || !errors.Is(err, refused) {
		t.Fatalf("got %v, want cancelled wrapping the callback's error", err)
	}
	if st := emu.Stats(); st.AccessToken != 0 {
		t.Errorf("polled after the callback refused: %+v", st)
	}
}

func TestContextEndsTheWait(t *testing.T) {
	t.Parallel()
	// Nobody approves: the flow would wait for fifteen minutes.
	emu := startEmulator(t, deviceflowtest.Config{Interval: time.Second})
	shown := make(chan struct{})
	c := newClient(t, emu, nil, deviceflow.Config{
		OnVerification: func(context.Context, deviceflow.Verification) error { close(shown); return nil },
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-shown; cancel() }()
	start := time.Now()
	_, err := c.Token(ctx)
	if !errors.Is(err, deviceflow.ErrCancelled) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v to stop", d)
	}
}

func TestSharedFlowSurvivesOneCallerLeaving(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t, deviceflowtest.Config{})
	shown := make(chan deviceflow.Verification, 1)
	c := newClient(t, emu, nil, deviceflow.Config{
		OnVerification: func(_ context.Context, v deviceflow.Verification) error { shown <- v; return nil },
	})
	impatient, leave := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() { _, err := c.Token(impatient); errs <- err }()
	v := <-shown
	patient := make(chan *deviceflow.Authentication, 1)
	go func() {
		a, err := c.Token(timeout(t))
		if err != nil {
			t.Error(err)
		}
		patient <- a
	}()
	// Once the second caller has joined the flight, the first one leaves.
	joined := timeout(t)
	for deviceflow.Waiting(c) < 2 {
		if joined.Err() != nil {
			t.Fatal("the second caller never joined the flight")
		}
		time.Sleep(time.Millisecond)
	}
	leave()
	if err := <-errs; !errors.Is(err, deviceflow.ErrCancelled) {
		t.Errorf("the impatient caller got %v", err)
	}
	if err := pressButton(v.VerificationURI, v.UserCode, deviceflowtest.ActionAuthorize); err != nil {
		t.Fatal(err)
	}
	if a := <-patient; a == nil || emu.Stats().DeviceCode != 1 {
		t.Errorf("the patient caller did not get the shared flow's token (stats %+v)", emu.Stats())
	}
}

// No event, error message or printed Authentication carries a token.
func TestTokensNeverLeak(t *testing.T) {
	t.Parallel()
	emu := githubAppEmulator(t)
	var mu sync.Mutex
	var seen []string
	p := &person{action: deviceflowtest.ActionAuthorize}
	c := newClient(t, emu, p, deviceflow.Config{
		ClientID: "Iv1.expiring", ClientType: deviceflow.GitHubApp,
		OnEvent: func(_ context.Context, e deviceflow.Event) error {
			mu.Lock()
			seen = append(seen, string(e.JSON))
			mu.Unlock()
			return nil
		},
	})
	ctx := timeout(t)
	a, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Token(ctx) // refreshes: a refreshed event
	if err != nil {
		t.Fatal(err)
	}
	// A dead refresh token gives an error message.
	emu.Revoke(b.RefreshToken)
	_, rerr := c.Refresh(ctx)
	if rerr == nil {
		t.Fatal("refresh with a revoked token succeeded")
	}
	seen = append(seen, rerr.Error(), a.String(), b.String())
	js, _ := json.Marshal(seen)
	for _, secret := range []string{a.Token, a.RefreshToken, b.Token, b.RefreshToken} {
		if strings.Contains(string(js), secret) || strings.Contains(string(js), secret[4:]) {
			t.Errorf("a token leaked into %s", js)
		}
	}
	types := map[string]bool{}
	for _, s := range seen {
		var e struct{ Type string }
		if json.Unmarshal([]byte(s), &e) == nil {
			types[e.Type] = true
		}
	}
	for _, want := range []string{"verification", "polling", "refreshed"} {
		if !types[want] {
			t.Errorf("no %s event among %v", want, types)
		}
	}
}
