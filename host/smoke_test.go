package host

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		switch r.URL.Path {
		case "/login/device/code":
			fmt.Fprint(w, `{"device_code":"dc","user_code":"ABCD-1234","verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}`)
		case "/login/oauth/access_token":
			polls++
			if polls < 3 {
				fmt.Fprint(w, `{"error":"authorization_pending"}`)
				return
			}
			fmt.Fprint(w, `{"access_token":"gho_secret123456","token_type":"bearer","scope":"repo,read:org"}`)
		}
	}))
	defer srv.Close()
	clock := time.UnixMilli(1700000000000)
	var sleeps []time.Duration
	h, err := New(Options{
		BaseURL: srv.URL,
		Clock:   func() time.Time { return clock },
		Sleep:   func(ctx context.Context, d time.Duration) bool { sleeps = append(sleeps, d); clock = clock.Add(d); return false },
		OnEvent: func(ctx context.Context, e Event) error { t.Logf("event %s", e.JSON); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := h.Call(context.Background(), "authenticate", []byte(`{"clientId":"abc","scopes":"repo read:org","baseUrl":"`+srv.URL+`"}`))
	t.Logf("out=%s err=%v sleeps=%v took=%v", out, err, sleeps, time.Since(start))
	start = time.Now()
	out, err = h.Call(context.Background(), "authenticate", []byte(`{"clientId":"abc","scopes":"repo read:org","baseUrl":"`+srv.URL+`"}`))
	t.Logf("out=%s err=%v took=%v", out, err, time.Since(start))
	out, err = h.Call(context.Background(), "authenticate", []byte(`{"clientId":""}`))
	t.Logf("out=%s err=%v", out, err)
}
