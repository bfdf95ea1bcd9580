package host

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// TestCancelDuringSleep: a call whose context ends while the plugin waits
// between polls returns ErrCancelled at once, and the host goes on working.
func TestCancelDuringSleep(t *testing.T) {
	t.Parallel()
	g := startGitHub(t, deviceflowtest.Config{}, nil) // 5 s interval, nobody approves
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelledAt := make(chan time.Time, 1)
	h := testHost(t, g, func(o *Options) {
		o.Sleep = nil // the host's own timer
		o.OnEvent = func(_ context.Context, e Event) error {
			if e.Type == "verification" {
				time.AfterFunc(50*time.Millisecond, func() { cancelledAt <- time.Now(); cancel() })
			}
			return nil
		}
	})
	_, err := h.Call(ctx, "authenticate", input(g.URL))
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("got %v, want ErrCancelled", err)
	}
	if d := time.Since(<-cancelledAt); d > time.Second {
		t.Fatalf("returned %v after the cancellation", d)
	}
	if _, err := h.Call(context.Background(), "info", []byte(`{}`)); err != nil {
		t.Fatalf("the next call: %v", err)
	}
}

// TestCancelKillsAndRecreates: when the context ends while the plugin keeps
// running (here a Sleep that ignores it), wazero stops the instance; the
// call returns ErrCancelled promptly, the dead instance is dropped, and the
// next call gets a new one.
func TestCancelKillsAndRecreates(t *testing.T) {
	t.Parallel()
	g := startGitHub(t, deviceflowtest.Config{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := testHost(t, g, func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) bool {
			time.AfterFunc(20*time.Millisecond, cancel)
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond)
			return false // "slept": the plugin runs on into a dead context
		}
	})
	if err := h.Preload(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := h.pool.idle[0]
	start := time.Now()
	_, err := h.Call(ctx, "authenticate", input(g.URL))
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("got %v, want ErrCancelled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
	if len(h.pool.idle) != 0 {
		t.Fatal("the stopped instance went back to the pool")
	}
	if _, err := h.Call(context.Background(), "info", []byte(`{}`)); err != nil {
		t.Fatalf("the next call: %v", err)
	}
	if len(h.pool.idle) != 1 || h.pool.idle[0] == first {
		t.Fatal("the next call did not get a new instance")
	}
}

// TestConcurrentCalls: eight goroutines calling info at once on one Host
// all succeed, each on its own instance.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	want, err := h.Call(context.Background(), "info", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := h.Call(context.Background(), "info", []byte(`{}`))
			if err == nil && !bytes.Equal(out, want) {
				err = errors.New("a different answer: " + string(out))
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestBadCalls: bad input is a clear error, never a crash, and leaves the
// host working.
func TestBadCalls(t *testing.T) {
	t.Parallel()
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	ctx := context.Background()
	for _, in := range []string{``, `{`, `[]`, `{"clientId":42}`, `{"clientId":"x","clientType":"robot"}`} {
		_, err := h.Call(ctx, "authenticate", []byte(in))
		wantCode(t, err, "invalid_input")
	}
	for _, export := range []string{"no_such_export", "_start", "_initialize", ""} {
		_, err = h.Call(ctx, export, []byte(`{}`))
		wantCode(t, err, "invalid_input")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Call(done, "info", []byte(`{}`)); !errors.Is(err, ErrCancelled) {
		t.Fatalf("a call with an ended context: %v", err)
	}
	if _, err := h.Call(ctx, "info", []byte(`{}`)); err != nil {
		t.Fatalf("after the bad calls: %v", err)
	}
	if _, err := New(Options{BaseURL: "::not a url"}); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("a bad base URL: %v", err)
	}
}
