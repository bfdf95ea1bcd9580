package relay

import (
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestLimiterMemory: buckets that refilled are forgotten, and addresses
// beyond MaxClients share one bucket rather than growing the map.
func TestLimiterMemory(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(1, 2, 100, func() time.Time { return now })
	for i := 0; i < 100; i++ {
		if ok, _ := l.allow(fmt.Sprintf("198.51.100.%d", i)); !ok {
			t.Fatalf("address %d refused", i)
		}
	}
	if l.size() != 100 {
		t.Fatalf("%d buckets, want 100", l.size())
	}
	// Full: new addresses share the overflow bucket (burst 2).
	ok1, _ := l.allow("203.0.113.1")
	ok2, _ := l.allow("203.0.113.2")
	ok3, wait := l.allow("203.0.113.3")
	if !ok1 || !ok2 || ok3 || wait != time.Second {
		t.Errorf("overflow bucket: %v %v %v %s", ok1, ok2, ok3, wait)
	}
	if l.size() != 101 {
		t.Errorf("%d buckets, want 100 and the overflow", l.size())
	}
	// Two seconds on every bucket is full again: the next call forgets them.
	now = now.Add(2 * time.Second)
	if ok, _ := l.allow("203.0.113.4"); !ok {
		t.Error("refused after the sweep")
	}
	if l.size() != 1 {
		t.Errorf("%d buckets after the sweep, want 1", l.size())
	}
}

// TestLimiterConcurrent: a burst spent from many goroutines at once is
// spent exactly (run with -race).
func TestLimiterConcurrent(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(1, 50, 10, func() time.Time { return now })
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := l.allow("198.51.100.1"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 50 {
		t.Errorf("%d allowed, want the burst of 50", allowed)
	}
}

func TestClientKey(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"198.51.100.7:5555", "", nil, "198.51.100.7"},
		{"198.51.100.7:5555", "203.0.113.1", nil, "198.51.100.7"},         // no proxy trusted
		{"198.51.100.7:5555", "203.0.113.1", trusted, "198.51.100.7"},     // not from a trusted proxy
		{"10.1.2.3:5555", "203.0.113.1", trusted, "203.0.113.1"},          // from one
		{"10.1.2.3:5555", "1.1.1.1, 203.0.113.1", trusted, "203.0.113.1"}, // the forged left entry is ignored
		{"10.1.2.3:5555", "203.0.113.1, 10.9.9.9", trusted, "203.0.113.1"},
		{"10.1.2.3:5555", "10.4.4.4, 10.9.9.9", trusted, "10.4.4.4"},     // all trusted: the farthest
		{"10.1.2.3:5555", "203.0.113.1, junk", trusted, "10.1.2.3"},      // unreadable: the proxy
		{"10.1.2.3:5555", "[2001:db8::5]:443", trusted, "2001:db8::/64"}, // with a port
		{"[fd00::1]:5555", "2001:db8:1:2:3::9", trusted, "2001:db8:1:2::/64"},
		{"[::ffff:198.51.100.7]:5555", "", nil, "198.51.100.7"}, // v4-mapped
		{"[2001:db8::1]:5555", "", nil, "2001:db8::/64"},
		{"not an address", "", nil, "unknown"},
	} {
		r, _ := http.NewRequest("POST", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientKey(r, c.trusted); got != c.want {
			t.Errorf("%s with X-Forwarded-For %q: %q, want %q", c.remote, c.xff, got, c.want)
		}
	}
}
