"""KeyringStore: a clear error on a machine without a keyring, never plain text."""

from __future__ import annotations

import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.backends import fail

from deviceflow import DeviceFlow, KeyringStore, KeyringUnavailable, StoreError

SECRET = "gho_thisIsNotARealTokenButItMustNeverBeVisible0"


class DictKeyring:
    """A backend (duck-typed, so keyring's own detection never sees it) that keeps passwords in a dict."""

    priority = 1

    def __init__(self) -> None:
        self.passwords: Dict[Tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> Optional[str]:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.passwords:
            raise PasswordDeleteError("not found")
        del self.passwords[(service, username)]


class Stuck(DictKeyring):
    """A backend whose daemon never answers."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> Optional[str]:
        self.release.wait(30)
        return None


class Failing(DictKeyring):
    """A backend that fails, and whose error message would repeat what it was given."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"the daemon refused {password}")


@contextmanager
def detected_backend(priority: float) -> Iterator[DictKeyring]:
    """Makes keyring answer a backend of this priority (as its configuration
    would choose one), then restores keyring's own choice."""
    registry = keyring.backend.KeyringBackend._classes  # type: ignore[attr-defined]
    before_classes = set(registry)
    before = keyring.get_keyring()

    class Registered(DictKeyring, keyring.backend.KeyringBackend):
        pass

    Registered.priority = priority  # type: ignore[assignment]
    try:
        instance = Registered()
        keyring.set_keyring(instance)
        yield instance
    finally:
        registry.intersection_update(before_classes)
        keyring.set_keyring(before)


def files_under(path: Path) -> set:
    return {p for p in path.rglob("*") if p.is_file()} if path.exists() else set()


def test_this_headless_machine_has_no_keyring_and_says_so(tmp_path: Path) -> None:
    # The test machine is headless: keyring finds only its fail backend.
    assert isinstance(keyring.get_keyring(), fail.Keyring)
    with pytest.raises(KeyringUnavailable) as info:
        KeyringStore()
    message = str(info.value)
    assert "no keyring backend is available" in message
    assert "EncryptedFileStore" in message  # says what to do instead
    assert info.value.code == "store"
    assert isinstance(info.value, StoreError)


def test_no_plain_text_fallback_anywhere(tmp_path: Path) -> None:
    home_before = files_under(Path.home() / ".local" / "share" / "python_keyring")
    config_before = files_under(tmp_path)
    with pytest.raises(KeyringUnavailable):
        KeyringStore()
    assert files_under(tmp_path) == config_before
    assert files_under(Path.home() / ".local" / "share" / "python_keyring") == home_before


def test_the_headless_error_in_a_fresh_process() -> None:
    code = "from deviceflow import KeyringStore\nKeyringStore()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "KeyringUnavailable: store: no keyring backend is available on this machine" in proc.stderr


def test_a_backend_keyring_does_not_recommend_is_refused() -> None:
    # keyrings.alt's plain-text file has a priority below 1, like this one.
    with detected_backend(0.5):
        with pytest.raises(KeyringUnavailable, match="not a recommended secure store"):
            KeyringStore()


def test_round_trip_with_a_recommended_backend() -> None:
    with detected_backend(1) as backend:
        s = KeyringStore(service="deviceflow-test")
        round_trip(s, backend)


def round_trip(s: KeyringStore, backend: DictKeyring) -> None:
    assert s.get("k") is None
    s.set("k", SECRET)
    assert s.get("k") == SECRET
    assert backend.passwords == {("deviceflow-test", "k"): SECRET}
    s.delete("k")
    s.delete("k")  # absent: not an error
    assert s.get("k") is None
    assert "Registered" in repr(s) and SECRET not in repr(s)


def test_a_stuck_keyring_is_time_boxed() -> None:
    backend = Stuck()
    s = KeyringStore(backend=backend, timeout=0.2)
    try:
        with pytest.raises(StoreError, match="did not read the entry within 0.2 s"):
            s.get("k")
    finally:
        backend.release.set()


def test_backend_errors_never_carry_the_value() -> None:
    s = KeyringStore(backend=Failing())
    with pytest.raises(StoreError) as info:
        s.set("k", SECRET)
    assert SECRET not in str(info.value)
    assert "[redacted]" in str(info.value)


def test_a_keyring_failure_inside_a_flow_is_a_store_error() -> None:
    backend = Stuck()
    flow = DeviceFlow("Ov23li", store=KeyringStore(backend=backend, timeout=0.2))
    try:
        with pytest.raises(StoreError) as info:
            flow.logout()
        assert "did not read the entry" in info.value.message
    finally:
        backend.release.set()


def test_keyring_swap_and_lease_go_through_lock_files(tmp_path: Path) -> None:
    import hashlib

    locks = tmp_path / "locks"
    backend = DictKeyring()
    s = KeyringStore(backend=backend, lock_dir=locks)
    key = "deviceflow:v1:https://github.com|github-app|Iv23li|"
    assert s.swap(key, None, "a") == (True, "a")
    assert s.swap(key, None, "b") == (False, "a")
    assert s.swap(key, "a", "b") == (True, "b")
    assert s.swap(key, "b", None) == (True, None)
    assert backend.passwords == {}
    n = hashlib.sha256(key.encode()).hexdigest()[:32]
    release = s.lock(key, 0)
    assert release is not None
    assert sorted(p.name for p in locks.iterdir()) == [f"{n}.lease", f"{n}.lock"]
    other = KeyringStore(backend=backend, lock_dir=locks)  # another program of this user
    assert other.lock(key, 0) is None
    assert other.swap(key, None, "c") == (True, "c")  # the lease does not block a swap
    release()
    assert other.lock(key, 0) is not None


def test_the_keyrings_lock_files_default_to_the_user_cache_dir(tmp_path: Path) -> None:
    # conftest points XDG_CACHE_HOME at tmp_path/cache.
    s = KeyringStore(backend=DictKeyring())
    assert s.lock_dir == tmp_path / "cache" / "deviceflow" / "keyring-locks"


def test_check_writable_leaves_no_probe_in_the_keyring(tmp_path: Path) -> None:
    backend = DictKeyring()
    KeyringStore(backend=backend, lock_dir=tmp_path / "locks").check_writable()
    assert backend.passwords == {}
