"""The file stores: permissions, atomic replace, locking, encryption."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from deviceflow import EncryptedFileStore, FileStore, MemoryStore, StoreError
from deviceflow.stores import KEY_ENV, generate_key

SECRET = "gho_thisIsNotARealTokenButItMustNeverBeVisible0"
KEY = "deviceflow:v1:https://github.com|oauth-app|Ov23li|repo"

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_memory_store_round_trip() -> None:
    s = MemoryStore({"a": "1"})
    assert s.get("a") == "1"
    s.set("b", "2")
    s.delete("a")
    s.delete("absent")
    assert s.snapshot() == {"b": "2"}
    assert s.get("a") is None


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
    s.delete(KEY)
    s.delete(KEY)  # absent: not an error
    assert make().get(KEY) is None
    assert make().get("other") == "x"


@posix_only
@pytest.mark.parametrize("factory", ["file", "encrypted"])
def test_file_is_0600_and_dir_0700_even_with_a_lax_umask(tmp_path: Path, factory: str) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "new" / "tokens"
        s = FileStore(path) if factory == "file" else EncryptedFileStore(path, key=generate_key())
        s.set(KEY, SECRET)
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.with_name("tokens.lock")) == 0o600


@posix_only
def test_rewrite_tightens_a_file_that_was_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set("a", "1")
    os.chmod(path, 0o644)
    s.set(KEY, SECRET)
    assert mode(path) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set(KEY, SECRET)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreError) as info:
        s.set(KEY, "gho_new")
    assert "No space left on device" in str(info.value)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json", "tokens.json.lock"]


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    s = FileStore(path)
    s.set(KEY, SECRET)
    real_fsync = os.fsync

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        s.set(KEY, "gho_new")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert FileStore(path).get(KEY) == SECRET
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json", "tokens.json.lock"]


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
    assert len(keys) == writers * each
    assert keys == sorted(f"w{w}-{i}" for w in range(writers) for i in range(each))


def test_a_held_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom deviceflow.stores._lock import FileLock\nfrom pathlib import Path\n"
            "with FileLock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(30)\n",
            str(path.with_name("tokens.json.lock")),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match="held the lock"):
            FileStore(path, lock_timeout=0.3).set(KEY, SECRET)
    finally:
        holder.kill()
        holder.wait()


def test_a_corrupt_file_is_an_error_not_an_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    s = FileStore(path)
    with pytest.raises(StoreError, match="not a deviceflow token file"):
        s.get(KEY)
    with pytest.raises(StoreError):
        s.set(KEY, SECRET)
    assert path.read_text() == "{not json"


def test_the_default_path_is_in_the_config_dir(tmp_path: Path) -> None:
    # conftest points DEVICEFLOW_CONFIG_DIR at tmp_path/config.
    assert FileStore().path == tmp_path / "config" / "tokens.json"
    assert EncryptedFileStore(key=generate_key()).path == tmp_path / "config" / "tokens.enc"


def test_encrypted_file_holds_no_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=generate_key()).set(KEY, SECRET)
    raw = path.read_bytes()
    assert SECRET.encode() not in raw
    assert b"github.com" not in raw
    assert b"entries" not in raw


def test_encrypted_file_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, generate_key())
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path).set(KEY, SECRET)
    assert EncryptedFileStore(path).get(KEY) == SECRET


def test_encrypted_file_wrong_key_is_a_clear_error_and_the_file_survives(tmp_path: Path) -> None:
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=generate_key()).set(KEY, SECRET)
    before = path.read_bytes()
    other = EncryptedFileStore(path, key=generate_key())
    with pytest.raises(StoreError, match="wrong encryption key"):
        other.get(KEY)
    with pytest.raises(StoreError, match="wrong encryption key"):
        other.set("x", "y")
    assert path.read_bytes() == before


def test_encrypted_file_tampering_is_detected(tmp_path: Path) -> None:
    key = generate_key()
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=key).set(KEY, SECRET)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError, match="altered"):
        EncryptedFileStore(path, key=key).get(KEY)


def test_encrypted_file_key_rotation(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    path = tmp_path / "tokens.enc"
    EncryptedFileStore(path, key=old).set(KEY, SECRET)
    rotated = EncryptedFileStore(path, key=[new, old])
    assert rotated.get(KEY) == SECRET
    rotated.set("other", "x")  # rewritten with the new key
    assert EncryptedFileStore(path, key=new).get(KEY) == SECRET


def test_encrypted_file_without_a_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=f"{KEY_ENV}.*generate_key"):
        EncryptedFileStore(tmp_path / "tokens.enc")


def test_encrypted_file_with_a_malformed_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    with pytest.raises(StoreError, match="not a Fernet key"):
        EncryptedFileStore(tmp_path / "tokens.enc")
    assert not (tmp_path / "tokens.enc").exists()
