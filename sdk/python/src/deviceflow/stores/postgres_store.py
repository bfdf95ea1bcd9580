"""PostgresStore: entries shared by every process and machine on one PostgreSQL.

The tables, migrations and format are the Go host's ``pgstore``
(``wit/stores.md``, "Shared stores"), so a Go service and a Python service
share one database:

- ``deviceflow_schema (version, applied_at)``: one row per schema version
  applied. The store migrates on first use, in one transaction under an
  advisory lock, and refuses a database newer than it knows.
- ``deviceflow_entries (tenant, key, value, updated_at, expires_at)``: the
  entry document ``{"version":2,"tenant":T,"key":K,"value":V}`` sealed in
  the AES-256-GCM envelope (or the document itself with ``plain=True``); a
  row past ``expires_at`` is no entry.
- ``deviceflow_leases (tenant, key, token, expires_at)``: a lease with a
  random token, renewed by its holder every third of its TTL.

Compare-and-swap: read, open, compare the value, then one conditional
statement writes only over the bytes read (``UPDATE``/``DELETE … WHERE
value = …``, ``INSERT … ON CONFLICT DO UPDATE`` over an expired row only).
Needs the ``postgres`` extra (``psycopg``).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ..errors import StoreError
from ._keyed import Release
from ._shared import Codec, KeyOption, check_lease_ttl, check_tenant, hold, poll, token

#: The version of the tables this release writes.
SCHEMA_VERSION = 1

_SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS deviceflow_schema (
	version    integer     PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);"""

# The same steps as the Go store's: _MIGRATIONS[i] takes version i to i+1.
_MIGRATIONS = [
    """CREATE TABLE IF NOT EXISTS deviceflow_entries (
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
);""",
]

# The advisory lock migrations hold: the bytes of "devflow1", as Go's.
_MIGRATION_LOCK = 0x646576666C6F7731

_LIVE = "(expires_at IS NULL OR expires_at > now())"
_EXPIRY = "CASE WHEN %(ttl)s::bigint > 0 THEN now() + %(ttl)s::bigint * interval '1 millisecond' END"


class SchemaTooNew(StoreError):
    """The database's deviceflow tables are newer than this release knows."""


class PostgresStore:
    """Keeps entries in PostgreSQL, shared by every process and machine that uses it.

    ``conninfo`` is a ``postgresql://`` URL or ``key=value`` pairs (as
    psycopg takes them). ``tenant``, ``key``, ``key_func``, ``plain``,
    ``ttl``, ``ttl_for`` and ``lease_ttl`` are :class:`RedisStore`'s. The
    tables are made, or migrated, on first use unless ``manual_schema`` is
    set (then call :meth:`migrate` from a deployment job). Connections are
    opened as threads need them and kept for reuse, up to ``max_idle``.
    Every failure raises :class:`deviceflow.StoreError`, naming no value.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        tenant: Optional[str] = None,
        key: KeyOption = None,
        key_func: Optional[Callable[[], KeyOption]] = None,
        plain: bool = False,
        ttl: Optional[float] = None,
        ttl_for: Optional[Callable[[str], float]] = None,
        lease_ttl: Optional[float] = None,
        manual_schema: bool = False,
        max_idle: int = 4,
    ) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError("store: PostgresStore needs psycopg: pip install 'deviceflow[postgres]'") from None
        self._psycopg: Any = psycopg
        self.tenant = check_tenant(tenant)
        self._lease_ttl = check_lease_ttl(lease_ttl)
        self._codec = Codec("postgres store", self.tenant, key, key_func, plain)
        try:
            from psycopg.conninfo import conninfo_to_dict

            password = conninfo_to_dict(conninfo).get("password")
        except psycopg.Error:
            # libpq's message may quote the string, password included.
            raise StoreError("store: the PostgreSQL connection string is not valid") from None
        self._password = str(password) if password else None
        self._conninfo = conninfo
        self._ttl = ttl
        self._ttl_for = ttl_for
        self._manual = manual_schema
        self._max_idle = max_idle
        self._idle: List[Any] = []
        self._pool_lock = threading.Lock()
        self._schema_lock = threading.Lock()
        self._schema_ok = False

    def close(self) -> None:
        """Closes the idle connections."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()

    def __repr__(self) -> str:
        return f"PostgresStore(tenant={self.tenant!r}, {self._codec.key_source})"

    @contextmanager
    def _conn(self, op: str) -> Iterator[Any]:
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        try:
            if conn is None:
                conn = self._psycopg.connect(self._conninfo, autocommit=True)
            yield conn
        except self._psycopg.Error as e:
            if conn is not None:
                conn.close()
                conn = None
            detail = str(e)
            if self._password:
                detail = detail.replace(self._password, "***")
            raise StoreError(f"store: the postgres store failed to {op}: {type(e).__name__}: {detail[:120]}") from e
        except BaseException:
            if conn is not None:
                conn.close()
                conn = None
            raise
        finally:
            if conn is not None and not conn.closed:
                with self._pool_lock:
                    if len(self._idle) < self._max_idle:
                        self._idle.append(conn)
                        conn = None
                if conn is not None:
                    conn.close()

    def _exec(self, op: str, sql: str, params: Any = None) -> int:
        self._ready()
        with self._conn(op) as c:
            cur = c.execute(sql, params)
            n: int = cur.rowcount
            return n

    def migrate(self) -> None:
        """Makes the tables, or brings them to this release's version, once for all nodes.

        Raises :class:`SchemaTooNew` when a newer release migrated them.
        """
        with self._conn("migrate") as c:
            with c.transaction():
                c.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                c.execute(_SCHEMA_TABLE)
                v = _version(c)
                if v > SCHEMA_VERSION:
                    raise SchemaTooNew(f"store: the deviceflow tables are at version {v} and this release knows {SCHEMA_VERSION}: upgrade it")
                while v < SCHEMA_VERSION:
                    c.execute(_MIGRATIONS[v])
                    c.execute("INSERT INTO deviceflow_schema (version) VALUES (%s)", (v + 1,))
                    v += 1
        self._schema_ok = True

    def _ready(self) -> None:
        if self._schema_ok:
            return
        with self._schema_lock:
            if self._schema_ok:
                return
            if not self._manual:
                self.migrate()
                return
            with self._conn("check the schema") as c:
                try:
                    v = _version(c)
                except self._psycopg.errors.UndefinedTable:
                    v = 0
            if v > SCHEMA_VERSION:
                raise SchemaTooNew(f"store: the deviceflow tables are at version {v} and this release knows {SCHEMA_VERSION}: upgrade it")
            if v < SCHEMA_VERSION:
                raise StoreError(f"store: the deviceflow tables are at version {v} and this release needs {SCHEMA_VERSION} (manual_schema is set): run migrate()")
            self._schema_ok = True

    def _ttl_ms(self, key: str) -> int:
        ttl = self._ttl_for(key) if self._ttl_for is not None else self._ttl
        return max(int((ttl or 0) * 1000), 0)

    def _where(self, key: str) -> str:
        return f"(tenant {self.tenant}, key {key!r})"

    def _read(self, key: str) -> Optional[bytes]:
        self._ready()
        with self._conn("read") as c:
            row = c.execute(f"SELECT value FROM deviceflow_entries WHERE tenant = %s AND key = %s AND {_LIVE}", (self.tenant, key)).fetchone()
        return None if row is None else str(row[0]).encode("utf-8")

    def get(self, key: str) -> Optional[str]:
        """Returns the value under key, or None."""
        raw = self._read(key)
        if raw is None:
            return None
        return self._codec.decode(self._where(key), key, raw)

    def set(self, key: str, value: str) -> None:
        """Writes value under key."""
        raw = self._codec.encode(key, value).decode("utf-8")
        self._exec(
            "write",
            f"""INSERT INTO deviceflow_entries (tenant, key, value, updated_at, expires_at)
VALUES (%(tenant)s, %(key)s, %(value)s, now(), {_EXPIRY})
ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at""",
            {"tenant": self.tenant, "key": key, "value": raw, "ttl": self._ttl_ms(key)},
        )

    def delete(self, key: str) -> None:
        """Removes key; removing an absent key is not an error."""
        self._exec("delete", "DELETE FROM deviceflow_entries WHERE tenant = %s AND key = %s", (self.tenant, key))

    def swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        """Replaces the value under key with ``new`` only when it is ``old`` now, for everyone sharing the database.

        ``None`` stands for "no value" on both sides. Answers ``(True,
        new)`` when it swapped and ``(False, current)`` when it did not.
        """
        new_raw = self._codec.encode(key, new).decode("utf-8") if new is not None else None
        p: Dict[str, Any] = {"tenant": self.tenant, "key": key, "new": new_raw, "ttl": self._ttl_ms(key)}
        while True:
            raw = self._read(key)
            current = self._codec.decode(self._where(key), key, raw) if raw is not None else None
            if current != old:
                return False, current
            if raw is None and new is None:
                return True, None
            p["old"] = raw.decode("utf-8") if raw is not None else None
            if raw is None:
                sql = f"""INSERT INTO deviceflow_entries (tenant, key, value, updated_at, expires_at)
VALUES (%(tenant)s, %(key)s, %(new)s, now(), {_EXPIRY})
ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at
WHERE deviceflow_entries.expires_at IS NOT NULL AND deviceflow_entries.expires_at <= now()"""
            elif new is None:
                sql = f"DELETE FROM deviceflow_entries WHERE tenant = %(tenant)s AND key = %(key)s AND value = %(old)s AND {_LIVE}"
            else:
                sql = f"""UPDATE deviceflow_entries SET value = %(new)s, updated_at = now(), expires_at = {_EXPIRY}
WHERE tenant = %(tenant)s AND key = %(key)s AND value = %(old)s AND {_LIVE}"""
            if self._exec("compare-and-swap", sql, p) == 1:
                return True, new
            # Someone wrote between the read and the statement: read again.

    def lock(self, key: str, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
        """Takes the lease on key for everyone sharing the database, waiting up to ``wait`` seconds.

        Answers the function that releases it, or None when another holder
        kept it (or ``cancel`` was set first). The lease is renewed every
        third of ``lease_ttl`` while held.
        """
        p: Dict[str, Any] = {"tenant": self.tenant, "key": key, "token": token(), "ttl": int(self._lease_ttl * 1000)}
        take = """INSERT INTO deviceflow_leases (tenant, key, token, expires_at)
VALUES (%(tenant)s, %(key)s, %(token)s, clock_timestamp() + %(ttl)s::bigint * interval '1 millisecond')
ON CONFLICT (tenant, key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
WHERE deviceflow_leases.expires_at <= clock_timestamp()"""
        if not poll(wait, cancel, lambda: self._exec("take a lease", take, p) == 1):
            return None
        return hold(
            self._lease_ttl,
            lambda: self._exec(
                "renew a lease",
                """UPDATE deviceflow_leases SET expires_at = clock_timestamp() + %(ttl)s::bigint * interval '1 millisecond'
WHERE tenant = %(tenant)s AND key = %(key)s AND token = %(token)s""",
                p,
            )
            == 1,
            lambda: self._release(p),
        )

    def _release(self, p: Any) -> None:
        self._exec("release a lease", "DELETE FROM deviceflow_leases WHERE tenant = %(tenant)s AND key = %(key)s AND token = %(token)s", p)

    def purge(self) -> int:
        """Removes every tenant's expired entries and leases; answers how many entries it removed."""
        n = self._exec("purge", "DELETE FROM deviceflow_entries WHERE expires_at <= now()")
        self._exec("purge", "DELETE FROM deviceflow_leases WHERE expires_at <= now() - interval '1 minute'")
        return n


def _version(conn: Any) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) FROM deviceflow_schema").fetchone()
    return int(row[0]) if row is not None else 0
