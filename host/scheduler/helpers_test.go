package scheduler_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// Test timings: a short interval keeps the tests fast; leases of a few
// seconds make a dead node's flows move soon. The request timeout is
// generous: on a loaded machine a loopback poll can take hundreds of
// milliseconds, and a poll cut short after the emulator issued its token
// loses that token (as any client's timeout would).
const (
	testInterval = 200 * time.Millisecond
	testLease    = 3 * time.Second
	testSkew     = 200 * time.Millisecond
	testRequest  = 2 * time.Second
	testBeat     = 100 * time.Millisecond
)

func newEmulator(t *testing.T, edit func(*deviceflowtest.Config)) *deviceflowtest.Server {
	t.Helper()
	cfg := deviceflowtest.Config{Interval: testInterval, ExpiresIn: time.Minute}
	if edit != nil {
		edit(&cfg)
	}
	emu := deviceflowtest.NewServer(cfg)
	t.Cleanup(func() { emu.Close() })
	return emu
}

// node is one scheduler instance with its own Run context, and the results
// it reported.
type node struct {
	s      *scheduler.Scheduler
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned runErr
	runErr error

	mu      sync.Mutex
	results []scheduler.Result
}

func (n *node) Results() []scheduler.Result {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]scheduler.Result(nil), n.results...)
}

// kill stops the node as a crash would: its leases are abandoned.
func (n *node) kill(t *testing.T) {
	t.Helper()
	n.cancel()
	select {
	case <-n.done:
		if !errors.Is(n.runErr, context.Canceled) {
			t.Fatalf("Run after kill: %v", n.runErr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func startNode(t *testing.T, store host.Store, emu *deviceflowtest.Server, name string, edit func(*scheduler.Config)) *node {
	t.Helper()
	n := &node{done: make(chan struct{})}
	cfg := scheduler.Config{
		Store:     store,
		Host:      host.Options{BaseURL: emu.URL(), RequestTimeout: testRequest},
		Node:      name,
		LeaseTTL:  testLease,
		ClockSkew: testSkew,
		Heartbeat: testBeat,
		Shards:    8,
		WaitPoll:  50 * time.Millisecond,
		Logger:    slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		OnResult: func(r scheduler.Result) {
			n.mu.Lock()
			n.results = append(n.results, r)
			n.mu.Unlock()
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.s = s
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		n.runErr = s.Run(ctx)
		close(n.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-n.done
		s.Close()
	})
	return n
}

func client() scheduler.ClientConfig {
	return scheduler.ClientConfig{ClientID: "Ov23liSched", Scopes: []string{"repo"}}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testWriter sends a node's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
