//go:build linux

package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/internal/testserver"
	"github.com/deviceflow/deviceflow/host/store/internal/sharedtest"
	pgstore "github.com/deviceflow/deviceflow/host/store/postgres"
)

var backend = sharedtest.Backend{
	Name:   "postgres",
	Server: testserver.Postgres,
	Open: func(url string, o sharedtest.Opts) (sharedtest.Store, func(), error) {
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

func TestMain(m *testing.M) { sharedtest.Main(m, backend) }

func TestPostgresStore(t *testing.T) { sharedtest.Run(t, backend) }

// freshDatabase creates an empty database on the test server and returns
// its URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	srv, err := testserver.Postgres()
	srv = testserver.Require(t, srv, err)
	ctx := testserver.Context(t)
	c, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	db := fmt.Sprintf("fresh_%d", time.Now().UnixNano())
	if _, err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(srv.URL, "/postgres?", "/"+db+"?", 1)
}

func versions(t *testing.T, url string) []int {
	t.Helper()
	ctx := testserver.Context(t)
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT version FROM deviceflow_schema ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func open(t *testing.T, url string, o pgstore.Options) *pgstore.Store {
	t.Helper()
	if o.Key == nil && !o.Plain {
		k, _ := host.ParseEncryptionKey(host.GenerateKey())
		o.Key = &k
	}
	s, err := pgstore.Open(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestMigrations: ten stores starting together on an empty database make
// the tables once; a database a newer release migrated is refused; with
// ManualSchema the store waits for Migrate; SchemaSQL makes the same tables.
func TestMigrations(t *testing.T) {
	ctx := testserver.Context(t)
	url := freshDatabase(t)
	var wg sync.WaitGroup
	for i := range 10 {
		s := open(t, url, pgstore.Options{Tenant: fmt.Sprint("n", i)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Set(ctx, "k", "v"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if vs := versions(t, url); !slices.Equal(vs, []int{pgstore.SchemaVersion}) {
		t.Fatalf("schema versions %v after ten concurrent first uses, want [%d]", vs, pgstore.SchemaVersion)
	}

	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "INSERT INTO deviceflow_schema (version) VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, url, pgstore.Options{}).Get(ctx, "k"); !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Fatalf("a store on tables of version 99 = %v, want ErrSchemaTooNew", err)
	}
	if _, err := open(t, url, pgstore.Options{ManualSchema: true}).Get(ctx, "k"); !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Fatalf("a manual-schema store on tables of version 99 = %v, want ErrSchemaTooNew", err)
	}

	manual := freshDatabase(t)
	s := open(t, manual, pgstore.Options{ManualSchema: true})
	if err := s.Set(ctx, "k", "v"); !errors.Is(err, pgstore.ErrSchemaMissing) {
		t.Fatalf("a manual-schema store on an empty database = %v, want ErrSchemaMissing", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", "v"); err != nil {
		t.Fatalf("after Migrate: %v", err)
	}

	byHand := freshDatabase(t)
	hc, err := pgx.Connect(ctx, byHand)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close(ctx)
	if _, err := hc.Exec(ctx, pgstore.SchemaSQL()); err != nil {
		t.Fatalf("SchemaSQL: %v", err)
	}
	if _, err := hc.Exec(ctx, "INSERT INTO deviceflow_schema (version) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := open(t, byHand, pgstore.Options{ManualSchema: true}).Set(ctx, "k", "v"); err != nil {
		t.Fatalf("on tables made by hand from SchemaSQL: %v", err)
	}
}

// TestPurge: Purge removes the expired entries of every tenant and no
// other; TTLFor sets a TTL per key.
func TestPurge(t *testing.T) {
	ctx := testserver.Context(t)
	url := freshDatabase(t)
	short := open(t, url, pgstore.Options{Tenant: "a", TTL: 100 * time.Millisecond})
	kept := open(t, url, pgstore.Options{Tenant: "b"})
	for i := range 5 {
		short.Set(ctx, fmt.Sprint("k", i), "v")
		kept.Set(ctx, fmt.Sprint("k", i), "v")
	}
	// TTLFor chooses per key: pending flows expire, tokens stay.
	perKey := open(t, url, pgstore.Options{Tenant: "c", TTLFor: func(k string) time.Duration {
		if strings.HasPrefix(k, "flow:") {
			return 100 * time.Millisecond
		}
		return 0
	}})
	perKey.Set(ctx, "flow:1", "v")
	perKey.Set(ctx, "token", "v")
	time.Sleep(200 * time.Millisecond)
	if _, err := perKey.Get(ctx, "flow:1"); !errors.Is(err, host.ErrNoEntry) {
		t.Errorf("TTLFor's flow entry after its TTL: %v", err)
	}
	if _, err := perKey.Get(ctx, "token"); err != nil {
		t.Errorf("TTLFor's token entry: %v", err)
	}
	n, err := kept.Purge(ctx)
	if err != nil || n != 6 {
		t.Fatalf("Purge = %d, %v; want 6", n, err)
	}
	for i := range 5 {
		if _, err := kept.Get(ctx, fmt.Sprint("k", i)); err != nil {
			t.Fatalf("an entry without a TTL was purged: %v", err)
		}
	}
}

// TestUnavailable: a server that does not answer is ErrStoreUnavailable,
// and the message names no password.
func TestUnavailable(t *testing.T) {
	k, _ := host.ParseEncryptionKey(host.GenerateKey())
	s, err := pgstore.Open(context.Background(), "postgres://u:hunter2secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", pgstore.Options{Key: &k})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(context.Background(), "k")
	if !errors.Is(err, host.ErrStoreUnavailable) {
		t.Fatalf("Get = %v, want ErrStoreUnavailable", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(s.String(), "hunter2") {
		t.Fatalf("the password shows: %v / %s", err, s)
	}
	if _, err := pgstore.Open(context.Background(), "postgres://u:hunter2secret@[::1", pgstore.Options{Key: &k}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a malformed URL: %v", err)
	}
}
