// Package redisstore keeps deviceflow's cached authentications in Redis, so
// that several processes on several machines share them: a host.Store with
// an atomic compare-and-swap (host.Swapper) and leases that expire when
// their holder dies (host.Locker).
//
// Layout, for a prefix P (default "deviceflow"), a tenant T (default
// "default") and a key K the plugin builds:
//
//   - P:T:entry:K holds the entry: the document
//     {"version":2,"tenant":T,"key":K,"value":V} sealed in the encrypted
//     store's AES-256-GCM envelope (wit/stores.md), or the document itself
//     in a store opened with Options.Plain. With Options.TTL, the key
//     expires that long after its last write (PX).
//   - P:T:lease:K holds a lease's random token while someone holds it,
//     with a TTL (Options.LeaseTTL, 30 s by default) that the holder renews
//     every third of it: a holder that dies loses its lease within the TTL.
//
// A compare-and-swap reads the entry, opens it and compares the value;
// when it matches, a Lua script (EVALSHA, EVAL when the server does not
// know it yet) replaces or removes the entry only if it still holds the
// bytes that were read. Every write seals with a fresh nonce, so equal
// bytes mean no one wrote in between; otherwise the swap reads again. A
// lease is SET NX PX with a random token, renewed and released by Lua
// scripts that compare the token first, and waited for by polling.
//
// Each operation touches one Redis key, so the store works with Redis
// Cluster as well (pass a redis.ClusterClient to New). The Python SDK's
// RedisStore (deviceflow.stores.RedisStore) keeps the same layout and
// format: a Go service and a Python service can share one Redis.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/store/internal/shared"
)

// DefaultPrefix is the first part of every Redis key the store writes when
// Options.Prefix is empty.
const DefaultPrefix = "deviceflow"

// Options configure a Store. Every field is optional, except that a store
// needs a key (Key, KeyFunc or $DEVICEFLOW_ENCRYPTION_KEY) unless it is
// Plain.
type Options struct {
	// Tenant keeps this store's entries and leases apart from every other
	// tenant's in the same Redis: 1 to 64 letters, digits, '.', '_' or
	// '-'; "default" when empty.
	Tenant string
	// Prefix is the first part of every Redis key; "deviceflow" when
	// empty.
	Prefix string

	// Key seals the entries (see host.ParseEncryptionKey: a base64 32-byte
	// key, several for rotation, or a passphrase). Every process sharing
	// the store needs the same key.
	Key *host.EncryptionKey
	// KeyFunc, in place of Key, returns the key from a key-management
	// service; it is called on first use, and again after a failure.
	KeyFunc func(context.Context) (host.EncryptionKey, error)
	// Plain keeps entries unencrypted. Without Key, KeyFunc or Plain, the
	// key comes from $DEVICEFLOW_ENCRYPTION_KEY, and New fails when it is
	// not set.
	Plain bool

	// TTL, when positive, makes an entry expire that long after its last
	// write: tokens nobody refreshes and flows nobody finishes disappear.
	// Zero keeps entries until they are deleted.
	TTL time.Duration
	// TTLFor, when set, replaces TTL: it returns the TTL of key's entry (0
	// for none), so that, say, pending flows expire sooner than tokens.
	TTLFor func(key string) time.Duration
	// LeaseTTL is how long a lease outlives its holder's last renewal
	// (the holder renews it every third of it): 30 s when zero; at least
	// 100 ms.
	LeaseTTL time.Duration
}

// Store is a host.Store, host.Swapper and host.Locker kept in Redis. It is
// safe for concurrent use.
type Store struct {
	c        redis.UniversalClient
	own      bool
	tenant   string
	prefix   string
	codec    *shared.Codec
	ttl      time.Duration
	ttlFor   func(string) time.Duration
	leaseTTL time.Duration
	// known holds the bytes last read or written per key (shared.Known).
	known shared.Known
}

var (
	_ host.Store   = (*Store)(nil)
	_ host.Swapper = (*Store)(nil)
	_ host.Locker  = (*Store)(nil)
)

// New returns a Store on client, which the caller keeps and closes. It
// makes no request.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("deviceflow: redisstore.New needs a client")
	}
	tenant, err := shared.CheckTenant(opts.Tenant)
	if err != nil {
		return nil, err
	}
	leaseTTL, err := shared.LeaseTTL(opts.LeaseTTL)
	if err != nil {
		return nil, err
	}
	codec, err := shared.NewCodec("redis store", tenant, shared.KeyConfig{Key: opts.Key, KeyFunc: opts.KeyFunc, Plain: opts.Plain})
	if err != nil {
		return nil, err
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{c: client, tenant: tenant, prefix: prefix + ":" + tenant + ":", codec: codec,
		ttl: opts.TTL, ttlFor: opts.TTLFor, leaseTTL: leaseTTL}, nil
}

// Open connects to the Redis at url (redis://[user:password@]host:port/db,
// rediss:// for TLS; see redis.ParseURL) and returns a Store that owns the
// connection: Close closes it. It makes no request.
func Open(url string, opts Options) (*Store, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		// The parser's message may quote the URL, password included.
		return nil, errors.New("deviceflow: the Redis URL is not valid (redis://[user:password@]host:port/db, rediss:// for TLS)")
	}
	c := redis.NewClient(o)
	s, err := New(c, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// Close closes the connection when Open made it; a Store from New leaves
// its client open.
func (s *Store) Close() error {
	if s.own {
		return s.c.Close()
	}
	return nil
}

// String describes the store for a person, naming no secret: "redis
// ADDR tenant T (key from SOURCE)".
func (s *Store) String() string {
	addr := "(cluster)"
	if c, ok := s.c.(*redis.Client); ok {
		addr = c.Options().Addr
	}
	return fmt.Sprintf("redis %s tenant %s (%s)", addr, s.tenant, s.codec.KeySource())
}

// EntryKey returns the Redis key that holds key's entry.
func (s *Store) EntryKey(key string) string { return s.prefix + "entry:" + key }

// LeaseKey returns the Redis key that holds key's lease.
func (s *Store) LeaseKey(key string) string { return s.prefix + "lease:" + key }

func (s *Store) fail(op string, err error) error {
	return shared.Unavailable("redis store", op, err)
}

// read returns the entry's stored bytes, or nil.
func (s *Store) read(ctx context.Context, key string) ([]byte, error) {
	raw, err := s.c.Get(ctx, s.EntryKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, s.fail("GET", err)
	}
	return raw, nil
}

// Get returns the value under key, or host.ErrNoEntry.
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	raw, err := s.read(ctx, key)
	if err != nil {
		return "", err
	}
	if raw == nil {
		return "", host.ErrNoEntry
	}
	return s.codec.Decode(ctx, s.EntryKey(key), key, raw)
}

// Set writes value under key, replacing any older value.
func (s *Store) Set(ctx context.Context, key, value string) error {
	raw, err := s.codec.Encode(ctx, key, value)
	if err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.EntryKey(key), raw, s.entryTTL(key)).Err(); err != nil {
		s.known.Forget(key)
		return s.fail("SET", err)
	}
	s.known.Remember(key, value, raw)
	return nil
}

// Delete removes key; removing an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	s.known.Forget(key)
	if err := s.c.Del(ctx, s.EntryKey(key)).Err(); err != nil {
		return s.fail("DEL", err)
	}
	return nil
}

func (s *Store) entryTTL(key string) time.Duration {
	return shared.EntryTTL(key, s.ttl, s.ttlFor)
}

// swapScript writes ARGV[2] (or deletes the key when it is empty, and sets
// the TTL ARGV[3] in ms when positive) only when the key holds exactly
// ARGV[1] (or nothing, when ARGV[1] is empty). 1: written; 0: not.
var swapScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return 0 end
elseif cur ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`)

// Swap replaces the value under key with new only when the value held is
// old (see host.Swapper), atomically for every process sharing the Redis.
func (s *Store) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	var newRaw []byte
	if new != nil {
		var err error
		if newRaw, err = s.codec.Encode(ctx, key, *new); err != nil {
			return false, nil, err
		}
	}
	if raw, ok := s.known.Lookup(key, old); ok {
		// The bytes this store last read or wrote hold old: swap over
		// them without reading; if the entry changed, the script matches
		// nothing and the loop reads it.
		done, err := s.swapOver(ctx, key, raw, new, newRaw)
		if err != nil {
			return false, nil, err
		}
		if done {
			return true, new, nil
		}
		s.known.Forget(key)
	}
	for {
		raw, err := s.read(ctx, key)
		if err != nil {
			return false, nil, err
		}
		var cur *string
		if raw != nil {
			v, err := s.codec.Decode(ctx, s.EntryKey(key), key, raw)
			if err != nil {
				return false, nil, err
			}
			cur = &v
			s.known.Remember(key, v, raw)
		}
		if !shared.Same(cur, old) {
			return false, cur, nil
		}
		if raw == nil && new == nil {
			return true, nil, nil
		}
		done, err := s.swapOver(ctx, key, raw, new, newRaw)
		if err != nil {
			return false, nil, err
		}
		if done {
			return true, new, nil
		}
		// Someone wrote between the read and the script: read again.
	}
}

// swapOver writes newRaw (new sealed), or removes the entry when new is
// nil, only where the stored bytes are exactly raw, or where there is no
// entry when raw is nil; it reports whether it wrote.
func (s *Store) swapOver(ctx context.Context, key string, raw []byte, new *string, newRaw []byte) (bool, error) {
	n, err := swapScript.Run(ctx, s.c, []string{s.EntryKey(key)}, raw, newRaw, s.entryTTL(key).Milliseconds()).Int()
	if err != nil {
		return false, s.fail("compare-and-swap", err)
	}
	if n != 1 {
		return false, nil
	}
	s.known.Swapped(key, new, newRaw)
	return true, nil
}

// renewScript extends the lease KEYS[1] to ARGV[2] ms when it holds the
// token ARGV[1]. 1: extended; 0: the lease is someone else's, or gone.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript removes the lease KEYS[1] when it holds the token ARGV[1].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lock takes the lease on key (see host.Locker), for every process sharing
// the Redis: it waits up to wait, polling, then fails with host.ErrBusy;
// it fails with an error wrapping ctx.Err() when ctx ends first. While
// held, the lease is renewed every third of Options.LeaseTTL; a holder that
// dies without releasing it loses it within the TTL.
func (s *Store) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	lk, token := s.LeaseKey(key), shared.Token()
	err := shared.Poll(ctx, wait, func(ctx context.Context) (bool, error) {
		ok, err := s.c.SetNX(ctx, lk, token, s.leaseTTL).Result()
		if err != nil {
			return false, s.fail("SET NX (lease)", err)
		}
		return ok, nil
	})
	if err != nil {
		return nil, err
	}
	return shared.Hold(s.leaseTTL,
		func(ctx context.Context) (bool, error) {
			n, err := renewScript.Run(ctx, s.c, []string{lk}, token, s.leaseTTL.Milliseconds()).Int()
			return n == 1, err
		},
		func(ctx context.Context) {
			releaseScript.Run(ctx, s.c, []string{lk}, token)
		}), nil
}
