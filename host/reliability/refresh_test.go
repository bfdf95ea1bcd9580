//go:build linux

package reliability_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// TestManyProcessesOneRefresh (issue 11 §1): N concurrent `token` processes,
// half of them the Go command and half the Python one, share one file store
// whose GitHub App token is inside the refresh window. The refresh request
// is held at the server until every process holds or waits for the lease
// (each has the entry's lease file open, seen in /proc), so all of them
// compete for it at once.
// Each round: exactly one refresh request reaches the server, no process
// fails, every process prints the new token, and the store ends with the
// pair the server issued last.
func TestManyProcessesOneRefresh(t *testing.T) {
	n, rounds := 20, 2
	if full {
		n, rounds = 100, 5
	}
	commands := clis(t)
	g := newGate(t)
	dir := filepath.Join(t.TempDir(), "tokens.json")
	store, err := host.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := signIn(t, g, store)

	// Both commands must find the sign-in the harness stored (same store
	// layout, same cache key); this also fills their compilation caches.
	want, _ := stored(t, store, key)
	for _, c := range commands {
		p := runToken(t, c, g, dir)
		if tok, ok := p.token(); !ok || tok != want.Token {
			t.Fatalf("warm-up: %v; printed %q, want the stored token", p, tok)
		}
	}

	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	lease := filepath.Join(real, entryName(key)+".lease")
	for round := 1; round <= rounds; round++ {
		rearm(t, store, key)
		before, emuBefore := g.Counts(), g.emu.Stats()

		// Hold the first refresh until every process has the entry's lease
		// file open: the one that sent the refresh holds the lease, all the
		// others wait for it (they keep the file open while they poll).
		started := make(chan []*proc, 1)
		var contending atomic.Int64
		var held time.Duration
		var once sync.Once
		g.set(func() bool {
			once.Do(func() {
				t0 := time.Now()
				deadline := t0.Add(holdLimit)
				var ps []*proc
				select {
				case ps = <-started:
				case <-time.After(holdLimit):
				}
				contending.Store(int64(awaitOpeners(ps, lease, deadline)))
				held = time.Since(t0)
			})
			return true
		}, nil)

		// The slow starters (Python) first.
		start := time.Now()
		procs := make([]*proc, n)
		for i := range procs {
			procs[i] = startToken(t, commands[len(commands)-1-(i*len(commands)/n)], g, dir)
		}
		started <- procs
		for _, p := range procs {
			p.wait()
		}
		wall := time.Since(start)
		g.set(nil, nil)

		after, emuAfter := g.Counts(), g.emu.Stats()
		newest, ok := g.emu.LastToken()
		if !ok {
			t.Fatal("the emulator issued no token")
		}
		failed := 0
		times := map[string][]time.Duration{}
		langs := map[string]int{}
		for _, p := range procs {
			langs[p.lang]++
			times[p.lang] = append(times[p.lang], p.end.Sub(p.start))
			tok, ok := p.token()
			if !ok {
				failed++
				t.Errorf("round %d: %v", round, p)
			} else if tok != newest.AccessToken {
				failed++
				t.Errorf("round %d: %s printed a token that is not the newest (%s)", round, p.lang, tokenState(g, tok))
			}
		}
		refreshes := after.Refreshes - before.Refreshes
		spent := emuAfter.Refreshes - emuBefore.Refreshes
		end, _ := stored(t, store, key)
		t.Logf("round %d: %d processes (%d go, %d python): %d refresh request(s) reached the server (%d succeeded), %d failed, %d device-flow starts; %d processes holding or waiting for the lease when the refresh was answered (refresh held %v); store holds the newest pair: %v; wall %v; go %s; python %s",
			round, n, langs["go"], langs["python"], refreshes, spent, failed, after.DeviceCodes-before.DeviceCodes,
			contending.Load(), held.Round(time.Millisecond), end.Token == newest.AccessToken && end.RefreshToken == newest.RefreshToken,
			wall.Round(time.Millisecond), durations(times["go"]), durations(times["python"]))
		if refreshes != 1 {
			t.Errorf("round %d: %d refresh requests reached the server, want exactly 1", round, refreshes)
		}
		if d := after.DeviceCodes - before.DeviceCodes; d != 0 {
			t.Errorf("round %d: %d device flows started, want none", round, d)
		}
		if end.Token != newest.AccessToken || end.RefreshToken != newest.RefreshToken {
			t.Errorf("round %d: the store does not end with the newest pair (stored token: %s)", round, tokenState(g, end.Token))
		}
		if t.Failed() {
			return
		}
	}
}

// awaitOpeners waits until every process has path open (as seen in
// /proc/PID/fd), or deadline passes; it returns how many had it open last.
func awaitOpeners(ps []*proc, path string, deadline time.Time) int {
	for {
		n := 0
		for _, p := range ps {
			if hasOpen(p.cmd.Process.Pid, path) {
				n++
			}
		}
		if n == len(ps) || !time.Now().Before(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond) // polling /proc: there is no event for it
	}
}

// hasOpen says whether process pid has path open.
func hasOpen(pid int, path string) bool {
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if target, err := os.Readlink(fdDir + "/" + e.Name()); err == nil && target == path {
			return true
		}
	}
	return false
}

// tokenState says what the emulator knows of a token, for messages (never
// the token itself).
func tokenState(g *gate, tok string) string {
	if tok == "" {
		return "none"
	}
	tk, ok := g.emu.LookupToken(tok)
	switch {
	case !ok:
		return "unknown to the server"
	case tk.Revoked:
		return "revoked (its refresh token was spent)"
	case !tk.ExpiresAt.IsZero() && time.Now().After(tk.ExpiresAt):
		return "expired"
	}
	return fmt.Sprintf("valid, issued %v", tk.IssuedAt.Format(time.StampMicro))
}

// countingStore counts reads of one key, so that a refresh can be held
// until every goroutine has read the expiring entry. Swap and Lock go to
// the store's own (native) implementations.
type countingStore struct {
	host.Store
	key   string
	reads atomic.Int64
	// changed is signalled (without blocking) after each read of key.
	changed chan struct{}
}

func (s *countingStore) Get(ctx context.Context, key string) (string, error) {
	v, err := s.Store.Get(ctx, key)
	if key == s.key {
		s.reads.Add(1)
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
	return v, err
}

func (s *countingStore) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	return host.SwapperFor(s.Store).Swap(ctx, key, old, new)
}

func (s *countingStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	return host.LockerFor(s.Store).Lock(ctx, key, wait)
}

// awaitReads waits until key has been read n times or deadline passes.
func (s *countingStore) awaitReads(n int64, deadline time.Time) int64 {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for s.reads.Load() < n {
		select {
		case <-s.changed:
		case <-timer.C:
			return s.reads.Load()
		}
	}
	return s.reads.Load()
}

// TestHundredGoroutinesOneHost (issue 11 §1): 100 goroutines call
// authenticate on one raw host.Host whose stored token is inside the
// refresh window: exactly one refresh request, and every call answers the
// new token. The refresh is held until every goroutine has read the entry.
func TestHundredGoroutinesOneHost(t *testing.T) {
	const n = 100
	for _, kind := range []string{"file", "memory"} {
		t.Run(kind, func(t *testing.T) {
			g := newGate(t)
			var inner host.Store = host.NewMemoryStore()
			if kind == "file" {
				fs, err := host.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
				if err != nil {
					t.Fatal(err)
				}
				inner = fs
			}
			key := signIn(t, g, inner)
			rearm(t, inner, key)
			store := &countingStore{Store: inner, key: key, changed: make(chan struct{}, 1)}
			h, err := host.New(host.Options{BaseURL: g.URL(), Store: store})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(context.Background())
			if err := h.Preload(context.Background()); err != nil {
				t.Fatal(err)
			}

			var reads atomic.Int64
			var once sync.Once
			g.set(func() bool {
				once.Do(func() { reads.Store(store.awaitReads(n+1, time.Now().Add(holdLimit))) })
				return true
			}, nil)
			before := g.Counts()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			tokens := make([]string, n)
			errs := make([]error, n)
			start := time.Now()
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					var a auth
					in := map[string]any{"clientId": clientID, "clientType": "github-app", "baseUrl": g.URL(), "interactive": false}
					errs[i] = h.CallJSON(ctx, "authenticate", in, &a)
					tokens[i] = a.Token
				})
			}
			wg.Wait()
			wall := time.Since(start)
			g.set(nil, nil)

			after := g.Counts()
			newest, _ := g.emu.LastToken()
			failed := 0
			for i := range n {
				if errs[i] != nil || tokens[i] != newest.AccessToken {
					failed++
					if failed <= 5 {
						t.Errorf("goroutine %d: %v; token %s", i, errs[i], tokenState(g, tokens[i]))
					}
				}
			}
			refreshes := after.Refreshes - before.Refreshes
			end, _ := stored(t, inner, key)
			t.Logf("%s store: %d goroutines on one Host: %d refresh request(s), %d failed, %d reads of the entry before the refresh was answered (want %d), store holds the newest pair: %v, wall %v",
				kind, n, refreshes, failed, reads.Load(), n+1, end.Token == newest.AccessToken, wall.Round(time.Millisecond))
			if refreshes != 1 {
				t.Errorf("%d refresh requests reached the server, want exactly 1", refreshes)
			}
			if end.Token != newest.AccessToken || end.RefreshToken != newest.RefreshToken {
				t.Errorf("the store does not end with the newest pair")
			}
		})
	}
}
