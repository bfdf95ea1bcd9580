"""KeyringStore: values in the system keyring, through the ``keyring`` package."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional, TypeVar

from ..errors import StoreError

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
    """

    def __init__(self, service: str = "deviceflow", *, timeout: float = 10.0, backend: Any = None) -> None:
        self.service = service
        self.timeout = timeout
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
