package deviceflowtest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]deviceflowtest.Config{
		"empty client id":  {Clients: []deviceflowtest.Client{{ID: " "}}},
		"duplicate client": {Clients: []deviceflowtest.Client{{ID: "a"}, {ID: "a"}}},
		"unknown type":     {Clients: []deviceflowtest.Client{{ID: "a", Type: "pat"}}},
		"negative":         {Interval: -time.Second},
		"negative approve": {AutoApprove: -1},
		"bad status":       {DeviceCodeErrorStatus: 42},
	} {
		if _, err := deviceflowtest.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHelpers(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now})
	if _, ok := s.LastGrant(); ok {
		t.Error("LastGrant before any code")
	}
	if _, ok := s.LastToken(); ok {
		t.Error("LastToken before any token")
	}
	a := deviceCode(t, s, "Ov23.a", "repo")
	b := deviceCode(t, s, "Ov23.b", "")
	last, ok := s.LastGrant()
	if !ok || last.UserCode != b.get("user_code") || last.DeviceCode != b.get("device_code") || last.ClientID != "Ov23.b" {
		t.Errorf("LastGrant %+v", last)
	}
	if got := s.PendingUserCodes(); len(got) != 2 || got[0] != a.get("user_code") || got[1] != b.get("user_code") {
		t.Errorf("PendingUserCodes %v", got)
	}

	if err := s.Approve("ZZZZ-ZZZZ"); !errors.Is(err, deviceflowtest.ErrUnknownCode) {
		t.Errorf("Approve unknown: %v", err)
	}
	if err := s.Deny(b.get("user_code")); err != nil {
		t.Fatal(err)
	}
	if err := s.Approve(b.get("user_code")); !errors.Is(err, deviceflowtest.ErrAlreadyDecided) {
		t.Errorf("Approve after Deny: %v", err)
	}
	if got := s.Pending(); len(got) != 1 || got[0].UserCode != a.get("user_code") || got[0].Scopes[0] != "repo" {
		t.Errorf("Pending %+v", got)
	}
	clock.Advance(900 * time.Second)
	if err := s.Approve(a.get("user_code")); !errors.Is(err, deviceflowtest.ErrCodeExpired) {
		t.Errorf("Approve expired: %v", err)
	}
	grants := s.Grants()
	if len(grants) != 2 || grants[0].Status != deviceflowtest.StatusExpired || grants[1].Status != deviceflowtest.StatusExpired {
		t.Errorf("Grants %+v", grants)
	}
	if len(s.Pending()) != 0 {
		t.Error("expired codes still pending")
	}

	// Revoking a refresh token revokes its access token too.
	s2 := start(t, deviceflowtest.Config{Now: clock.Now, Clients: []deviceflowtest.Client{{ID: "Iv1", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}}})
	tok := approvedFlow(t, s2, clock, "Iv1", "")
	if !s2.Revoke(tok.get("refresh_token")) {
		t.Fatal("Revoke refresh token")
	}
	wantError(t, refresh(t, s2, "Iv1", tok.get("refresh_token")), 200, "bad_refresh_token")
	if info, _ := s2.LookupToken(tok.get("access_token")); !info.Revoked {
		t.Error("access token not revoked with its refresh token")
	}
	if got := s2.Tokens(); len(got) != 1 || got[0].RefreshToken != tok.get("refresh_token") {
		t.Errorf("Tokens %+v", got)
	}
}

// TestNothingSecretLogged runs every kind of request with a logger and
// checks that no token and no device code reached it.
func TestNothingSecretLogged(t *testing.T) {
	var buf syncBuffer
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{
		Now:     clock.Now,
		Logger:  slog.New(slog.NewTextHandler(&buf, nil)),
		Clients: []deviceflowtest.Client{{ID: "Iv1", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
	})
	dc := deviceCode(t, s, "Iv1", "")
	submit(t, s, dc.get("user_code"), deviceflowtest.ActionAuthorize)
	clock.Advance(5 * time.Second)
	first := poll(t, s, "Iv1", dc.get("device_code"))
	// Secrets in the query string must not be logged either.
	second := call(t, nil, s.URL(), "/login/oauth/access_token", asQuery, true, map[string]string{
		"client_id": "Iv1", "refresh_token": first.get("refresh_token"), "grant_type": "refresh_token",
	})
	wantError(t, refresh(t, s, "Iv1", first.get("refresh_token")), 200, "bad_refresh_token")
	getUser(t, s, second.get("access_token"))
	getUser(t, s, first.get("access_token"))
	s.Revoke(second.get("access_token"))

	out := buf.String()
	if !strings.Contains(out, dc.get("user_code")) || !strings.Contains(out, "token refreshed") {
		t.Fatalf("the log misses events:\n%s", out)
	}
	for _, secret := range []string{
		dc.get("device_code"), first.get("access_token"), first.get("refresh_token"),
		second.get("access_token"), second.get("refresh_token"),
	} {
		if secret == "" || strings.Contains(out, secret) {
			t.Errorf("secret %.8s… is empty or logged", secret)
		}
	}
	for _, prefix := range []string{"gho_", "ghu_", "ghr_"} {
		if strings.Contains(out, prefix) {
			t.Errorf("log contains %s", prefix)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestConcurrentFlows runs many flows at once, through the page, Approve
// and auto-approval; run with -race.
func TestConcurrentFlows(t *testing.T) {
	s := start(t, deviceflowtest.Config{Interval: time.Millisecond})
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := concurrentFlow(s, i%3); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := s.Stats(); st.TokensIssued != 16 || st.DeviceCode != 24 {
		t.Errorf("stats %+v", st)
	}
}

// concurrentFlow runs one flow: kind 0 approves with Approve, 1 through
// the page, 2 denies.
func concurrentFlow(s *deviceflowtest.Server, kind int) error {
	dc, err := tryJSON(s.URL()+"/login/device/code", map[string]string{"client_id": "Ov23.c", "scope": "repo"})
	if err != nil {
		return err
	}
	userCode := dc.get("user_code")
	switch kind {
	case 0:
		err = s.Approve(userCode)
	case 1:
		var res *http.Response
		res, err = http.PostForm(s.URL()+deviceflowtest.FormPath, url.Values{"user_code": {userCode}, "action": {"authorize"}})
		if err == nil {
			res.Body.Close()
		}
	case 2:
		err = s.Deny(userCode)
	}
	if err != nil {
		return err
	}
	for range 50 {
		time.Sleep(2 * time.Millisecond)
		a, err := tryJSON(s.URL()+"/login/oauth/access_token", map[string]string{
			"client_id": "Ov23.c", "device_code": dc.get("device_code"), "grant_type": deviceGrant,
		})
		if err != nil {
			return err
		}
		switch a.get("error") {
		case "":
			if kind == 2 {
				return errors.New("a denied code got a token")
			}
			return nil
		case "access_denied":
			if kind != 2 {
				return errors.New("an approved code was denied")
			}
			return nil
		case "authorization_pending":
		default:
			return errors.New(a.body)
		}
	}
	return errors.New("no answer after 50 polls")
}

func TestAsHandler(t *testing.T) {
	s, err := deviceflowtest.New(deviceflowtest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	a := call(t, nil, ts.URL, "/login/device/code", asForm, false, map[string]string{"client_id": "x"})
	if a.get("verification_uri") != ts.URL+"/login/device" {
		t.Errorf("verification_uri %q, want %q", a.get("verification_uri"), ts.URL+"/login/device")
	}
	if s.URL() != "" || s.Close() != nil {
		t.Error("an emulator used as a handler has a URL or fails to Close")
	}

	// BaseURL overrides the request's host.
	s2, _ := deviceflowtest.New(deviceflowtest.Config{BaseURL: "https://ghe.example.test/"})
	ts2 := httptest.NewServer(s2)
	defer ts2.Close()
	a = call(t, nil, ts2.URL, "/login/device/code", asForm, false, map[string]string{"client_id": "x"})
	if a.get("verification_uri") != "https://ghe.example.test/login/device" {
		t.Errorf("verification_uri %q", a.get("verification_uri"))
	}
}

func TestStartAndListenAndServe(t *testing.T) {
	s := deviceflowtest.NewServer(deviceflowtest.Config{})
	if _, err := s.Start(""); err == nil {
		t.Error("second Start accepted")
	}
	if first, second := s.Close(), s.Close(); first != nil || second != nil {
		t.Error("Close twice")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan *deviceflowtest.Server, 1)
	go func() {
		done <- deviceflowtest.ListenAndServe(ctx, "127.0.0.1:0", deviceflowtest.Config{}, func(s *deviceflowtest.Server) { ready <- s })
	}()
	var url string
	select {
	case rs := <-ready:
		url = rs.URL()
	case err := <-done:
		t.Fatal(err)
	}
	res, err := http.Get(url + "/login/device")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET page: %v", err)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("ListenAndServe did not return")
	}
	if _, err := http.Get(url + "/login/device"); err == nil {
		t.Error("still serving after the context ended")
	}

	if err := deviceflowtest.ListenAndServe(context.Background(), "127.0.0.1:0", deviceflowtest.Config{AutoApprove: -1}, nil); err == nil {
		t.Error("bad config accepted")
	}
}
