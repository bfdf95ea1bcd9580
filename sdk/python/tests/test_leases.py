"""One refresh per credential: leases and compare-and-swap through the real plugin,
across threads of one process and across processes sharing a file store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from deviceflow import Cancelled, DeviceFlow, FileStore, Host, MemoryStore, NetworkError
from deviceflow._host import CallContext
from helpers.loopback import Loopback, send
from helpers.refresher import CLIENT_ID, OLD_TOKEN, Refresher, cache_key, expiring_entry

posix_only = pytest.mark.skipif(os.name != "posix", reason="flock")


def app_flow(origin: str, store: Any, **kw: Any) -> DeviceFlow:
    def no_flow(v: Any) -> None:
        raise AssertionError("no device flow may start")

    return DeviceFlow(CLIENT_ID, client_type="github-app", base_url=origin, store=store, on_verification=no_flow, **kw)


def test_threads_sharing_a_store_refresh_an_expiring_token_once() -> None:
    with Refresher() as srv:
        store = MemoryStore({cache_key(srv.origin): expiring_entry()})
        flows = [app_flow(srv.origin, store) for _ in range(8)]  # eight hosts, one store
        tokens: List[str] = []
        errors: List[BaseException] = []

        def work(flow: DeviceFlow) -> None:
            try:
                tokens.append(flow.token(interactive=False).token)
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=work, args=(f,)) for f in flows]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    assert srv.refreshes == 1
    assert tokens == [srv.issued[0]] * 8
    assert json.loads(store.get(cache_key(srv.origin)) or "{}")["token"] == srv.issued[0]
    assert store.leased() == set()


def test_a_call_waiting_on_a_lease_uses_the_holders_new_pair() -> None:
    with Refresher() as srv:
        key = cache_key(srv.origin)
        store = MemoryStore({key: expiring_entry()})
        release = store.lock(key, 0)  # another holder is refreshing
        assert release is not None
        events: List[Dict[str, Any]] = []
        result: Dict[str, Any] = {}

        def work() -> None:
            result["auth"] = app_flow(srv.origin, store, on_event=events.append).token(interactive=False)

        t = threading.Thread(target=work)
        t.start()
        time.sleep(0.3)
        assert t.is_alive() and [e["type"] for e in events] == ["waiting"]
        # The holder finishes: a fresh pair, then the lease goes.
        fresh = json.loads(expiring_entry(expires_in=8 * 3600))
        fresh["token"] = "ghu_fromTheHolder0000000000000000000000"
        store.set(key, json.dumps(fresh))
        release()
        t.join(10)
    assert result["auth"].token == "ghu_fromTheHolder0000000000000000000000"
    assert srv.refreshes == 0
    assert store.leased() == set()


def test_waiting_for_a_lease_honours_cancellation() -> None:
    with Refresher() as srv:
        key = cache_key(srv.origin)
        store = MemoryStore({key: expiring_entry()})
        release = store.lock(key, 0)
        assert release is not None
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        t0 = time.monotonic()
        with pytest.raises(Cancelled):
            app_flow(srv.origin, store).token(interactive=False, cancel=cancel)
        assert time.monotonic() - t0 < 3
        assert srv.refreshes == 0
        assert store.leased() == {key}  # only the other holder's
        release()


def test_every_lease_is_released_when_the_call_fails() -> None:
    def fail(h: Any, body: bytes) -> None:
        send(h, 502, b"bad gateway")

    with Loopback(fail) as srv:
        store = MemoryStore({cache_key(srv.origin): expiring_entry()})
        with pytest.raises(NetworkError):
            app_flow(srv.origin, store).refresh()
        assert store.leased() == set()
        assert json.loads(store.get(cache_key(srv.origin)) or "{}")["token"] == OLD_TOKEN  # nothing lost


def test_the_call_context_releases_what_the_plugin_left_held() -> None:
    store = MemoryStore()
    ctx = CallContext(Host(store=store), threading.Event())
    first = ctx.store_lock("a", 0)
    second = ctx.store_lock("b", 0)
    assert "lease" in first and "lease" in second
    assert ctx.store_lock("a", 0) == {"busy": True}  # not re-entrant
    ctx.store_unlock("a", "not-a-lease")  # unknown: ignored
    ctx.store_unlock("b", first["lease"])  # wrong key: ignored
    assert store.leased() == {"a", "b"}
    ctx.store_unlock("a", first["lease"])
    ctx.store_unlock("a", first["lease"])  # twice: fine
    assert store.leased() == {"b"}
    ctx.release_all()
    assert store.leased() == set() and ctx.leases() == []


def test_store_lock_answers_cancelled_when_the_call_is_cancelled_while_waiting() -> None:
    store = MemoryStore()
    release = store.lock("k", 0)
    cancel = threading.Event()
    ctx = CallContext(Host(store=store), cancel)
    threading.Timer(0.1, cancel.set).start()
    assert ctx.store_lock("k", 60000) == {"cancelled": True}
    assert ctx.store_lock("k", 0) == {"cancelled": True}
    assert release is not None
    release()


_TOKEN_ENV_KEYS = ("DEVICEFLOW_CLIENT_ID", "DEVICEFLOW_CLIENT_TYPE", "DEVICEFLOW_BASE_URL", "DEVICEFLOW_STORE",
                   "DEVICEFLOW_STORE_PATH", "DEVICEFLOW_SCOPES")


@posix_only
def test_processes_sharing_a_file_store_refresh_once_and_all_succeed(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if k not in _TOKEN_ENV_KEYS}
    with Refresher(delay=0.5) as srv:
        FileStore(store_dir).set(cache_key(srv.origin), expiring_entry())
        args = [sys.executable, "-m", "deviceflow", "token", "--client-id", CLIENT_ID, "--client-type", "github-app",
                "--base-url", srv.origin, "--store", "file", "--store-path", str(store_dir)]
        procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(12)]
        outs = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0] * 12, [err for _, err in outs]
    assert srv.refreshes == 1
    assert {out.strip() for out, _ in outs} == {srv.issued[0]}
    stored = json.loads(FileStore(store_dir).get(cache_key(srv.origin)) or "{}")
    assert stored["token"] == srv.issued[0]
    assert not any(p.name.endswith(".tmp") for p in store_dir.iterdir())


@posix_only
def test_a_token_process_waits_on_a_lease_another_process_holds(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if k not in _TOKEN_ENV_KEYS}
    with Refresher() as srv:
        key = cache_key(srv.origin)
        store = FileStore(store_dir)
        store.set(key, expiring_entry())
        holder = subprocess.Popen(
            [sys.executable, "-c",
             "import sys, time\nfrom deviceflow import FileStore\n"
             "s = FileStore(sys.argv[1]); r = s.lock(sys.argv[2], 0)\nprint('held', flush=True)\n"
             "sys.stdin.readline()\ns.set(sys.argv[2], sys.argv[3]); r()\n",
             str(store_dir), key, expiring_entry(expires_in=8 * 3600).replace(
                 OLD_TOKEN, "ghu_fromTheOtherProcess00000000000000000")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        token = subprocess.Popen(
            [sys.executable, "-m", "deviceflow", "token", "--client-id", CLIENT_ID, "--client-type", "github-app",
             "--base-url", srv.origin, "--store", "file", "--store-path", str(store_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(1.5)
        assert token.poll() is None  # waiting on the lease, not failing
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.wait(10) == 0
        out, err = token.communicate(timeout=30)
    assert token.returncode == 0, err
    assert out.strip() == "ghu_fromTheOtherProcess00000000000000000"
    assert srv.refreshes == 0


@posix_only
def test_go_and_python_token_processes_share_one_file_store_and_refresh_once(emulator_binary: Path, tmp_path: Path) -> None:
    # The Go command and this package read, write and lock the very same files.
    store_dir = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if k not in _TOKEN_ENV_KEYS}
    with Refresher(delay=0.5) as srv:
        FileStore(store_dir).set(cache_key(srv.origin), expiring_entry())
        common = ["token", "--client-id", CLIENT_ID, "--client-type", "github-app", "--base-url", srv.origin,
                  "--store", "file", "--store-path", str(store_dir)]
        commands = [[str(emulator_binary), *common], [sys.executable, "-m", "deviceflow", *common]]
        procs = [subprocess.Popen(commands[i % 2], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for i in range(20)]
        outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, [err for _, err in outs]
    assert srv.refreshes == 1
    assert {out.strip() for out, _ in outs} == {srv.issued[0]}
    assert json.loads(FileStore(store_dir).get(cache_key(srv.origin)) or "{}")["token"] == srv.issued[0]
