package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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
	s := runStarted(t, srv.URL, workers, testWriter{t}, flows)
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

// TestBusyWorkersSaid: a node whose workers cannot keep up (one worker, a
// slow server) counts the due flows that found them all busy and says in
// its log what to change, once.
func TestBusyWorkersSaid(t *testing.T) {
	emu, err := deviceflowtest.New(deviceflowtest.Config{Interval: testInterval, ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login/oauth/access_token" {
			time.Sleep(50 * time.Millisecond) // a far server: at most 20 polls/s per worker
		}
		emu.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var said atomic.Int64
	log := writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), "raise Config.Workers") {
			said.Add(1)
		}
		return len(p), nil
	})
	// 30 flows at 200 ms want 150 polls/s: seven times what one worker does.
	s := runStarted(t, srv.URL, 1, log, 30)
	waitFor(t, "a busy node", 10*time.Second, func() bool { return s.Stats().Busy > 0 })
	time.Sleep(5 * testInterval)
	if n := said.Load(); n != 1 {
		t.Fatalf("said %d times, want once a minute", n)
	}
	st := s.Stats()
	t.Logf("busy %d times, lateness p50 %s", st.Busy, st.Lateness.Quantile(0.5))
}

// writerFunc is a function as an io.Writer (slog's handlers write one record
// at a time).
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// runStarted runs a node named "a" on a MemoryStore against the server at
// url, with workers and its log written to log, and starts flows on it; the
// node stops when the test ends.
func runStarted(t *testing.T, url string, workers int, log io.Writer, flows int) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(scheduler.Config{
		Store:   host.NewMemoryStore(),
		Host:    host.Options{BaseURL: url, RequestTimeout: testRequest},
		Node:    "a",
		Workers: workers, LeaseTTL: testLease, ClockSkew: testSkew, Heartbeat: testBeat,
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	for range flows {
		if _, _, err := s.Start(ctx, "tenant", client()); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
