package flow_test

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

// sharedStore is one store that many runs use at once, with a real lease
// per key and compare-and-swap, as the contract asks of every host.
type sharedStore struct {
	mu     sync.Mutex
	values map[string]string
	leases map[string]chan struct{} // closed when released
	next   int
}

func newSharedStore() *sharedStore {
	return &sharedStore{values: map[string]string{}, leases: map[string]chan struct{}{}}
}

// leaseHost is one run's host over the shared store and a refresh server
// that counts the refresh tokens it is sent and honours single use.
type leaseHost struct {
	s      *sharedStore
	server *refreshServer
	events []string
}

type refreshServer struct {
	mu       sync.Mutex
	live     string // the refresh token the server would accept
	gen      int
	requests atomic.Int64
}

func (h *leaseHost) HTTP(req *flow.Request) *flow.Response {
	h.server.requests.Add(1)
	time.Sleep(time.Millisecond) // widen any race
	h.server.mu.Lock()
	defer h.server.mu.Unlock()
	if !strings.Contains(req.Body, `"refresh_token":"`+h.server.live+`"`) {
		return jsonResp(200, `{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired."}`)
	}
	h.server.gen++
	n := strconv.Itoa(h.server.gen)
	h.server.live = "ghr_Gen" + n + "RefreshToken000000"
	return jsonResp(200, `{"access_token":"ghu_Gen`+n+`AccessToken0000000","expires_in":28800,"refresh_token":"`+h.server.live+`","refresh_token_expires_in":15811200,"token_type":"bearer","scope":""}`)
}
func (h *leaseHost) Sleep(int64) bool   { return true }
func (h *leaseHost) Now() int64         { return 1767225600000 }
func (h *leaseHost) Monotonic() int64   { return 42 }
func (h *leaseHost) Emit(e []byte) bool { h.events = append(h.events, string(e)); return false }
func (h *leaseHost) StoreGet(k string) (string, bool, string) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	v, ok := h.s.values[k]
	return v, ok, ""
}
func (h *leaseHost) StoreSwap(k string, old, new *string) (bool, *string, string) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return mapSwap(h.s.values, k, old, new)
}
func (h *leaseHost) StoreLock(k string, waitMs, _ int64) (string, bool, bool, string) {
	deadline := time.Now().Add(time.Duration(waitMs) * time.Millisecond)
	for {
		h.s.mu.Lock()
		held, busy := h.s.leases[k]
		if !busy {
			h.s.leases[k] = make(chan struct{})
			h.s.next++
			id := strconv.Itoa(h.s.next)
			h.s.mu.Unlock()
			return id, false, false, ""
		}
		h.s.mu.Unlock()
		left := time.Until(deadline)
		if left <= 0 {
			return "", true, false, ""
		}
		select {
		case <-held:
		case <-time.After(left):
		}
	}
}
func (h *leaseHost) StoreUnlock(k, _ string) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if c, ok := h.s.leases[k]; ok {
		close(c)
		delete(h.s.leases, k)
	}
}

// Many runs find the same expiring token at once: exactly one refresh
// request is sent, every run gets a working token, and the store ends with
// the newest pair. Without the lease each run would spend the same
// single-use refresh token.
func TestLeaseOneRefreshForManyRuns(t *testing.T) {
	const key = "deviceflow:v1:https://github.com|github-app|Iv23.app|"
	for _, op := range []flow.Op{flow.OpAuthenticate, flow.OpAuthorize} {
		s := newSharedStore()
		srv := &refreshServer{live: "ghr_OldRefresh00001"}
		s.values[key] = entry("ghu_OldToken00001", "ghr_OldRefresh00001", "2026-01-01T00:01:00.000Z")
		input := `{"clientId":"Iv23.app","clientType":"github-app","method":"GET","url":"/user"}`
		const runs = 50
		var wg sync.WaitGroup
		outs := make([]string, runs)
		errs := make([]*flow.Error, runs)
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := driver.Run(op, []byte(input), &leaseHost{s: s, server: srv})
				outs[i], errs[i] = string(out), err
			}()
		}
		wg.Wait()
		if n := srv.requests.Load(); n != 1 {
			t.Errorf("%s: %d refresh requests, want 1", op, n)
		}
		for i := range runs {
			if errs[i] != nil {
				t.Errorf("%s: run %d failed: %v", op, i, errs[i])
			} else if !strings.Contains(outs[i], "ghu_Gen1AccessToken0000000") {
				t.Errorf("%s: run %d got %s, want the one refreshed token", op, i, outs[i])
			}
		}
		if !strings.Contains(s.values[key], "ghr_Gen1RefreshToken000000") {
			t.Errorf("%s: store holds %q, want the newest pair", op, s.values[key])
		}
		if len(s.leases) != 0 {
			t.Errorf("%s: %d leases left held", op, len(s.leases))
		}
	}
}

// A run that had to wait for the lease says so, once, before waiting.
func TestLeaseWaitIsAnnounced(t *testing.T) {
	const key = "deviceflow:v1:https://github.com|github-app|Iv23.app|"
	s := newSharedStore()
	s.values[key] = entry("ghu_OldToken00001", "ghr_OldRefresh00001", "2026-01-01T00:01:00.000Z")
	srv := &refreshServer{live: "ghr_OldRefresh00001"}
	holder := &leaseHost{s: s, server: srv}
	lease, _, _, _ := holder.StoreLock(key, 0, 0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		s.mu.Lock()
		s.values[key] = entry("ghu_HolderToken000001", "ghr_HolderRefresh00001", "2026-01-01T08:00:00.000Z")
		s.mu.Unlock()
		holder.StoreUnlock(key, lease)
	}()
	h := &leaseHost{s: s, server: srv}
	out, err := driver.Run(flow.OpAuthenticate, []byte(`{"clientId":"Iv23.app","clientType":"github-app","interactive":false}`), h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "ghu_HolderToken000001") || srv.requests.Load() != 0 {
		t.Errorf("got %s after %d requests, want the holder's token and no request", out, srv.requests.Load())
	}
	if len(h.events) != 1 || !strings.Contains(h.events[0], `"type":"waiting"`) || !strings.Contains(h.events[0], `"waitMs":60000`) {
		t.Errorf("events %v, want one waiting event with a minute's wait", h.events)
	}
}

// A holder that never lets go: the waiting run ends with a store error that
// says what to do, and holds nothing.
func TestLeaseBusyTooLong(t *testing.T) {
	const key = "deviceflow:v1:https://github.com|github-app|Iv23.app|"
	s := newSharedStore()
	s.values[key] = entry("ghu_OldToken00001", "ghr_OldRefresh00001", "2026-01-01T00:01:00.000Z")
	h := &busyHost{leaseHost{s: s, server: &refreshServer{}}}
	_, err := driver.Run(flow.OpAuthenticate, []byte(`{"clientId":"Iv23.app","clientType":"github-app"}`), h)
	if err == nil || err.Code != flow.CodeStore || !strings.Contains(err.Message, "try again") {
		t.Fatalf("got %v, want a store error saying to try again", err)
	}
}

type busyHost struct{ leaseHost }

func (h *busyHost) StoreLock(string, int64, int64) (string, bool, bool, string) {
	return "", true, false, ""
}

// A holder that stores a fresh pair but keeps the lease a while longer (as
// a process does between its write and its unlock, or while a hundred
// others queue for the lease): a waiter re-reads the entry between its
// attempts and uses that pair without taking the lease in turn.
func TestLeaseWaiterUsesFreshPairWithoutTheLease(t *testing.T) {
	const key = "deviceflow:v1:https://github.com|github-app|Iv23.app|"
	s := newSharedStore()
	s.values[key] = entry("ghu_OldToken00001", "ghr_OldRefresh00001", "2026-01-01T00:01:00.000Z")
	srv := &refreshServer{live: "ghr_OldRefresh00001"}
	holder := &leaseHost{s: s, server: srv}
	lease, _, _, _ := holder.StoreLock(key, 0, 0)
	defer holder.StoreUnlock(key, lease)
	go func() {
		time.Sleep(20 * time.Millisecond)
		s.mu.Lock()
		s.values[key] = entry("ghu_HolderToken000001", "ghr_HolderRefresh00001", "2026-01-01T08:00:00.000Z")
		s.mu.Unlock()
	}()
	out, err := driver.Run(flow.OpAuthenticate, []byte(`{"clientId":"Iv23.app","clientType":"github-app"}`), &leaseHost{s: s, server: srv})
	if err != nil || !strings.Contains(string(out), "ghu_HolderToken000001") || srv.requests.Load() != 0 {
		t.Fatalf("got %s, %v after %d requests; want the holder's pair, no request", out, err, srv.requests.Load())
	}
}
