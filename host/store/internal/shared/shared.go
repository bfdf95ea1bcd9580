// Package shared is what the stores kept by a server (Redis, PostgreSQL)
// have in common: the entry document and its envelope, tenants, key
// sources, and the waiting and renewing of leases. The Python SDK's Redis
// and PostgreSQL stores follow the same rules (wit/stores.md, "Shared
// stores"), so a Go service and a Python service share one database.
package shared

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"sync"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// DefaultTenant is the tenant of a store whose options name none.
const DefaultTenant = "default"

// DefaultLeaseTTL is how long a lease outlives its last renewal: a holder
// that dies (killed, partitioned) leaves a lease that others take this
// long after its last renewal. A live holder renews it every third of it.
const DefaultLeaseTTL = 30 * time.Second

// MinLeaseTTL is the shortest lease TTL accepted.
const MinLeaseTTL = 100 * time.Millisecond

// EntryVersion is the version of a shared store's entry document.
const EntryVersion = 2

// tenantPattern is what a tenant name may be: it becomes part of Redis
// keys and is compared as it is in PostgreSQL, so it is kept plain.
var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CheckTenant returns the tenant to use ("" means DefaultTenant), or an
// error when it holds other characters than letters, digits, '.', '_' and
// '-', or more than 64.
func CheckTenant(t string) (string, error) {
	if t == "" {
		return DefaultTenant, nil
	}
	if !tenantPattern.MatchString(t) {
		return "", fmt.Errorf("deviceflow: the tenant %q is not 1 to 64 letters, digits, '.', '_' or '-'", t)
	}
	return t, nil
}

// KeyConfig is where a store's encryption key comes from.
type KeyConfig struct {
	// Key, when not nil, is the key.
	Key *host.EncryptionKey
	// KeyFunc, when not nil, returns the key; it is called on first use,
	// and again after a failure.
	KeyFunc func(context.Context) (host.EncryptionKey, error)
	// Plain stores entries unencrypted; it excludes Key and KeyFunc.
	Plain bool
}

// Codec turns an entry into the bytes a server keeps and back: the entry
// document {"version":2,"tenant":T,"key":K,"value":V}, sealed in the
// encrypted store's envelope unless the store is plain.
type Codec struct {
	tenant string
	// what names the store in messages ("redis store", "postgres store").
	what  string
	plain bool

	mu      sync.Mutex
	sealer  *host.Sealer
	keyFunc func(context.Context) (host.EncryptionKey, error)
}

// NewCodec returns the codec of tenant's entries, keyed as kc says; with
// neither a key nor Plain, the key comes from $DEVICEFLOW_ENCRYPTION_KEY,
// and without it NewCodec fails with host.ErrNoEncryptionKey.
func NewCodec(what, tenant string, kc KeyConfig) (*Codec, error) {
	c := &Codec{tenant: tenant, what: what, plain: kc.Plain}
	switch {
	case kc.Plain && (kc.Key != nil || kc.KeyFunc != nil):
		return nil, fmt.Errorf("deviceflow: the %s's options ask for plain entries and give a key: choose one", what)
	case kc.Plain:
	case kc.Key != nil && kc.KeyFunc != nil:
		return nil, fmt.Errorf("deviceflow: the %s's options give both Key and KeyFunc: choose one", what)
	case kc.Key != nil:
		s, err := host.NewSealer(*kc.Key)
		if err != nil {
			return nil, err
		}
		c.sealer = s
	case kc.KeyFunc != nil:
		c.keyFunc = kc.KeyFunc
	default:
		key, ok, err := host.KeyFromEnv()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("deviceflow: the %s needs an encryption key: set %s (make one with: openssl rand -base64 32), pass Options.Key or Options.KeyFunc, or set Options.Plain to keep tokens unencrypted: %w",
				what, host.EncryptionKeyEnv, host.ErrNoEncryptionKey)
		}
		s, err := host.NewSealer(key)
		if err != nil {
			return nil, err
		}
		c.sealer = s
	}
	return c, nil
}

// Plain reports whether entries are kept unencrypted.
func (c *Codec) Plain() bool { return c.plain }

// KeySource names where the key comes from, for String methods.
func (c *Codec) KeySource() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.plain:
		return "unencrypted"
	case c.sealer != nil:
		return "key from " + c.sealer.KeySource()
	}
	return "key from a key-management callback"
}

func (c *Codec) getSealer(ctx context.Context) (*host.Sealer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sealer != nil {
		return c.sealer, nil
	}
	key, err := c.keyFunc(ctx)
	if err != nil {
		return nil, fmt.Errorf("deviceflow: the %s's key-management callback failed: %w: %w", c.what, host.ErrNoEncryptionKey, err)
	}
	s, err := host.NewSealer(key)
	if err != nil {
		return nil, err
	}
	c.sealer = s
	return s, nil
}

// document is a shared store's entry document.
type document struct {
	Version int     `json:"version"`
	Tenant  *string `json:"tenant"`
	Key     *string `json:"key"`
	Value   *string `json:"value"`
}

// Encode returns what the server keeps for key's value.
func (c *Codec) Encode(ctx context.Context, key, value string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(document{Version: EntryVersion, Tenant: &c.tenant, Key: &key, Value: &value}); err != nil {
		return nil, err
	}
	doc := bytes.TrimRight(b.Bytes(), "\n")
	if c.plain {
		return doc, nil
	}
	s, err := c.getSealer(ctx)
	if err != nil {
		return nil, err
	}
	return s.Seal(ctx, doc)
}

// Decode returns the value that stored holds for key. where names the
// entry in messages. An entry of another tenant or key (a copied row), an
// encrypted entry in a plain store or the other way round, and anything
// else than an entry are host.ErrStoreCorrupt errors; an envelope the key
// does not open is host.ErrWrongEncryptionKey.
func (c *Codec) Decode(ctx context.Context, where, key string, stored []byte) (string, error) {
	doc := stored
	sealed := host.IsSealed(stored)
	switch {
	case sealed && c.plain:
		return "", fmt.Errorf("deviceflow: the %s entry %s is encrypted and the store was opened with Options.Plain: give it the key: %w", c.what, where, host.ErrNoEncryptionKey)
	case !sealed && !c.plain:
		return "", fmt.Errorf("deviceflow: the %s entry %s is not encrypted (a store opened with Options.Plain wrote it); it was left untouched: %w", c.what, where, host.ErrStoreCorrupt)
	case sealed:
		s, err := c.getSealer(ctx)
		if err != nil {
			return "", err
		}
		if doc, err = s.Open(ctx, where, stored); err != nil {
			return "", err
		}
	}
	var d document
	if err := json.Unmarshal(doc, &d); err != nil || d.Key == nil || d.Value == nil || d.Tenant == nil {
		return "", fmt.Errorf("deviceflow: the %s entry %s is not a deviceflow entry; it was left untouched: %w", c.what, where, host.ErrStoreCorrupt)
	}
	if d.Version != EntryVersion {
		return "", fmt.Errorf("deviceflow: the %s entry %s has version %d, which this deviceflow cannot read; it was left untouched: %w", c.what, where, d.Version, host.ErrStoreCorrupt)
	}
	if *d.Key != key || *d.Tenant != c.tenant {
		return "", fmt.Errorf("deviceflow: the %s entry %s was written for another tenant or key (copied there?); it was left untouched: %w", c.what, where, host.ErrStoreCorrupt)
	}
	return *d.Value, nil
}

// Token returns a random lease token: 16 bytes, hex.
func Token() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Unavailable wraps a server's failure as host.ErrStoreUnavailable,
// unless it is the context's end, which is passed on as it is.
func Unavailable(what, op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("deviceflow: %s %s: %w", what, op, err)
	}
	return fmt.Errorf("deviceflow: %s %s: %w: %w", what, op, host.ErrStoreUnavailable, err)
}

// Poll waits for try to take a lease: it calls try at once and, while it
// answers false, again after a short pause that grows from 2 ms to 50 ms
// (with jitter), until wait has passed (host.ErrBusy) or ctx ends (an
// error wrapping ctx.Err()). A wait of 0, or less, tries once.
func Poll(ctx context.Context, wait time.Duration, try func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(max(wait, 0))
	pause := 2 * time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("deviceflow: stopped waiting for a store lease: %w", err)
		}
		ok, err := try(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return host.ErrBusy
		}
		d := min(pause/2+mrand.N(pause), left)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("deviceflow: stopped waiting for a store lease: %w", ctx.Err())
		}
		pause = min(pause*2, 50*time.Millisecond)
	}
}

// Hold keeps a lease taken: it calls renew every third of ttl until the
// returned stop is called, or until renew reports the lease lost. stop
// then calls release once, on a context of its own (the holder's may have
// ended), and may be called more than once.
func Hold(ttl time.Duration, renew func(context.Context) (bool, error), release func(context.Context)) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
				ok, err := renew(ctx)
				cancel()
				if err == nil && !ok {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			release(ctx)
		})
	}
}

// LeaseTTL returns the lease TTL to use: d, DefaultLeaseTTL when d is 0,
// or an error when it is shorter than MinLeaseTTL.
func LeaseTTL(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return DefaultLeaseTTL, nil
	case d < MinLeaseTTL:
		return 0, fmt.Errorf("deviceflow: a lease TTL of %v is shorter than %v", d, MinLeaseTTL)
	}
	return d, nil
}

// EntryTTL returns how long key's entry lives after a write: ttlFor's
// answer when ttlFor is set, else ttl; 0 means for ever.
func EntryTTL(key string, ttl time.Duration, ttlFor func(string) time.Duration) time.Duration {
	if ttlFor != nil {
		return max(ttlFor(key), 0)
	}
	return max(ttl, 0)
}

// Same reports whether two optional values are equal (both absent, or both
// present and equal): the comparison of a compare-and-swap.
func Same(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
