"""EncryptedFileStore: a FileStore whose entry files are encrypted with Fernet."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Sequence, Union

from ..errors import StoreError
from .file import FileStore

KEY_ENV = "DEVICEFLOW_ENCRYPTION_KEY"

_GENERATE_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)

KeyLike = Union[str, bytes]


class EncryptedFileStore(FileStore):
    """Keeps values in 0600 entry files encrypted with ``cryptography``'s Fernet.

    The layout is :class:`FileStore`'s (a directory, one file per entry,
    the same locks); each entry file's bytes are a Fernet token of the entry
    document.

    ``key`` is a Fernet key (urlsafe base64 of 32 bytes), or several: the
    first encrypts, every one decrypts, so keys can be rotated. Without
    ``key``, ``$DEVICEFLOW_ENCRYPTION_KEY`` is read (several keys separated by
    commas). A missing or malformed key, or a file that the keys cannot
    decrypt, raises :class:`deviceflow.StoreError` naming the file; nothing is
    ever written in plain text. Needs the ``encryption`` extra (``cryptography``).
    """

    default_name = "tokens.enc"

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]", None] = None,
        *,
        key: Union[KeyLike, Sequence[KeyLike], None] = None,
        lock_timeout: float = 10.0,
    ) -> None:
        super().__init__(path, lock_timeout=lock_timeout)
        self._fernet = _fernet(key)

    def _encode(self, plain: bytes) -> bytes:
        return bytes(self._fernet.encrypt(plain))

    def _decode(self, stored: bytes, where: Path) -> bytes:
        from cryptography.fernet import InvalidToken

        try:
            return bytes(self._fernet.decrypt(stored.strip()))
        except InvalidToken:
            raise StoreError(
                f"store: cannot decrypt {where}: wrong encryption key, or the file was altered; it was left untouched"
            ) from None


def generate_key() -> str:
    """Returns a new random Fernet key, as text."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def _fernet(key: Union[KeyLike, Sequence[KeyLike], None]) -> Any:
    try:
        from cryptography.fernet import Fernet, MultiFernet
    except ImportError:
        raise StoreError(
            "store: EncryptedFileStore needs the cryptography package: pip install 'deviceflow[encryption]'"
        ) from None
    keys: List[KeyLike]
    if key is None:
        env = os.environ.get(KEY_ENV, "")
        keys = [k.strip() for k in env.split(",") if k.strip()]
        if not keys:
            raise StoreError(f"store: no encryption key: pass key= or set {KEY_ENV}; {_GENERATE_HINT}")
        where = KEY_ENV
    else:
        keys = [key] if isinstance(key, (str, bytes)) else list(key)
        if not keys:
            raise StoreError(f"store: no encryption key; {_GENERATE_HINT}")
        where = "key"
    try:
        fernets = [Fernet(k) for k in keys]
    except (ValueError, TypeError):
        raise StoreError(
            f"store: {where} is not a Fernet key (urlsafe base64 of 32 bytes); {_GENERATE_HINT}"
        ) from None
    return MultiFernet(fernets) if len(fernets) > 1 else fernets[0]
