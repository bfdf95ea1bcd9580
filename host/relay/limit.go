package relay

import (
	"math"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per client address: each bucket holds up to
// burst tokens, refills at rate tokens a second, and a request spends one.
type limiter struct {
	rate  float64
	burst float64
	max   int
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// overflowKey names the bucket that addresses share while the limiter
// tracks max addresses already.
const overflowKey = "overflow"

func newLimiter(rate float64, burst, maxClients int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), max: maxClients, now: now, buckets: map[string]*bucket{}, lastSweep: now()}
}

// allow spends a token from key's bucket. When there is none it reports
// false and how long until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			key = overflowKey
			b = l.buckets[key]
		}
		if b == nil {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[key] = b
		}
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweep forgets the buckets that have refilled: forgetting them changes
// nothing, and keeps memory bounded by the addresses active lately. It
// runs once a minute, or once a second while the map is full.
func (l *limiter) sweep(now time.Time) {
	since := now.Sub(l.lastSweep)
	if since < time.Minute && (len(l.buckets) < l.max || since < time.Second) {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// size is the number of buckets tracked, for tests.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey names the client a request comes from for the rate limit: its
// address (the one X-Forwarded-For gives, when the request comes from a
// trusted proxy), an IPv6 address by its /64, which one machine usually
// holds whole.
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	addr := peerAddr(r.RemoteAddr)
	if addr.IsValid() && isTrusted(addr, trusted) {
		addr = forwardedFor(r.Header.Values("X-Forwarded-For"), trusted, addr)
	}
	if !addr.IsValid() {
		return "unknown"
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// peerAddr parses a RemoteAddr (host:port, or a bare address).
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor walks X-Forwarded-For from the right (the entry the nearest
// proxy added) past trusted proxies to the first address that is not one:
// the entries left of it were written by the client and prove nothing.
// A malformed entry stops the walk at the last good address.
func forwardedFor(values []string, trusted []netip.Prefix, peer netip.Addr) netip.Addr {
	var entries []string
	for _, v := range values {
		entries = append(entries, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a := peerAddr(strings.Trim(strings.TrimSpace(entries[i]), "[]"))
		if !a.IsValid() {
			a = peerAddr(strings.TrimSpace(entries[i]))
		}
		if !a.IsValid() {
			break
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client
}
