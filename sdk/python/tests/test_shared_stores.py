"""RedisStore and PostgresStore against a real redis-server and PostgreSQL.

The servers come from the Go test helper (``host/internal/testserver``,
through its ``testservers`` command): each in a temporary directory on a
free loopback port. Without their programs the tests are skipped, or fail
when CI=true (apt-get install redis-server postgresql).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from deviceflow import StoreError
from deviceflow.stores import PostgresStore, RedisStore, generate_key

REPO = Path(__file__).resolve().parents[3]
KEY = generate_key()
_tenants = itertools.count()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    go = shutil.which("go")
    if go is None:
        pytest.fail("the Go toolchain is needed to start the test servers (go is not on PATH)")
    binary = tmp_path_factory.mktemp("bin") / "testservers"
    subprocess.run([go, "build", "-o", str(binary), "./host/internal/testserver/cmd/testservers"], cwd=REPO, check=True)
    proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    answer: Dict[str, str] = json.loads(proc.stdout.readline() or "{}")
    if "missing" in answer:
        proc.wait()
        if os.environ.get("CI") == "true":
            pytest.fail(answer["missing"])
        pytest.skip(answer["missing"] + "; with CI=true this fails")
    if "redis" not in answer:
        proc.kill()
        pytest.fail(f"the test servers did not start: {answer}")
    yield answer
    proc.stdin.close()
    proc.wait(30)


Store = Any
Opener = Callable[..., Store]


@pytest.fixture(params=["redis", "postgres"])
def backend(request: pytest.FixtureRequest, servers: Dict[str, str]) -> Iterator[Opener]:
    opened: List[Store] = []

    def open_store(**kw: Any) -> Store:
        kw.setdefault("tenant", tenant())
        if not kw.get("plain") and "key" not in kw:
            kw["key"] = KEY
        s: Store = RedisStore(servers["redis"], **kw) if request.param == "redis" else PostgresStore(servers["postgres"], **kw)
        opened.append(s)
        return s

    open_store.kind = request.param  # type: ignore[attr-defined]
    open_store.url = servers[request.param]  # type: ignore[attr-defined]
    yield open_store
    for s in opened:
        s.close()


def tenant() -> str:
    return f"py{os.getpid()}-{next(_tenants)}"


def raw_entries(backend: Opener, tenant_name: str) -> Dict[str, str]:
    """The tenant's entries as the server keeps them, by key."""
    if backend.kind == "redis":  # type: ignore[attr-defined]
        import redis

        c = redis.Redis.from_url(backend.url)  # type: ignore[attr-defined]
        prefix = f"deviceflow:{tenant_name}:entry:"
        out = {k.decode()[len(prefix) :]: c.get(k).decode() for k in c.keys(prefix + "*")}
        c.close()
        return out
    import psycopg

    with psycopg.connect(backend.url) as conn:  # type: ignore[attr-defined]
        rows = conn.execute("SELECT key, value FROM deviceflow_entries WHERE tenant = %s", (tenant_name,)).fetchall()
    return {k: v for k, v in rows}


def test_get_set_delete(backend: Opener) -> None:
    s = backend()
    assert s.get("k") is None
    k = "deviceflow:v1:https://github.com|oauth-app|Ov23li<&>|repo é ☃"
    v = '{"token":"gho_xé","note":"<&> \\"q\\""}'
    s.set(k, v)
    assert s.get(k) == v
    s.set(k, "second")
    assert s.get(k) == "second"
    s.delete(k)
    s.delete(k)
    assert s.get(k) is None
    s.set("empty", "")
    assert s.get("empty") == ""


def test_swap_semantics(backend: Opener) -> None:
    s = backend()
    assert s.swap("k", "x", "a") == (False, None)
    assert s.swap("k", None, "a") == (True, "a")
    assert s.swap("k", None, "b") == (False, "a")
    assert s.swap("k", "stale", "b") == (False, "a")
    assert s.swap("k", "a", "b") == (True, "b")
    assert s.swap("k", "a", None) == (False, "b")
    assert s.swap("k", "b", None) == (True, None)
    assert s.get("k") is None
    assert s.swap("k", None, None) == (True, None)
    assert s.swap("k", "", "e") == (False, None)
    assert s.swap("k", None, "") == (True, "")
    assert s.swap("k", None, "x") == (False, "")


def test_swap_race_threads(backend: Opener) -> None:
    name = tenant()
    stores = [backend(tenant=name) for _ in range(8)]
    each = 15

    def work(s: Store) -> None:
        for _ in range(each):
            while True:
                old = s.get("n")
                if s.swap("n", old, str(int(old or "0") + 1))[0]:
                    break

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].get("n") == str(8 * each)


def test_lease_busy_release_and_cancel(backend: Opener) -> None:
    name = tenant()
    a, b = backend(tenant=name), backend(tenant=name)
    release = a.lock("k", 0)
    assert release is not None
    assert b.lock("k", 0) is None
    t0 = time.monotonic()
    assert b.lock("k", 0.15) is None
    assert 0.15 <= time.monotonic() - t0 < 2
    assert a.lock("k", 0) is None  # not re-entrant
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    t0 = time.monotonic()
    assert b.lock("k", 60, cancel=cancel) is None
    assert time.monotonic() - t0 < 2
    assert a.swap("k", None, "v") == (True, "v")  # the holder may still swap
    got: List[float] = []

    def waiter() -> None:
        r = b.lock("k", 10)
        got.append(time.monotonic())
        assert r is not None
        r()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.1)
    released = time.monotonic()
    release()
    release()
    t.join()
    assert got and got[0] - released < 1


def test_lease_renewed_while_held(backend: Opener) -> None:
    name = tenant()
    a, b = backend(tenant=name, lease_ttl=1.0), backend(tenant=name, lease_ttl=1.0)
    release = a.lock("k", 0)
    assert release is not None
    assert b.lock("k", 3.0) is None
    release()
    r = b.lock("k", 0)
    assert r is not None
    r()


HOLDER = """
import sys, time
from deviceflow.stores import PostgresStore, RedisStore
kind, url, tenant, key = sys.argv[1:5]
cls = RedisStore if kind == "redis" else PostgresStore
s = cls(url, tenant=tenant, key=key, lease_ttl=1.0)
assert s.lock("k", 0) is not None
print("held", flush=True)
time.sleep(3600)
"""


def test_lease_expires_when_its_holder_is_killed(backend: Opener) -> None:
    name = tenant()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, backend.kind, backend.url, name, KEY],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        s = backend(tenant=name, lease_ttl=1.0)
        assert s.lock("k", 0) is None
        proc.kill()
        proc.wait()
        killed = time.monotonic()
        r = s.lock("k", 5)
        assert r is not None
        assert time.monotonic() - killed < 2
        r()
    finally:
        proc.kill()
        proc.wait()


def test_tenants_are_apart(backend: Opener) -> None:
    a, b = backend(), backend()
    a.set("k", "a's")
    assert b.get("k") is None
    assert b.swap("k", None, "b's") == (True, "b's")
    assert a.get("k") == "a's"
    ra = a.lock("k", 0)
    rb = b.lock("k", 0)
    assert ra is not None and rb is not None
    ra()
    rb()
    with pytest.raises(StoreError, match="tenant"):
        backend(tenant="a:entry")


def test_encrypted_at_rest(backend: Opener) -> None:
    name = tenant()
    s = backend(tenant=name)
    value = '{"token":"ghu_SECRETsecret0123","refreshToken":"ghr_REFRESH"}'
    s.set("k1", value)
    assert s.swap("k2", None, value)[0]
    raw = raw_entries(backend, name)
    assert set(raw) == {"k1", "k2"}
    for r in raw.values():
        assert "ghu_" not in r and "ghr_" not in r
        env = json.loads(r)
        assert env["format"] == "deviceflow-encrypted-store" and env["cipher"] == "AES-256-GCM"
    plain_tenant = tenant()
    backend(tenant=plain_tenant, plain=True).set("k", value)
    assert all("ghu_SECRET" in r for r in raw_entries(backend, plain_tenant).values())


def test_wrong_key_and_plain(backend: Opener) -> None:
    name = tenant()
    backend(tenant=name).set("k", "v")
    with pytest.raises(StoreError, match="wrong encryption key"):
        backend(tenant=name, key=generate_key()).get("k")
    with pytest.raises(StoreError, match="plain=True"):
        backend(tenant=name, plain=True).get("k")
    backend(tenant=name, plain=True).set("p", "v")
    with pytest.raises(StoreError, match="not encrypted"):
        backend(tenant=name).get("p")


def test_no_key_is_an_error(backend: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEVICEFLOW_ENCRYPTION_KEY", raising=False)
    with pytest.raises(StoreError, match="DEVICEFLOW_ENCRYPTION_KEY"):
        backend(key=None)
    monkeypatch.setenv("DEVICEFLOW_ENCRYPTION_KEY", KEY)
    s = backend(key=None)
    s.set("k", "v")
    assert backend(tenant=s.tenant, key_func=lambda: KEY, key=None).get("k") == "v"


def test_ttl(backend: Opener) -> None:
    name = tenant()
    # Margins of a quarter TTL either side: a loaded machine stalls.
    s = backend(tenant=name, ttl=1.0)
    s.set("set", "v")
    assert s.swap("swapped", None, "v")[0]
    s.set("rewritten", "v")
    time.sleep(0.5)
    assert s.swap("rewritten", "v", "w")[0]
    time.sleep(0.75)
    assert s.get("set") is None
    assert s.get("swapped") is None
    assert s.get("rewritten") == "w"
    assert s.swap("set", None, "again") == (True, "again")
    assert s.swap("swapped", "v", "x") == (False, None)
    forever = backend(tenant=name)
    forever.set("kept", "v")
    time.sleep(1.1)
    assert forever.get("kept") == "v"


def test_ttl_for_chooses_per_key(backend: Opener) -> None:
    s = backend(ttl=3600, ttl_for=lambda k: 0.2 if k.startswith("flow:") else 0)
    s.set("flow:1", "v")
    assert s.swap("token", None, "v")[0]
    time.sleep(0.4)
    assert s.get("flow:1") is None
    assert s.get("token") == "v"


def test_unreachable_server_names_no_password() -> None:
    for store in (
        lambda: RedisStore("redis://:hunter2secret@127.0.0.1:1/0", key=KEY),
        lambda: PostgresStore("postgresql://u:hunter2secret@127.0.0.1:1/db?connect_timeout=2", key=KEY),
    ):
        with pytest.raises(StoreError) as info:
            store().get("k")
        assert "hunter2" not in str(info.value)
    for bad in (lambda: RedisStore("nope://:hunter2secret@[::1", key=KEY), lambda: PostgresStore("postgresql://u:hunter2secret@[::1", key=KEY)):
        with pytest.raises(StoreError) as info:
            bad()
        assert "hunter2" not in str(info.value)


def test_postgres_schema(servers: Dict[str, str]) -> None:
    import psycopg

    s = PostgresStore(servers["postgres"], key=KEY, tenant=tenant())
    s.migrate()
    s.migrate()  # idempotent
    with psycopg.connect(servers["postgres"]) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM deviceflow_schema ORDER BY version").fetchall()]
    assert versions == [1]
    manual = PostgresStore(servers["postgres"], key=KEY, tenant=tenant(), manual_schema=True)
    manual.set("k", "v")
    assert manual.get("k") == "v"
    s.close()
    manual.close()

