//go:build linux

package pgstore_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/deviceflow/deviceflow/host/internal/testserver"
	"github.com/deviceflow/deviceflow/host/store/internal/storetest"
	pgstore "github.com/deviceflow/deviceflow/host/store/postgres"
)

var backend = storetest.Backend{
	Name:   "postgres",
	Server: testserver.Postgres,
	Open: func(url string, o storetest.Opts) (storetest.Store, func(), error) {
		s, err := pgstore.Open(context.Background(), url, pgstore.Options{Tenant: o.Tenant, Key: o.Key, Plain: o.Plain, TTL: o.TTL, LeaseTTL: o.LeaseTTL})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	},
	Raw: func(ctx context.Context, url, tenant string) (map[string]string, error) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return nil, err
		}
		defer c.Close(ctx)
		rows, err := c.Query(ctx, `SELECT key, value FROM deviceflow_entries WHERE tenant = $1`, tenant)
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, rows.Err()
	},
}

func TestMain(m *testing.M) { storetest.Main(m, backend) }

func TestPostgresStore(t *testing.T) { storetest.Run(t, backend) }
