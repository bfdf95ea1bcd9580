package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// started is a flow a test began, with the node that began it.
type started struct {
	id, userCode string
	on           *node
}

// checkAllComplete waits for every flow (through reader) and checks the
// invariants of many nodes: every flow complete with a token the emulator
// issued, every token reported once across the nodes, as many tokens
// issued as flows (no code exchanged twice, no token lost), no slow_down
// (no two nodes ever polled one code within its interval).
func checkAllComplete(t *testing.T, emu *deviceflowtest.Server, reader *scheduler.Scheduler, flows []started, nodes ...*node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tokens := map[string]string{}
	for _, f := range flows {
		r, err := reader.Wait(ctx, f.id)
		if err != nil {
			t.Fatalf("flow %s: %v", f.id, err)
		}
		if r.State != scheduler.Complete || r.Authentication == nil {
			t.Fatalf("flow %s: %+v (err %v)", f.id, r, r.Err)
		}
		if _, ok := emu.LookupToken(r.Authentication.Token); !ok {
			t.Fatalf("flow %s: a token the emulator did not issue", f.id)
		}
		if other, dup := tokens[r.Authentication.Token]; dup {
			t.Fatalf("flows %s and %s got the same token", other, f.id)
		}
		tokens[r.Authentication.Token] = f.id
	}
	// OnResult runs just after the record is written: give the last ones
	// a moment.
	var reported map[string]int
	waitFor(t, "every flow reported", 5*time.Second, func() bool {
		reported = map[string]int{}
		for _, n := range nodes {
			for _, r := range n.Results() {
				reported[r.ID]++
			}
		}
		return len(reported) == len(flows)
	})
	for _, n := range nodes {
		for _, r := range n.Results() {
			if r.State != scheduler.Complete || tokens[r.Authentication.Token] != r.ID {
				t.Fatalf("OnResult for %s: %+v", r.ID, r)
			}
		}
	}
	for _, f := range flows {
		if reported[f.id] != 1 {
			t.Fatalf("flow %s reported %d times", f.id, reported[f.id])
		}
	}
	st := emu.Stats()
	if st.TokensIssued != len(flows) {
		t.Fatalf("emulator issued %d tokens for %d flows", st.TokensIssued, len(flows))
	}
	if st.SlowDowns != 0 {
		t.Fatalf("emulator answered slow_down %d times", st.SlowDowns)
	}
	for _, g := range emu.Grants() {
		if g.Status != deviceflowtest.StatusUsed {
			t.Fatalf("grant %s: %s", g.UserCode, g.Status)
		}
	}
}

// Three nodes share a store; one dies (its context ends, its leases are
// abandoned) while its flows wait, some of them approved a moment before.
// The two others take its flows over and finish every flow: no token
// lost, no device code exchanged twice, no poll within the interval.
func TestNodeDies(t *testing.T) {
	emu := newEmulator(t, nil)
	store := host.NewMemoryStore()
	runNodeDies(t, emu, store, store)
}

// runNodeDies is TestNodeDies on any shared store (stores for the three
// nodes: the same store, or three clients of one server).
func runNodeDies(t *testing.T, emu *deviceflowtest.Server, stores ...host.Store) {
	a := startNode(t, stores[0], emu, "a", nil)
	b := startNode(t, stores[1%len(stores)], emu, "b", nil)
	c := startNode(t, stores[2%len(stores)], emu, "c", nil)
	ctx := context.Background()
	var flows []started
	for i := range 30 {
		n := []*node{a, b, c}[i%3]
		id, v, err := n.s.Start(ctx, fmt.Sprintf("tenant-%d", i%2), client())
		if err != nil {
			t.Fatal(err)
		}
		flows = append(flows, started{id, v.UserCode, n})
	}
	time.Sleep(3 * testInterval)
	// Approve a few of a's flows and of the others', then kill a at once:
	// some of its polls are in flight, some tokens arrive as it dies.
	for i, f := range flows {
		if i%6 < 2 {
			if err := emu.Approve(f.userCode); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(testInterval)
	a.kill(t)
	killedAt := time.Now()
	for i, f := range flows {
		if i%6 >= 2 {
			if err := emu.Approve(f.userCode); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkAllComplete(t, emu, b.s, flows, a, b, c)
	claimed := b.s.Stats().Claimed + c.s.Stats().Claimed
	held := 0
	for _, f := range flows {
		if f.on == a {
			held++
		}
	}
	t.Logf("a's flows: %d started, %d completed on a, %d taken over in %s (b %d, c %d), %d recovered",
		held, len(a.Results()), claimed, time.Since(killedAt).Round(time.Millisecond),
		b.s.Stats().Claimed, c.s.Stats().Claimed, b.s.Stats().Recovered+c.s.Stats().Recovered)
	if int(claimed)+len(a.Results()) < held {
		t.Fatalf("a held %d flows: %d finished on a, %d taken over", held, len(a.Results()), claimed)
	}
}

// Shutdown hands a node's flows over at once: they finish on the other
// node without waiting for the leases to lapse.
func TestShutdownHandsOver(t *testing.T) {
	emu := newEmulator(t, nil)
	store := host.NewMemoryStore()
	a := startNode(t, store, emu, "a", func(c *scheduler.Config) { c.LeaseTTL = time.Minute })
	b := startNode(t, store, emu, "b", func(c *scheduler.Config) { c.LeaseTTL = time.Minute })
	ctx := context.Background()
	var flows []started
	for range 5 {
		id, v, err := a.s.Start(ctx, "t", client())
		if err != nil {
			t.Fatal(err)
		}
		flows = append(flows, started{id, v.UserCode, a})
	}
	time.Sleep(2 * testInterval)
	if err := a.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.s.Start(ctx, "t", client()); err != scheduler.ErrClosed {
		t.Fatalf("Start after Shutdown: %v", err)
	}
	for _, f := range flows {
		if err := emu.Approve(f.userCode); err != nil {
			t.Fatal(err)
		}
	}
	begin := time.Now()
	checkAllComplete(t, emu, b.s, flows, a, b)
	if d := time.Since(begin); d > 10*time.Second {
		t.Fatalf("the handed-over flows took %s", d)
	}
	if got := b.s.Stats().Claimed; got != 5 {
		t.Fatalf("b claimed %d flows", got)
	}
}

// A node that dies after its plugin stored a token but before it wrote the
// flow's record loses nothing: the node that takes the flow over finds the
// token and completes the flow without polling again.
func TestRecoverStoredToken(t *testing.T) {
	emu := newEmulator(t, nil)
	store := host.NewMemoryStore()
	a := startNode(t, store, emu, "a", nil)
	ctx := context.Background()
	id, _, err := a.s.Start(ctx, "t", client())
	if err != nil {
		t.Fatal(err)
	}
	a.kill(t)
	// What the plugin's last step left: the stored authentication.
	stored := `{"type":"token","tokenType":"oauth","clientType":"oauth-app","clientId":"Ov23liSched","token":"gho_recovered","scopes":["repo"],"local":{}}`
	if err := store.Set(ctx, "deviceflow:sched:token:"+id, stored); err != nil {
		t.Fatal(err)
	}
	polls := emu.Stats().AccessToken
	b := startNode(t, store, emu, "b", nil)
	r, err := b.s.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != scheduler.Complete || r.Authentication.Token != "gho_recovered" {
		t.Fatalf("result %+v", r)
	}
	if b.s.Stats().Recovered != 1 || emu.Stats().AccessToken != polls {
		t.Fatalf("stats %+v; %d polls after the kill", b.s.Stats(), emu.Stats().AccessToken-polls)
	}
	if _, err := store.Get(ctx, "deviceflow:sched:token:"+id); err == nil {
		t.Fatal("the plugin's copy of the token stayed beside the record")
	}
}

// A token whose answer died with its node (kill -9 during the exchange)
// cannot be saved by anyone: the node that takes the flow over fails it
// with incorrect_device_code, and says why.
func TestLostExchangeSaysWhy(t *testing.T) {
	emu := newEmulator(t, nil)
	store := host.NewMemoryStore()
	a := startNode(t, store, emu, "a", nil)
	ctx := context.Background()
	id, v, err := a.s.Start(ctx, "t", client())
	if err != nil {
		t.Fatal(err)
	}
	a.kill(t)
	// The exchange the dead node made, whose answer nobody read.
	if err := emu.Approve(v.UserCode); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"client_id":"Ov23liSched","device_code":%q,"grant_type":"urn:ietf:params:oauth:grant-type:device_code"}`, grant(t, emu, v.UserCode).DeviceCode)
	time.Sleep(2 * testInterval) // not answered slow_down
	resp, err := http.Post(emu.URL()+"/login/oauth/access_token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if emu.Stats().TokensIssued != 1 {
		t.Fatal("the out-of-band exchange got no token")
	}
	b := startNode(t, store, emu, "b", nil)
	r, err := b.s.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != scheduler.Failed || !errors.Is(r.Err, host.ErrIncorrectDeviceCode) || !strings.Contains(r.Err.Error(), "died during the exchange") {
		t.Fatalf("result %+v (%v)", r, r.Err)
	}
}
