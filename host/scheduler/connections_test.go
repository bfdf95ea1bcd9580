package scheduler_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// TestPollsReuseConnections: a scheduler given no HTTP client keeps as many
// connections open as it runs polls at once, instead of dialing for most
// polls (Go's default transport keeps two idle connections per host).
func TestPollsReuseConnections(t *testing.T) {
	emu, err := deviceflowtest.New(deviceflowtest.Config{Interval: testInterval, ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var dialed atomic.Int64
	srv := httptest.NewUnstartedServer(emu)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const workers, flows = 8, 40
	s, err := scheduler.New(scheduler.Config{
		Store:   host.NewMemoryStore(),
		Host:    host.Options{BaseURL: srv.URL, RequestTimeout: testRequest},
		Node:    "a",
		Workers: workers, LeaseTTL: testLease, ClockSkew: testSkew, Heartbeat: testBeat,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for range flows {
		if _, _, err := s.Start(ctx, "tenant", client()); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(8 * testInterval)
	polls := s.Stats().Polls
	if polls < 3*flows {
		t.Fatalf("only %d polls in %s", polls, 8*testInterval)
	}
	if n := dialed.Load(); n > 2*workers {
		t.Fatalf("%d connections dialed for %d starts and %d polls by %d workers, want at most %d", n, flows, polls, workers, 2*workers)
	}
	t.Logf("%d connections for %d starts and %d polls", dialed.Load(), flows, polls)
}
