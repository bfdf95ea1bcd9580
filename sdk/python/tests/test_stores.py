"""The stores: the v2 file layout shared with Go, permissions, atomic replace,
compare-and-swap and leases across threads and processes, migration from v1,
encryption, and the emulation for stores without swap and lock."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from deviceflow import EncryptedFileStore, FileStore, MemoryStore, StoreError
from deviceflow.stores import KEY_ENV, _capabilities, generate_key

SECRET = "gho_thisIsNotARealTokenButItMustNeverBeVisible0"
KEY = "deviceflow:v1:https://github.com|oauth-app|Ov23li|repo"

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and flock")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def name(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def files(directory: Path) -> List[str]:
    return sorted(p.name for p in directory.iterdir())


# MemoryStore.


def test_memory_store_round_trip_and_swap() -> None:
    s = MemoryStore({"a": "1"})
    assert s.get("a") == "1"
    s.set("b", "2")
    s.delete("a")
    s.delete("absent")
    assert s.snapshot() == {"b": "2"}
    assert s.swap("b", "1", "3") == (False, "2")
    assert s.swap("b", "2", "3") == (True, "3")
    assert s.swap("c", None, "x") == (True, "x")
    assert s.swap("c", None, "y") == (False, "x")
    assert s.swap("c", "x", None) == (True, None)
    assert s.swap("c", "x", None) == (False, None)
    assert s.snapshot() == {"b": "3"}


def test_memory_store_lease_excludes_waits_and_is_not_re_entrant() -> None:
    s = MemoryStore()
    release = s.lock("k", 0)
    assert release is not None and s.leased() == {"k"}
    assert s.lock("k", 0) is None  # not re-entrant
    assert s.lock("other", 0) is not None  # other keys are free
    t0 = time.monotonic()
    assert s.lock("k", 0.2) is None
    assert 0.15 < time.monotonic() - t0 < 2.0
    threading.Timer(0.1, release).start()
    again = s.lock("k", 5)
    assert again is not None
    again()
    again()  # releasing twice is harmless
    release()


def test_memory_store_lease_wait_honours_cancellation() -> None:
    s = MemoryStore()
    assert s.lock("k", 0) is not None
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    t0 = time.monotonic()
    assert s.lock("k", 30, cancel) is None
    assert time.monotonic() - t0 < 2.0  # instead of 30 s


# FileStore and EncryptedFileStore: the layout.


@pytest.mark.parametrize("factory", ["file", "encrypted"])
def test_round_trip_and_persistence(tmp_path: Path, factory: str) -> None:
    key = generate_key()

    def make() -> FileStore:
        path = tmp_path / "dir" / "tokens"
        return FileStore(path) if factory == "file" else EncryptedFileStore(path, key=key)

    s = make()
    assert s.get(KEY) is None
    s.set(KEY, SECRET)
    s.set("other", "x")
    assert make().get(KEY) == SECRET  # a new instance reads what the first wrote
    assert make().keys() == sorted([KEY, "other"])
    s.delete(KEY)
    s.delete(KEY)  # absent: not an error
    assert make().get(KEY) is None
    assert make().get("other") == "x"


def test_the_v2_layout_is_exactly_the_contracts(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    key = "deviceflow:v1:https://github.com|github-app|Iv23li|"
    s.set(key, '{"token":"ghu_x"}')
    n = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    assert path.is_dir()
    assert files(path) == [f"{n}.json", f"{n}.lock"]  # no temporary file left
    doc = json.loads((path / f"{n}.json").read_text("utf-8"))
    assert doc == {"version": 2, "key": key, "value": '{"token":"ghu_x"}'}
    assert list(doc) == ["version", "key", "value"]
    release = s.lock(key, 0)
    assert release is not None
    assert (path / f"{n}.lease").is_file()
    release()
    # Go writes with its own spacing and escaping; anything that parses is read.
    (path / f"{n}.json").write_text('{\n  "version": 2,\n  "key": "%s",\n  "value": "\\u003cv\\u003e"\n}\n' % key)
    assert s.get(key) == "<v>"


def test_a_non_ascii_key_is_named_by_the_sha256_of_its_utf8(tmp_path: Path) -> None:
    key = "deviceflow:v1:https://ghe.exämple.com|oauth-app|Ov23li|repo"
    FileStore(tmp_path / "s").set(key, "v")
    assert (tmp_path / "s" / f"{name(key)}.json").is_file()


@posix_only
@pytest.mark.parametrize("factory", ["file", "encrypted"])
def test_entries_are_0600_and_the_directory_0700_even_with_a_lax_umask(tmp_path: Path, factory: str) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "new" / "tokens"
        s = FileStore(path) if factory == "file" else EncryptedFileStore(path, key=generate_key())
        s.set(KEY, SECRET)
        release = s.lock(KEY, 0)
        assert release is not None
        release()
    finally:
        os.umask(old)
    assert mode(path) == 0o700
    assert mode(path.parent) == 0o700
    for f in path.iterdir():
        assert mode(f) == 0o600, f.name


@posix_only
def test_a_rewrite_tightens_an_entry_that_was_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set(KEY, "1")
    os.chmod(path / f"{name(KEY)}.json", 0o644)
    s.set(KEY, SECRET)
    assert mode(path / f"{name(KEY)}.json") == 0o600


def test_a_failed_write_leaves_the_old_entry_and_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set(KEY, SECRET)
    before = files(path)
    entry = (path / f"{name(KEY)}.json").read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreError) as info:
        s.set(KEY, "gho_new")
    assert "No space left on device" in str(info.value)
    monkeypatch.undo()
    assert (path / f"{name(KEY)}.json").read_bytes() == entry
    assert files(path) == before


def test_an_interrupted_write_leaves_the_old_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set(KEY, SECRET)
    before = files(path)
    real_fsync = os.fsync

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        s.set(KEY, "gho_new")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert FileStore(path).get(KEY) == SECRET
    assert files(path) == before


def test_a_write_does_not_grow_with_the_store(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    for i in range(300):
        s.set(f"k{i}", "v" * 20000)  # 6 MB in all
    s.set(KEY, SECRET)
    # Only its own small file was written, not a 6 MB document.
    assert (path / f"{name(KEY)}.json").stat().st_size < 500
    assert all(p.stat().st_size < 21000 for p in path.iterdir())


# Corrupt entries.


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1,2]", b'{"version":1,"key":"K","value":"v"}', b'{"version":2,"key":"K"}', b""],
)
def test_a_corrupt_entry_is_a_store_error_naming_the_file_and_is_left_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set("other", "x")
    entry = path / f"{name(KEY)}.json"
    entry.write_bytes(content.replace(b'"K"', json.dumps(KEY).encode()))
    for op in (lambda: s.get(KEY), lambda: s.set(KEY, SECRET), lambda: s.swap(KEY, None, SECRET), lambda: s.keys()):
        with pytest.raises(StoreError) as info:
            op()
        assert str(entry) in info.value.message
    assert entry.read_bytes() == content.replace(b'"K"', json.dumps(KEY).encode())
    assert s.get("other") == "x"  # other entries are unaffected


def test_an_entry_under_another_keys_name_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set("a", "1")
    os.rename(path / f"{name('a')}.json", path / f"{name('b')}.json")
    with pytest.raises(StoreError, match="another key"):
        s.get("b")


# Compare-and-swap and leases.


@pytest.mark.parametrize("factory", ["file", "encrypted"])
def test_file_swap(tmp_path: Path, factory: str) -> None:
    path = tmp_path / "s"
    s = FileStore(path) if factory == "file" else EncryptedFileStore(path, key=generate_key())
    assert s.swap(KEY, "x", None) == (False, None)
    assert s.swap(KEY, None, None) == (True, None)
    assert s.swap(KEY, None, "1") == (True, "1")
    assert s.swap(KEY, None, "2") == (False, "1")
    assert s.swap(KEY, "2", "3") == (False, "1")
    assert s.swap(KEY, "1", "3") == (True, "3")
    assert s.get(KEY) == "3"
    assert s.swap(KEY, "3", None) == (True, None)
    assert s.get(KEY) is None
    assert not (path / f"{name(KEY)}.json").exists()


_INCREMENT = """
import sys
from deviceflow import FileStore
s = FileStore(sys.argv[1])
for _ in range(int(sys.argv[2])):
    while True:
        current = s.get("counter")
        new = str(int(current or "0") + 1)
        if s.swap("counter", current, new)[0]:
            break
"""


@posix_only
def test_swap_is_atomic_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "s"
    procs = [subprocess.Popen([sys.executable, "-c", _INCREMENT, str(path), "40"]) for _ in range(5)]
    for p in procs:
        assert p.wait(120) == 0
    assert FileStore(path).get("counter") == "200"


_WRITER = """
import sys
from deviceflow import FileStore
s = FileStore(sys.argv[1])
for i in range(int(sys.argv[3])):
    s.set(f"{sys.argv[2]}-{i}", "v" * 200)
"""


def test_concurrent_writers_in_several_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    writers, each = 4, 25
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), f"w{w}", str(each)])
        for w in range(writers)
    ]
    for p in procs:
        assert p.wait(60) == 0
    keys = FileStore(path).keys()
    assert keys == sorted(f"w{w}-{i}" for w in range(writers) for i in range(each))


_FLOCK_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(path: Path, seconds: float = 30) -> subprocess.Popen:
    """Another process (as the Go host would) holds flock on path."""
    p = subprocess.Popen([sys.executable, "-c", _FLOCK_HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


@posix_only
def test_a_lease_held_by_another_process_is_busy_then_free(tmp_path: Path) -> None:
    path = tmp_path / "s"
    s = FileStore(path)
    s.set(KEY, "v")
    holder = hold(path / f"{name(KEY)}.lease", 0.5)
    try:
        assert s.lock(KEY, 0) is None
        t0 = time.monotonic()
        assert s.lock(KEY, 0.2) is None
        assert time.monotonic() - t0 >= 0.19
        # The holder can still be swapped around: N.lock is not N.lease.
        assert s.swap(KEY, "v", "w") == (True, "w")
        release = s.lock(KEY, 10)  # waits until the holder exits
        assert release is not None
        assert holder.wait(5) == 0
        release()
    finally:
        holder.kill()
        holder.wait()


@posix_only
def test_a_lease_excludes_threads_of_one_process(tmp_path: Path) -> None:
    s = FileStore(tmp_path / "s")
    other = FileStore(tmp_path / "s")
    release = s.lock(KEY, 0)
    assert release is not None
    assert s.lock(KEY, 0) is None  # not re-entrant, even through the same instance
    assert other.lock(KEY, 0) is None
    assert other.lock("another key", 0) is not None
    release()
    assert other.lock(KEY, 0) is not None


@posix_only
def test_waiting_for_a_lease_honours_cancellation(tmp_path: Path) -> None:
    s = FileStore(tmp_path / "s")
    assert s.lock(KEY, 0) is not None
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    t0 = time.monotonic()
    assert s.lock(KEY, 30, cancel) is None
    assert time.monotonic() - t0 < 2.0  # instead of 30 s


@posix_only
def test_one_entrys_write_lock_does_not_hold_up_another(tmp_path: Path) -> None:
    path = tmp_path / "s"
    s = FileStore(path, lock_timeout=0.3)
    s.set("a", "1")
    holder = hold(path / f"{name('a')}.lock")
    try:
        t0 = time.monotonic()
        s.set("b", "2")
        assert time.monotonic() - t0 < 0.2
        with pytest.raises(StoreError, match="held the lock"):
            s.set("a", "3")
        assert s.get("a") == "1"  # reads take no lock
    finally:
        holder.kill()
        holder.wait()


# Migration from the v1 single file.


def v1_document(entries: Dict[str, str]) -> bytes:
    return json.dumps({"version": 1, "entries": entries}, indent=2).encode()


@pytest.mark.parametrize("factory", ["file", "encrypted"])
def test_a_v1_file_is_migrated_on_first_use(tmp_path: Path, factory: str) -> None:
    path = tmp_path / "tokens.json"
    entries = {KEY: SECRET, "other": "x"}
    if factory == "file":
        path.write_bytes(v1_document(entries))
        s = FileStore(path)
    else:
        # A v1 file as earlier versions of this SDK sealed it: one Fernet token.
        from cryptography.fernet import Fernet

        key = Fernet.generate_key()
        path.write_bytes(Fernet(key).encrypt(v1_document(entries)))
        s = EncryptedFileStore(path, key=key)
    assert s.get(KEY) == SECRET
    assert path.is_dir()
    assert not path.with_name("tokens.json.v1").exists()
    assert s.keys() == sorted(entries)
    assert {f for f in files(path) if f.endswith(".json")} == {f"{name(KEY)}.json", f"{name('other')}.json"}


def test_a_crashed_migration_is_finished_without_overwriting_newer_entries(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    v1 = tmp_path / "tokens.json.v1"
    v1.write_bytes(v1_document({KEY: "old", "other": "x"}))
    # The crash came after mkdir and one newer write by a v2 process.
    FileStore(tmp_path / "scratch").set(KEY, "new")
    os.rename(tmp_path / "scratch", path)
    s = FileStore(path)
    assert s.get(KEY) == "new"
    assert s.get("other") == "x"
    assert not v1.exists()


def test_a_migration_that_crashed_before_mkdir_is_finished(tmp_path: Path) -> None:
    v1 = tmp_path / "tokens.json.v1"
    v1.write_bytes(v1_document({KEY: SECRET}))
    s = FileStore(tmp_path / "tokens.json")
    assert s.get(KEY) == SECRET
    assert not v1.exists()


def test_an_empty_v1_file_migrates_to_an_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(b"")
    assert FileStore(path).keys() == []
    assert path.is_dir()


def test_a_corrupt_v1_file_is_an_error_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(StoreError, match=str(path)):
        FileStore(path).get(KEY)
    assert path.read_text() == "{not json"
    assert not path.with_name("tokens.json.v1").exists()


_READER = """
import sys
from deviceflow import FileStore
print(FileStore(sys.argv[1]).get(sys.argv[2]))
"""


def test_processes_racing_to_migrate_all_read_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(v1_document({f"k{i}": f"v{i}" for i in range(50)} | {KEY: SECRET}))
    procs = [
        subprocess.Popen([sys.executable, "-c", _READER, str(path), KEY], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outs == [SECRET] * 6
    assert len(FileStore(path).keys()) == 51


# Writability.


def test_check_writable_makes_the_directory_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a" / "tokens.json"
    FileStore(path).check_writable()
    assert path.is_dir() and files(path) == []


def test_check_writable_fails_where_nothing_can_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create"):
        FileStore(blocker / "tokens.json").check_writable()


def test_the_default_path_is_in_the_config_dir(tmp_path: Path) -> None:
    # conftest points DEVICEFLOW_CONFIG_DIR at tmp_path/config.
    assert FileStore().path == tmp_path / "config" / "tokens.json"
    assert EncryptedFileStore(key=generate_key()).path == tmp_path / "config" / "tokens.enc.json"


def test_a_store_at_the_old_default_is_still_found(tmp_path: Path) -> None:
    # Releases before the shared default name kept the encrypted store in
    # tokens.enc: its tokens are not left behind.
    key = generate_key()
    old = EncryptedFileStore(tmp_path / "config" / "tokens.enc", key=key)
    old.set("k", "v")
    assert EncryptedFileStore(key=key).get("k") == "v"
    # Once a store exists under the shared name, that one is used.
    EncryptedFileStore(tmp_path / "config" / "tokens.enc.json", key=key).set("k", "w")
    assert EncryptedFileStore(key=key).get("k") == "w"


# Encryption.


def test_encrypted_entries_hold_no_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=generate_key()).set(KEY, SECRET)
    raw = (path / f"{name(KEY)}.json").read_bytes()
    assert SECRET.encode() not in raw
    assert b"github.com" not in raw
    envelope = json.loads(raw)
    assert sorted(envelope) == ["cipher", "ciphertext", "format", "kdf", "nonce", "version"]
    assert (envelope["format"], envelope["version"], envelope["cipher"], envelope["kdf"]) == (
        "deviceflow-encrypted-store", 1, "AES-256-GCM", "none")


def test_encrypted_file_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, generate_key())
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path).set(KEY, SECRET)
    assert EncryptedFileStore(path).get(KEY) == SECRET


def test_encrypted_file_wrong_key_is_a_clear_error_naming_the_file_which_survives(tmp_path: Path) -> None:
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=generate_key()).set(KEY, SECRET)
    entry = path / f"{name(KEY)}.json"
    before = entry.read_bytes()
    other = EncryptedFileStore(path, key=generate_key())
    with pytest.raises(StoreError, match="wrong encryption key") as info:
        other.get(KEY)
    assert str(entry) in info.value.message
    with pytest.raises(StoreError, match="wrong encryption key"):
        other.set(KEY, "y")
    assert entry.read_bytes() == before


def test_encrypted_file_tampering_is_detected(tmp_path: Path) -> None:
    key = generate_key()
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=key).set(KEY, SECRET)
    entry = path / f"{name(KEY)}.json"
    # One bit of the sealed bytes, not of the file's text: a flipped base64
    # character may stop being base64 at all, which is another error.
    env = json.loads(entry.read_text())
    sealed = bytearray(base64.b64decode(env["ciphertext"]))
    sealed[len(sealed) // 2] ^= 1
    env["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    entry.write_text(json.dumps(env))
    with pytest.raises(StoreError, match="altered"):
        EncryptedFileStore(path, key=key).get(KEY)


def test_encrypted_file_key_rotation(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=old).set(KEY, SECRET)
    rotated = EncryptedFileStore(path, key=[new, old])
    assert rotated.get(KEY) == SECRET
    rotated.set(KEY, SECRET)  # rewritten with the new key
    assert EncryptedFileStore(path, key=new).get(KEY) == SECRET


def test_encrypted_file_without_a_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=f"{KEY_ENV}.*generate_key"):
        EncryptedFileStore(tmp_path / "tokens.enc")


def test_encrypted_file_with_a_malformed_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    with pytest.raises(StoreError, match="not a base64 32-byte key"):
        EncryptedFileStore(tmp_path / "tokens.enc")
    assert not (tmp_path / "tokens.enc").exists()


# A user's store without swap and lock.


class PlainStore:
    """Only get, set and delete, as a user might write one."""

    def __init__(self) -> None:
        self.values: Dict[str, str] = {}

    def get(self, key: str) -> Optional[str]:
        v = self.values.get(key)
        time.sleep(0.001)  # widen the window a race would need
        return v

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def test_a_store_without_swap_gets_an_atomic_emulation_between_threads() -> None:
    store = PlainStore()

    def work() -> None:
        for _ in range(30):
            while True:
                cur = store.get("n")
                if _capabilities.swap(store, "n", cur, str(int(cur or "0") + 1))[0]:
                    break

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.values == {"n": "180"}
    assert _capabilities.swap(store, "n", "1", None) == (False, "180")
    assert _capabilities.swap(store, "n", "180", None) == (True, None)
    assert store.values == {}


def test_a_store_without_lock_gets_an_in_process_lease() -> None:
    store, other = PlainStore(), PlainStore()
    never = threading.Event()
    release = _capabilities.lock(store, "k", 0, never)
    assert release is not None
    assert _capabilities.lock(store, "k", 0.1, never) is None
    assert _capabilities.lock(other, "k", 0, never) is not None  # per store
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    t0 = time.monotonic()
    assert _capabilities.lock(store, "k", 30, cancel) is None
    assert time.monotonic() - t0 < 2.0  # instead of 30 s
    release()
    assert _capabilities.lock(store, "k", 0, never) is not None


def test_a_store_lock_without_cancel_is_waited_on_in_slices() -> None:
    calls: List[float] = []

    class OwnLock(PlainStore):
        def lock(self, key: str, wait: float) -> None:
            calls.append(wait)
            time.sleep(wait)
            return None

    cancel = threading.Event()
    threading.Timer(0.35, cancel.set).start()
    t0 = time.monotonic()
    assert _capabilities.lock(OwnLock(), "k", 30, cancel) is None
    assert time.monotonic() - t0 < 2.0  # instead of 30 s
    assert all(w <= _capabilities.WAIT_SLICE for w in calls) and len(calls) >= 3


def test_encrypted_file_reads_the_go_envelope_by_hand(tmp_path: Path) -> None:
    # The envelope of wit/stores.md, sealed here with the primitives alone.
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw_key, nonce = os.urandom(32), os.urandom(12)
    doc = json.dumps({"version": 2, "key": KEY, "value": SECRET}, separators=(",", ":")).encode()
    sealed = AESGCM(raw_key).encrypt(nonce, doc, b"deviceflow-encrypted-store/1")
    path = tmp_path / "tokens.enc"
    path.mkdir()
    (path / f"{name(KEY)}.json").write_text(json.dumps({
        "format": "deviceflow-encrypted-store", "version": 1, "cipher": "AES-256-GCM", "kdf": "none",
        "nonce": base64.b64encode(nonce).decode(), "ciphertext": base64.b64encode(sealed).decode()}))
    # Any base64 alphabet, padded or not, names the same key.
    for form in (base64.b64encode(raw_key).decode(), base64.urlsafe_b64encode(raw_key).decode().rstrip("=")):
        assert EncryptedFileStore(path, key=form).get(KEY) == SECRET


def test_fernet_entries_are_read_and_sealed_anew_on_the_next_write(tmp_path: Path) -> None:
    # An entry an earlier version wrote (a Fernet token) keeps its sign-in.
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    path = tmp_path / "tokens.enc"
    path.mkdir()
    entry = path / f"{name(KEY)}.json"
    entry.write_bytes(Fernet(key).encrypt(json.dumps({"version": 2, "key": KEY, "value": SECRET}).encode()))
    s = EncryptedFileStore(path, key=key.decode())
    assert s.get(KEY) == SECRET
    assert entry.read_bytes().startswith(b"gAAAAA")
    s.set(KEY, SECRET + "2")
    assert json.loads(entry.read_bytes())["cipher"] == "AES-256-GCM"
    assert EncryptedFileStore(path, key=key).get(KEY) == SECRET + "2"
    with pytest.raises(StoreError, match="wrong encryption key"):
        entry.write_bytes(Fernet(key).encrypt(b"{}"))
        EncryptedFileStore(path, key=generate_key()).get(KEY)


def test_encrypted_file_with_a_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deviceflow.stores import encrypted

    monkeypatch.setattr(encrypted, "PBKDF2_ITERATIONS", 1000)
    path = tmp_path / "tokens.enc"
    s = EncryptedFileStore(path, key="passphrase:correct horse battery")
    s.set(KEY, SECRET)
    s.set("other", "x")
    envelopes = [json.loads(p.read_bytes()) for p in path.glob("*.json")]
    assert {(e["kdf"], e["iterations"], e["salt"]) for e in envelopes} == {("pbkdf2-sha256", 1000, envelopes[0]["salt"])}
    monkeypatch.setenv(KEY_ENV, "passphrase:correct horse battery")
    assert EncryptedFileStore(path).get(KEY) == SECRET
    with pytest.raises(StoreError, match="wrong encryption key"):
        EncryptedFileStore(path, key="passphrase:wrong horse battery").get(KEY)
    with pytest.raises(StoreError, match="sealed with a passphrase"):
        EncryptedFileStore(path, key=generate_key()).get(KEY)
    with pytest.raises(StoreError, match="shorter than 12"):
        EncryptedFileStore(path, key="passphrase:short")


class _DictKeyring:
    """A KeyringStore stand-in: get and set over a dict."""

    def __init__(self) -> None:
        self.values: Dict[str, str] = {}

    def get(self, key: str) -> Optional[str]:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


def test_encrypted_file_key_held_in_the_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As Go and Node keep it: the entry "encryption-key", created before the
    # first write of an empty store, never for a store with entries.
    monkeypatch.delenv(KEY_ENV, raising=False)
    ring = _DictKeyring()
    path = tmp_path / "tokens.enc"
    s = EncryptedFileStore(path, keyring=ring)
    assert s.key_source == "the OS keyring"
    assert s.get(KEY) is None
    assert ring.values == {}
    s.set(KEY, SECRET)
    assert list(ring.values) == ["encryption-key"]
    assert EncryptedFileStore(path, key=ring.values["encryption-key"]).get(KEY) == SECRET
    assert EncryptedFileStore(path, keyring=ring).get(KEY) == SECRET
    ring.values.clear()
    with pytest.raises(StoreError, match="holds no deviceflow encryption key for the existing encrypted store"):
        EncryptedFileStore(path, keyring=ring).set("other", "x")
    assert ring.values == {}
