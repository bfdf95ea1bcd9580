// Package pgstore keeps deviceflow's cached authentications in PostgreSQL,
// so that several processes on several machines share them: a host.Store
// with an atomic compare-and-swap (host.Swapper) and leases that expire
// when their holder dies (host.Locker).
//
// # Tables
//
// The store creates its tables itself on first use (see Migrate):
//
//	deviceflow_schema  (version integer PRIMARY KEY, applied_at timestamptz)
//	deviceflow_entries (tenant text, key text, value text, updated_at timestamptz,
//	                    expires_at timestamptz NULL, PRIMARY KEY (tenant, key))
//	deviceflow_leases  (tenant text, key text, token text, expires_at timestamptz,
//	                    PRIMARY KEY (tenant, key))
//
// A row of deviceflow_entries holds one entry of one tenant: value is the
// document {"version":2,"tenant":T,"key":K,"value":V} sealed in the
// encrypted store's AES-256-GCM envelope (wit/stores.md), or the document
// itself in a store opened with Options.Plain. A row whose expires_at has
// passed is no entry: reads skip it, writes replace it, and Purge (run by
// the store at most once an hour, on a write) removes it. Times are the
// database server's (now()), so nodes whose clocks disagree agree on
// expiry. To keep the tables in another schema, give the connection a
// search_path (…?search_path=auth in the connection string).
//
// # Compare-and-swap and leases
//
// A compare-and-swap reads the entry, opens it and compares the value;
// when it matches, one conditional statement writes: UPDATE … WHERE value
// = the bytes read, DELETE … WHERE value = the bytes read, or, for an
// absent entry, INSERT … ON CONFLICT DO UPDATE only over an expired row.
// Every write seals with a fresh nonce, so equal bytes mean no one wrote in
// between; when the statement changes no row, the swap reads again.
//
// A lease is a row of deviceflow_leases with a random token and an expiry
// (Options.LeaseTTL, 30 s by default), taken by INSERT … ON CONFLICT DO
// UPDATE only over an expired row, renewed by its holder every third of
// the TTL and deleted on release (each conditional on the token). A holder
// that dies loses its lease within the TTL, whatever happens to its
// connection. Waiters poll.
//
// # Migrations
//
// deviceflow_schema holds one row per schema version applied. On first use
// (or when Migrate is called) the store takes a transaction-scoped advisory
// lock, so that nodes starting together migrate once, reads the highest
// version, applies each later step of this release in the same
// transaction, and records it. A database whose version is newer than this
// release knows is refused (ErrSchemaTooNew) rather than written with an
// older layout: upgrade every node before the schema, never after. A
// database administrator who keeps DDL apart from the application sets
// Options.ManualSchema, runs Migrate once from a deployment job (or the
// statements of SchemaSQL by hand, adding the version rows), and the store
// then only checks the version.
//
// The Python SDK's PostgresStore (deviceflow.stores.PostgresStore) uses the
// same tables, migrations and format: a Go service and a Python service
// can share one database.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/store/internal/shared"
)

// SchemaVersion is the version of the tables this release writes.
const SchemaVersion = 1

// ErrSchemaTooNew: the database's deviceflow tables have a version newer
// than this release knows (a newer release migrated them). The store does
// not touch them.
var ErrSchemaTooNew = errors.New("deviceflow: the database's deviceflow tables are newer than this release")

// ErrSchemaMissing: the store was opened with Options.ManualSchema and the
// database lacks the tables of this release: run Migrate.
var ErrSchemaMissing = errors.New("deviceflow: the database lacks the deviceflow tables of this release")

// migrations are the schema's steps: migrations[i] takes version i to
// version i+1. A new release appends steps and never edits old ones.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS deviceflow_entries (
	tenant     text        NOT NULL,
	key        text        NOT NULL,
	value      text        NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz,
	PRIMARY KEY (tenant, key)
);
CREATE INDEX IF NOT EXISTS deviceflow_entries_expires_at ON deviceflow_entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS deviceflow_leases (
	tenant     text        NOT NULL,
	key        text        NOT NULL,
	token      text        NOT NULL,
	expires_at timestamptz NOT NULL,
	PRIMARY KEY (tenant, key)
);`,
}

const schemaTable = `CREATE TABLE IF NOT EXISTS deviceflow_schema (
	version    integer     PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);`

// migrationLock is the advisory lock key migrations hold (the bytes of
// "devflow1").
const migrationLock int64 = 0x646576666c6f7731

// SchemaSQL returns the statements that create this release's tables from
// nothing, for a database administrator who runs them by hand: then insert
// one row per version, 1 to SchemaVersion, into deviceflow_schema.
func SchemaSQL() string {
	return schemaTable + "\n" + strings.Join(migrations, "\n")
}

// purgeEvery is how often, at most, a write also purges expired rows.
const purgeEvery = time.Hour

// Options configure a Store. Every field is optional, except that a store
// needs a key (Key, KeyFunc or $DEVICEFLOW_ENCRYPTION_KEY) unless it is
// Plain.
type Options struct {
	// Tenant keeps this store's entries and leases apart from every other
	// tenant's in the same tables: 1 to 64 letters, digits, '.', '_' or
	// '-'; "default" when empty.
	Tenant string

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

	// ManualSchema stops the store from creating or migrating its tables:
	// it only checks their version, and fails with ErrSchemaMissing until
	// someone runs Migrate.
	ManualSchema bool
}

// Store is a host.Store, host.Swapper and host.Locker kept in PostgreSQL.
// It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	own      bool
	tenant   string
	codec    *shared.Codec
	ttl      time.Duration
	ttlFor   func(string) time.Duration
	leaseTTL time.Duration
	// known holds the bytes last read or written per key (shared.Known).
	known  shared.Known
	manual bool

	schemaMu sync.Mutex
	schemaOK atomic.Bool
	// lastPurge is when a write last purged expired rows (Unix ns).
	lastPurge atomic.Int64
}

var (
	_ host.Store   = (*Store)(nil)
	_ host.Swapper = (*Store)(nil)
	_ host.Locker  = (*Store)(nil)
)

// New returns a Store on pool, which the caller keeps and closes. It makes
// no request: the tables are checked, and made when missing, on first use.
func New(pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("deviceflow: pgstore.New needs a pool")
	}
	tenant, err := shared.CheckTenant(opts.Tenant)
	if err != nil {
		return nil, err
	}
	leaseTTL, err := shared.LeaseTTL(opts.LeaseTTL)
	if err != nil {
		return nil, err
	}
	codec, err := shared.NewCodec("postgres store", tenant, shared.KeyConfig{Key: opts.Key, KeyFunc: opts.KeyFunc, Plain: opts.Plain})
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, tenant: tenant, codec: codec, ttl: opts.TTL, ttlFor: opts.TTLFor,
		leaseTTL: leaseTTL, manual: opts.ManualSchema}
	s.lastPurge.Store(time.Now().UnixNano())
	return s, nil
}

// Open connects to the database at connString (a postgres:// URL or
// key=value pairs; see pgxpool.ParseConfig) and returns a Store that owns
// the connection pool: Close closes it. It makes no request.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgx's message may quote the string, password included.
		return nil, errors.New("deviceflow: the PostgreSQL connection string is not valid")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, shared.Unavailable("postgres store", "connect", err)
	}
	s, err := New(pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// Close closes the connection pool when Open made it; a Store from New
// leaves its pool open.
func (s *Store) Close() {
	if s.own {
		s.pool.Close()
	}
}

// String describes the store for a person, naming no secret: "postgres
// HOST:PORT/DB tenant T (key from SOURCE)".
func (s *Store) String() string {
	c := s.pool.Config().ConnConfig
	return fmt.Sprintf("postgres %s:%d/%s tenant %s (%s)", c.Host, c.Port, c.Database, s.tenant, s.codec.KeySource())
}

func (s *Store) fail(op string, err error) error {
	return shared.Unavailable("postgres store", op, err)
}

// where names key's entry in messages.
func (s *Store) where(key string) string {
	return fmt.Sprintf("(tenant %s, key %q)", s.tenant, key)
}

// Migrate creates the tables, or brings them to this release's version,
// under an advisory lock that makes concurrent migrations wait for one
// another. A database already at this version is left as it is; one at a
// newer version is ErrSchemaTooNew.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.fail("migrate", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return s.fail("migrate", err)
	}
	if _, err := tx.Exec(ctx, schemaTable); err != nil {
		return s.fail("migrate", err)
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM deviceflow_schema`).Scan(&v); err != nil {
		return s.fail("migrate", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("deviceflow: the deviceflow tables are at version %d and this release knows %d: upgrade it: %w", v, SchemaVersion, ErrSchemaTooNew)
	}
	for ; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return s.fail(fmt.Sprintf("migrate to version %d", v+1), err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deviceflow_schema (version) VALUES ($1)`, v+1); err != nil {
			return s.fail("migrate", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail("migrate", err)
	}
	s.schemaOK.Store(true)
	return nil
}

// ready makes sure, once, that the tables are there at this version.
func (s *Store) ready(ctx context.Context) error {
	if s.schemaOK.Load() {
		return nil
	}
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if s.schemaOK.Load() {
		return nil
	}
	if !s.manual {
		return s.Migrate(ctx)
	}
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM deviceflow_schema`).Scan(&v)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
			v = 0
		} else {
			return s.fail("check the schema", err)
		}
	}
	switch {
	case v > SchemaVersion:
		return fmt.Errorf("deviceflow: the deviceflow tables are at version %d and this release knows %d: upgrade it: %w", v, SchemaVersion, ErrSchemaTooNew)
	case v < SchemaVersion:
		return fmt.Errorf("deviceflow: the deviceflow tables are at version %d and this release needs %d (Options.ManualSchema is set): run Migrate: %w", v, SchemaVersion, ErrSchemaMissing)
	}
	s.schemaOK.Store(true)
	return nil
}

// expiry is the SQL for an expiry $n milliseconds from now, NULL for 0.
func expiry(n int) string {
	return fmt.Sprintf("CASE WHEN $%d::bigint > 0 THEN now() + $%d::bigint * interval '1 millisecond' END", n, n)
}

const live = `(expires_at IS NULL OR expires_at > now())`

// read returns the entry's stored bytes, or nil.
func (s *Store) read(ctx context.Context, key string) ([]byte, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var raw string
	err := s.pool.QueryRow(ctx, `SELECT value FROM deviceflow_entries WHERE tenant = $1 AND key = $2 AND `+live, s.tenant, key).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.fail("read", err)
	}
	return []byte(raw), nil
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
	return s.codec.Decode(ctx, s.where(key), key, raw)
}

// Set writes value under key, replacing any older value.
func (s *Store) Set(ctx context.Context, key, value string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	raw, err := s.codec.Encode(ctx, key, value)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO deviceflow_entries (tenant, key, value, updated_at, expires_at)
VALUES ($1, $2, $3, now(), `+expiry(4)+`)
ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
		s.tenant, key, string(raw), s.entryTTL(key).Milliseconds())
	if err != nil {
		s.known.Forget(key)
		return s.fail("write", err)
	}
	s.known.Remember(key, value, raw)
	s.maybePurge(ctx)
	return nil
}

// Delete removes key; removing an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	s.known.Forget(key)
	if _, err := s.pool.Exec(ctx, `DELETE FROM deviceflow_entries WHERE tenant = $1 AND key = $2`, s.tenant, key); err != nil {
		return s.fail("delete", err)
	}
	return nil
}

func (s *Store) entryTTL(key string) time.Duration {
	return shared.EntryTTL(key, s.ttl, s.ttlFor)
}

// Swap replaces the value under key with new only when the value held is
// old (see host.Swapper), atomically for every process sharing the
// database.
func (s *Store) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	var newRaw []byte
	if new != nil {
		var err error
		if newRaw, err = s.codec.Encode(ctx, key, *new); err != nil {
			return false, nil, err
		}
	}
	ttl := s.entryTTL(key).Milliseconds()
	if raw, ok := s.known.Lookup(key, old); ok {
		// The bytes this store last read or wrote hold old: swap over
		// them without reading; if the entry changed, the statement
		// matches nothing and the loop reads it.
		done, err := s.swapOver(ctx, key, raw, new, newRaw, ttl)
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
			v, err := s.codec.Decode(ctx, s.where(key), key, raw)
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
		done, err := s.swapOver(ctx, key, raw, new, newRaw, ttl)
		if err != nil {
			return false, nil, err
		}
		if done {
			return true, new, nil
		}
		// Someone wrote between the read and the statement: read again.
	}
}

// swapOver writes newRaw (new sealed), or removes the entry when new is
// nil, only where the stored bytes are exactly raw, or where there is no
// live entry when raw is nil; it reports whether it wrote.
func (s *Store) swapOver(ctx context.Context, key string, raw []byte, new *string, newRaw []byte, ttl int64) (bool, error) {
	var q string
	var args []any
	switch {
	case raw == nil:
		q = `INSERT INTO deviceflow_entries (tenant, key, value, updated_at, expires_at)
VALUES ($1, $2, $3, now(), ` + expiry(4) + `)
ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at
WHERE deviceflow_entries.expires_at IS NOT NULL AND deviceflow_entries.expires_at <= now()`
		args = []any{s.tenant, key, string(newRaw), ttl}
	case new == nil:
		q = `DELETE FROM deviceflow_entries WHERE tenant = $1 AND key = $2 AND value = $3 AND ` + live
		args = []any{s.tenant, key, string(raw)}
	default:
		q = `UPDATE deviceflow_entries SET value = $4, updated_at = now(), expires_at = ` + expiry(5) + `
WHERE tenant = $1 AND key = $2 AND value = $3 AND ` + live
		args = []any{s.tenant, key, string(raw), string(newRaw), ttl}
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return false, s.fail("compare-and-swap", err)
	}
	if tag.RowsAffected() != 1 {
		return false, nil
	}
	s.known.Swapped(key, new, newRaw)
	if new != nil {
		s.maybePurge(ctx)
	}
	return true, nil
}

// Lock takes the lease on key (see host.Locker), for every process sharing
// the database: it waits up to wait, polling, then fails with
// host.ErrBusy; it fails with an error wrapping ctx.Err() when ctx ends
// first. While held, the lease is renewed every third of Options.LeaseTTL;
// a holder that dies without releasing it loses it within the TTL.
func (s *Store) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	token, ttl := shared.Token(), s.leaseTTL.Milliseconds()
	err := shared.Poll(ctx, wait, func(ctx context.Context) (bool, error) {
		tag, err := s.pool.Exec(ctx, `INSERT INTO deviceflow_leases (tenant, key, token, expires_at)
VALUES ($1, $2, $3, clock_timestamp() + $4::bigint * interval '1 millisecond')
ON CONFLICT (tenant, key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
WHERE deviceflow_leases.expires_at <= clock_timestamp()`, s.tenant, key, token, ttl)
		if err != nil {
			return false, s.fail("take a lease", err)
		}
		return tag.RowsAffected() == 1, nil
	})
	if err != nil {
		return nil, err
	}
	return shared.Hold(s.leaseTTL,
		func(ctx context.Context) (bool, error) {
			tag, err := s.pool.Exec(ctx, `UPDATE deviceflow_leases SET expires_at = clock_timestamp() + $4::bigint * interval '1 millisecond'
WHERE tenant = $1 AND key = $2 AND token = $3`, s.tenant, key, token, ttl)
			return err == nil && tag.RowsAffected() == 1, err
		},
		func(ctx context.Context) {
			s.pool.Exec(ctx, `DELETE FROM deviceflow_leases WHERE tenant = $1 AND key = $2 AND token = $3`, s.tenant, key, token)
		}), nil
}

// Purge removes every tenant's expired entries and leases, and returns how
// many entries it removed. The store calls it by itself at most once an
// hour, on a write; a deployment may call it from a periodic job instead.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM deviceflow_entries WHERE expires_at <= now()`)
	if err != nil {
		return 0, s.fail("purge", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM deviceflow_leases WHERE expires_at <= now() - interval '1 minute'`); err != nil {
		return 0, s.fail("purge", err)
	}
	return tag.RowsAffected(), nil
}

// maybePurge purges expired rows when the last purge is an hour old.
func (s *Store) maybePurge(ctx context.Context) {
	last := s.lastPurge.Load()
	now := time.Now().UnixNano()
	if now-last < int64(purgeEvery) || !s.lastPurge.CompareAndSwap(last, now) {
		return
	}
	s.Purge(ctx)
}
