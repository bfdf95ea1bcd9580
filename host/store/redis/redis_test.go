//go:build linux

package redisstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/deviceflow/deviceflow/host/internal/testserver"
	"github.com/deviceflow/deviceflow/host/store/internal/storetest"
	redisstore "github.com/deviceflow/deviceflow/host/store/redis"
)

var backend = storetest.Backend{
	Name:   "redis",
	Server: testserver.Redis,
	Open: func(url string, o storetest.Opts) (storetest.Store, func(), error) {
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

func TestMain(m *testing.M) { storetest.Main(m, backend) }

func TestRedisStore(t *testing.T) { storetest.Run(t, backend) }
