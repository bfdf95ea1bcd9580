"""KeyringStore: values in the system keyring, through the ``keyring`` package."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar, Union

from ..errors import StoreError
from ._flock import FileLock, Release, acquire
from ._paths import cache_dir
from .file import entry_name

T = TypeVar("T")

_ALTERNATIVES = (
    "use EncryptedFileStore (with DEVICEFLOW_ENCRYPTION_KEY) or FileStore instead, "
    "or install a keyring backend (Secret Service, KWallet, macOS Keychain, Windows Credential Locker)"
)


class KeyringUnavailable(StoreError):
    """No secure keyring backend is available (a headless machine, a container)."""


class KeyringStore:
    """Keeps each value as a password in the system keyring.

    ``service`` names deviceflow's entries in the keyring; the username of
    each is the plugin's cache key. Every keyring call is time-boxed to
    ``timeout`` seconds (a locked or absent keyring daemon can hang forever)
    and fails with :class:`deviceflow.StoreError` when it takes longer.

    The constructor checks the backend at once: when the ``keyring`` package
    found no recommended backend (its ``fail`` backend, or one that is not a
    secure store, such as a plain-text file), it raises
    :class:`KeyringUnavailable` with a clear message. It never falls back to
    plain text. Pass ``backend`` (a ``keyring.backend.KeyringBackend``) to
    choose one explicitly. Needs the ``keyring`` extra.

    A keyring has no compare-and-swap and no leases of its own, so both go
    through lock files in ``lock_dir`` (by default ``keyring-locks`` in
    deviceflow's per-user cache directory, see
    :func:`deviceflow.stores.cache_dir`): ``N.lock`` is flock'd around one
    read-compare-write of an entry, ``N.lease`` for a lease, ``N`` being
    the first 32 hex digits of the SHA-256 of the key, as in the file
    stores. They exclude threads and processes of this user.
    """

    def __init__(
        self,
        service: str = "deviceflow",
        *,
        timeout: float = 10.0,
        backend: Any = None,
        lock_dir: Union[str, "os.PathLike[str]", None] = None,
    ) -> None:
        self.service = service
        self.timeout = timeout
        self.lock_dir = Path(lock_dir) if lock_dir is not None else cache_dir() / "keyring-locks"
        self._backend = backend if backend is not None else self._detect()

    @property
    def backend_name(self) -> str:
        """Names the keyring backend in use."""
        cls = type(self._backend)
        return f"{cls.__module__}.{cls.__qualname__}"

    def get(self, key: str) -> Optional[str]:
        """Returns the value under key, or None."""
        value = self._boxed("read", lambda: self._backend.get_password(self.service, key))
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        """Writes value under key."""
        self._boxed("write", lambda: self._backend.set_password(self.service, key, value), secret=value)

    def delete(self, key: str) -> None:
        """Removes key; an absent key is not an error."""
        from keyring.errors import PasswordDeleteError

        def remove() -> None:
            try:
                self._backend.delete_password(self.service, key)
            except PasswordDeleteError:
                pass

        self._boxed("delete", remove)

    def swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        """Replaces the value under key with ``new`` only when it is ``old`` now.

        The read, the comparison and the write happen under the flock on
        ``N.lock``. Answers ``(True, new)`` or ``(False, current)``.
        """
        with FileLock(self._lock_file(key, "lock"), self.timeout):
            current = self.get(key)
            if current != old:
                return False, current
            if new is None:
                if current is not None:
                    self.delete(key)
            else:
                self.set(key, new)
            return True, new

    def lock(self, key: str, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
        """Takes the lease on key (flock on ``N.lease``), waiting up to ``wait`` seconds.

        Answers its release, or None when another holder kept it (or
        ``cancel`` was set first).
        """
        return acquire(self._lock_file(key, "lease"), wait, cancel)

    def check_writable(self) -> None:
        """Raises :class:`deviceflow.StoreError` unless the keyring takes a write now.

        Writes and removes a probe entry under a random name, and makes
        sure the lock directory can be made.
        """
        import secrets

        self._lock_file("", "lock")
        probe = f"deviceflow:probe:{secrets.token_hex(8)}"
        self.set(probe, "probe")
        self.delete(probe)

    def _lock_file(self, key: str, kind: str) -> Path:
        try:
            self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"store: cannot create the keyring's lock directory {self.lock_dir}: {e.strerror}") from None
        return self.lock_dir / f"{entry_name(key)}.{kind}"

    def __repr__(self) -> str:
        return f"KeyringStore(service={self.service!r}, backend={self.backend_name})"

    def _detect(self) -> Any:
        try:
            import keyring
            import keyring.core
            from keyring.backends import fail
        except ImportError:
            raise KeyringUnavailable(
                "store: KeyringStore needs the keyring package: pip install 'deviceflow[keyring]'"
            ) from None
        backend = self._boxed("find a backend for", keyring.get_keyring)
        if isinstance(backend, fail.Keyring):
            raise KeyringUnavailable(f"store: no keyring backend is available on this machine; {_ALTERNATIVES}")
        if not keyring.core.recommended(backend):
            cls = type(backend)
            raise KeyringUnavailable(
                f"store: the keyring backend {cls.__module__}.{cls.__qualname__} is not a recommended "
                f"secure store; deviceflow will not keep tokens in it; {_ALTERNATIVES}"
            )
        return backend

    def _boxed(self, what: str, fn: Callable[[], T], secret: Optional[str] = None) -> T:
        """Runs fn in a daemon thread and waits at most self.timeout seconds.

        A backend's error message is passed on with ``secret`` (the value
        being written) cut out of it.
        """
        box: Dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn()
            except BaseException as e:  # handed to the caller's thread
                box["error"] = e

        worker = threading.Thread(target=run, name="deviceflow-keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise StoreError(f"store: the keyring did not {what} the entry within {self.timeout:g} s")
        if "error" in box:
            err = box["error"]
            if isinstance(err, StoreError):
                raise err
            if _is_no_keyring(err):
                raise KeyringUnavailable(f"store: no keyring backend is available on this machine; {_ALTERNATIVES}") from None
            detail = str(err)
            if secret:
                detail = detail.replace(secret, "[redacted]")
            raise StoreError(f"store: the keyring failed to {what} the entry: {type(err).__name__}: {detail}") from None
        return box["value"]  # type: ignore[no-any-return]


def _is_no_keyring(err: BaseException) -> bool:
    try:
        from keyring.errors import NoKeyringError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(err, NoKeyringError)
