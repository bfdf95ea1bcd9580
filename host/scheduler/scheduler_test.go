package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// One node: flows approved at different times complete with the tokens
// the emulator issued, each reported once, polled never sooner than the
// interval (no slow_down), and their records go ResultTTL later.
func TestFlowsComplete(t *testing.T) {
	emu := newEmulator(t, nil)
	store := host.NewMemoryStore()
	n := startNode(t, store, emu, "a", func(c *scheduler.Config) { c.ResultTTL = 2 * time.Second })
	ctx := context.Background()

	const flows = 20
	ids := map[string]string{} // user code → flow id
	for range flows {
		id, v, err := n.s.Start(ctx, "tenant-1", client())
		if err != nil {
			t.Fatal(err)
		}
		if v.UserCode == "" || !strings.HasPrefix(v.URL(), emu.URL()) {
			t.Fatalf("verification: %+v", v)
		}
		ids[v.UserCode] = id
	}
	type waited struct {
		id  string
		r   scheduler.Result
		err error
	}
	results := make(chan waited, flows)
	for _, id := range ids {
		go func() {
			r, err := n.s.Wait(ctx, id)
			results <- waited{id, r, err}
		}()
	}
	i := 0
	for code := range ids {
		time.Sleep(time.Duration(i%4) * testInterval / 2)
		if err := emu.Approve(code); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for range ids {
		w := <-results
		id, r, err := w.id, w.r, w.err
		if err != nil {
			t.Fatal(err)
		}
		if r.State != scheduler.Complete || r.Authentication == nil {
			t.Fatalf("flow %s: %+v", id, r)
		}
		if tok, ok := emu.LookupToken(r.Authentication.Token); !ok || tok.ClientID != "Ov23liSched" {
			t.Fatalf("flow %s: a token the emulator did not issue", id)
		}
		if r.Tenant != "tenant-1" {
			t.Fatalf("tenant %q", r.Tenant)
		}
	}
	// OnResult runs just after the record is written.
	waitFor(t, "every flow reported", 5*time.Second, func() bool { return len(n.Results()) >= flows })
	time.Sleep(50 * time.Millisecond)
	if got := len(n.Results()); got != flows {
		t.Fatalf("OnResult called %d times, want %d", got, flows)
	}
	st := emu.Stats()
	if st.SlowDowns != 0 || st.TokensIssued != flows {
		t.Fatalf("emulator: %d slow_down, %d tokens", st.SlowDowns, st.TokensIssued)
	}
	if ns := n.s.Stats(); ns.Completed != flows || ns.SlowDowns != 0 || ns.Lateness.Count() == 0 {
		t.Fatalf("node stats: %+v", ns)
	}
	// ResultTTL later, only the heartbeat is left.
	waitFor(t, "the records to go", 10*time.Second, func() bool {
		snap := store.Snapshot()
		for k := range snap {
			if !strings.HasSuffix(k, ":nodes") {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		if _, err := n.s.Status(ctx, id); !errors.Is(err, scheduler.ErrNotFound) {
			t.Fatalf("Status after ResultTTL: %v", err)
		}
	}
}

// Denied and expired codes end Failed with the plugin's error; bad input
// fails Start with it.
func TestFlowsFail(t *testing.T) {
	emu := newEmulator(t, func(c *deviceflowtest.Config) { c.ExpiresIn = 700 * time.Millisecond })
	n := startNode(t, host.NewMemoryStore(), emu, "a", nil)
	ctx := context.Background()

	denied, v, err := n.s.Start(ctx, "t", client())
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Deny(v.UserCode); err != nil {
		t.Fatal(err)
	}
	expired, _, err := n.s.Start(ctx, "t", client())
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]error{denied: host.ErrAccessDenied, expired: host.ErrExpiredToken} {
		r, err := n.s.Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != scheduler.Failed || !errors.Is(r.Err, want) {
			t.Fatalf("flow %s: %+v, want %v", id, r, want)
		}
		st, err := n.s.Status(ctx, id)
		if err != nil || st.Err == nil || st.Authentication != nil {
			t.Fatalf("status: %+v %v", st, err)
		}
	}
	if _, _, err := n.s.Start(ctx, "t", scheduler.ClientConfig{}); !errors.Is(err, host.ErrInvalidInput) {
		t.Fatalf("Start without a client id: %v", err)
	}
	if _, _, err := n.s.Start(ctx, "", client()); !errors.Is(err, scheduler.ErrInvalid) {
		t.Fatalf("Start without a tenant: %v", err)
	}
	if _, _, err := n.s.Start(ctx, "t", scheduler.ClientConfig{ClientID: "x", BaseURL: "https://evil.example"}); !errors.Is(err, host.ErrHTTPDenied) {
		t.Fatalf("Start outside the sandbox: %v", err)
	}
}

// Cancel stops polling at once and removes the state; from another node
// too, whose owner stops at its next turn.
func TestCancel(t *testing.T) {
	emu := newEmulator(t, nil)
	store := host.NewMemoryStore()
	a := startNode(t, store, emu, "a", nil)
	b := startNode(t, store, emu, "b", nil)
	ctx := context.Background()

	for _, canceller := range []*node{a, b} {
		id, v, err := a.s.Start(ctx, "t", client())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * testInterval)
		if err := canceller.s.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
		st, err := b.s.Status(ctx, id)
		if err != nil || st.State != scheduler.Cancelled {
			t.Fatalf("status after cancel: %+v %v", st, err)
		}
		if raw, _ := store.Get(ctx, "deviceflow:sched:flow:"+id); strings.Contains(raw, `"state"`) {
			t.Fatal("the flow state outlived Cancel")
		}
		r, err := a.s.Wait(ctx, id)
		if err != nil || r.State != scheduler.Cancelled {
			t.Fatalf("wait: %+v %v", r, err)
		}
		// At most one poll already under way on the owner after that.
		polls := grant(t, emu, v.UserCode).Polls
		time.Sleep(4 * testInterval)
		if got := grant(t, emu, v.UserCode).Polls; got > polls+1 {
			t.Fatalf("polled %d times after Cancel", got-polls)
		}
		if err := canceller.s.Cancel(ctx, id); !errors.Is(err, scheduler.ErrFinished) {
			t.Fatalf("second Cancel: %v", err)
		}
	}
	if err := a.s.Cancel(ctx, "nope"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Cancel of an unknown flow: %v", err)
	}
}

func grant(t *testing.T, emu *deviceflowtest.Server, userCode string) deviceflowtest.Grant {
	t.Helper()
	for _, g := range emu.Grants() {
		if g.UserCode == userCode {
			return g
		}
	}
	t.Fatalf("no grant %s", userCode)
	return deviceflowtest.Grant{}
}
