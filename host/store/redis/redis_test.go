//go:build linux

package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/internal/testserver"
	"github.com/deviceflow/deviceflow/host/store/internal/sharedtest"
	redisstore "github.com/deviceflow/deviceflow/host/store/redis"
)

var backend = sharedtest.Backend{
	Name:   "redis",
	Server: testserver.Redis,
	Open: func(url string, o sharedtest.Opts) (sharedtest.Store, func(), error) {
		s, err := redisstore.Open(url, redisstore.Options{Tenant: o.Tenant, Key: o.Key, Plain: o.Plain, TTL: o.TTL, LeaseTTL: o.LeaseTTL})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	},
	Raw: func(ctx context.Context, url, tenant string) (map[string]string, error) {
		o, err := redis.ParseURL(url)
		if err != nil {
			return nil, err
		}
		c := redis.NewClient(o)
		defer c.Close()
		prefix := redisstore.DefaultPrefix + ":" + tenant + ":entry:"
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, k := range keys {
			v, err := c.Get(ctx, k).Result()
			if err != nil {
				return nil, err
			}
			out[strings.TrimPrefix(k, prefix)] = v
		}
		return out, nil
	},
}

func TestMain(m *testing.M) { sharedtest.Main(m, backend) }

func TestRedisStore(t *testing.T) { sharedtest.Run(t, backend) }

// TestUnavailable: a server that does not answer is ErrStoreUnavailable,
// and neither the message nor String names the password.
func TestUnavailable(t *testing.T) {
	k, _ := host.ParseEncryptionKey(host.GenerateKey())
	s, err := redisstore.Open("redis://:hunter2secret@127.0.0.1:1/0?dial_timeout=1s&max_retries=-1", redisstore.Options{Key: &k})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(context.Background(), "k")
	if !errors.Is(err, host.ErrStoreUnavailable) {
		t.Fatalf("Get = %v, want ErrStoreUnavailable", err)
	}
	if _, err := s.Lock(context.Background(), "k", time.Second); !errors.Is(err, host.ErrStoreUnavailable) {
		t.Fatalf("Lock = %v, want ErrStoreUnavailable", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(s.String(), "hunter2") {
		t.Fatalf("the password shows: %v / %s", err, s)
	}
	if _, err := redisstore.Open("redis://:hunter2secret@[::1", redisstore.Options{Key: &k}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a malformed URL: %v", err)
	}
}

// TestLayout: the Redis keys are the documented ones, and a lease has a TTL.
func TestLayout(t *testing.T) {
	srv, err := testserver.Redis()
	srv = testserver.Require(t, srv, err)
	ctx := testserver.Context(t)
	s, err := redisstore.Open(srv.URL, redisstore.Options{Tenant: "acme", Prefix: "app", Plain: true, TTL: time.Hour, LeaseTTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	o, _ := redis.ParseURL(srv.URL)
	c := redis.NewClient(o)
	defer c.Close()
	if v, err := c.Get(ctx, "app:acme:entry:k").Result(); err != nil || v != `{"version":2,"tenant":"acme","key":"k","value":"v"}` {
		t.Fatalf("app:acme:entry:k = %q, %v", v, err)
	}
	if d, _ := c.PTTL(ctx, "app:acme:entry:k").Result(); d <= 59*time.Minute || d > time.Hour {
		t.Errorf("the entry's TTL is %v, want an hour", d)
	}
	if d, _ := c.PTTL(ctx, "app:acme:lease:k").Result(); d <= 0 || d > 10*time.Second {
		t.Errorf("the lease's TTL is %v, want up to 10s", d)
	}

	// TTLFor chooses per key: pending flows expire, tokens stay.
	f, err := redisstore.Open(srv.URL, redisstore.Options{Tenant: "acme-flows", Plain: true, TTL: time.Hour,
		TTLFor: func(k string) time.Duration {
			if strings.HasPrefix(k, "flow:") {
				return time.Minute
			}
			return 0
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Set(ctx, "flow:1", "v")
	v := "v"
	f.Swap(ctx, "token", nil, &v)
	if d, _ := c.PTTL(ctx, f.EntryKey("flow:1")).Result(); d <= 59*time.Second || d > time.Minute {
		t.Errorf("TTLFor's flow entry has a TTL of %v, want a minute", d)
	}
	if d, _ := c.PTTL(ctx, f.EntryKey("token")).Result(); d != -1 {
		t.Errorf("TTLFor's token entry has a TTL of %v, want none (-1)", d)
	}
}
