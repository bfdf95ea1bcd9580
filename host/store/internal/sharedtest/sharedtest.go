//go:build linux

// Package sharedtest is the behaviour every shared store (Redis,
// PostgreSQL) must show, run against a real server: the host's store
// suite (host/internal/storetest), the store semantics again with
// sealing, compare-and-swap and leases across goroutines and across
// processes, tenants, encryption at rest, TTLs, and the plugin refreshing a
// token once for many callers.
//
// A store's test package calls Main from its TestMain (the same test
// binary then serves as the child processes of the cross-process tests)
// and Run from a test.
package sharedtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/internal/storetest"
	"github.com/deviceflow/deviceflow/host/internal/testserver"
	emulator "github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// Store is a store under test.
type Store interface {
	host.Store
	host.Swapper
	host.Locker
}

// Opts are what a test opens a store with.
type Opts struct {
	Tenant   string
	Key      *host.EncryptionKey
	Plain    bool
	TTL      time.Duration
	LeaseTTL time.Duration
}

// Backend is one kind of shared store.
type Backend struct {
	// Name is "redis" or "postgres".
	Name string
	// Server starts (once) the server the store uses.
	Server func() (*testserver.Server, error)
	// Open opens a store on the server at url; close releases it.
	Open func(url string, o Opts) (s Store, close func(), err error)
	// Raw returns every entry of tenant as the server keeps it (for the
	// at-rest checks), by the entry's key.
	Raw func(ctx context.Context, url, tenant string) (map[string]string, error)
	// Expire makes tenant's entry key expire now, as if its TTL had passed
	// (nil: the test waits for the TTL).
	Expire func(ctx context.Context, url, tenant, key string) error
}

// Child environment: the role, and what the child opens its store with.
const (
	envRole     = "DEVICEFLOW_SHAREDTEST_ROLE"
	envURL      = "DEVICEFLOW_SHAREDTEST_URL"
	envTenant   = "DEVICEFLOW_SHAREDTEST_TENANT"
	envLeaseTTL = "DEVICEFLOW_SHAREDTEST_LEASE_TTL_MS"
	envArg      = "DEVICEFLOW_SHAREDTEST_ARG"
)

// Main runs the tests, or, in a child process of a cross-process test,
// the child's role; then it stops the servers and exits.
func Main(m *testing.M, b Backend) {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(child(b, role))
	}
	code := m.Run()
	testserver.StopAll()
	os.Exit(code)
}

// key is the encryption key of every test's stores; children get it
// through $DEVICEFLOW_ENCRYPTION_KEY.
var key = func() host.EncryptionKey {
	if s := os.Getenv(host.EncryptionKeyEnv); s != "" {
		k, err := host.ParseEncryptionKey(s)
		if err == nil {
			return k
		}
	}
	k, _ := host.ParseEncryptionKey(keyText)
	return k
}()

var keyText = host.GenerateKey()

var tenantSeq atomic.Int64

// tenant returns a tenant name no other test uses.
func tenant(t *testing.T) string {
	return fmt.Sprintf("t%d-%d", os.Getpid(), tenantSeq.Add(1))
}

type env struct {
	t   *testing.T
	b   Backend
	url string
}

func (e *env) open(o Opts) Store {
	e.t.Helper()
	if o.Key == nil && !o.Plain {
		o.Key = &key
	}
	s, closeFn, err := e.b.Open(e.url, o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(closeFn)
	return s
}

// Run runs every behaviour test against b.
func Run(t *testing.T, b Backend) {
	srv, err := b.Server()
	srv = testserver.Require(t, srv, err)
	e := &env{t: t, b: b, url: srv.URL}
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"HostSuite", testHostSuite},
		{"GetSetDelete", testGetSetDelete},
		{"SwapSemantics", testSwapSemantics},
		{"SwapAfterAnotherStoreWrote", testSwapAfterOtherWrote},
		{"SwapRaceGoroutines", testSwapRace},
		{"SwapRaceProcesses", testSwapRaceProcesses},
		{"CounterProcesses", testCounterProcesses},
		{"LeaseBusyAndRelease", testLeaseBusy},
		{"LeaseExclusive", testLeaseExclusive},
		{"LeaseCancel", testLeaseCancel},
		{"LeaseOutlivesTTLWhileHeld", testLeaseRenewed},
		{"LeaseExpiresWhenHolderKilled", testLeaseHolderKilled},
		{"Tenants", testTenants},
		{"EncryptedAtRest", testEncryptedAtRest},
		{"WrongKeyAndPlain", testWrongKey},
		{"TTL", testTTL},
		{"PluginRefreshesOnce", testPluginRefreshOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, &env{t: t, b: e.b, url: e.url})
		})
	}
}

func sp(s string) *string { return &s }

func show(s *string) string {
	if s == nil {
		return "<none>"
	}
	return strconv.Quote(*s)
}

// suite is the host's store suite.
var suite = storetest.Suite{NoEntry: host.ErrNoEntry, Busy: host.ErrBusy}

func testHostSuite(t *testing.T, e *env) {
	t.Run("Contract", func(t *testing.T) { suite.Contract(t, e.open(Opts{Tenant: tenant(t)})) })
	t.Run("Swap", func(t *testing.T) { suite.Swap(t, e.open(Opts{Tenant: tenant(t)})) })
	t.Run("SwapRace", func(t *testing.T) { suite.SwapRace(t, e.open(Opts{Tenant: tenant(t)}), 8, 20) })
	t.Run("LockExclusive", func(t *testing.T) { suite.LockExclusive(t, e.open(Opts{Tenant: tenant(t)}), 8, 10) })
	t.Run("LockWaits", func(t *testing.T) { suite.LockWaits(t, e.open(Opts{Tenant: tenant(t)})) })
}

func testGetSetDelete(t *testing.T, e *env) {
	s := e.open(Opts{Tenant: tenant(t)})
	ctx := testserver.Context(t)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, host.ErrNoEntry) {
		t.Fatalf("Get of a new key = %v, want ErrNoEntry", err)
	}
	k := "deviceflow:v1:https://github.com|oauth-app|Ov23li<&>|repo é ☃"
	v := `{"token":"gho_x\u00e9","note":"<&> \"q\""}`
	if err := s.Set(ctx, k, v); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, k); err != nil || got != v {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := s.Set(ctx, k, "second"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, k); got != "second" {
		t.Fatalf("after a second Set, Get = %q", got)
	}
	if err := s.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, k); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, host.ErrNoEntry) {
		t.Fatalf("Get after Delete = %v", err)
	}
	if err := s.Set(ctx, "empty", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "empty"); err != nil || got != "" {
		t.Fatalf("an empty value reads back as %q, %v", got, err)
	}
}

func testSwapSemantics(t *testing.T, e *env) {
	s := e.open(Opts{Tenant: tenant(t)})
	ctx := testserver.Context(t)
	check := func(old, new *string, wantOK bool, wantCur *string) {
		t.Helper()
		expectSwap(t, ctx, s, old, new, wantOK, wantCur)
	}
	check(sp("x"), sp("a"), false, nil)
	check(nil, sp("a"), true, sp("a"))
	check(nil, sp("b"), false, sp("a"))
	check(sp("stale"), sp("b"), false, sp("a"))
	check(sp("a"), sp("b"), true, sp("b"))
	if v, err := s.Get(ctx, "k"); err != nil || v != "b" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	check(sp("a"), nil, false, sp("b"))
	check(sp("b"), nil, true, nil)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, host.ErrNoEntry) {
		t.Fatalf("after a swap to nothing Get = %v", err)
	}
	check(nil, nil, true, nil)
	check(sp(""), sp("e"), false, nil)
	check(nil, sp(""), true, sp(""))
	check(nil, sp("x"), false, sp(""))
	check(sp(""), sp("same"), true, sp("same"))
	check(sp("same"), sp("same"), true, sp("same"))
}

// testSwapAfterOtherWrote: a store remembers the bytes it last read or
// wrote and swaps over them without reading first; when another store
// (another process) wrote the entry meanwhile, or it was removed, the swap
// still compares what is stored: it fails with the value now there, and
// then succeeds over that value.
func testSwapAfterOtherWrote(t *testing.T, e *env) {
	ten := tenant(t)
	a, b := e.open(Opts{Tenant: ten}), e.open(Opts{Tenant: ten})
	ctx := testserver.Context(t)
	swap := func(s Store, old, new *string, wantOK bool, wantCur *string) {
		t.Helper()
		expectSwap(t, ctx, s, old, new, wantOK, wantCur)
	}
	swap(a, nil, sp("v1"), true, sp("v1"))
	swap(a, sp("v1"), sp("v2"), true, sp("v2")) // over the bytes a wrote
	swap(b, sp("v2"), sp("v3"), true, sp("v3")) // b writes behind a's back
	swap(a, sp("v2"), sp("v4"), false, sp("v3"))
	swap(a, sp("v3"), sp("v4"), true, sp("v4"))
	if err := a.Set(ctx, "k", "v5"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	swap(a, sp("v5"), sp("v6"), false, nil)
	swap(b, nil, sp("v5"), true, sp("v5")) // the same value, in new bytes
	swap(a, sp("v5"), sp("v7"), true, sp("v7"))
	if v, err := b.Get(ctx, "k"); err != nil || v != "v7" {
		t.Fatalf("b reads %q, %v; want v7", v, err)
	}
}

// expectSwap swaps the entry "k" of s and fails the test unless the answer
// is wantOK with the value wantCur.
func expectSwap(t *testing.T, ctx context.Context, s Store, old, new *string, wantOK bool, wantCur *string) {
	t.Helper()
	ok, cur, err := s.Swap(ctx, "k", old, new)
	if err != nil {
		t.Fatal(err)
	}
	if ok != wantOK || show(cur) != show(wantCur) {
		t.Fatalf("Swap(%s, %s) = %v, %s; want %v, %s", show(old), show(new), ok, show(cur), wantOK, show(wantCur))
	}
}

// increment adds one to the counter under key by compare-and-swap.
func increment(ctx context.Context, s Store, key string) (conflicts int, err error) {
	for {
		var old *string
		n := 0
		if v, err := s.Get(ctx, key); err == nil {
			old = &v
			n, _ = strconv.Atoi(v)
		} else if !errors.Is(err, host.ErrNoEntry) {
			return conflicts, err
		}
		ok, _, err := s.Swap(ctx, key, old, sp(strconv.Itoa(n+1)))
		if err != nil || ok {
			return conflicts, err
		}
		conflicts++
	}
}

func testSwapRace(t *testing.T, e *env) {
	ten := tenant(t)
	ctx := testserver.Context(t)
	const workers, each = 16, 25
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	start := time.Now()
	for range workers {
		s := e.open(Opts{Tenant: ten})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c, err := increment(ctx, s, "n")
				conflicts.Add(int64(c))
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s := e.open(Opts{Tenant: ten})
	if v, _ := s.Get(ctx, "n"); v != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d", v, workers*each)
	}
	t.Logf("%d goroutines x %d increments by compare-and-swap: none lost, %d conflicts retried, %v", workers, each, conflicts.Load(), time.Since(start).Round(time.Millisecond))

	// One contested swap per round: exactly one of the goroutines wins.
	const rounds = 20
	for r := range rounds {
		k := "once-" + strconv.Itoa(r)
		if err := s.Set(ctx, k, "v0"); err != nil {
			t.Fatal(err)
		}
		var won atomic.Int32
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				ok, cur, err := s.Swap(ctx, k, sp("v0"), sp("g"+strconv.Itoa(i)))
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				} else if cur == nil || !strings.HasPrefix(*cur, "g") {
					t.Errorf("a losing swap reports %s", show(cur))
				}
			}()
		}
		close(gate)
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("round %d: %d swaps from v0 won, want exactly 1", r, n)
		}
	}
}

// startChildren starts n copies of this test binary in role, each told
// arg, and returns them with a reader of each one's output.
type proc struct {
	cmd *exec.Cmd
	out *bufio.Scanner
}

func (e *env) children(t *testing.T, n int, role, ten string, leaseTTL time.Duration, arg func(i int) string) []*proc {
	t.Helper()
	var ps []*proc
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			envRole+"="+role, envURL+"="+e.url, envTenant+"="+ten,
			envLeaseTTL+"="+strconv.FormatInt(leaseTTL.Milliseconds(), 10),
			envArg+"="+arg(i), host.EncryptionKeyEnv+"="+keyText)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &proc{cmd: cmd, out: bufio.NewScanner(out)}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		ps = append(ps, p)
	}
	return ps
}

// line reads a child's next line of output.
func (p *proc) line(t *testing.T) string {
	t.Helper()
	if !p.out.Scan() {
		t.Fatalf("child %d ended without answering: %v", p.cmd.Process.Pid, p.out.Err())
	}
	return p.out.Text()
}

func testSwapRaceProcesses(t *testing.T, e *env) {
	ten := tenant(t)
	ctx := testserver.Context(t)
	s := e.open(Opts{Tenant: ten})
	const procs, rounds = 6, 20
	for r := range rounds {
		if err := s.Set(ctx, "once-"+strconv.Itoa(r), "v0"); err != nil {
			t.Fatal(err)
		}
	}
	// Every child opens its store and connects, then all start round r at
	// the same instant: start + r*40 ms.
	start := time.Now().Add(1500 * time.Millisecond)
	ps := e.children(t, procs, "swap-rounds", ten, 0, func(i int) string {
		return fmt.Sprintf("%d,%d,%d", i, rounds, start.UnixMilli())
	})
	wins := make([]int, rounds)
	for _, p := range ps {
		for r := range rounds {
			switch l := p.line(t); l {
			case "won":
				wins[r]++
			case "lost":
			default:
				t.Fatalf("child answered %q", l)
			}
		}
	}
	for r, n := range wins {
		if n != 1 {
			t.Errorf("round %d: %d processes won the swap from v0, want exactly 1", r, n)
		}
		v, err := s.Get(ctx, "once-"+strconv.Itoa(r))
		if err != nil || !strings.HasPrefix(v, "p") {
			t.Errorf("round %d: the entry holds %q, %v", r, v, err)
		}
	}
	t.Logf("%d processes x %d contested swaps: exactly one winner each time", procs, rounds)
}

func testCounterProcesses(t *testing.T, e *env) {
	ten := tenant(t)
	ctx := testserver.Context(t)
	const procs, each = 6, 50
	start := time.Now()
	ps := e.children(t, procs, "count", ten, 0, func(int) string { return strconv.Itoa(each) })
	conflicts := 0
	for _, p := range ps {
		n, err := strconv.Atoi(p.line(t))
		if err != nil {
			t.Fatal(err)
		}
		conflicts += n
		p.cmd.Wait()
	}
	s := e.open(Opts{Tenant: ten})
	if v, _ := s.Get(ctx, "n"); v != strconv.Itoa(procs*each) {
		t.Fatalf("counter = %s, want %d", v, procs*each)
	}
	t.Logf("%d processes x %d increments by compare-and-swap: none lost, %d conflicts retried, %v", procs, each, conflicts, time.Since(start).Round(time.Millisecond))
}

func testLeaseBusy(t *testing.T, e *env) {
	ten := tenant(t)
	a, b := e.open(Opts{Tenant: ten}), e.open(Opts{Tenant: ten})
	ctx := testserver.Context(t)
	unlock, err := a.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, "k", 0); !errors.Is(err, host.ErrBusy) {
		t.Fatalf("a second Lock without a wait = %v, want ErrBusy", err)
	}
	t0 := time.Now()
	if _, err := b.Lock(ctx, "k", 150*time.Millisecond); !errors.Is(err, host.ErrBusy) {
		t.Fatalf("a second Lock with a wait = %v, want ErrBusy", err)
	}
	if d := time.Since(t0); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("waited %v for a busy lease, want about 150ms", d)
	}
	// Not re-entrant: the holder's own second Lock is busy too.
	if _, err := a.Lock(ctx, "k", 0); !errors.Is(err, host.ErrBusy) {
		t.Fatalf("re-entrant Lock = %v, want ErrBusy", err)
	}
	// Another key is free; the holder may still swap its entry.
	u2, err := b.Lock(ctx, "other", 0)
	if err != nil {
		t.Fatal(err)
	}
	u2()
	if ok, _, err := a.Swap(ctx, "k", nil, sp("v")); err != nil || !ok {
		t.Fatalf("the holder's swap: %v, %v", ok, err)
	}
	// A waiter gets the lease soon after it is released.
	got := make(chan time.Time, 1)
	go func() {
		u, err := b.Lock(ctx, "k", 10*time.Second)
		if err != nil {
			t.Error(err)
			got <- time.Time{}
			return
		}
		got <- time.Now()
		u()
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	unlock()
	unlock() // a second call does nothing
	at := <-got
	if lag := at.Sub(released); at.IsZero() || lag > time.Second {
		t.Fatalf("the waiter got the lease %v after its release", lag)
	} else {
		t.Logf("a waiter took a released lease %v after the release", lag.Round(time.Microsecond))
	}
	// Uncontended lease round trips.
	const n = 200
	t0 = time.Now()
	for range n {
		u, err := a.Lock(ctx, "fast", 0)
		if err != nil {
			t.Fatal(err)
		}
		u()
	}
	t.Logf("lock+unlock, uncontended: %v each", (time.Since(t0) / n).Round(time.Microsecond))
	t0 = time.Now()
	v := "0"
	a.Set(ctx, "fast", v)
	for i := range n {
		nv := strconv.Itoa(i + 1)
		if ok, _, err := a.Swap(ctx, "fast", &v, &nv); err != nil || !ok {
			t.Fatal(ok, err)
		}
		v = nv
	}
	t.Logf("swap (read, open, seal, conditional write), uncontended: %v each", (time.Since(t0) / n).Round(time.Microsecond))
}

func testLeaseExclusive(t *testing.T, e *env) {
	ten := tenant(t)
	ctx := testserver.Context(t)
	var inside atomic.Int32
	count := 0
	var wg sync.WaitGroup
	const workers, each = 8, 10
	for range workers {
		s := e.open(Opts{Tenant: ten})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				unlock, err := s.Lock(ctx, "lease", 30*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two holders at once")
				}
				c := count
				time.Sleep(time.Millisecond)
				count = c + 1
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if count != workers*each {
		t.Fatalf("count = %d, want %d", count, workers*each)
	}
}

func testLeaseCancel(t *testing.T, e *env) {
	ten := tenant(t)
	a, b := e.open(Opts{Tenant: ten}), e.open(Opts{Tenant: ten})
	unlock, err := a.Lock(context.Background(), "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err = b.Lock(ctx, "k", time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, host.ErrBusy) {
		t.Fatalf("Lock with a context that ends = %v, want an error wrapping its end", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Lock returned %v after its context ended", d)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := b.Lock(ctx, "free", time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a cancelled context = %v", err)
	}
}

func testLeaseRenewed(t *testing.T, e *env) {
	ten := tenant(t)
	ttl := time.Second
	a, b := e.open(Opts{Tenant: ten, LeaseTTL: ttl}), e.open(Opts{Tenant: ten, LeaseTTL: ttl})
	ctx := testserver.Context(t)
	unlock, err := a.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Held for three TTLs: the holder's renewals keep it.
	if _, err := b.Lock(ctx, "k", 3*ttl); !errors.Is(err, host.ErrBusy) {
		t.Fatalf("a live holder's lease was taken after its TTL: %v", err)
	}
	unlock()
	u, err := b.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatalf("after the release: %v", err)
	}
	u()
}

func testLeaseHolderKilled(t *testing.T, e *env) {
	ten := tenant(t)
	ttl := time.Second
	ctx := testserver.Context(t)
	p := e.children(t, 1, "hold", ten, ttl, func(int) string { return "k" })[0]
	if l := p.line(t); l != "held" {
		t.Fatalf("child answered %q", l)
	}
	s := e.open(Opts{Tenant: ten, LeaseTTL: ttl})
	if _, err := s.Lock(ctx, "k", 0); !errors.Is(err, host.ErrBusy) {
		t.Fatalf("the child's lease: %v, want ErrBusy", err)
	}
	p.cmd.Process.Kill() // SIGKILL: no release, no more renewals
	killed := time.Now()
	p.cmd.Wait()
	u, err := s.Lock(ctx, "k", 5*ttl)
	if err != nil {
		t.Fatalf("the killed holder's lease: %v", err)
	}
	u()
	d := time.Since(killed)
	if d > 2*ttl {
		t.Errorf("took the lease %v after its holder was killed, TTL %v", d, ttl)
	}
	t.Logf("a lease whose holder was killed (kill -9) was taken %v later (TTL %v, renewed every %v)", d.Round(time.Millisecond), ttl, ttl/3)
}

func testTenants(t *testing.T, e *env) {
	ctx := testserver.Context(t)
	ta, tb := tenant(t), tenant(t)
	a, b := e.open(Opts{Tenant: ta}), e.open(Opts{Tenant: tb})
	if err := a.Set(ctx, "k", "a's"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, host.ErrNoEntry) {
		t.Fatalf("tenant b reads tenant a's entry: %v", err)
	}
	if ok, _, err := b.Swap(ctx, "k", nil, sp("b's")); err != nil || !ok {
		t.Fatalf("tenant b's swap on its own absent entry: %v, %v", ok, err)
	}
	if v, _ := a.Get(ctx, "k"); v != "a's" {
		t.Fatalf("tenant a's entry = %q after tenant b wrote", v)
	}
	ua, err := a.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ua()
	ub, err := b.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatalf("tenant b's lease on the key tenant a holds: %v", err)
	}
	ub()
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Get(ctx, "k"); v != "a's" {
		t.Fatalf("tenant a's entry = %q after tenant b deleted its own", v)
	}
	// A tenant name that could reach into another's keys is refused.
	if _, _, err := e.b.Open(e.url, Opts{Tenant: "a:entry", Key: &key}); err == nil {
		t.Fatal("a tenant with ':' was accepted")
	}
}

func testEncryptedAtRest(t *testing.T, e *env) {
	ctx := testserver.Context(t)
	ten := tenant(t)
	s := e.open(Opts{Tenant: ten})
	const token = "ghu_SECRETsecretSECRET0123456789"
	v := `{"type":"token","token":"` + token + `","refreshToken":"ghr_REFRESHrefresh"}`
	if err := s.Set(ctx, "k1", v); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Swap(ctx, "k2", nil, &v); err != nil || !ok {
		t.Fatal(ok, err)
	}
	raw, err := e.b.Raw(ctx, e.url, ten)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 2 {
		t.Fatalf("%d stored entries for the tenant, want 2: %v", len(raw), raw)
	}
	for name, r := range raw {
		if strings.Contains(r, "ghu_") || strings.Contains(r, "ghr_") || strings.Contains(r, "SECRET") {
			t.Errorf("%s holds a token in clear", name)
		}
		var env map[string]any
		if err := json.Unmarshal([]byte(r), &env); err != nil || env["format"] != "deviceflow-encrypted-store" || env["cipher"] != "AES-256-GCM" {
			t.Errorf("%s is not the encrypted envelope: %.80s", name, r)
		}
	}
	// The plain mode, asked for, keeps the document readable.
	pt := tenant(t)
	p := e.open(Opts{Tenant: pt, Plain: true})
	if err := p.Set(ctx, "k", v); err != nil {
		t.Fatal(err)
	}
	raw, _ = e.b.Raw(ctx, e.url, pt)
	for _, r := range raw {
		if !strings.Contains(r, token) {
			t.Errorf("the plain store's entry %q lacks the value", r)
		}
	}
}

func testWrongKey(t *testing.T, e *env) {
	ctx := testserver.Context(t)
	ten := tenant(t)
	if err := e.open(Opts{Tenant: ten}).Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	other, _ := host.ParseEncryptionKey(host.GenerateKey())
	if _, err := e.open(Opts{Tenant: ten, Key: &other}).Get(ctx, "k"); !errors.Is(err, host.ErrWrongEncryptionKey) {
		t.Fatalf("Get with another key = %v, want ErrWrongEncryptionKey", err)
	}
	plain := e.open(Opts{Tenant: ten, Plain: true})
	if _, err := plain.Get(ctx, "k"); !errors.Is(err, host.ErrNoEncryptionKey) {
		t.Fatalf("Get of an encrypted entry from a plain store = %v, want ErrNoEncryptionKey", err)
	}
	if ok, _, err := plain.Swap(ctx, "k", nil, sp("x")); ok || err == nil {
		t.Fatalf("a plain store's swap over an encrypted entry = %v, %v", ok, err)
	}
	if err := plain.Set(ctx, "p", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.open(Opts{Tenant: ten}).Get(ctx, "p"); !errors.Is(err, host.ErrStoreCorrupt) {
		t.Fatalf("an encrypted store reading a plain entry = %v, want ErrStoreCorrupt", err)
	}
}

func testTTL(t *testing.T, e *env) {
	ctx := testserver.Context(t)
	ten := tenant(t)
	// Margins of a quarter TTL either side: a loaded machine stalls for
	// tens of milliseconds.
	ttl := time.Second
	s := e.open(Opts{Tenant: ten, TTL: ttl})
	if err := s.Set(ctx, "set", "v"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Swap(ctx, "swapped", nil, sp("v")); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.Set(ctx, "rewritten", "v"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"set", "swapped", "rewritten"} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("%s before its TTL: %v", k, err)
		}
	}
	time.Sleep(ttl / 2)
	v := "v"
	if ok, _, err := s.Swap(ctx, "rewritten", &v, sp("w")); err != nil || !ok {
		t.Fatal(ok, err)
	}
	time.Sleep(ttl/2 + ttl/4)
	for _, k := range []string{"set", "swapped"} {
		if _, err := s.Get(ctx, k); !errors.Is(err, host.ErrNoEntry) {
			t.Errorf("%s after its TTL: %v, want ErrNoEntry", k, err)
		}
	}
	if got, err := s.Get(ctx, "rewritten"); err != nil || got != "w" {
		t.Errorf("an entry written again within its TTL: %q, %v", got, err)
	}
	// An expired entry is absent for a swap too.
	if ok, cur, err := s.Swap(ctx, "set", nil, sp("again")); err != nil || !ok {
		t.Fatalf("swap over an expired entry: %v, %s, %v", ok, show(cur), err)
	}
	if ok, cur, err := s.Swap(ctx, "swapped", sp("v"), sp("x")); err != nil || ok || cur != nil {
		t.Fatalf("swap from an expired value: %v, %s, %v", ok, show(cur), err)
	}
	// Without a TTL, entries stay.
	forever := e.open(Opts{Tenant: ten})
	forever.Set(ctx, "kept", "v")
	time.Sleep(ttl + 100*time.Millisecond)
	if _, err := forever.Get(ctx, "kept"); err != nil {
		t.Errorf("an entry without a TTL: %v", err)
	}
}

// child runs a cross-process test's role and returns the exit code.
func child(b Backend, role string) int {
	ctx := context.Background()
	ttl, _ := strconv.Atoi(os.Getenv(envLeaseTTL))
	k, err := host.ParseEncryptionKey(os.Getenv(host.EncryptionKeyEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, closeFn, err := b.Open(os.Getenv(envURL), Opts{Tenant: os.Getenv(envTenant), Key: &k, LeaseTTL: time.Duration(ttl) * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer closeFn()
	arg := os.Getenv(envArg)
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	switch role {
	case "swap-rounds":
		var i, rounds int
		var start int64
		fmt.Sscanf(arg, "%d,%d,%d", &i, &rounds, &start)
		// Connect before the start.
		if _, err := s.Get(ctx, "warm-up"); err != nil && !errors.Is(err, host.ErrNoEntry) {
			return fail(err)
		}
		for r := range rounds {
			time.Sleep(time.Until(time.UnixMilli(start).Add(time.Duration(r) * 40 * time.Millisecond)))
			ok, _, err := s.Swap(ctx, "once-"+strconv.Itoa(r), sp("v0"), sp("p"+strconv.Itoa(i)))
			if err != nil {
				return fail(err)
			}
			if ok {
				fmt.Println("won")
			} else {
				fmt.Println("lost")
			}
		}
	case "count":
		n, _ := strconv.Atoi(arg)
		conflicts := 0
		for range n {
			c, err := increment(ctx, s, "n")
			if err != nil {
				return fail(err)
			}
			conflicts += c
		}
		fmt.Println(conflicts)
	case "hold":
		if _, err := s.Lock(ctx, arg, 0); err != nil {
			return fail(err)
		}
		fmt.Println("held")
		time.Sleep(time.Hour)
	default:
		return fail(fmt.Errorf("unknown role %q", role))
	}
	return 0
}

// testPluginRefreshOnce signs in through the real plugin with the store,
// makes the stored token due for refresh, then 20 hosts (20 nodes, as far
// as the store can tell) ask for the token at once: exactly one refresh
// reaches the server and all 20 get the new token.
func testPluginRefreshOnce(t *testing.T, e *env) {
	const clientID = "Iv1.sharedstore0001"
	emu, err := emulator.New(emulator.Config{
		Clients:       []emulator.Client{{ID: clientID, Type: emulator.GitHubApp, ExpiringTokens: true}},
		Interval:      20 * time.Millisecond,
		PollTolerance: 20 * time.Millisecond,
		AutoApprove:   1,
	})
	if err != nil {
		t.Fatal(err)
	}
	url, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	ten := tenant(t)
	// refresh: a new device flow (octokit's refresh: true); without it,
	// the cached token, refreshed when due.
	signIn := map[string]any{"clientId": clientID, "clientType": "github-app", "baseUrl": url, "refresh": true}
	in := map[string]any{"clientId": clientID, "clientType": "github-app", "baseUrl": url}
	newHost := func() *host.Host {
		h, err := host.New(host.Options{BaseURL: url, Store: e.open(Opts{Tenant: ten})})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close(context.Background()) })
		return h
	}
	ctx := testserver.Context(t)
	type auth struct {
		Token        string `json:"token"`
		RefreshToken string `json:"refreshToken"`
	}
	var first auth
	if err := newHost().CallJSON(ctx, "authenticate", signIn, &first); err != nil || first.RefreshToken == "" {
		t.Fatalf("sign-in: %+v, %v", first, err)
	}
	raw, _ := e.b.Raw(ctx, e.url, ten)
	if len(raw) != 1 {
		t.Fatalf("%d entries after the sign-in, want 1", len(raw))
	}
	for _, r := range raw {
		if strings.Contains(r, first.Token) || strings.Contains(r, first.RefreshToken) {
			t.Fatal("the stored sign-in holds the token in clear")
		}
	}
	// Make the stored token expire within the refresh window.
	s := e.open(Opts{Tenant: ten})
	cacheKey := ""
	for k := range raw {
		cacheKey = k
	}
	old, err := s.Get(ctx, cacheKey)
	if err != nil {
		t.Fatalf("reading the stored sign-in under %q: %v", cacheKey, err)
	}
	var m map[string]any
	json.Unmarshal([]byte(old), &m)
	exp := time.Now().Add(2 * time.Minute)
	m["expiresAt"] = exp.UTC().Format("2006-01-02T15:04:05.000Z")
	local, _ := m["local"].(map[string]any)
	if local == nil {
		local = map[string]any{}
	}
	local["expiresAt"] = exp.UnixMilli()
	m["local"] = local
	b, _ := json.Marshal(m)
	if ok, _, err := s.Swap(ctx, cacheKey, &old, sp(string(b))); err != nil || !ok {
		t.Fatalf("re-arming: %v, %v", ok, err)
	}

	const n = 20
	hosts := make([]*host.Host, n)
	for i := range hosts {
		hosts[i] = newHost()
		if err := hosts[i].Preload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := emu.Stats()
	results := make([]auth, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	t0 := time.Now()
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			if err := hosts[i].CallJSON(ctx, "authenticate", in, &results[i]); err != nil {
				t.Errorf("host %d: %v", i, err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	wall := time.Since(t0)
	after := emu.Stats()
	newest, _ := emu.LastToken()
	if d := after.Refreshes - before.Refreshes; d != 1 {
		t.Errorf("%d refreshes reached the server, want 1", d)
	}
	if d := after.DeviceCode - before.DeviceCode; d != 0 {
		t.Errorf("%d device flows started, want 0", d)
	}
	for i, r := range results {
		if r.Token != newest.AccessToken {
			t.Errorf("host %d got a token that is not the newest", i)
		}
	}
	t.Logf("%d hosts asked for a token due for refresh at once: %d refresh reached the server, all got the new token, %v", n, after.Refreshes-before.Refreshes, wall.Round(time.Millisecond))
}
