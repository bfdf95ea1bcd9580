package host

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Cancellation is seen at host-function boundaries: whatever the plugin is
// waiting for when the context ends — a sleep between polls, a request, a
// lease another holder keeps, an event handler — the call returns
// ErrCancelled promptly. (Issue 14's target is 50 ms; the bound here is
// looser so that a loaded CI machine cannot fail it.)
func TestCancelEndsEveryWaitPromptly(t *testing.T) {
	const bound = 250 * time.Millisecond
	// A hanging handler reads the body first: only then does the server
	// notice the client going away and end the request's context.
	hang := func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body); <-r.Context().Done() }
	pending := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("content-type", "application/json")
		if r.URL.Path == "/login/device/code" {
			io.WriteString(w, `{"device_code":"DC","user_code":"ABCD-1234","verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}`)
			return
		}
		io.WriteString(w, `{"error":"authorization_pending"}`)
	}
	pollHangs := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login/device/code" {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("content-type", "application/json")
			io.WriteString(w, `{"device_code":"DC","user_code":"ABCD-1234","verification_uri":"https://github.com/login/device","expires_in":900,"interval":0.1}`)
			return
		}
		hang(w, r)
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		edit    func(o *Options, ready func())
		leased  bool // another holder keeps the cache key's lease for good
	}{
		{name: "sleeping between polls", handler: pending,
			edit: func(o *Options, ready func()) {
				o.OnEvent = func(_ context.Context, e Event) error {
					if e.Type == "verification" {
						ready()
					}
					return nil
				}
			}},
		{name: "device-code request hangs", handler: hang,
			edit: func(o *Options, ready func()) { time.AfterFunc(50*time.Millisecond, ready) }},
		{name: "poll request hangs", handler: pollHangs,
			edit: func(o *Options, ready func()) {
				o.OnEvent = func(_ context.Context, e Event) error {
					if e.Type == "polling" {
						time.AfterFunc(20*time.Millisecond, ready)
					}
					return nil
				}
			}},
		{name: "event handler blocks", handler: pending,
			edit: func(o *Options, ready func()) {
				o.OnEvent = func(ctx context.Context, e Event) error {
					ready()
					<-ctx.Done() // "press Enter", until cancelled
					return ctx.Err()
				}
			}},
		{name: "waiting for another holder's lease", handler: pending, leased: true,
			edit: func(o *Options, ready func()) {
				o.OnEvent = func(_ context.Context, e Event) error {
					if e.Type == "waiting" {
						time.AfterFunc(20*time.Millisecond, ready)
					}
					return nil
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			store := NewMemoryStore()
			if c.leased {
				// The cache key names the server's origin.
				if _, err := store.Lock(context.Background(), "deviceflow:v1:"+srv.URL+"|oauth-app|Iv1.sandbox|repo", 0); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			var once sync.Once
			var cancelledAt time.Time
			ready := func() { once.Do(func() { cancelledAt = time.Now(); cancel() }) }
			opts := Options{BaseURL: srv.URL, Store: store}
			c.edit(&opts, ready)
			h, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(context.Background())
			_, err = h.Call(ctx, "authenticate", input(srv.URL))
			if !errors.Is(err, ErrCancelled) {
				t.Fatalf("got %v, want ErrCancelled", err)
			}
			if took := time.Since(cancelledAt); took > bound {
				t.Errorf("the call ended %s after its context", took)
			} else {
				t.Logf("ended %s after the context", took)
			}
		})
	}
}
